"""Measurements taken inside each RQ work horse (time, CPU, imports after the fork, mapper runs, heavy
calls, page faults, private memory) and in its worker parent (the fork, the whole job)."""

from __future__ import annotations

import contextlib
import fnmatch
import functools
import inspect
import json
import os
import resource
import signal
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from importlib import _bootstrap
from typing import Any

_COUNTED = "__forklint_counted__"
# Redis keys next to the horses' list: the worker's start-up record, and one record per job from
# the worker parent.
READY_SUFFIX = ":ready"
PARENT_SUFFIX = ":parent"
# Callers whose calls are the worker's own work, not the job's.
_OWN = ("rq.", "forklint.", "importlib")


@dataclass(frozen=True)
class Measurement:
    """What one horse saw between the fork and the end of its job."""

    job_id: str
    pid: int
    wall_ms: float  # fork moment -> job returned (after-fork hooks, resolving the job's function, the job)
    cpu_ms: float
    imports_after_fork: int  # sys.modules growth since the fork moment
    import_ms: float  # time spent in outermost imports
    modules: tuple[str, ...]  # the modules imported after the fork, in import order
    mappers_configured: int  # SQLAlchemy configure runs (after_configured events)
    mapper_ms: float
    # Outermost calls only: yaml.safe_load calling yaml.load is one heavy call, not two.
    heavy_calls: dict[str, int] = field(default_factory=dict)
    exception: str | None = None  # last line of the job's exception, if it raised
    # The project functions a static finding names ("shop.notifications:email_templates"): how
    # often the job called each, and the heavy calls made while it ran.
    watched_calls: dict[str, int] = field(default_factory=dict)
    watched_heavy: dict[str, dict[str, int]] = field(default_factory=dict)
    # At the job's end: minor page faults since the fork (copy-on-write breaks among them), and the
    # horse's private memory from /proc/self/smaps_rollup (None where there is no such file).
    minor_faults: int = 0
    private_kb: int | None = None  # USS: Private_Clean + Private_Dirty
    private_dirty_kb: int | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str | bytes) -> Measurement:
        data = json.loads(text)
        data["modules"] = tuple(data["modules"])
        return cls(**data)


