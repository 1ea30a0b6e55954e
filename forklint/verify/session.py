"""One `forklint verify` run: Redis, the import probe, static findings, then the stock and the pre-fork worker."""

from __future__ import annotations

import contextlib
import json
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from forklint.config import Config, ConfigError, load_config
from forklint.findings import Finding, Prefork
from forklint.verify.aggregate import FindingStatus, finding_statuses
from forklint.verify.catalog import heavy_callables
from forklint.verify.runner import JobSpec, RunResult, VerifyError, run_worker, uninterrupted

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
    progress: Callable[[str, int, int], None] | None = None  # (worker, jobs started, jobs)


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
    root = options.root.resolve()
    try:
        config = load_config(root)
    except ConfigError as exc:
        raise VerifyError(str(exc)) from None
    job = _check_job_name(options.job)
    with contextlib.ExitStack() as stack:
        # The probe imports the job's module in a process of its own while Redis starts and the
        # static analysis runs here: verify itself never imports the job.
        probe = stack.enter_context(_probe(job, root))
        redis_url, shown = stack.enter_context(_redis(options.redis_url))
        from redis import Redis

        connection = Redis.from_url(redis_url)
        stack.callback(connection.close)
        findings, suggested, notes = _static(root, config)
        module, attribute = _probe_result(probe, job, options.timeout)
        table, source = _table(config, suggested, module)
        scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="forklint-verify-")))
        spec = JobSpec(f"{module}.{attribute}", options.args, options.kwargs)
        heavy = heavy_callables(config)
        prefork_shown = (
            PREFORK_WORKER
            if options.worker_class == STOCK_WORKER
            else (f"forklint.rq.PreforkMixin+{options.worker_class}")
        )
        runs = []
        for shown_as, prefork in ((options.worker_class, None), (prefork_shown, table.to_dict())):
            progress = options.progress
            runs.append(
                run_worker(
                    connection,
                    redis_url,
                    spec,
                    jobs=options.jobs,
                    worker_class=options.worker_class,
                    shown_as=shown_as,
                    prefork=prefork,
                    heavy_calls=heavy,
                    root=root,
                    timeout=options.timeout,
                    scratch=scratch,
                    progress=(lambda n, w=shown_as, p=progress: p(w, n, options.jobs))
                    if progress
                    else None,
                )
            )
    qualified = f"{module}.{attribute}"
    mine = [f for f in findings if qualified in {j.replace(":", ".") for j in f.jobs}]
    return Verification(
        job=f"{module}:{attribute}",
        module=module,
        jobs=options.jobs,
        redis=shown,
        prefork_source=source,
        notes=notes,
        stock=runs[0],
        prefork=runs[1],
        statuses=finding_statuses(mine, runs[0], module),
    )


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
def _probe(job: str, root: Path) -> Iterator[subprocess.Popen[str]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "forklint.verify.probe", job],
        cwd=root,
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


def _static(root: Path, config: Config) -> tuple[Sequence[Finding], Prefork, tuple[str, ...]]:
    try:
        from forklint.api import check

        report = check([root], config)
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
    return Prefork(imports=(module,)), "the job's module only: `forklint prefork` suggested no table"


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__
