"""The result types every part of forklint exchanges: findings, traces, fixes, file errors, the report."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the semantic steps of a fix; findings.py stays free of analysis imports
    from forklint.changes import Change

SEVERITIES = ("error", "warning", "info")


@dataclass(frozen=True)
class TraceStep:
    """One hop of the path that justifies a finding (job -> call -> ... -> site)."""

    path: str  # relative to the report root, with "/"
    line: int  # 1-based
    column: int  # 1-based
    text: str  # the source text of the step, e.g. "Event.record(data)" or "import app.models"


# Entries of `calls` that run before `imports` (and before the other calls) wherever a table is
# carried out: in forklint.rq, in the lines a fix writes into a start-up, in forklint's own model.
SETUP_FIRST = frozenset({"django:setup"})


@dataclass(frozen=True)
class Prefork:
    """A `[tool.forklint.prefork]` table (or the part of it that one finding needs)."""

    imports: tuple[
        str, ...
    ] = ()  # dotted module names, imported in the worker parent before forking
    calls: tuple[str, ...] = ()  # "pkg.mod:func", called in the worker parent before forking
    after_fork: tuple[str, ...] = ()  # "pkg.mod:func", called in every horse right after the fork
    # gc.collect() then gc.freeze() after the imports and calls, before the first fork (`freeze`);
    # not an entry, so it is neither in to_dict() nor what makes a table non-empty.
    freeze: bool = True

    def __bool__(self) -> bool:
        return bool(self.imports or self.calls or self.after_fork)

    def merge(self, other: Prefork) -> Prefork:
        """Union of two tables, keeping first-seen order (imports before the calls that need them)."""

        def union(a: tuple[str, ...], b: tuple[str, ...]) -> tuple[str, ...]:
            return tuple(dict.fromkeys(a + b))

        return Prefork(
            union(self.imports, other.imports),
            union(self.calls, other.calls),
            union(self.after_fork, other.after_fork),
            self.freeze and other.freeze,
        )

    def setup_calls(self) -> tuple[str, ...]:
        """The calls that run before the imports: `django:setup`, without which a module that
        defines Django models cannot be imported (AppRegistryNotReady)."""
        return tuple(c for c in self.calls if c in SETUP_FIRST)

    def later_calls(self) -> tuple[str, ...]:
        """The calls that run after the imports (every other one, in order)."""
        return tuple(c for c in self.calls if c not in SETUP_FIRST)

    def to_dict(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        if self.imports:
            out["imports"] = list(self.imports)
        if self.calls:
            out["calls"] = list(self.calls)
        if self.after_fork:
            out["after-fork"] = list(self.after_fork)
        return out


APPLICABILITIES = ("safe", "unsafe", "display-only")


@dataclass(frozen=True)
class Edit:
    """Replace the text between two positions of a file (an insertion when they are equal)."""

    path: str  # relative to the report root, with "/"
    line: int  # 1-based
    column: int  # 1-based, in characters
    end_line: int
    end_column: int  # 1-based, exclusive
    content: str


@dataclass(frozen=True)
class Fix:
    """What to change for this project: a sentence, and the edits that make the change.

    `applicability` is ruff's: "safe" keeps behaviour (the pre-fork table, switching a start-up
    to the pre-fork worker, after-fork resets), "unsafe" rewrites code (memoising a loader),
    "display-only" is advice with no edits.
    """

    summary: (
        str  # one sentence: "call configure_mappers() in worker.py:main() before Worker.work()"
    )
    applicability: str = "display-only"
    edits: tuple[Edit, ...] = ()  # filled by forklint.fixplan once the analysis is done
    prefork: Prefork | None = None  # the prefork entries that fix it, used by `forklint prefork`
    changes: tuple[Change, ...] = ()  # what the fix does, before it is text (forklint.changes)
    advice: str = ""  # for a display-only fix: the code to write by hand
    steps: tuple[str, ...] = ()  # titles of the fix plan steps that carry it out (with the table's)


@dataclass(frozen=True)
class PlanStep:
    """One change of the project's fix plan: the table, a start-up to switch, a rewrite."""

    title: str  # "Procfile:1: start the worker with forklint.rq.PreforkWorker"
    applicability: str  # "safe" | "unsafe"
    edits: tuple[Edit, ...]
    prefork: Prefork = field(default_factory=Prefork)  # entries the step needs in the table
    findings: int = 0  # how many findings it answers
    diff: str = ""  # the edits as a short unified diff (no file header), for people to read


