"""One `forklint verify` run: Redis and the import probe, the static findings and the project's start-up,
then the baseline and the pre-fork worker side by side as an experiment."""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from forklint.config import Config, ConfigError, load_config
from forklint.findings import Finding, Prefork, WorkerParent
from forklint.verify import experiment, processes
from forklint.verify.aggregate import FindingStatus, finding_statuses
from forklint.verify.catalog import heavy_callables
from forklint.verify.runner import JobSpec, RunResult, VerifyError, WorkerProcess
from forklint.verify.secrets import mask_url
from forklint.verify.targets import Target, catalog_names, target_of

STOCK_WORKER = "rq.Worker"
PREFORK_WORKER = "forklint.rq.PreforkWorker"
_DOTTED = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")
# The probe, like the worker, starts without the working directory on sys.path; the project goes
# after the standard library, so that a json.py in it cannot break the probe.
_PROBE = "import sys; del sys.path[0]; from forklint.verify.probe import main; sys.exit(main(sys.argv[1:]))"


@dataclass(frozen=True)
class Options:
    job: str
    args: tuple[Any, ...] = ()
    kwargs: tuple[tuple[str, Any], ...] = ()
    plan: experiment.Plan = field(default_factory=experiment.Plan)
    redis_url: str | None = None
    worker_class: str | None = None  # None: the project's start-up's class, else rq.Worker
    baseline: str = "auto"  # "auto" | "project" | "stock"
    timeout: float = 300.0
    root: Path = Path(".")
    progress: Callable[[str], None] | None = None


@dataclass(frozen=True)
class Baseline:
    kind: str  # "project" | "stock"
    label: str  # "project start-up Procfile:1" | "stock rq.Worker"
    worker_class: str
    preload: Prefork  # what the project's start-up does before the fork (empty for stock)


@dataclass(frozen=True)
class Verification:
    job: str  # as given, normalised to "pkg.mod:func"
    module: str  # the job's module, as the probe resolved it
    redis: str  # "embedded" or the URL without its password
    prefork_source: str  # where the pre-fork table came from
    notes: tuple[str, ...]  # what verify assumed, e.g. static analysis unavailable
    baseline: Baseline
    stock: RunResult  # the baseline run (the spec's runs[0])
    prefork: RunResult
    statuses: tuple[FindingStatus, ...]
    plan: experiment.Plan = field(default_factory=experiment.Plan)
    stopped: str = "jobs"  # why the experiment ended: jobs, stable, budget, max, failed

    @property
    def jobs(self) -> int:
        return self.stock.jobs


def verify(options: Options) -> Verification:
    """Raises VerifyError (cannot verify: exit 2), VerifyTimeout; job failures are in the runs."""
    from redis.exceptions import RedisError

    root = options.root.resolve()
    try:
        config = load_config(root)
    except ConfigError as exc:
        raise VerifyError(str(exc)) from None
    job = _check_job_name(options.job)
    env = _environment(root, config)
    try:
        with contextlib.ExitStack() as stack:
            # The probe imports the job's module in a process of its own while Redis starts:
            # verify itself never imports the job.
            probe = stack.enter_context(_probe(job, root, config))
            redis_url, shown = stack.enter_context(_redis(options.redis_url))
            module, attribute, shadows = _probe_result(probe, job, options.timeout)
            qualified = f"{module}.{attribute}"
            findings, suggested, parents, notes = _static(root, config, f"{module}:{attribute}")
            notes = (*shadows, *notes)
            mine = [f for f in findings if qualified in {j.replace(":", ".") for j in f.jobs}]
            baseline, more = _baseline(options, parents, qualified, root, config)
            notes = (*notes, *more)
            table, source = _table(config, suggested, module)
            scratch = Path(
                stack.enter_context(tempfile.TemporaryDirectory(prefix="forklint-verify-"))
            )
            # RQ's own per-job timeout must not cut a job shorter than verify's.
            spec = JobSpec(qualified, options.args, options.kwargs, int(options.timeout) + 1)
            heavy = heavy_callables(config)
            targets = {
                f: target_of(f, root, config.src)
                for f in mine
                if f.code in ("FRK103", "FRK104", "FRK105")
            }
            watch = _watch(targets.values(), heavy)
            common = dict(
                job=spec, root=root, scratch=scratch, timeout=options.timeout,
                heavy_calls=heavy, watch=watch, env=env,
            )  # fmt: skip
            from redis import Redis

            connection = stack.enter_context(Redis.from_url(redis_url))
            first = stack.enter_context(
                _worker(connection, redis_url, common, *_baseline_arm(baseline))
            )
            second = stack.enter_context(
                _worker(connection, redis_url, common, *_prefork_arm(baseline, table, source))
            )
            stopped = experiment.run(first, second, options.plan, options.progress)
            stock, prefork = first.result(), second.result()
    except RedisError as exc:
        raise VerifyError(f"Redis error during the run: {_one_line(exc)}") from None
    if not stock.forks:
        notes = (
            f"{baseline.worker_class} runs every job in the worker process itself: there is no "
            "fork per job, so the baseline run cannot confirm FRK101, FRK102, FRK104 or FRK105 "
            "(their premise is work redone in every forked horse)",
            *notes,
        )
    return Verification(
        job=f"{module}:{attribute}",
        module=module,
        redis=shown,
        prefork_source=source,
        notes=notes,
        baseline=baseline,
        stock=stock,
        prefork=prefork,
        statuses=finding_statuses(mine, stock, module, targets),
        plan=options.plan,
        stopped=stopped,
    )


