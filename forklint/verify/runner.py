"""One instrumented worker subprocess, kept running while verify sends it blocks of jobs by name, and
what its horses and its parent measured for each job."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from redis import Redis

from forklint.verify import processes
from forklint.verify.horse import PARENT_SUFFIX, READY_SUFFIX, Measurement

KEY_PREFIX = "forklint:verify:"
_POLL = 0.01  # seconds between looks at Redis while a block runs

# The worker runs without the working directory in front of sys.path: the project goes there only
# after RQ is loaded, as `rq worker --path .` does, so a json.py in the project cannot break the
# worker's own imports.
_LAUNCH = "import sys; del sys.path[0]; from forklint.verify.worker import main; sys.exit(main(sys.argv[1:]))"


class VerifyError(Exception):
    """Verification could not run (Redis, worker start-up...): exit 2 with this one line."""


class VerifyTimeout(Exception):
    """A worker made no progress within the timeout; it was killed with its horses."""


@dataclass(frozen=True)
class JobSpec:
    func: str  # the dotted name RQ resolves in the horse: "app.tasks.record_event"
    args: tuple[Any, ...] = ()
    kwargs: tuple[tuple[str, Any], ...] = ()
    timeout: int | None = None  # RQ's per-job timeout (its default: 180 s)


@dataclass(frozen=True)
class Failure:
    job_id: str
    message: str  # last line of the job's exception, or how its horse died


@dataclass(frozen=True)
class ParentRecord:
    """One job as the worker parent saw it."""

    job_id: str
    job_ms: float  # execute_job: the fork, the horse's whole life, reaping it, RQ's bookkeeping
    fork_ms: float | None  # the fork itself; None for a worker that does not fork


@dataclass(frozen=True)
class RunResult:
    worker: str  # the worker class as shown: "rq.Worker", "forklint.rq.PreforkWorker"
    prefork: dict[str, list[str]] | None  # the table the run used; None: the class as it is
    jobs: int  # jobs measured (after the warm-up)
    seconds: float  # wall time of the measured jobs' blocks, from enqueueing to the last one done
    prefork_seconds: float | None
    measurements: tuple[Measurement, ...]  # the measured jobs that ran to the end in their horse
    failures: tuple[Failure, ...]  # every job that failed, warm-up included
    results: tuple[Any, ...] = ()  # return values of the measured jobs, in order (if fetched)
    forks: bool = True  # False: the worker class runs jobs in itself (SimpleWorker), no horse
    parents: tuple[ParentRecord, ...] = ()  # the measured jobs, as the parent saw them
    warmup: int = 0  # jobs run first and discarded
    startup_seconds: float = 0.0  # from starting the worker to its first dequeue
    label: str = ""  # what the run stands for: "stock", "project start-up (Procfile:1)", "pre-fork"
    freeze: bool | None = None  # the table's gc.freeze() setting; None without a table
    # The parent's job_ms of the measured jobs, block by block (block i of each run: round i).
    blocks: tuple[tuple[float, ...], ...] = ()


@dataclass
class WorkerProcess:
    """`with WorkerProcess(...) as worker: worker.run(5); ...; result = worker.result()`."""

    connection: Redis
    redis_url: str
    job: JobSpec
    worker_class: str
    shown_as: str
    prefork: dict[str, list[str]] | None
    root: Path
    scratch: Path
    timeout: float
    heavy_calls: Sequence[str] = ()
    watch: Sequence[str] = ()
    freeze: bool = True
    prefork_source: str = "forklint verify"
    env: dict[str, str] | None = None
    label: str = ""
    fetch_results: bool = False
    process: subprocess.Popen[bytes] | None = None
    startup_seconds: float = 0.0
    ready: dict[str, Any] = field(default_factory=dict)
    # (job ids, seconds, measured) per block, in order
    blocks: list[tuple[list[str], float, bool]] = field(default_factory=list)
    job_times: list[float] = field(default_factory=list)  # the parent's job_ms, every job so far
    measured_times: list[float] = field(default_factory=list)  # the same, after the warm-up
    measured_blocks: list[tuple[float, ...]] = field(default_factory=list)  # ... block by block

    def __post_init__(self) -> None:
        from rq import Queue

        run_id = uuid.uuid4().hex[:12]
        self.queue = Queue(f"forklint-verify-{run_id}", connection=self.connection)
        self.key = f"{KEY_PREFIX}{run_id}"
        self.err = self.scratch / f"{run_id}.err"

    def __enter__(self) -> WorkerProcess:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        spec = {
            "redis_url": self.redis_url,
            "queue": self.queue.name,
            "key": self.key,
            "worker_class": self.worker_class,
            "prefork": self.prefork,
            "freeze": self.freeze,
            "prefork_source": self.prefork_source,
            "heavy_calls": list(self.heavy_calls),
            "watch": list(self.watch),
            "root": str(self.root),
            "parent": os.getpid(),
        }
        started = time.perf_counter()
        with open(self.err, "wb") as stderr:
            self.process = processes.spawn(
                f"the {self.shown_as} worker",
                [sys.executable, "-c", _LAUNCH, json.dumps(spec)],
                cwd=self.root,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,  # the jobs' prints
                stderr=stderr,
            )
        deadline = time.monotonic() + self.timeout
        while True:
            raw = self.connection.get(self.key + READY_SUFFIX)
            if raw is not None:
                self.ready = json.loads(raw)
                break
            self._check_alive()
            if time.monotonic() > deadline:
                raise VerifyTimeout(f"the {self.shown_as} worker did not start")
            time.sleep(_POLL)
        self.startup_seconds = time.perf_counter() - started

    def run(
        self, count: int, *, measured: bool = True, progress: Callable[[int], None] | None = None
    ) -> None:
        """Enqueue `count` jobs and wait until the parent has finished each (done or failed)."""
        done_before = self.connection.llen(self.key + PARENT_SUFFIX)
        started = time.perf_counter()
        ids = [
            self.queue.enqueue_call(
                self.job.func,
                args=self.job.args,
                kwargs=dict(self.job.kwargs),
                timeout=self.job.timeout,
                result_ttl=600,
                failure_ttl=600,
            ).id
            for _ in range(count)
        ]
        last, moved = done_before, time.monotonic()
        while True:
            done = self.connection.llen(self.key + PARENT_SUFFIX)
            if done != last:
                last, moved = done, time.monotonic()
                if progress is not None:
                    progress(done - done_before)
            if done - done_before >= count:
                break
            self._check_alive()
            if time.monotonic() - moved > self.timeout:
                raise VerifyTimeout(
                    f"{self.shown_as}: no job finished in {self.timeout:g}s, "
                    f"{done - done_before} of {count} done"
                )
            time.sleep(_POLL)
        self.blocks.append((ids, time.perf_counter() - started, measured))
        times = [
            json.loads(raw)["job_ms"]
            for raw in self.connection.lrange(self.key + PARENT_SUFFIX, done_before, -1)
        ]
        self.job_times += times
        if measured:
            self.measured_times += times
            self.measured_blocks.append(tuple(times))

    def failed_count(self) -> int:
        return self.queue.failed_job_registry.count

    def _check_alive(self) -> None:
        assert self.process is not None
        if self.process.poll() is not None:
            raise VerifyError(self._failure_line(self.process.returncode))

    def _failure_line(self, returncode: int) -> str:
        try:
            text = self.err.read_text(errors="replace")
        except OSError:
            text = ""
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        if returncode < 0:
            reason = f"killed by signal {signal.Signals(-returncode).name}"
        else:
            reason = lines[-1] if lines else f"exit status {returncode}"
        return f"the {self.shown_as} worker did not run: {reason.removeprefix('forklint-worker: ')}"

    def result(self) -> RunResult:
        from rq.job import Job, JobStatus

        measured_ids = [i for ids, _, measured in self.blocks if measured for i in ids]
        wanted = set(measured_ids)
        parents = {}
        for raw in self.connection.lrange(self.key + PARENT_SUFFIX, 0, -1):
            record = json.loads(raw)
            parents[record["job_id"]] = ParentRecord(**record)
        horses = {}
        for raw in self.connection.lrange(self.key, 0, -1):
            m = Measurement.from_json(raw)
            horses[m.job_id] = m
        failures = []
        all_ids = [i for ids, _, _ in self.blocks for i in ids]
        jobs = Job.fetch_many(all_ids, connection=self.connection)
        results = []
        for job_id, job in zip(all_ids, jobs, strict=True):
            status = job.get_status(refresh=False) if job is not None else None
            if status != JobStatus.FINISHED:
                result = job.latest_result() if job is not None else None
                text = (
                    result.exc_string if result is not None else None
                ) or f"job ended as {status}"
                failures.append(Failure(job_id, describe(text)))
            elif self.fetch_results and job_id in wanted:
                results.append(job.return_value())
        return RunResult(
            worker=self.shown_as,
            prefork=self.prefork,
            jobs=len(measured_ids),
            seconds=sum(seconds for _, seconds, measured in self.blocks if measured),
            prefork_seconds=self.ready.get("prefork_seconds"),
            measurements=tuple(horses[i] for i in measured_ids if i in horses),
            failures=tuple(failures),
            results=tuple(results),
            forks=bool(self.ready.get("forks", True)),
            parents=tuple(parents[i] for i in measured_ids if i in parents),
            warmup=len(all_ids) - len(measured_ids),
            startup_seconds=self.startup_seconds,
            label=self.label,
            freeze=self.freeze if self.prefork is not None else None,
            blocks=tuple(self.measured_blocks),
        )

    def stop(self, grace: float = 5.0) -> None:
        """Warm shut-down (RQ deregisters the worker; at most `grace` seconds), then the whole
        session; Redis keys removed."""
        if self.process is not None:
            processes.stop(self.process, grace=grace)
            processes.forget(self.process.pid)
        self._forget()
        self.err.unlink(missing_ok=True)

    def _forget(self) -> None:
        """Remove what this run left in Redis (it matters on a --redis-url server; cheap otherwise)."""
        from redis.exceptions import RedisError
        from rq.job import Job

        try:
            ids = [i for ids, _, _ in self.blocks for i in ids]
            for job in Job.fetch_many(ids, connection=self.connection):
                if job is not None:
                    job.delete(remove_from_queue=True)
            self.queue.delete(delete_jobs=False)
            for name in self.connection.scan_iter(match=f"*{self.queue.name}*"):
                self.connection.delete(name)
            self.connection.srem("rq:workers", f"rq:worker:{self.queue.name}")
            self.connection.delete(self.key, self.key + PARENT_SUFFIX, self.key + READY_SUFFIX)
        except RedisError:
            pass  # the server is gone (or going): nothing to clean on it


def describe(exc_string: str) -> str:
    lines = [line.strip() for line in exc_string.strip().splitlines() if line.strip()]
    last = _exception_line(exc_string) or (lines[-1] if lines else "unknown error")
    if "Work-horse terminated unexpectedly" in last and "(signal " in last:
        number = int(last.split("(signal ")[1].split(")")[0])
        return f"work horse killed by signal {number} ({signal.Signals(number).name})"
    return last


def _exception_line(exc_string: str) -> str | None:
    """The `Type: message` line after the last frame: SQLAlchemy and others append hint lines."""
    raw = exc_string.rstrip().splitlines()
    frames = [i for i, line in enumerate(raw) if line.startswith("  File ")]
    start = frames[-1] + 1 if frames else 0
    for line in raw[start:]:
        if line.strip() and not line[0].isspace() and not line.startswith("Traceback"):
            return line.strip()
    return None
