"""pytest plugin: the `forklint_horse` fixture runs a job in a real forked RQ work horse and reports what it did.

    def test_record_event_is_preloaded(forklint_horse):
        table = {"imports": ["app.tasks"], "calls": ["sqlalchemy.orm:configure_mappers"]}
        report = forklint_horse(record_event, {"action": "create"}, prefork=table)
        assert report.mappers_configured == 0

The job runs on a worker subprocess started from the pytest root directory (with this process's
sys.path), so what the horse imports is what a real `rq worker` would import, not what the test
process happens to have loaded already. Redis is a private server started on first use and stopped
at the end of the session. Importing this module is cheap: the work happens inside the fixture.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from forklint.findings import Prefork
    from forklint.redis_server import EmbeddedRedis


_TIMEOUT = 120  # seconds for one job, its worker's start-up included


class HorseKilled(Exception):
    """The work horse died before it could report (killed by a signal, or os._exit in the job)."""


@dataclass(frozen=True)
class HorseReport:
    """What one work horse did between the fork and the end of its job."""

    imports_after_fork: int
    modules_imported: tuple[str, ...]
    mappers_configured: int
    heavy_calls: dict[str, int] = field(default_factory=dict)
    wall_ms: float = 0.0
    cpu_ms: float = 0.0
    import_ms: float = 0.0
    result: Any = None
    exception: str | None = None  # the last line of the job's exception when it raised


class _LazyRedis:
    """One EmbeddedRedis for the session, started by the first fixture call that needs it."""

    def __init__(self) -> None:
        self.server: EmbeddedRedis | None = None

    def url(self) -> str:
        if self.server is None:
            from forklint.redis_server import EmbeddedRedis

            server = EmbeddedRedis()
            server.start()
            self.server = server
        return self.server.url

    def close(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None


@pytest.fixture(scope="session")
def _forklint_redis() -> Iterator[_LazyRedis]:
    holder = _LazyRedis()
    yield holder
    holder.close()


@pytest.fixture
def forklint_horse(
    _forklint_redis: _LazyRedis,
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
) -> Callable[..., HorseReport]:
    """`forklint_horse(job, *args, prefork=None, **kwargs) -> HorseReport`.

    `job` is a function or a dotted name ("app.tasks:record_event"); `prefork` a table
    ({"imports": [...], "calls": [...], "after-fork": [...]} or a forklint.Prefork) to run the job on
    forklint.rq.PreforkWorker instead of rq.Worker.
    """
    root = Path(request.config.rootpath)

    def run(
        job: Callable[..., Any] | str,
        *args: Any,
        prefork: Mapping[str, Any] | Prefork | None = None,
        **kwargs: Any,
    ) -> HorseReport:
        return _run_in_horse(_forklint_redis, root, tmp_path_factory, job, args, kwargs, prefork)

    return run


def _run_in_horse(
    redis: _LazyRedis,
    root: Path,
    tmp_path_factory: pytest.TempPathFactory,
    job: Callable[..., Any] | str,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    prefork: Mapping[str, Any] | Prefork | None,
) -> HorseReport:
    for name in ("rq", "redis"):
        if importlib.util.find_spec(name) is None:
            pytest.fail(
                f"forklint_horse needs rq and redis ({name} is not installed): "
                "pip install 'forklint[verify]'",
                pytrace=False,
            )
    from redis import Redis

    from forklint.config import find_root, load_config
    from forklint.findings import Prefork
    from forklint.verify.catalog import heavy_callables
    from forklint.verify.runner import JobSpec, WorkerProcess

    table = (
        prefork.to_dict()
        if isinstance(prefork, Prefork)
        else (None if prefork is None else dict(prefork))
    )
    freeze = (
        prefork.freeze if isinstance(prefork, Prefork) else bool((table or {}).pop("freeze", True))
    )
    url = redis.url()
    paths = [p for p in sys.path if p and os.path.isdir(p)]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(paths))
    with Redis.from_url(url) as connection:
        worker = WorkerProcess(
            connection=connection,
            redis_url=url,
            job=JobSpec(_dotted(job), args, tuple(kwargs.items()), timeout=_TIMEOUT),
            worker_class="rq.Worker",
            shown_as="forklint.rq.PreforkWorker" if table is not None else "rq.Worker",
            prefork=table,
            freeze=freeze,
            prefork_source="forklint_horse(prefork=...)",
            heavy_calls=heavy_callables(load_config(find_root(root))),
            root=root,
            timeout=_TIMEOUT,
            env=env,
            scratch=tmp_path_factory.mktemp("forklint-horse"),
            fetch_results=True,
        )
        with worker:
            worker.run(1)
            run = worker.result()
    if not run.measurements:
        raise HorseKilled(
            run.failures[0].message if run.failures else "the work horse did not report"
        )
    m = run.measurements[0]
    return HorseReport(
        imports_after_fork=m.imports_after_fork,
        modules_imported=m.modules,
        mappers_configured=m.mappers_configured,
        heavy_calls=dict(m.heavy_calls),
        wall_ms=m.wall_ms,
        cpu_ms=m.cpu_ms,
        import_ms=m.import_ms,
        result=run.results[0] if run.results else None,
        exception=m.exception,
    )


def _dotted(job: Callable[..., Any] | str) -> str:
    if isinstance(job, str):
        return job.replace(":", ".")
    module, qualname = getattr(job, "__module__", None), getattr(job, "__qualname__", None)
    if not module or not qualname or module == "__main__" or "<locals>" in qualname:
        raise ValueError(f"forklint_horse needs an importable module-level function, not {job!r}")
    return f"{module}.{qualname}"