def _baseline_arm(
    baseline: Baseline,
) -> tuple[str, str, dict[str, list[str]] | None, bool, str, str]:
    """(worker class, shown as, table, freeze, table source, label) for the baseline run."""
    if not baseline.preload:
        return baseline.worker_class, baseline.worker_class, None, False, "", baseline.label
    # The project's own preloads, replayed by the pre-fork machinery; frozen only when the project
    # runs forklint's hook itself: that is what its start-up does today.
    return (
        baseline.worker_class, baseline.worker_class, baseline.preload.to_dict(),
        baseline.preload.freeze, f"the project's start-up ({baseline.label})", baseline.label,
    )  # fmt: skip


def _prefork_arm(
    baseline: Baseline, table: Prefork, source: str
) -> tuple[str, str, dict[str, list[str]] | None, bool, str, str]:
    merged = baseline.preload.merge(table)
    merged = Prefork(merged.imports, merged.calls, merged.after_fork, table.freeze)
    shown = (
        PREFORK_WORKER
        if baseline.worker_class == STOCK_WORKER
        else f"forklint.rq.PreforkMixin+{baseline.worker_class}"
    )
    return baseline.worker_class, shown, merged.to_dict(), merged.freeze, source, "pre-fork"


@contextlib.contextmanager
def _worker(
    connection: Any,
    redis_url: str,
    common: dict[str, Any],
    worker_class: str,
    shown_as: str,
    table: dict[str, list[str]] | None,
    freeze: bool,
    source: str,
    label: str,
) -> Iterator[WorkerProcess]:
    worker = WorkerProcess(
        connection=connection, redis_url=redis_url, worker_class=worker_class, shown_as=shown_as,
        prefork=table, freeze=freeze, prefork_source=source or "forklint verify", label=label,
        **common,
    )  # fmt: skip
    try:
        worker.start()
        yield worker
    except BaseException:
        worker.stop(grace=0.0)  # a failure or a signal: no warm shut-down, no waiting for horses
        raise
    worker.stop()


def _baseline(
    options: Options,
    parents: Sequence[WorkerParent],
    job: str,
    root: Path,
    config: Config,
) -> tuple[Baseline, tuple[str, ...]]:
    """The project's own start-up that runs JOB, as forklint resolved it; else the stock worker."""
    runs_job = [
        p
        for p in parents
        if p.framework == "rq"
        and job in {j.replace(":", ".") for j in p.jobs}
        # The analysis's "no start-up found: stock `rq worker` assumed" is no start-up of the project.
        and not p.label.startswith("stock ")
    ]
    if options.baseline == "stock" or (options.baseline == "auto" and not runs_job):
        worker_class = options.worker_class or STOCK_WORKER
        return Baseline("stock", f"stock {worker_class}", worker_class, Prefork()), ()
    if not runs_job:
        raise VerifyError(
            f"--baseline project: forklint resolved no worker start-up in {root} that runs {job}; "
            'use --baseline stock, or name the start-up in [tool.forklint] worker = "pkg.mod:func"'
        )
    parent = runs_job[0]
    notes = []
    if len(runs_job) > 1:
        others = ", ".join(p.label for p in runs_job[1:])
        notes.append(f"{job} also runs under {others}; the baseline is {parent.label}")
    worker_class = (options.worker_class or parent.worker_class or STOCK_WORKER).replace(":", ".")
    preload = _replayable(parent, config)
    if worker_class == PREFORK_WORKER:
        # The project runs the hook already: its table, frozen or not, is part of what it does.
        preload = preload.merge(config.prefork)
        preload = Prefork(preload.imports, preload.calls, preload.after_fork, config.prefork.freeze)
    return Baseline("project", f"project start-up {parent.label}", worker_class, preload), tuple(
        notes
    )


def _replayable(parent: WorkerParent, config: Config) -> Prefork:
    """The parent's pre-fork imports and calls, less the start-up itself: calling `worker:main` (or
    importing a script that starts the worker at module level) would start a worker."""
    from forklint.project import module_name

    path, _, function = parent.label.partition(":")
    startup = module_name(path, ("", "src", *config.src))[0] if path.endswith(".py") else None
    own_call = (
        f"{startup}:{function.removesuffix('()')}" if startup and function.endswith("()") else None
    )
    imports = tuple(m for m in parent.imports if not (startup and not own_call and m == startup))
    calls = tuple(c for c in parent.calls if c != own_call)
    return Prefork(imports, calls, (), False)


