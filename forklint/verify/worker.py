"""`python -m forklint.verify.worker SPEC`: one instrumented RQ worker, as `rq worker` runs it, kept running
until verify stops it (SIGTERM: RQ's warm shut-down).

SPEC is a JSON object: redis_url, queue, key (the Redis list horses report to), worker_class (dotted),
prefork (a table, or null to run the class as it is), freeze (the table's `freeze`), prefork_source
(where the table came from, for messages), heavy_calls (dotted callables to count), watch
("pkg.mod:qualname" functions named by static findings, whose calls and heavy calls are counted),
root (the project root: the working directory, put first on sys.path after the worker's own imports,
as `rq worker --path .` does), parent (verify's pid: the worker dies with it).

Exit status: 0 when the worker ran (jobs may have failed: they are in RQ's registries), 3 when the
worker could not start; the last stderr line then says why. The worker's start-up record goes to
Redis at KEY + READY_SUFFIX, one record per job at KEY + PARENT_SUFFIX (stdout belongs to the jobs).
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

from forklint.verify.horse import HorseProbeMixin, Probe, die_with_parent

WORKER_FAILED = 3


class _Refused(Exception):
    """The worker cannot be built or started; the message is the one line to show."""


def main(argv: list[str]) -> int:
    spec = json.loads(argv[0])
    die_with_parent(spec["parent"])
    # First, before the worker class or any pre-fork import: heavy callables must be wrapped as
    # their modules load, wherever that happens.
    probe = Probe(spec["heavy_calls"], spec.get("watch", ()))
    probe.install()
    # As `rq worker --path .`: RQ and redis are loaded before the project goes first on sys.path.
    import redis  # noqa: F401
    import rq.worker  # noqa: F401

    sys.path.insert(0, spec["root"])
    try:
        _run(spec, probe)
    except _Refused as exc:
        print(f"forklint-worker: {exc}", file=sys.stderr, flush=True)
        return WORKER_FAILED
    return 0


def _run(spec: dict[str, Any], probe: Probe) -> None:
    from redis import Redis
    from redis.exceptions import RedisError

    base = _worker_class(spec["worker_class"])
    cls = _instrumented(
        base, spec["prefork"], spec.get("freeze", True), spec["prefork_source"], probe, spec["key"]
    )
    connection = Redis.from_url(spec["redis_url"])
    try:
        worker = cls([spec["queue"]], connection=connection, name=spec["queue"])
        worker.work(logging_level="WARNING")
    except SystemExit as exc:  # PreforkMixin stops a worker whose pre-fork table fails this way
        raise _Refused(str(exc.code)) from None
    except RedisError as exc:
        raise _Refused(f"Redis error: {exc}") from None


def _worker_class(dotted: str) -> type:
    from rq.utils import import_attribute
    from rq.worker import BaseWorker, SpawnWorker

    try:
        cls = import_attribute(dotted.replace(":", "."))
    except Exception as exc:  # noqa: BLE001 - any import-time error of the user's class is one line
        raise _Refused(
            f"cannot import worker class {dotted}: {type(exc).__name__}: {exc}"
        ) from None
    if not (isinstance(cls, type) and issubclass(cls, BaseWorker)):
        raise _Refused(f"{dotted} is not an RQ worker class")
    if issubclass(cls, SpawnWorker):
        raise _Refused(f"{dotted} spawns a fresh interpreter per job: there is no fork to verify")
    return cls


def _instrumented(
    base: type,
    prefork: dict[str, list[str]] | None,
    freeze: bool,
    source: str,
    probe: Probe,
    key: str,
) -> type:
    attrs: dict[str, Any] = {"forklint_probe": probe, "forklint_key": key}
    bases: tuple[type, ...] = (HorseProbeMixin, base)
    if prefork is not None:
        from forklint.findings import Prefork
        from forklint.rq import PreforkMixin

        # Set as PreforkMixin's loaded table, so that a failing entry names where the table came
        # from ("[tool.forklint.prefork]"), not this generated class.
        attrs["_forklint_source"] = source
        attrs["_forklint_table"] = Prefork(
            tuple(prefork.get("imports", ())),
            tuple(prefork.get("calls", ())),
            tuple(prefork.get("after-fork", ())),
            freeze,
        )
        attrs["run_prefork"] = _timed_prefork
        if not issubclass(base, PreforkMixin):
            bases = (HorseProbeMixin, PreforkMixin, base)
    return type(f"Verify{base.__name__}", bases, attrs)


def _timed_prefork(self: Any) -> None:
    started = time.perf_counter()
    try:
        super(type(self), self).run_prefork()
    finally:
        type(self).forklint_prefork_seconds = time.perf_counter() - started


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
