"""What a fix does before it is text: switch a start-up, warm the parent, memoise a call, reset after fork.

Rules describe their fixes with these values while the analysis runs; `forklint.fixplan` turns
them into edits once the findings are known (it reads the files, parses them with libcst and
checks every Python edit before offering it). The `[tool.forklint.prefork]` entries a fix needs
are not a change here: they are `Fix.prefork`, merged into one table for the whole run.
"""

from __future__ import annotations

from dataclasses import dataclass
from forklint.findings import Prefork


@dataclass(frozen=True)
class CallSite:
    """A call on a job's path: where it is and the function that makes it."""

    path: str  # relpath of the file
    module: str
    scope: str  # qualname of the enclosing function ("" at module level)
    line: int  # of the callee's first character
    column: int
    text: str  # the call as written


@dataclass(frozen=True)
class SwitchCommand:
    """A worker command line (Procfile, Dockerfile, compose...) made to run PreforkWorker."""

    path: str
    line: int
    text: str  # the command as the scanner read it


@dataclass(frozen=True)
class SwitchStartup:
    """A Python start-up that builds a stock `Worker`: build PreforkWorker instead.

    Where the worker is not built by a plain `Worker(...)` call that can be renamed, the
    imports and calls of `prefork` go in before `.work()` instead (as `StartupCode`).
    """

    path: str
    module: str
    function: str | None  # qualname; None for module level, "__main__" for the main block
    work_line: int
    label: str  # "shop/worker.py:main()"
    prefork: Prefork


@dataclass(frozen=True)
class StartupCode:
    """The imports and calls of `prefork`, written into a start-up before its `.work()` call."""

    path: str
    module: str
    function: str | None
    work_line: int
    label: str
    prefork: Prefork


@dataclass(frozen=True)
class AddMixin:
    """A project worker class gets forklint.rq.PreforkMixin as its first base."""

    path: str
    module: str
    cls: str  # qualname in the module
    label: str  # how the parent that runs it is known: "Procfile:1"


@dataclass(frozen=True)
class CeleryWarmUp:
    """A `worker_init` handler in the Celery app module doing `prefork` in the parent."""

    path: str
    module: str
    prefork: Prefork


@dataclass(frozen=True)
class Memoise:
    """Memoise the outermost factory on the way from the job to a heavy call.

    `chain` runs from the job's call to the heavy call itself; the call that gets memoised is
    the outermost one whose callees all return what the heavy call made (a factory), so that
    the object is built once: memoising an inner `Flask(__name__)` getter under a
    `create_app()` that registers views would register them twice.
    """

    chain: tuple[CallSite, ...]
    warm: bool  # the job forks per run: the getter is also warmed before the fork


@dataclass(frozen=True)
class ResetAfterFork:
    """`os.register_at_fork(after_in_child=...)` in the module that holds the object.

    kind "engine": dispose the engine's pool with close=False (the parent keeps its sockets);
    kind "client": create the client again in the child.
    """

    path: str
    module: str
    name: str  # the module global holding the engine or client
    kind: str  # "engine" | "client"
    what: str  # "SQLAlchemy engine", "MongoDB client"...
    call: CallSite | None = None  # for a client: the call that creates it
    disposer: str | None = None  # for an engine: a project function of `module` that already
    # disposes it with close=False (registered instead of writing a new one)


@dataclass(frozen=True)
class Missing:
    """What no edit can do, said once in the plan ("no worker start-up found: ...")."""

    text: str


Change = (
    SwitchCommand
    | SwitchStartup
    | StartupCode
    | AddMixin
    | CeleryWarmUp
    | Memoise
    | ResetAfterFork
    | Missing
)