def _watch(targets: Iterable[Target], heavy: Sequence[str]) -> tuple[str, ...]:
    """The findings' own functions to count in the horses; catalog calls are counted anyway."""
    return tuple(
        dict.fromkeys(
            t.function
            for t in targets
            if t.function is not None and not catalog_names(t.dotted, heavy)
        )
    )


def _environment(root: Path, config: Config) -> dict[str, str] | None:
    """The configured source roots (`src`) on PYTHONPATH, as the project's own worker would have them."""
    if not config.src:
        return None
    paths = [str(root / src) for src in config.src]
    if os.environ.get("PYTHONPATH"):
        paths.append(os.environ["PYTHONPATH"])
    return dict(os.environ, PYTHONPATH=os.pathsep.join(paths))


def _check_job_name(job: str) -> str:
    module, colon, attribute = job.partition(":")
    if colon:
        ok = bool(_DOTTED.match(module) and _DOTTED.match(attribute))
    else:
        ok = bool(_DOTTED.match(job)) and "." in job
    if not ok:
        raise VerifyError(
            f"JOB must look like pkg.module:function or pkg.module.function, not {job!r}"
        )
    return job


@contextlib.contextmanager
def _probe(job: str, root: Path, config: Config) -> Iterator[subprocess.Popen[str]]:
    roots = [str(root), *(str(root / src) for src in config.src)]
    process = processes.spawn(
        "the import probe",
        [sys.executable, "-c", _PROBE, job, *roots],
        cwd=root,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        yield process
    finally:
        processes.stop(process)
        processes.forget(process.pid)
        if process.stdout is not None:
            process.stdout.close()


def _probe_result(
    process: subprocess.Popen[str], job: str, timeout: float
) -> tuple[str, str, tuple[str, ...]]:
    deadline = time.monotonic() + timeout
    # Polled, not communicate(timeout=...): a signal must reach verify while it waits.
    while process.poll() is None:
        if time.monotonic() > deadline:
            raise VerifyError(f"importing {job} took longer than {timeout:g}s")
        time.sleep(0.01)
    assert process.stdout is not None
    lines = process.stdout.read().strip().splitlines()
    if process.returncode != 0 or not lines:
        reason = lines[-1] if lines else f"the import probe exited with status {process.returncode}"
        raise VerifyError(reason)
    data = json.loads(lines[-1])
    return data["module"], data["attribute"], tuple(data.get("shadows", ()))


@contextlib.contextmanager
def _redis(url: str | None) -> Iterator[tuple[str, str]]:
    from redis import Redis
    from redis.exceptions import RedisError

    if url is not None:
        shown = mask_url(url)
        try:
            with contextlib.closing(
                Redis.from_url(url, socket_connect_timeout=5, socket_timeout=5)
            ) as client:
                client.ping()
        except TypeError as exc:  # redis-py passes unknown query options on as keywords
            raise VerifyError(f"cannot use --redis-url {shown}: {_one_line(exc)}") from None
        except (RedisError, ValueError, OSError) as exc:
            raise VerifyError(f"cannot reach Redis at {shown}: {_one_line(exc)}") from None
        yield url, shown
        return
    from forklint.redis_server import EmbeddedRedis, RedisServerError

    server = EmbeddedRedis(die_with_parent=True)
    try:
        with processes.adopting("Redis") as adopt:
            try:
                server.start()
            finally:
                if server.pid is not None:
                    adopt(server.pid)
    except RedisServerError as exc:
        raise VerifyError(str(exc)) from None
    except BaseException:
        # A signal that came while it started is raised once it is registered: stop it here too,
        # or its directory would stay behind.
        with processes.uninterrupted():
            server.stop()
        raise
    try:
        yield server.url, "embedded"
    finally:
        with processes.uninterrupted():
            pid = server.pid
            server.stop()
            if pid is not None:
                processes.forget(pid)


def _static(
    root: Path, config: Config, job: str
) -> tuple[Sequence[Finding], Prefork, Sequence[WorkerParent], tuple[str, ...]]:
    """The project's findings, suggested table and worker parents, with JOB analysed as a job even if
    nothing enqueues it."""
    try:
        from forklint.api import check

        report = check([root], config.with_overrides(jobs=(*config.jobs, job)))
    except Exception as exc:  # noqa: BLE001 - verify still measures without the static side; it says so
        return (
            (),
            Prefork(),
            (),
            (f"static analysis failed ({_one_line(exc)}): no findings to confirm",),
        )
    return report.findings, report.prefork, getattr(report, "parents", ()), ()


def _table(config: Config, suggested: Prefork, module: str) -> tuple[Prefork, str]:
    if config.prefork:
        return config.prefork, "[tool.forklint.prefork]"
    if suggested:
        # `freeze = false` alone is a table with no entries: it still decides the freeze.
        return Prefork(
            suggested.imports, suggested.calls, suggested.after_fork, config.prefork.freeze
        ), "`forklint prefork`"
    return Prefork(
        imports=(module,), freeze=config.prefork.freeze
    ), "the job's module only: `forklint prefork` suggested no table"


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__
