"""One `forklint verify` run: Redis, the import probe, static findings, then the stock and the pre-fork worker."""

from __future__ import annotations

import contextlib
import functools
import json
import math
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from forklint.config import Config, ConfigError, load_config
from forklint.findings import Finding, Prefork
from forklint.verify.aggregate import FindingStatus, finding_statuses
from forklint.verify.catalog import heavy_callables
from forklint.verify.runner import JobSpec, RunResult, VerifyError, run_worker, uninterrupted
from forklint.verify.targets import Target, catalog_names, target_of

STOCK_WORKER = "rq.Worker"
PREFORK_WORKER = "forklint.rq.PreforkWorker"
_DOTTED = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")


@dataclass(frozen=True)
class Options:
    job: str
    args: tuple[Any, ...] = ()
    kwargs: tuple[tuple[str, Any], ...] = ()
    jobs: int = 10
    redis_url: str | None = None
    worker_class: str = STOCK_WORKER
    timeout: float = 300.0
    root: Path = Path(".")
    progress: Callable[..., None] | None = None  # progress(worker, jobs_started, total=jobs)


@dataclass(frozen=True)
class Verification:
    job: str  # as given, normalised to "pkg.mod:func"
    module: str  # the job's module, as the probe resolved it
    jobs: int
    redis: str  # "embedded" or the URL without its password
    prefork_source: str  # where the pre-fork table came from
    notes: tuple[str, ...]  # what verify assumed, e.g. static analysis unavailable
    stock: RunResult
    prefork: RunResult
    statuses: tuple[FindingStatus, ...]


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
            probe = stack.enter_context(_probe(job, root, env))
            redis_url, shown = stack.enter_context(_redis(options.redis_url))
            module, attribute = _probe_result(probe, job, options.timeout)
            findings, suggested, notes = _static(root, config, f"{module}:{attribute}")
            qualified = f"{module}.{attribute}"
            mine = [f for f in findings if qualified in {j.replace(":", ".") for j in f.jobs}]
            table, source = _table(config, suggested, module)
            scratch = Path(
                stack.enter_context(tempfile.TemporaryDirectory(prefix="forklint-verify-"))
            )
            # RQ's own per-job timeout must not cut a job shorter than the run's.
            spec = JobSpec(
                f"{module}.{attribute}", options.args, options.kwargs, math.ceil(options.timeout)
            )
            heavy = heavy_callables(config)
            targets = {
                f: target_of(f, root, config.src)
                for f in mine
                if f.code in ("FRK103", "FRK104", "FRK105")
            }
            watch = _watch(targets.values(), heavy)
            stock, prefork = _runs(
                options, redis_url, spec, table, source, heavy, watch, root, env, scratch
            )
    except RedisError as exc:
        raise VerifyError(f"Redis error during the run: {_one_line(exc)}") from None
    if not stock.forks:
        notes = (
            f"{options.worker_class} runs every job in the worker process itself: there is no "
            "fork per job, so the stock run cannot confirm FRK101, FRK102, FRK104 or FRK105 "
            "(their premise is work redone in every forked horse)",
            *notes,
        )
    return Verification(
        job=f"{module}:{attribute}",
        module=module,
        jobs=options.jobs,
        redis=shown,
        prefork_source=source,
        notes=notes,
        stock=stock,
        prefork=prefork,
        statuses=finding_statuses(mine, stock, module, targets),
    )


def _watch(targets: Iterable[Target], heavy: Sequence[str]) -> tuple[str, ...]:
    """The findings' own functions to count in the horses; catalog calls are counted anyway."""
    return tuple(
        dict.fromkeys(
            t.function
            for t in targets
            if t.function is not None and not catalog_names(t.dotted, heavy)
        )
    )


def _runs(
    options: Options,
    redis_url: str,
    spec: JobSpec,
    table: Prefork,
    source: str,
    heavy: Sequence[str],
    watch: Sequence[str],
    root: Path,
    env: dict[str, str] | None,
    scratch: Path,
) -> tuple[RunResult, RunResult]:
    """The stock worker, then the same class with the pre-fork table, on the same Redis."""
    from redis import Redis

    stock_class = options.worker_class
    prefork_class = (
        PREFORK_WORKER if stock_class == STOCK_WORKER else f"forklint.rq.PreforkMixin+{stock_class}"
    )
    runs = []
    with Redis.from_url(redis_url) as connection:
        for shown_as, prefork in ((stock_class, None), (prefork_class, table.to_dict())):
            report = options.progress
            runs.append(
                run_worker(
                    connection,
                    redis_url,
                    spec,
                    jobs=options.jobs,
                    worker_class=stock_class,
                    shown_as=shown_as,
                    prefork=prefork,
                    prefork_source=source,
                    heavy_calls=heavy,
                    watch=watch,
                    root=root,
                    timeout=options.timeout,
                    env=env,
                    scratch=scratch,
                    progress=None
                    if report is None
                    else functools.partial(report, shown_as, total=options.jobs),
                )
            )
    return runs[0], runs[1]


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
def _probe(job: str, root: Path, env: dict[str, str] | None) -> Iterator[subprocess.Popen[str]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "forklint.verify.probe", job],
        cwd=root,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    try:
        yield process
    finally:
        with uninterrupted():
            if process.poll() is None:
                process.kill()
            process.communicate()


def _probe_result(process: subprocess.Popen[str], job: str, timeout: float) -> tuple[str, str]:
    try:
        out, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        raise VerifyError(f"importing {job} took longer than {timeout:g}s") from None
    lines = out.strip().splitlines()
    if process.returncode != 0 or not lines:
        reason = lines[-1] if lines else f"the import probe exited with status {process.returncode}"
        raise VerifyError(reason)
    data = json.loads(lines[-1])
    return data["module"], data["attribute"]


@contextlib.contextmanager
def _redis(url: str | None) -> Iterator[tuple[str, str]]:
    from redis import Redis
    from redis.exceptions import RedisError

    if url is not None:
        shown = _without_password(url)
        try:
            with contextlib.closing(
                Redis.from_url(url, socket_connect_timeout=5, socket_timeout=5)
            ) as client:
                client.ping()
        except (RedisError, ValueError, OSError) as exc:
            raise VerifyError(f"cannot reach Redis at {shown}: {_one_line(exc)}") from None
        yield url, shown
        return
    from forklint.redis_server import EmbeddedRedis, RedisServerError

    server = EmbeddedRedis()
    try:
        server.start()
    except RedisServerError as exc:
        raise VerifyError(str(exc)) from None
    try:
        yield server.url, "embedded"
    finally:
        with uninterrupted():
            server.stop()


def _static(
    root: Path, config: Config, job: str
) -> tuple[Sequence[Finding], Prefork, tuple[str, ...]]:
    """The project's findings and suggested table, with JOB analysed as a job even if nothing enqueues it."""
    try:
        from forklint.api import check

        report = check([root], config.with_overrides(jobs=(*config.jobs, job)))
    except Exception as exc:  # noqa: BLE001 - verify still measures without the static side; it says so
        return (
            (),
            Prefork(),
            (f"static analysis failed ({_one_line(exc)}): no findings to confirm",),
        )
    return report.findings, report.prefork, ()


def _table(config: Config, suggested: Prefork, module: str) -> tuple[Prefork, str]:
    if config.prefork:
        return config.prefork, "[tool.forklint.prefork]"
    if suggested:
        return suggested, "`forklint prefork`"
    return Prefork(
        imports=(module,)
    ), "the job's module only: `forklint prefork` suggested no table"


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__