class Probe:
    """Process-wide instrumentation: installed once in the worker parent, counted only inside a horse.

    Installing in the parent (before the worker class, the pre-fork table or the job module is imported)
    matters: heavy callables are wrapped as their modules load, so `from joblib import load` done by a
    pre-fork import binds the counting wrapper too, and the horse inherits it with the fork.
    """

    def __init__(self, heavy_calls: Sequence[str] = (), watch: Sequence[str] = ()) -> None:
        self.heavy_calls = tuple(dict.fromkeys(heavy_calls))
        self.wrapped: dict[str, int] = {}  # callable -> calls seen in the current window
        self._resolved: set[str] = set()  # catalog entries found (and wrapped)
        self.watch = tuple(dict.fromkeys(watch))  # "pkg.mod:qualname"
        self.watched_calls: dict[str, int] = {}
        self.watched_heavy: dict[str, dict[str, int]] = {}
        self._active: list[str] = []  # watched functions running now, outermost first
        self._heavy_depth = 0  # counted heavy calls running now
        self.counting = False
        self._depth = 0
        self._import_seconds = 0.0
        self._mapper_runs = 0
        self._mapper_seconds = 0.0
        self._mapper_started: float | None = None
        self._listening = False
        self._original: Callable[..., Any] | None = None
        self._window: tuple[float, float, dict[str, None]] | None = None
        self._faults = 0

    def install(self) -> None:
        # Every import of a module not yet in sys.modules goes through this one function, whether it
        # comes from an `import` statement (the C import machinery looks it up by name) or from
        # importlib.import_module, which RQ uses to resolve the job's function.
        self._original = _bootstrap._find_and_load
        _bootstrap._find_and_load = self._find_and_load
        for name in list(sys.modules):
            self._loaded(name)

    # -- the window: fork moment -> job done -------------------------------------------------------

    @property
    def open(self) -> bool:
        return self._window is not None

    def open_window(self) -> None:
        self._import_seconds = 0.0
        self._mapper_runs = 0
        self._mapper_seconds = 0.0
        self.wrapped = dict.fromkeys(self.wrapped, 0)
        self.watched_calls = dict.fromkeys(self.watched_calls, 0)
        self.watched_heavy = {name: {} for name in self.watched_calls}
        self._active = []
        self._heavy_depth = 0
        self.counting = True
        self._faults = _minor_faults()
        self._window = (time.perf_counter(), time.process_time(), dict.fromkeys(sys.modules))

    def close_window(self, job_id: str, exception: str | None) -> Measurement:
        assert self._window is not None
        wall0, cpu0, before = self._window
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        # In a forked horse the counter started at zero with the fork; in a worker that does not fork
        # (SimpleWorker) only this job's share counts.
        faults = _minor_faults() - self._faults
        self.counting = False
        self._window = None
        modules = tuple(name for name in list(sys.modules) if name not in before)
        private, dirty = private_memory_kb()
        return Measurement(
            job_id=job_id,
            pid=os.getpid(),
            wall_ms=wall * 1000,
            cpu_ms=cpu * 1000,
            imports_after_fork=len(modules),
            import_ms=self._import_seconds * 1000,
            modules=modules,
            mappers_configured=self._mapper_runs,
            mapper_ms=self._mapper_seconds * 1000,
            heavy_calls=dict(self.wrapped),
            exception=exception,
            watched_calls=dict(self.watched_calls),
            watched_heavy={name: dict(calls) for name, calls in self.watched_heavy.items()},
            minor_faults=faults,
            private_kb=private,
            private_dirty_kb=dirty,
        )

    # -- imports -----------------------------------------------------------------------------------

    def _find_and_load(self, name: str, import_: Callable[..., Any]) -> Any:
        assert self._original is not None
        self._depth += 1
        started = time.perf_counter()
        try:
            return self._original(name, import_)
        finally:
            self._depth -= 1
            if self._depth == 0 and self.counting:
                self._import_seconds += time.perf_counter() - started
            if name in sys.modules:
                # Measuring must never break the import it watches.
                with contextlib.suppress(Exception):
                    self._loaded(name)

    def _loaded(self, name: str) -> None:
        if name == "sqlalchemy.orm" and not self._listening:
            self._listen_to_mappers()
        for entry in self.heavy_calls:
            if entry not in self._resolved and entry.startswith(name + "."):
                self._wrap_entry(entry, name)
        for entry in self.watch:
            if entry.partition(":")[0] == name and entry not in self.watched_calls:
                self._watch_entry(entry, sys.modules[name])

    def _listen_to_mappers(self) -> None:
        # Only ever called once sqlalchemy.orm is loaded: verify never imports SQLAlchemy itself,
        # which would change what the stock worker parent has preloaded.
        from sqlalchemy import event
        from sqlalchemy.orm import Mapper

        event.listen(Mapper, "before_configured", self._before_configured)
        event.listen(Mapper, "after_configured", self._after_configured)
        self._listening = True

    def _before_configured(self) -> None:
        self._mapper_started = time.perf_counter()

    def _after_configured(self) -> None:
        if self.counting:
            self._mapper_runs += 1
            if self._mapper_started is not None:
                self._mapper_seconds += time.perf_counter() - self._mapper_started
        self._mapper_started = None

    # -- heavy calls -------------------------------------------------------------------------------

    def _wrap_entry(self, entry: str, module_name: str) -> None:
        """Wrap the callable(s) `entry` names once its owner exists; a "*" may end the last part."""
        owner: Any = sys.modules[module_name]
        path = entry[len(module_name) + 1 :].split(".")
        for part in path[:-1]:
            owner = vars(owner).get(part) if hasattr(owner, "__dict__") else None
            if owner is None:
                return  # a submodule not loaded yet: tried again when it is
        self._resolved.add(entry)
        prefix = entry.rsplit(".", 1)[0]
        names = fnmatch.filter(list(vars(owner)), path[-1]) if "*" in path[-1] else [path[-1]]
        for attr in names:
            self._wrap(owner, attr, f"{prefix}.{attr}")

    def _wrap(self, owner: Any, attr: str, dotted: str) -> None:
        try:
            raw = inspect.getattr_static(owner, attr)
        except AttributeError:
            return
        if isinstance(raw, type):
            # A class is counted by its constructions: replacing the class itself would break
            # isinstance() and subclassing.
            owner, attr, raw = raw, "__init__", raw.__init__
        function = raw.__func__ if isinstance(raw, (classmethod, staticmethod)) else raw
        if not callable(function):
            return
        label = getattr(function, _COUNTED, None)
        if label is not None:
            # The same function under another name: report it under the shorter, public one
            # ("sqlalchemy.create_engine", not "sqlalchemy.engine.create_engine").
            if dotted.count(".") < label[0].count("."):
                self.wrapped[dotted] = self.wrapped.pop(label[0])
                label[0] = dotted
            return
        counted = self._counter(dotted, function)
        try:
            setattr(owner, attr, type(raw)(counted) if function is not raw else counted)
        except (AttributeError, TypeError):
            return  # a C type: its methods cannot be replaced; the call is not counted
        self.wrapped[dotted] = 0

    def _counter(self, dotted: str, function: Callable[..., Any]) -> Callable[..., Any]:
        label = [dotted]

        @functools.wraps(function)
        def counted(*args: Any, **kwargs: Any) -> Any:
            # Only the outermost counted call of a call stack: yaml.safe_load calls yaml.load.
            if not self.counting or self._heavy_depth:
                return function(*args, **kwargs)
            # RQ resolves every job with import_module and unpickles its data: that is the
            # worker's own work, not the job's, so only calls from other code count (and a
            # job's module imported that way still has its own heavy calls counted).
            caller = sys._getframe(1).f_globals.get("__name__", "")
            if caller.startswith(_OWN):
                return function(*args, **kwargs)
            self.wrapped[label[0]] += 1
            for name in dict.fromkeys(self._active):
                inside = self.watched_heavy[name]
                inside[label[0]] = inside.get(label[0], 0) + 1
            self._heavy_depth += 1
            try:
                return function(*args, **kwargs)
            finally:
                self._heavy_depth -= 1

        setattr(counted, _COUNTED, label)
        return counted

    # -- the functions the findings name -----------------------------------------------------------

    def _watch_entry(self, entry: str, module: Any) -> None:
        """Wrap "pkg.mod:Class.method" / "pkg.mod:func" to count its calls and the heavy calls it makes."""
        *path, attr = entry.partition(":")[2].split(".")
        owner = module
        for part in path:
            owner = vars(owner).get(part) if hasattr(owner, "__dict__") else None
            if owner is None:
                return
        try:
            raw = inspect.getattr_static(owner, attr)
        except AttributeError:
            return
        function = raw.__func__ if isinstance(raw, (classmethod, staticmethod)) else raw
        if not callable(function) or isinstance(function, type):
            return
        watched = self._watcher(entry, function)
        try:
            setattr(owner, attr, type(raw)(watched) if function is not raw else watched)
        except (AttributeError, TypeError):
            return
        self.watched_calls[entry] = 0
        self.watched_heavy[entry] = {}

    def _watcher(self, entry: str, function: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(function)
        def watched(*args: Any, **kwargs: Any) -> Any:
            if not self.counting:
                return function(*args, **kwargs)
            self.watched_calls[entry] += 1
            self._active.append(entry)
            try:
                return function(*args, **kwargs)
            finally:
                self._active.pop()

        # A memoised function keeps its cache controls (lru_cache's are methods, not in __dict__).
        for name in ("cache_info", "cache_clear", "cache_parameters"):
            if hasattr(function, name):
                setattr(watched, name, getattr(function, name))
        return watched


def last_line(exc: BaseException) -> str:
    return traceback.format_exception_only(exc)[-1].strip()


def _minor_faults() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def private_memory_kb(path: str = "/proc/self/smaps_rollup") -> tuple[int | None, int | None]:
    """(USS, private dirty) in kB: the pages only this process maps, i.e. what a fork un-shared."""
    try:
        with open(path, "rb") as rollup:  # bytes: decoding could import a codec in the horse
            text = rollup.read()
    except OSError:
        return None, None
    values = {}
    for line in text.splitlines():
        key, _, rest = line.partition(b":")
        if key in (b"Private_Clean", b"Private_Dirty", b"Private_Hugetlb"):
            values[key] = int(rest.split()[0])
    if b"Private_Dirty" not in values:
        return None, None
    return sum(values.values()), values[b"Private_Dirty"]


def die_with_parent(parent: int) -> None:
    """Linux: be killed when `parent` ends, however it ends (SIGKILL included); elsewhere nothing.

    The request is tied to the parent alive at the call, so a parent already gone means exit now.
    """
    with contextlib.suppress(OSError, AttributeError):
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:
        os._exit(1)


class HorseProbeMixin:
    """Worker mixin: times each job and its fork in the parent, opens the horse's window at the fork and
    closes it when the job returns, and publishes both to Redis.

    Put first in the bases: `type("X", (HorseProbeMixin, rq.Worker), {...})`.
    """

    forklint_probe: Probe
    forklint_key: str  # the Redis list the horses push their measurements to
    _forklint_fork_ms: float | None = None
    _forklint_parent_pid: int = 0

    def bootstrap(self, *args: Any, **kwargs: Any) -> None:
        super().bootstrap(*args, **kwargs)  # type: ignore[misc]
        # Start-up done (the pre-fork table included): verify may now send jobs.
        from rq.worker import Worker

        ready = {
            "pid": os.getpid(),
            "prefork_seconds": getattr(type(self), "forklint_prefork_seconds", None),
            # SimpleWorker and other non-Worker classes run every job in the worker itself.
            "forks": isinstance(self, Worker),
        }
        self.connection.set(self.forklint_key + READY_SUFFIX, json.dumps(ready))  # type: ignore[attr-defined]

    def execute_job(self, job: Any, queue: Any) -> None:
        self._forklint_fork_ms = None
        started = time.perf_counter()
        try:
            super().execute_job(job, queue)  # type: ignore[misc]
        finally:
            record = {
                "job_id": job.id,
                "job_ms": (time.perf_counter() - started) * 1000,
                "fork_ms": self._forklint_fork_ms,
            }
            self.connection.rpush(self.forklint_key + PARENT_SUFFIX, json.dumps(record))  # type: ignore[attr-defined]

    def fork_work_horse(self, job: Any, queue: Any) -> None:
        # The horse never returns from here (it ends in os._exit): only the parent takes the time.
        self._forklint_parent_pid = os.getpid()
        started = time.perf_counter()
        super().fork_work_horse(job, queue)  # type: ignore[misc]
        self._forklint_fork_ms = (time.perf_counter() - started) * 1000

    def main_work_horse(self, job: Any, queue: Any) -> None:
        # The first thing the horse runs after the fork; after-fork hooks of the bases come later.
        self.forklint_probe.open_window()
        die_with_parent(self._forklint_parent_pid)
        super().main_work_horse(job, queue)  # type: ignore[misc]

    def perform_job(self, job: Any, queue: Any, execution: Any) -> bool:
        probe = self.forklint_probe
        if not probe.open:  # a worker that does not fork (SimpleWorker)
            probe.open_window()
        perform = job.perform
        measured: list[Measurement] = []

        def measured_perform() -> Any:
            exception = None
            try:
                return perform()
            except BaseException as exc:
                exception = last_line(exc)
                raise
            finally:
                measured.append(probe.close_window(job.id, exception))

        job.perform = measured_perform
        try:
            return super().perform_job(job, queue, execution)  # type: ignore[misc]
        finally:
            if not measured:  # failed before the job ran (e.g. bookkeeping in Redis)
                measured.append(probe.close_window(job.id, "job did not start"))
            self.connection.rpush(self.forklint_key, measured[0].to_json())  # type: ignore[attr-defined]
