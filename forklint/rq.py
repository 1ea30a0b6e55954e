"""PreforkWorker: an RQ worker that preloads before it forks and resets fork-unsafe state after.

    rq worker -w forklint.rq.PreforkWorker default
    RQ_WORKER_CLASS=forklint.rq.PreforkWorker rq worker default   # same, command unchanged

There is no settings-module form (`rq worker -c`): RQ's CLI reads no worker class from
settings, so a settings module could preload at import but never reset a horse after its fork.

The table comes from, first found: the class attribute `prefork`, the environment variable
FORKLINT_PREFORK (JSON: {"imports": [...], "calls": [...], "after-fork": [...]}), or
`[tool.forklint.prefork]` in the pyproject.toml found upward from the current directory.

Once in the worker parent, before its first fork: the cwd goes on sys.path (as `rq worker
--path .` does), each module of `imports` is imported and each "pkg.mod:func" of `calls` is
called, in order; then `gc.collect()` and `gc.freeze()` (`freeze = false` in the table turns
this off): the warmed heap moves out of the cyclic collector's reach, so a collection in a horse
does not write to every object the parent made and un-share the pages they sit on. A failing entry stops the worker at start-up with one line naming the
entry: `rq worker` exits 1 instead of failing the same way in every horse. The `after-fork`
entries are resolved there too (module imported, function found and callable, nothing called),
so a misspelt one stops the worker at start-up as well.

In every work horse, right after the fork and before the job runs, each resolved `after-fork`
function is called once; one that raises fails that job with a message naming the entry.

Worker kinds:
- `Worker` and its subclasses (HerokuWorker...): as above. `rq worker-pool` runs the table in
  each pool worker it starts (RQ restarts pool workers that exit, a failing table included).
- `SimpleWorker` runs jobs in the worker process itself: the pre-fork part runs (the first job
  does not pay for it), `after-fork` never does: nothing crossed a fork, and resetting a
  connection pool before every job would only throw away its connections.
- `SpawnWorker` starts every horse as a fresh interpreter: nothing done in the parent reaches
  the horse, so the table is ignored, with one warning.

Subclasses (e.g. `forklint verify`, which instruments horses) can override `run_prefork()` and
`run_after_fork()`. For a custom worker class put the mixin first:
`class MyWorker(PreforkMixin, MyBaseWorker)`.

Only forklint.config and forklint.findings are imported here: the worker must start fast.
"""

from __future__ import annotations

import gc
import importlib
import json
import os
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, ClassVar

try:
    from rq.logutils import setup_loghandlers
    from rq.worker import SpawnWorker, Worker
except ModuleNotFoundError as exc:
    if exc.name is None or exc.name.partition(".")[0] not in ("rq", "redis"):
        raise
    raise ModuleNotFoundError(
        f"forklint.rq needs RQ installed next to it ({exc.name} is missing): `pip install rq` "
        "in the worker's environment",
        name=exc.name,
    ) from None

from forklint.config import ConfigError, find_root, load_config, parse_table
from forklint.findings import Prefork

__all__ = ["ENV_VAR", "PreforkError", "PreforkMixin", "PreforkWorker", "load_prefork"]

ENV_VAR = "FORKLINT_PREFORK"


class PreforkError(Exception):
    """A pre-fork or after-fork entry failed; one line naming the entry and the cause."""


def load_prefork(
    cwd: Path | None = None, environ: Mapping[str, str] | None = None
) -> tuple[Prefork, str]:
    """The table from FORKLINT_PREFORK, else from the pyproject.toml above `cwd`; and its source."""
    cwd = Path.cwd() if cwd is None else cwd
    environ = os.environ if environ is None else environ
    raw = environ.get(ENV_VAR, "").strip()
    if raw:
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise PreforkError(f"{ENV_VAR} is not valid JSON ({exc})") from None
        try:
            config = parse_table({"prefork": data}, root=cwd, source=Path(ENV_VAR), prefix="")
        except ConfigError as exc:
            raise PreforkError(str(exc)) from None
        return config.prefork, ENV_VAR
    root = find_root(cwd)
    try:
        config = load_config(root)
    except ConfigError as exc:
        raise PreforkError(str(exc)) from None
    return config.prefork, f"[tool.forklint.prefork] in {root / 'pyproject.toml'}"


