"""Enqueue N jobs by name, run one instrumented worker subprocess over them, collect what its horses measured."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from redis import Redis

from forklint.verify.horse import Measurement
from forklint.verify.worker import RUN_SUFFIX

KEY_PREFIX = "forklint:verify:"


class VerifyError(Exception):
    """Verification could not run (Redis, worker start-up...): exit 2 with this one line."""


class VerifyTimeout(Exception):
    """The worker did not finish within the timeout; it was killed with its horses."""


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
class RunResult:
    worker: str  # the worker class as shown: "rq.Worker", "forklint.rq.PreforkWorker"
    prefork: dict[str, list[str]] | None  # None for the stock run
    jobs: int
    seconds: float  # the worker process from start-up (incl. pre-fork work) to its burst's end
    prefork_seconds: float | None
    measurements: tuple[Measurement, ...]  # one per job that ran to the end in its horse
    failures: tuple[Failure, ...]
    results: tuple[
        Any, ...
    ] = ()  # return values of the finished jobs, in enqueue order (if fetched)
    forks: bool = True  # False: the worker class runs jobs in itself (SimpleWorker), no horse


def run_worker(
    connection: Redis,
    redis_url: str,
    job: JobSpec,
    *,
    jobs: int,
    worker_class: str,
    shown_as: str,
    prefork: dict[str, list[str]] | None,
    prefork_source: str = "forklint verify",
    heavy_calls: Sequence[str],
    watch: Sequence[str] = (),
    root: Path,
    timeout: float,
    env: dict[str, str] | None = None,
    scratch: Path,
    progress: Callable[[int], None] | None = None,
    fetch_results: bool = False,
) -> RunResult:
    """Run `jobs` copies of `job` through one worker subprocess in burst mode and return its figures.

    The queue and the measurement key are new for every run, and removed afterwards.
    """
    from rq import Queue

    run_id = uuid.uuid4().hex[:12]
    queue = Queue(f"forklint-verify-{run_id}", connection=connection)
    key = f"{KEY_PREFIX}{run_id}"
    enqueued = [
        queue.enqueue_call(
            job.func,
            args=job.args,
            kwargs=dict(job.kwargs),
            timeout=job.timeout,
            result_ttl=600,
            failure_ttl=600,
        )
        for _ in range(jobs)
    ]
    spec = {
        "redis_url": redis_url,
        "queue": queue.name,
        "key": key,
        "worker_class": worker_class,
        "prefork": prefork,
        "prefork_source": prefork_source,
        "heavy_calls": list(heavy_calls),
        "watch": list(watch),
        "root": str(root),
    }
    err = scratch / f"{run_id}.err"
    try:
        with open(err, "wb") as stderr:
            process = subprocess.Popen(
                [sys.executable, "-m", "forklint.verify.worker", json.dumps(spec)],
                cwd=root,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,  # the jobs' prints
                stderr=stderr,
                # Its own session: Ctrl-C reaches verify only, which then stops the worker and its
                # horses (they share this session id, though each horse has its own process group).
                start_new_session=True,
            )
            try:
                _wait(process, queue, jobs, timeout, progress, shown_as)
            finally:
                with uninterrupted():
                    kill_session(process)
        if process.returncode != 0:
            raise VerifyError(_worker_failure(err, process.returncode, shown_as))
        raw = connection.get(f"{key}{RUN_SUFFIX}")
        if raw is None:
            raise VerifyError(f"the {shown_as} worker exited without reporting its run")
        timing = json.loads(raw)
        measurements = tuple(Measurement.from_json(raw) for raw in connection.lrange(key, 0, -1))
        failures = _failures(enqueued, connection)
        results = tuple(_result(j) for j in enqueued) if fetch_results else ()
        return RunResult(
            worker=shown_as,
            prefork=prefork,
            jobs=jobs,
            seconds=timing["seconds"],
            prefork_seconds=timing["prefork_seconds"],
            measurements=measurements,
            failures=failures,
            results=results,
            forks=timing["forks"],
        )
    finally:
        _forget(connection, queue, enqueued, key)
        err.unlink(missing_ok=True)


def _wait(
    process: subprocess.Popen[bytes],
    queue: Any,
    jobs: int,
    timeout: float,
    progress: Callable[[int], None] | None,
    shown_as: str,
) -> None:
    deadline = time.monotonic() + timeout
    shown = -1
    while process.poll() is None:
        if time.monotonic() > deadline:
            raise VerifyTimeout(f"{shown_as}: {jobs - queue.count} of {jobs} jobs started")
        if progress is not None:
            started = jobs - queue.count
            if started != shown:
                progress(started)
                shown = started
        time.sleep(0.05)
    if progress is not None:
        progress(jobs)


def _worker_failure(err: Path, returncode: int, shown_as: str) -> str:
    lines = [line.strip() for line in err.read_text(errors="replace").splitlines() if line.strip()]
    reason = lines[-1] if lines else f"exit status {returncode}"
    reason = reason.removeprefix("forklint-worker: ")
    return f"the {shown_as} worker did not run: {reason}"


def _failures(enqueued: Sequence[Any], connection: Redis) -> tuple[Failure, ...]:
    from rq.job import Job, JobStatus

    failures = []
    for job in enqueued:
        fetched = Job.fetch(job.id, connection=connection)
        status = fetched.get_status(refresh=False)
        if status == JobStatus.FINISHED:
            continue
        result = fetched.latest_result()
        text = (result.exc_string if result is not None else None) or f"job ended as {status}"
        failures.append(Failure(job.id, _describe(text)))
    return tuple(failures)


def _describe(exc_string: str) -> str:
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


def _result(job: Any) -> Any:
    job.refresh()
    return job.return_value()


def _forget(connection: Redis, queue: Any, enqueued: Sequence[Any], key: str) -> None:
    """Remove what this run left in Redis (it matters on a --redis-url server; cheap otherwise)."""
    from redis.exceptions import RedisError

    try:
        for job in enqueued:
            job.delete(remove_from_queue=True)
        queue.delete(delete_jobs=False)
        for name in connection.scan_iter(match=f"*{queue.name}*"):
            connection.delete(name)
        connection.delete(key, f"{key}{RUN_SUFFIX}")
    except RedisError:
        pass  # the server is gone (or going): nothing to clean on it


def kill_session(process: subprocess.Popen[bytes]) -> None:
    """Kill a process started with start_new_session=True and everything it started (horses included)."""
    if process.poll() is None:
        _kill_session_members(process.pid)
    try:
        process.wait(5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    # Horses left behind by a worker that died on its own, killed or not.
    _kill_session_members(process.pid)


def _kill_session_members(sid: int) -> None:
    for _ in range(50):
        members = session_members(sid)
        if not members:
            return
        for pid in members:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.02)


def session_members(sid: int) -> list[int]:
    """Live processes of session `sid` (Linux /proc; elsewhere the process group only)."""
    proc = Path("/proc")
    if not proc.is_dir():
        try:
            os.killpg(sid, 0)
        except (ProcessLookupError, PermissionError):
            return []
        return [sid]
    members = []
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # Fields after the parenthesised command: state ppid pgrp session ...
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[3]) == sid and fields[0] != "Z":
            members.append(int(entry.name))
    return members


@contextlib.contextmanager
def uninterrupted() -> Iterator[None]:
    """Hold Ctrl-C and SIGTERM while cleaning up: a second one must not leave a server or a worker behind."""
    mask = hasattr(signal, "pthread_sigmask")
    if mask:
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        yield
    finally:
        if mask:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})