PYPROJECT = "pyproject.toml"
TABLE_TITLE = f"{PYPROJECT}: the [tool.forklint.prefork] table"  # the plan step that writes it


@dataclass(frozen=True)
class FixPlan:
    """Every fix of a run, once: the pre-fork table, the start-ups to switch, the code rewrites."""

    steps: tuple[PlanStep, ...] = ()
    notes: tuple[str, ...] = ()  # what no edit can do ("no worker start-up found: ...")
    # (path, sha256 of the text the edits were computed on; "" when the file does not exist)
    sources: tuple[tuple[str, str], ...] = ()

    def __bool__(self) -> bool:
        return bool(self.steps or self.notes)


@dataclass(frozen=True)
class Finding:
    code: str  # "FRK102"
    name: str  # "mappers-configured-after-fork"
    severity: str  # one of SEVERITIES
    path: str  # relative to the report root, with "/"
    line: int  # 1-based
    column: int  # 1-based
    end_line: int
    end_column: int  # 1-based, exclusive
    message: str
    jobs: tuple[str, ...] = ()  # qualified names of the jobs this finding hurts
    trace: tuple[TraceStep, ...] = ()
    fix: Fix | None = None
    context: str = ""  # qualified name of the enclosing function/class ("" at module level)
    source_line: str = (
        ""  # the full text of the anchor line (no newline); for renderers and fingerprints
    )

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.code, self.path, self.context, self.source_line)

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.path, self.line, self.column, self.code)


_SPACE = re.compile(r"\s+")


def fingerprint(code: str, path: str, context: str, source_line: str) -> str:
    """Stable across unrelated line moves: rule, path, enclosing name, normalised anchor line."""
    normalised = _SPACE.sub(" ", source_line).strip()
    # surrogateescape: a file name that is not UTF-8 hashes as its bytes (and cannot crash here).
    digest = hashlib.sha256(
        f"{code}\0{path}\0{context}\0{normalised}".encode("utf-8", "surrogateescape")
    )
    return digest.hexdigest()[:16]


@dataclass(frozen=True)
class FileError:
    """A file forklint could not analyse (or a worker/redis problem): one line, never a traceback."""

    path: str  # relative to the report root when inside it, else as given
    message: str
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        where = self.path
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class Unresolved:
    """A worker start-up forklint sees but cannot follow; the rules that depend on it stay silent."""

    path: str  # where it is (relative to the root)
    line: int
    what: str  # "runs bin/worker, a script forklint cannot follow"
    settle: str  # the setting that settles it: '[tool.forklint] worker = "pkg.mod:func"'

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.what}; to settle it, set {self.settle}"


@dataclass(frozen=True)
class WorkerParent:
    """One worker parent forklint worked out: how it starts and what it does before it forks."""

    label: str  # "worker.py:main()", "Procfile:1", "stock `rq worker`"
    framework: str  # "rq" | "celery"
    model: str  # "rq" | "rq-simple" | "rq-spawn" | "celery" | "celery-per-task" | "celery-solo"
    worker_class: str | None  # dotted class it runs, when known
    imports: tuple[str, ...] = ()  # project modules imported before the fork, in import order
    calls: tuple[
        str, ...
    ] = ()  # "pkg.mod:func" run before the fork, in order (configure_mappers too)
    configures_mappers: bool = False
    jobs: tuple[str, ...] = ()  # the jobs this parent runs


@dataclass(frozen=True)
class Report:
    root: str  # absolute path of the project root
    findings: tuple[Finding, ...] = ()
    errors: tuple[FileError, ...] = ()
    assumptions: tuple[str, ...] = ()
    files: int = 0
    jobs: int = 0
    seconds: float = 0.0
    prefork: Prefork = field(
        default_factory=Prefork
    )  # the table that would fix the FRK1xx findings
    # Python start-ups that fork stock workers without the table, as hints for `forklint prefork`
    # ("shop/worker.py:main(): use forklint.rq.PreforkWorker instead of Worker ..."); not in JSON.
    startups: tuple[str, ...] = ()
    parents: tuple[WorkerParent, ...] = ()  # the worker parents the analysis resolved; not in JSON
    unresolved: tuple[Unresolved, ...] = ()  # start-ups seen but not followed
    plan: FixPlan = field(default_factory=FixPlan)  # every fix once (text output, --fix, prefork)

    def sorted(self) -> Report:
        from dataclasses import replace

        return replace(self, findings=tuple(sorted(self.findings, key=Finding.sort_key)))