class PreforkMixin:
    """Adds the pre-fork / after-fork table to an RQ worker class; put it first in the bases."""

    # A table set here wins over FORKLINT_PREFORK and the pyproject.toml.
    prefork: ClassVar[Prefork | None] = None

    # Set on the instance by bootstrap() in the parent; a forked horse inherits them.
    _forklint_table: Prefork | None = None
    _forklint_source: str = ""
    # (entry, function) pairs resolved in the parent at start-up; the horses call them.
    _forklint_after_fork: tuple[tuple[str, Callable[[], Any]], ...] = ()
    _forklint_prefork_done: bool = False
    _forklint_after_fork_done: bool = False
    _forklint_warned_spawn: ClassVar[bool] = False

    log: Any  # rq's BaseWorker logger
    is_horse: bool

    def prefork_table(self) -> Prefork:
        """The table this worker uses, loaded once (see the module docstring for the order)."""
        if self._forklint_table is None:
            if self.prefork is not None:
                cls = type(self)
                self._forklint_table = self.prefork
                self._forklint_source = f"{cls.__module__}.{cls.__qualname__}.prefork"
            else:
                self._forklint_table, self._forklint_source = load_prefork()
        return self._forklint_table

    def bootstrap(self, logging_level: str | None = "INFO", *args: Any, **kwargs: Any) -> None:
        # Before super().bootstrap(): a worker that cannot start must not register itself in Redis.
        setup_loghandlers(logging_level, *args, name="rq.worker", **kwargs)
        if not self._forklint_prefork_done:
            self._forklint_prefork_done = True
            self._start_prefork()
        super().bootstrap(logging_level, *args, **kwargs)  # type: ignore[misc]

    def _start_prefork(self) -> None:
        if isinstance(self, SpawnWorker):
            if not PreforkMixin._forklint_warned_spawn:
                PreforkMixin._forklint_warned_spawn = True
                self.log.warning(
                    "forklint: %s starts every work horse as a fresh interpreter, so nothing "
                    "preloaded in the worker can reach it; the pre-fork table is ignored "
                    "(use rq.Worker to fork)",
                    type(self).__qualname__,
                )
            return
        try:
            self.run_prefork()
            if _forks(self):
                self.resolve_after_fork()
                self.freeze_heap()
        except PreforkError as exc:
            # SystemExit, not an Exception: `rq worker` logs any Exception from work() with a
            # traceback, while an uncaught SystemExit prints its one line and exits 1.
            raise SystemExit(f"forklint: {exc}; the worker did not start") from exc

    def run_prefork(self) -> None:
        """In the worker parent: import `imports`, then call `calls`, in order, timing each
        (`django:setup` first of all: Django models cannot be imported before it)."""
        table = self.prefork_table()
        where = self._forklint_source
        if not table:
            self.log.warning(
                "forklint: no pre-fork table (class attribute, %s or %s); nothing preloaded",
                ENV_VAR,
                where,
            )
            return
        _ensure_cwd_on_path()
        started = time.perf_counter()
        for entry in table.setup_calls():
            self._prefork_call(entry, where)
        for module in table.imports:
            step = time.perf_counter()
            _import_module(module, "imports", where)
            self.log.info("forklint prefork: imported %s (%.1f ms)", module, _ms(step))
        for entry in table.later_calls():
            self._prefork_call(entry, where)
        self.log.info(
            "forklint prefork: %d imports, %d calls from %s in %.1f ms; %d after-fork per job",
            len(table.imports), len(table.calls), where, _ms(started), len(table.after_fork),
        )  # fmt: skip
        if table.after_fork and not _forks(self):
            self.log.info(
                "forklint: %s does not fork, so after-fork entries are not called",
                type(self).__qualname__,
            )

    def _prefork_call(self, entry: str, where: str) -> None:
        step = time.perf_counter()
        _call(_resolve(entry, "calls", where), entry, "calls", where)
        self.log.info("forklint prefork: called %s (%.1f ms)", entry, _ms(step))

    def freeze_heap(self) -> None:
        """In the worker parent, after the pre-fork work: collect, then freeze what is left.

        A frozen object is never visited by the cyclic GC again, so the collections that run in
        each horse do not write to the parent's objects and the pages they share stay shared.
        """
        if not self.prefork_table().freeze:
            self.log.info("forklint prefork: freeze = false, the heap is not frozen")
            return
        started = time.perf_counter()
        gc.collect()
        gc.freeze()
        self.log.info(
            "forklint prefork: gc.freeze() on %d objects (%.1f ms)",
            gc.get_freeze_count(),
            _ms(started),
        )

    def resolve_after_fork(self) -> None:
        """In the worker parent, at start-up: find every `after-fork` function without calling it."""
        table = self.prefork_table()
        if table.after_fork:
            # Again here: a subclass's run_prefork() may not have put the cwd on sys.path.
            _ensure_cwd_on_path()
        self._forklint_after_fork = tuple(
            (entry, _resolve(entry, "after-fork", self._forklint_source))
            for entry in table.after_fork
        )

    def run_after_fork(self) -> None:
        """In a work horse, before its job: call each `after-fork` function once."""
        for entry, function in self._forklint_after_fork:
            step = time.perf_counter()
            _call(function, entry, "after-fork", self._forklint_source)
            self.log.debug("forklint after-fork: called %s (%.1f ms)", entry, _ms(step))

    def prepare_job_execution(self, job: Any, *args: Any, **kwargs: Any) -> None:
        # RQ calls this in the horse inside perform_job's try block, before job.perform():
        # an after-fork failure therefore fails this job, with the message in its exc_info.
        super().prepare_job_execution(job, *args, **kwargs)  # type: ignore[misc]
        if self.is_horse and _forks(self) and not self._forklint_after_fork_done:
            self._forklint_after_fork_done = True
            self.run_after_fork()


class PreforkWorker(PreforkMixin, Worker):
    """`rq.Worker` with the pre-fork table: `rq worker -w forklint.rq.PreforkWorker`."""


def _forks(worker: object) -> bool:
    """Does this worker run each job in a horse forked from itself (not SimpleWorker, SpawnWorker)?"""
    return isinstance(worker, Worker) and not isinstance(worker, SpawnWorker)


def _ms(since: float) -> float:
    return (time.perf_counter() - since) * 1000


def _ensure_cwd_on_path() -> None:
    cwd = os.getcwd()
    if not any(os.path.abspath(p or ".") == cwd for p in sys.path):
        sys.path.append(cwd)


def _cause(exc: BaseException) -> str:
    text = _printable(" ".join(str(exc).split()))
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _printable(text: str) -> str:
    """Control characters escaped (`\\x1b`): an exception's text must not drive the terminal."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _is_dotted(name: str) -> bool:
    return bool(name) and all(part.isidentifier() for part in name.split("."))


def _import_module(module: str, key: str, where: str, entry: str | None = None) -> Any:
    """Import `module`; a failure names the whole entry it came from ("app.db:reset", not "app.db")."""
    if not _is_dotted(module):
        raise PreforkError(
            f'`{key}` entry {module!r} in {where} is not a dotted module name like "app.tasks"'
        )
    try:
        return importlib.import_module(module)
    except Exception as exc:
        what = "it" if entry is None else module
        named = module if entry is None else entry
        raise PreforkError(
            f"`{key}` entry {named!r} in {where}: cannot import {what} ({_cause(exc)})"
        ) from exc


def _resolve(entry: str, key: str, where: str) -> Callable[[], Any]:
    module_name, _, attribute = entry.partition(":")
    if not _is_dotted(module_name) or not _is_dotted(attribute):
        raise PreforkError(
            f'`{key}` entry {entry!r} in {where} must look like "pkg.module:function"'
        )
    target = _import_module(module_name, key, where, entry)
    for part in attribute.split("."):
        try:
            target = getattr(target, part)
        except AttributeError:
            raise PreforkError(
                f"`{key}` entry {entry!r} in {where}: {module_name} has no attribute {attribute!r}"
            ) from None
    if not callable(target):
        raise PreforkError(f"`{key}` entry {entry!r} in {where} is not callable")
    return target


def _call(function: Callable[[], Any], entry: str, key: str, where: str) -> None:
    try:
        function()
    except Exception as exc:
        raise PreforkError(f"`{key}` entry {entry!r} in {where} raised {_cause(exc)}") from exc
