"""Turn the fixes of a run into edits: each finding's own, and one plan for the whole project.

Every change is written against the files as they are now and checked before it is offered:
Python edits must compile and use only names in scope, an edited command line must read back
as PreforkWorker, the table must parse as TOML. A change that cannot be written safely becomes
advice (display-only) saying why.
"""

from __future__ import annotations

import difflib
import hashlib
import os
import re
import stat
from dataclasses import dataclass, field, replace
from pathlib import Path

import libcst as cst

from forklint.changes import (
    AddMixin,
    CallSite,
    CeleryWarmUp,
    Change,
    Memoise,
    Missing,
    ResetAfterFork,
    StartupCode,
    SwitchCommand,
    SwitchStartup,
)
from forklint.commands import PREFORK_WORKER, commands_in, with_prefork_worker
from forklint.config import Config
from forklint.findings import PYPROJECT, TABLE_TITLE, Edit, Finding, Fix, FixPlan, PlanStep, Prefork
from forklint.pyedit import (
    CannotEdit,
    PySource,
    TextEdit,
    apply_text,
    NewNames,
    imported_module,
    imported_name,
    new_global,
    parses,
)
from forklint.pyproject_edit import EditError, set_prefork

_MAX_BYTES = 10 * 1024 * 1024
_SWAPPABLE = frozenset(
    {"rq.Worker", "rq.worker.Worker", "rq.worker.base.Worker", "rq.worker.worker_classes.Worker"}
)
# Annotations whose values can be keys of a memoised getter's cache.
_HASHABLE = frozenset(
    {
        "str",
        "int",
        "float",
        "bool",
        "bytes",
        "Path",
        "pathlib.Path",
        "PurePath",
        "UUID",
        "uuid.UUID",
    }
)


@dataclass(frozen=True)
class Resolved:
    """A change written out: its plan title and edits, or why it could not be."""

    title: str = ""
    applicability: str = "safe"
    edits: tuple[tuple[str, TextEdit], ...] = ()
    prefork: Prefork = field(default_factory=Prefork)  # entries it needs in the table
    summary: str = ""  # replaces the fix's sentence (a memoised call says which getter)
    note: str = ""  # what no edit does: becomes a plan note, or the advice of a display-only fix


# Parsed files by the digest of their text, across the analyses of one process.
_PARSED: dict[str, PySource] = {}


class Files:
    """The project's files as read for editing: regular files inside the root, each read once."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.texts: dict[str, str | None] = {}
        self._sources: dict[str, PySource] = {}

    def text(self, relpath: str) -> str | None:
        """The file's text, None when it does not exist; CannotEdit when it must not be edited."""
        if relpath in self.texts:
            return self.texts[relpath]
        path = self.root / relpath
        text = None
        try:
            info = os.lstat(path)
        except FileNotFoundError:
            info = None
        except OSError as exc:
            raise CannotEdit(f"{relpath}: cannot read ({exc.strerror or exc})") from None
        if info is not None:
            if stat.S_ISLNK(info.st_mode):
                raise CannotEdit(
                    f"{relpath} is a symbolic link; forklint does not write through one"
                )
            if not stat.S_ISREG(info.st_mode) or info.st_size > _MAX_BYTES:
                raise CannotEdit(f"{relpath} is not a regular file forklint edits")
            try:
                text = path.read_bytes().decode("utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise CannotEdit(f"{relpath}: cannot read as UTF-8 ({exc})") from None
        self.texts[relpath] = text
        return text

    def source(self, relpath: str) -> PySource:
        cached = self._sources.get(relpath)
        if cached is None:
            text = self.text(relpath)
            if text is None:
                raise CannotEdit(f"{relpath} does not exist")
            key = digest(text)
            cached = _PARSED.get(key)
            if cached is None:
                cached = PySource(text)
                _PARSED[key] = cached
                while len(_PARSED) > 32:  # `--fix` analyses again: keep the files it edits
                    del _PARSED[next(iter(_PARSED))]
            self._sources[relpath] = cached
        return cached

    def digests(self) -> tuple[tuple[str, str], ...]:
        return tuple(
            (path, "" if text is None else digest(text))
            for path, text in sorted(self.texts.items())
        )


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def materialise(
    findings: list[Finding], root: Path, config: Config
) -> tuple[list[Finding], FixPlan]:
    """The findings with their fixes' edits filled in, and the plan that does every fix once."""
    planner = Planner(root, config)
    out = [replace(f, fix=planner.finding_fix(f.fix)) if f.fix is not None else f for f in findings]
    return out, planner.plan(out)


class Planner:
    def __init__(self, root: Path, config: Config) -> None:
        self.root = root
        self.config = config
        self.files = Files(root)
        self._resolved: dict[Change, Resolved] = {}
        self._memo_targets: dict[tuple[str, int, int], Resolved] = {}
        self._names: dict[str, NewNames] = {}  # new names given out per file

    # --- one finding -------------------------------------------------------------------------

    def finding_fix(self, fix: Fix) -> Fix:
        changes = list(fix.changes)
        resolved = [self.resolve(change) for change in changes]
        memo = [r for c, r in zip(changes, resolved, strict=True) if isinstance(c, Memoise)]
        if memo and not any(m.edits for m in memo):
            summary = "; ".join(dict.fromkeys(m.summary for m in memo if m.summary)) or fix.summary
            advice = "; ".join(dict.fromkeys(m.note for m in memo if m.note))
            return replace(
                fix, summary=summary, applicability="display-only", advice=advice, changes=()
            )
        if memo and not any(m.prefork for m in memo):
            # not warmed (a getter with parameters, or a worker that does not fork per job):
            # the start-ups need not change for it
            kept = [
                (c, r) for c, r in zip(changes, resolved, strict=True) if isinstance(c, Memoise)
            ]
            changes = [c for c, _ in kept]
            resolved = [r for _, r in kept]
        prefork = fix.prefork
        for r in resolved:
            if r.prefork:
                prefork = r.prefork if prefork is None else prefork.merge(r.prefork)
        edits: list[Edit] = []
        notes = [r.note for r in resolved if r.note]
        if prefork is not None:
            table = self.table_edits(prefork)
            if isinstance(table, str):
                notes.append(table)
            else:
                edits += table
        for r in resolved:
            for path, edit in r.edits:
                edits.append(self.edit(path, edit))
        edits = list(dict.fromkeys(edits))
        summary = "; ".join(dict.fromkeys(m.summary for m in memo)) if memo else fix.summary
        resets = [c for c in changes if isinstance(c, ResetAfterFork)]
        if resets and not edits:
            summary = _reset_by_hand(resets[0])
        if not edits:
            applicability = "display-only"
        elif memo:
            applicability = "unsafe"
        else:
            applicability = "safe"
        advice = "; ".join(n for n in dict.fromkeys(notes) if n not in summary)
        titles = [r.title for r in resolved if r.edits]
        if any(e.path == PYPROJECT for e in edits):
            titles.insert(0, TABLE_TITLE)
        return replace(
            fix,
            summary=summary,
            applicability=applicability,
            edits=tuple(edits),
            prefork=prefork,
            changes=tuple(changes),
            advice=advice,
            steps=tuple(titles),
        )

    # --- the plan ------------------------------------------------------------------------------

    def plan(self, findings: list[Finding]) -> FixPlan:
        fixes = [f.fix for f in findings if f.fix is not None]
        steps: dict[tuple[str, tuple[Edit, ...]], PlanStep] = {}
        notes: list[str] = []
        safe_table = Prefork()
        startup_code: dict[tuple[str, str | None, int], StartupCode] = {}
        celery: dict[str, CeleryWarmUp] = {}
        counted: dict[tuple[str, tuple[Edit, ...]], int] = {}
        for fix in fixes:
            if fix.applicability == "safe" and fix.prefork is not None:
                safe_table = safe_table.merge(fix.prefork)
            if fix.applicability == "display-only":
                if fix.advice:
                    notes.append(fix.advice)
                continue
            for change in fix.changes:
                if isinstance(change, StartupCode):  # one block per start-up, with every line
                    key = (change.path, change.function, change.work_line)
                    seen = startup_code.get(key)
                    merged = change.prefork if seen is None else seen.prefork.merge(change.prefork)
                    startup_code[key] = replace(change, prefork=merged)
                    continue
                if isinstance(change, CeleryWarmUp):
                    seen_celery = celery.get(change.path)
                    merged = (
                        change.prefork
                        if seen_celery is None
                        else seen_celery.prefork.merge(change.prefork)
                    )
                    celery[change.path] = replace(change, prefork=merged)
                    continue
                self._add_step(steps, counted, change, notes, fix.applicability)
        for change in [*startup_code.values(), *celery.values()]:
            self._add_step(steps, counted, change, notes, "safe")
        ordered = sorted(steps.values(), key=_step_order)
        table_step = self.table_step(ordered_table(safe_table), notes)
        if table_step is not None:
            ordered.insert(0, table_step)
        return FixPlan(
            tuple(ordered),
            tuple(dict.fromkeys(notes)),
            self.files.digests(),
        )

    def _add_step(
        self,
        steps: dict[tuple[str, tuple[Edit, ...]], PlanStep],
        counted: dict[tuple[str, tuple[Edit, ...]], int],
        change: Change,
        notes: list[str],
        applicability: str,
    ) -> None:
        """A step for `change`; a step of an unsafe fix is unsafe unless a safe fix needs it too."""
        r = self.resolve(change)
        if r.note:
            notes.append(r.note)
        if not r.edits:
            return
        edits = tuple(self.edit(path, e) for path, e in r.edits)
        key = (r.title, edits)
        counted[key] = counted.get(key, 0) + 1
        kind = "unsafe" if "unsafe" in (applicability, r.applicability) else "safe"
        seen = steps.get(key)
        if seen is not None and seen.applicability == "safe":
            kind = "safe"
        steps[key] = PlanStep(r.title, kind, edits, r.prefork, counted[key], self.diff(r.edits))

    def table_step(self, table: Prefork, notes: list[str]) -> PlanStep | None:
        if not table:
            return None
        edits = self.table_edits(table)
        if isinstance(edits, str):
            notes.append(edits)
            return None
        if not edits:
            return None
        text = self.files.texts.get(PYPROJECT) or ""
        raw = tuple((PYPROJECT, TextEdit(*offsets(text, e), e.content)) for e in edits)
        return PlanStep(
            TABLE_TITLE,
            "safe",
            tuple(edits),
            table,
            diff=self.diff(raw),
        )

    def diff(self, edits: tuple[tuple[str, TextEdit], ...]) -> str:
        """The edits as unified-diff hunks without context, one file after the other."""
        out = []
        for path in dict.fromkeys(p for p, _ in edits):
            before = self.files.texts.get(path) or ""
            after = apply_text(before, [e for p, e in edits if p == path])
            lines = list(
                difflib.unified_diff(
                    before.splitlines(keepends=True), after.splitlines(keepends=True), n=0
                )
            )[2:]
            out += [line if line.endswith("\n") else line + "\n" for line in lines]
        return "".join(out)

    def table_edits(self, prefork: Prefork) -> list[Edit] | str:
        """The pyproject.toml edit that adds `prefork`'s entries (a note when it cannot be made)."""
        try:
            text = self.files.text(PYPROJECT)
        except CannotEdit as exc:
            return str(exc)
        before = text or ""
        try:
            after = set_prefork(before, ordered_table(prefork), where=PYPROJECT)
        except EditError as exc:
            return str(exc)
        if after == before:
            return []
        return [self.edit(PYPROJECT, minimal_edit(before, after))]

    def edit(self, path: str, edit: TextEdit) -> Edit:
        text = self.files.texts.get(path) or ""
        line, column = position(text, edit.start)
        end_line, end_column = position(text, edit.end)
        return Edit(path, line, column, end_line, end_column, edit.content)

    # --- one change ------------------------------------------------------------------------------

    def resolve(self, change: Change) -> Resolved:
        if (
            isinstance(change, SwitchStartup) and change.prefork
        ):  # the same rename whatever the table holds
            switched = self.resolve(replace(change, prefork=Prefork()))
            if switched.edits or not change.prefork:
                return switched
        cached = self._resolved.get(change)
        if cached is None:
            try:
                cached = self._resolve(change)
            except CannotEdit as exc:
                cached = Resolved(note=str(exc))
            except (RecursionError, ValueError, TypeError, KeyError, IndexError) as exc:
                # A file shaped in a way the editor did not foresee: the fix becomes advice,
                # the run goes on (and the plan says so).
                cached = Resolved(note=f"forklint could not write this fix ({type(exc).__name__})")
            self._resolved[change] = cached
        return cached

    def _resolve(self, change: Change) -> Resolved:
        if isinstance(change, Missing):
            return Resolved(note=change.text)
        if isinstance(change, SwitchCommand):
            return self.switch_command(change)
        if isinstance(change, SwitchStartup):
            return self.switch_startup(change)
        if isinstance(change, StartupCode):
            return self.startup_code(change)
        if isinstance(change, AddMixin):
            return self.add_mixin(change)
        if isinstance(change, CeleryWarmUp):
            return self.celery_warm_up(change)
        if isinstance(change, ResetAfterFork):
            return self.reset(change)
        if isinstance(change, Memoise):
            return self.memoise(change)
        raise CannotEdit(f"unknown change {change!r}")

    def _python(
        self, path: str, edits: list[TextEdit], why: str
    ) -> tuple[tuple[str, TextEdit], ...]:
        """`edits` of a Python file, once the result is known to compile."""
        source = self.files.source(path)
        if not parses(apply_text(source.text, edits)):
            raise CannotEdit(f"{why}: the edited {path} would not compile, so it is left to you")
        return tuple((path, e) for e in edits)

    def _new_names(self, path: str) -> NewNames:
        return self._names.setdefault(path, NewNames(set(), {}))

    # --- start-ups ---------------------------------------------------------------------------

    def switch_command(self, change: SwitchCommand) -> Resolved:
        where = f"{change.path}:{change.line}"
        title = f"{where}: start the worker with {PREFORK_WORKER}"
        text = self.files.text(change.path)
        if text is None:
            raise CannotEdit(f"{change.path} is gone")
        lines = text.splitlines(keepends=True)
        for number in range(change.line, min(change.line + 20, len(lines)) + 1):
            line = lines[number - 1]
            body = line.rstrip("\r\n")
            new = _switched_line(body)
            if new is None or new == body:
                continue
            start = sum(len(x) for x in lines[: number - 1])
            edited = text[:start] + new + line[len(body) :] + text[start + len(line) :]
            if not _reads_back(self.root / change.path, change.path, edited, change.line):
                continue
            edit = minimal_edit(text, edited)
            return Resolved(title, "safe", ((change.path, edit),))
        raise CannotEdit(f"{where}: add `-w {PREFORK_WORKER}` to the worker command by hand")

    def switch_startup(self, change: SwitchStartup) -> Resolved:
        source = self.files.source(change.path)
        call = self._worker_construction(source, change.function, change.work_line)
        if call is None:
            if not change.prefork:
                raise CannotEdit(f"{change.label}: no plain Worker(...) call to rename")
            return self.startup_code(
                StartupCode(
                    change.path,
                    change.module,
                    change.function,
                    change.work_line,
                    change.label,
                    change.prefork,
                )
            )
        taken = self._new_names(change.path)
        scope = source.enclosing(call, (cst.FunctionDef,))
        old = call.func
        removal = _unused_import_removal(source, old) if isinstance(old, cst.Name) else None
        if scope is not None:
            # imported where the worker is built: only starting the worker needs forklint
            used = _names_read(source, scope)
            name = "PreforkWorker"
            line = "from forklint.rq import PreforkWorker"
            if name in used and not (isinstance(old, cst.Name) and old.value == name):
                name = source.fresh_name("_PreforkWorker", used)
                line += f" as {name}"
            statement = source.statement_in(call, scope)
            at = source.line_start(source.positions[statement].start.line)
            indent = source.statement_indent(statement)
            edits = [
                TextEdit(at, at, f"{indent}{line}{source.newline}"),
                TextEdit(*source.span(call.func), name),
            ]
            if removal is not None:
                edits.append(removal)
        else:
            name, line = imported_name(source, "forklint.rq", "PreforkWorker", taken)
            edits = [TextEdit(*source.span(call.func), name)]
            if removal is not None:
                edits.append(removal)
            imports = source.import_edit([line] if line else [])
            if imports is not None:
                edits.append(_merge_into(imports, removal))
                if removal is not None and removal.start == imports.start:
                    edits.remove(removal)
        title = f"{change.label}: build {PREFORK_WORKER} instead of Worker"
        return Resolved(title, "safe", self._python(change.path, edits, title))

    def _worker_construction(
        self, source: PySource, function: str | None, work_line: int
    ) -> cst.Call | None:
        """The `Worker(...)` call a start-up's `.work()` runs (directly, or through a variable)."""
        scope = source.function(function) if function and function != "__main__" else None
        if function and function != "__main__" and scope is None:
            return None
        work = None
        for node in source.nodes(cst.Call):
            call: cst.Call = node  # type: ignore[assignment]
            if (
                source.positions[call].end.line < work_line
                or source.positions[call].start.line > work_line
            ):
                continue
            if isinstance(call.func, cst.Attribute) and call.func.attr.value == "work":
                work = call
                break
        if work is None:
            return None
        receiver = work.func.value  # type: ignore[union-attr]
        if isinstance(receiver, cst.Name):
            owner = scope
            assigned = None
            for node in source.nodes(cst.Assign):
                assign: cst.Assign = node  # type: ignore[assignment]
                if (
                    len(assign.targets) == 1
                    and isinstance(assign.targets[0].target, cst.Name)
                    and assign.targets[0].target.value == receiver.value
                    and isinstance(assign.value, cst.Call)
                    and source.enclosing(assign, (cst.FunctionDef,)) is owner
                    and source.positions[assign].start.line < work_line
                ):
                    assigned = assign.value
            receiver = assigned  # type: ignore[assignment]
        if not isinstance(receiver, cst.Call):
            return None
        if source.resolves_to(receiver.func) not in _SWAPPABLE:
            return None
        return receiver

    def startup_code(self, change: StartupCode) -> Resolved:
        """The table's imports and calls, written into the start-up before its `.work()`."""
        if not change.prefork:
            raise CannotEdit(f"{change.label}: nothing to add before .work()")
        source = self.files.source(change.path)
        scope = (
            source.function(change.function)
            if change.function and change.function != "__main__"
            else None
        )
        work = None
        for node in source.nodes(cst.Call):
            call: cst.Call = node  # type: ignore[assignment]
            where = source.positions[call]
            if (
                where.start.line <= change.work_line <= where.end.line
                and isinstance(call.func, cst.Attribute)
                and call.func.attr.value in ("work", "start", "worker")  # or `rq.cli.worker()`
            ):
                work = call
        if work is None:
            raise CannotEdit(
                f"{change.label}: cannot find the .work() call to put the lines before"
            )
        statement = source.statement_in(work, scope)
        indent = source.statement_indent(statement)
        # Written right before the statement that starts the worker, in its scope, so they run
        # only when the worker starts (importing the start-up module stays as cheap as it was).
        used = _names_read(source, scope) | self._new_names(change.path).taken()
        lines: list[str] = []

        def call_lines(entries: tuple[str, ...]) -> None:
            for entry in entries:
                module, _, function = entry.partition(":")
                head, _, rest = function.partition(".")
                name = head
                if head in used:
                    name = source.fresh_name(f"_{head}", used)
                    used.add(name)
                    lines.append(f"from {module} import {head} as {name}")
                else:
                    used.add(head)
                    lines.append(f"from {module} import {head}")
                lines.append(f"{name}{'.' + rest if rest else ''}()")

        call_lines(change.prefork.setup_calls())  # `django.setup()` before any models import
        for module in change.prefork.imports:
            head = module.split(".")[0]
            if head in used and not _binds_package(source, scope, head):
                alias = source.fresh_name("_" + module.replace(".", "_"), used)
                used.add(alias)
                lines.append(f"import {module} as {alias}  # noqa: F401 - loaded before the fork")
            else:
                lines.append(f"import {module}  # noqa: F401 - loaded before the fork")
        call_lines(change.prefork.later_calls())
        nl = source.newline
        at = source.line_start(source.positions[statement].start.line)
        edits = [TextEdit(at, at, "".join(f"{indent}{line}{nl}" for line in lines))]
        title = f"{change.label}: warm the parent before .work() ({_what(change.prefork)})"
        return Resolved(title, "safe", self._python(change.path, edits, title))

    def add_mixin(self, change: AddMixin) -> Resolved:
        source = self.files.source(change.path)
        node = source.class_def(change.cls)
        if node is None or not node.bases:
            raise CannotEdit(
                f"{change.path}: cannot find class {change.cls} to add forklint.rq.PreforkMixin"
            )
        taken = self._new_names(change.path)
        name, line = imported_name(source, "forklint.rq", "PreforkMixin", taken)
        start, _ = source.span(node.bases[0])
        edits = [TextEdit(start, start, f"{name}, ")]
        imports = source.import_edit([line] if line else [])
        if imports is not None:
            edits.append(imports)
        title = f"{change.path}: put forklint.rq.PreforkMixin first in the bases of {change.cls} ({change.label})"
        return Resolved(title, "safe", self._python(change.path, edits, title))

    def celery_warm_up(self, change: CeleryWarmUp) -> Resolved:
        source = self.files.source(change.path)
        taken = self._new_names(change.path)
        signal, line = imported_name(source, "celery.signals", "worker_init", taken)
        handler = new_global(source, "warm_up_before_fork", taken)
        nl, tab = source.newline, source.indent
        body = [f"import {m}" for m in change.prefork.imports]
        calls = []
        for entry in change.prefork.calls:
            module, _, function = entry.partition(":")
            head, _, rest = function.partition(".")
            body.append(f"from {module} import {head}")
            calls.append(f"{head}{'.' + rest if rest else ''}()")
        if not body:
            raise CannotEdit(f"{change.path}: nothing to warm")
        block = (
            f"@{signal}.connect{nl}def {handler}(**kwargs):{nl}"
            f"{tab}# runs once in the Celery parent, before the pool forks its children{nl}"
            + "".join(f"{tab}{b}{nl}" for b in body)
            + (nl if calls else "")
            + "".join(f"{tab}{c}{nl}" for c in calls)
        )
        edits = [source.appended_block(source.module_end(), block)]
        imports = source.import_edit([line] if line else [])
        if imports is not None:
            edits.append(imports)
        title = f"{change.path}: a worker_init handler that warms the parent before the pool forks"
        return Resolved(title, "safe", self._python(change.path, edits, title))

    # --- after-fork resets ---------------------------------------------------------------------

    def reset(self, change: ResetAfterFork) -> Resolved:
        source = self.files.source(change.path)
        taken = self._new_names(change.path)
        nl, tab = source.newline, source.indent
        os_name, os_line = imported_module(source, "os", taken)
        assigned_at_module = _module_assignments(source, change.name)
        guard = not any(not _is_none(a.value) for a in assigned_at_module)
        if change.kind == "engine":
            if change.disposer is not None:
                handler = change.disposer.rpartition(".")[2]
                block = f"{os_name}.register_at_fork(after_in_child={handler}){nl}"
                what = f"call {handler}() (it disposes {change.name} with close=False)"
            else:
                handler = new_global(source, f"dispose_{change.name.strip('_')}_after_fork", taken)
                statement = f"{change.name}.dispose(close=False)"
                body = (
                    f"{tab}# close=False: the inherited connections belong to the parent; drop them unclosed{nl}"
                    + (
                        f"{tab}if {change.name} is not None:{nl}{tab}{tab}{statement}{nl}"
                        if guard
                        else f"{tab}{statement}{nl}"
                    )
                )
                block = (
                    f"def {handler}():{nl}{body}{nl}{nl}"
                    f"{os_name}.register_at_fork(after_in_child={handler}){nl}"
                )
                what = f"dispose the pool of {change.name} with close=False"
            title = f"{change.path}: {what} in every forked child"
        else:
            block, handler = self._client_reset_block(source, change, taken, os_name, guard)
            title = f"{change.path}: create {change.name} again in every forked child"
        edits = [source.appended_block(source.module_end(), block)]
        imports = source.import_edit([os_line] if os_line else [])
        if imports is not None:
            edits.append(imports)
        return Resolved(title, "safe", self._python(change.path, edits, title))

    def _client_reset_block(
        self, source: PySource, change: ResetAfterFork, taken: NewNames, os_name: str, guard: bool
    ) -> tuple[str, str]:
        site = change.call
        assert site is not None
        call = source.call_at(site.line, site.column, site.text)
        if call is None:
            raise CannotEdit(f"{change.path}: cannot find `{site.text}`")
        local = [n.value for n in source.free_names(call) if not source.is_global_name(n)]
        if local:
            raise CannotEdit(
                f"`{site.text}` uses {', '.join(sorted(set(local)))}, which only {site.scope or 'that code'} "
                "has: create the client again after the fork by hand"
            )
        nl, tab = source.newline, source.indent
        names = [change.name]
        statements = [f"{change.name} = {source.code(call)}"]
        for node in source.module.body:  # globals made from the client: `db = client.app`
            if not isinstance(node, cst.SimpleStatementLine) or len(node.body) != 1:
                continue
            assign = node.body[0]
            if not (
                isinstance(assign, cst.Assign)
                and len(assign.targets) == 1
                and isinstance(assign.targets[0].target, cst.Name)
            ):
                continue
            target = assign.targets[0].target.value
            reads = {n.value for n in source.free_names(assign.value)}
            if target != change.name and reads & set(names):
                names.append(target)
                statements.append(f"{target} = {source.code(assign.value)}")
        handler = new_global(source, f"reset_{change.name.strip('_')}_after_fork", taken)
        comment = f"{tab}# a new {change.what} for this process: the inherited one's sockets are the parent's{nl}"
        if guard:
            body = f"{tab}if {change.name} is not None:{nl}" + "".join(
                f"{tab}{tab}{s}{nl}" for s in statements
            )
        else:
            body = "".join(f"{tab}{s}{nl}" for s in statements)
        block = (
            f"def {handler}():{nl}{comment}{tab}global {', '.join(names)}{nl}{body}{nl}{nl}"
            f"{os_name}.register_at_fork(after_in_child={handler}){nl}"
        )
        return block, handler

    # --- memoising a heavy call ----------------------------------------------------------------

    def memoise(self, change: Memoise) -> Resolved:
        target = self._factory_call(change.chain)
        factory = self._factory_function(change.chain, target)
        key = (
            (factory.path, factory.scope)
            if factory is not None
            else (target.path, target.line, target.column)
        )
        cached = self._memo_targets.get(key)
        if cached is not None:
            return cached
        try:
            if factory is not None:  # `def _s3_client(): return boto3.client(...)`: memoise it
                resolved = self._memoise_function(factory, change.warm)
            else:
                resolved = self._memoise_at(target, change.warm)
        except CannotEdit as exc:
            resolved = Resolved(
                summary=f"memoise `{target.text}` in {target.path} ({target.scope}()) once per process",
                note=str(exc),
            )
        self._memo_targets[key] = resolved
        return resolved

    def _factory_call(self, chain: tuple[CallSite, ...]) -> CallSite:
        """The outermost call of the chain whose callees all return what the heavy call made."""
        target = chain[-1]
        for outer in range(len(chain) - 2, -1, -1):
            inner = chain[outer + 1]  # the call made inside the function `chain[outer]` calls
            try:
                source = self.files.source(inner.path)
            except CannotEdit:
                break
            function = source.function(inner.scope) if inner.scope else None
            call = source.call_at(inner.line, inner.column, inner.text)
            if function is None or call is None or not _returns(source, function, call):
                break
            target = chain[outer]
        return target

    def _factory_function(self, chain: tuple[CallSite, ...], target: CallSite) -> CallSite | None:
        """The heavy result's factory `target` calls, when it can be memoised where it is: a
        private module-level function without parameters or decorators that returns it (every
        caller then shares one result, instead of a getter per call site). A public factory
        (`create_app()`) keeps its callers elsewhere, tests among them, as they are."""
        position = chain.index(target)
        if position == len(chain) - 1:
            return None
        inner = chain[position + 1]  # the call inside the function `target` calls
        try:
            source = self.files.source(inner.path)
        except CannotEdit:
            return None
        function = source.function(inner.scope) if inner.scope else None
        if (
            function is None
            or "." in inner.scope
            or not inner.scope.startswith("_")
            or function.asynchronous is not None
            or function.decorators
            or _has_parameters(function)
            or any(
                source.enclosing(n, (cst.FunctionDef,)) is function
                for kind in (cst.Yield, cst.Global, cst.Nonlocal)
                for n in source.nodes(kind)
            )
        ):
            return None
        return inner

    def _memoise_function(self, site: CallSite, warm: bool) -> Resolved:
        source = self.files.source(site.path)
        function = source.function(site.scope)
        assert function is not None  # checked by _factory_function
        taken = self._new_names(site.path)
        decorator, import_line = _lru_cache(source, taken)
        at = source.line_start(source.positions[function].start.line)
        edits = [TextEdit(at, at, f"@{decorator}{source.newline}")]
        imports = source.import_edit([import_line] if import_line else [])
        if imports is not None:
            edits.append(imports)
        name = site.scope
        prefork = (
            Prefork(imports=(site.module,), calls=(f"{site.module}:{name}",)) if warm else Prefork()
        )
        warmed = " and warm it before the fork" if warm else ""
        made = site.text.partition("(")[0] + "()"
        summary = (
            f"memoise {name}() in {site.path}, which makes a new `{made}` on every call{warmed}"
        )
        title = f"{site.path}: memoise {name}(), which makes a new `{made}` on every call"
        edits_done = self._python(site.path, edits, title)
        return Resolved(title, "unsafe", edits_done, prefork, summary)

    def _memoise_at(self, site: CallSite, warm: bool) -> Resolved:
        source = self.files.source(site.path)
        call = source.call_at(site.line, site.column, site.text)
        if call is None:
            raise CannotEdit(f"cannot find `{site.text}` in {site.path}")
        if isinstance(source.parents.get(call), cst.Await):
            raise CannotEdit(
                f"`{site.text}` is awaited: a memoised coroutine can be awaited only once"
            )
        function = source.enclosing(call, (cst.FunctionDef,))
        local_callee = [
            n.value for n in source.free_names(call.func) if not source.is_global_name(n)
        ]
        if function is None or local_callee:
            raise CannotEdit(
                f"`{site.text}` calls through {', '.join(local_callee) or 'module code'}, "
                "so it cannot move to a module-level getter"
            )
        parameters: list[str] = []
        arguments: list[str] = []
        body_args = []
        taken = self._new_names(site.path)
        for i, arg in enumerate(call.args):
            if arg.star:
                raise CannotEdit(f"`{site.text}` passes *args or **kwargs: memoise it by hand")
            local = [n for n in source.free_names(arg.value) if not source.is_global_name(n)]
            if not local:
                body_args.append(arg)
                continue
            reason = _unhashable(source, function, arg.value)
            if reason:
                raise CannotEdit(
                    f"`{site.text}` depends on {reason}; memoise it on a key that is hashable and "
                    "does not change from job to job, or leave it"
                )
            if isinstance(arg.value, cst.Name):
                wanted = arg.value.value
            elif arg.keyword is not None:
                wanted = arg.keyword.value
            elif isinstance(arg.value, (cst.FormattedString, cst.ConcatenatedString)):
                wanted = "key"
            else:
                wanted = f"arg{i}"
            name = wanted
            while name in parameters:
                name += "_"
            parameters.append(name)
            arguments.append(source.code(arg.value))
            body_args.append(arg.with_changes(value=cst.Name(name)))
        getter = new_global(source, _getter_name(source, call), taken)
        decorator, import_line = _lru_cache(source, taken)
        nl, tab = source.newline, source.indent
        block = (
            f"@{decorator}{nl}def {getter}({', '.join(parameters)}):{nl}"
            f"{tab}return {_call_text(source, call, body_args)}{nl}"
        )
        statement = source.top_statement(call)
        edits = [
            TextEdit(*source.span(call), f"{getter}({', '.join(arguments)})"),
            source.appended_block(source.before_statement(statement), block),
        ]
        imports = source.import_edit([import_line] if import_line else [])
        if imports is not None:
            edits.append(imports)
        module = site.module
        prefork = Prefork()
        warmed = ""
        if warm and not parameters:
            prefork = Prefork(imports=(module,), calls=(f"{module}:{getter}",))
            warmed = " and warm it before the fork"
        elif warm:
            warmed = (
                f"; warm {getter}() before the fork with the arguments the jobs use "
                "(a function without parameters listed in [tool.forklint.prefork] calls)"
            )
        summary = f"memoise `{site.text}` in {getter}() in {site.path}{warmed}"
        title = f"{site.path}: memoise `{site.text}` in {getter}() ({site.scope}())"
        edits_done = self._python(site.path, edits, title)
        return Resolved(title, "unsafe", edits_done, prefork, summary)


# --- helpers -----------------------------------------------------------------------------------


def ordered_table(table: Prefork) -> Prefork:
    """django.setup() first, then configure_mappers, then the warm-ups that may use the models."""
    later = table.later_calls()
    configure = [c for c in later if c.endswith(":configure_mappers")]
    others = [c for c in later if not c.endswith(":configure_mappers")]
    calls = (*table.setup_calls(), *configure, *others)
    return Prefork(table.imports, calls, table.after_fork, table.freeze)


def offsets(text: str, edit: Edit) -> tuple[int, int]:
    """Character offsets in `text` of an edit's start and end (lines end at "\n")."""
    starts = [0]
    starts += [i + 1 for i, ch in enumerate(text) if ch == "\n"]

    def offset(line: int, column: int) -> int:
        if line - 1 >= len(starts):
            return len(text)
        return min(starts[line - 1] + column - 1, len(text))

    return offset(edit.line, edit.column), offset(edit.end_line, edit.end_column)


def position(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of `offset` in `text`."""
    before = text[:offset]
    line = before.count("\n") + 1
    column = offset - (before.rfind("\n") + 1) + 1
    return line, column


def minimal_edit(before: str, after: str) -> TextEdit:
    """The one replacement that turns `before` into `after`, at whole lines where it can be."""
    start = 0
    limit = min(len(before), len(after))
    while start < limit and before[start] == after[start]:
        start += 1
    end = 0
    while end < limit - start and before[-1 - end] == after[-1 - end]:
        end += 1
    # widen to line starts so insertions read as whole lines
    line_start = before.rfind("\n", 0, start) + 1
    if after[line_start:start] == before[line_start:start]:
        start = line_start
    return TextEdit(start, len(before) - end, after[start : len(after) - end])


def _call_text(source: PySource, call: cst.Call, args: list[cst.Arg]) -> str:
    """`call` with `args`, on one line when it was written over several."""
    empty = cst.Module([])
    if "\n" not in source.code(call):
        return empty.code_for_node(call.with_changes(args=args))
    parts = []
    for arg in args:
        value = empty.code_for_node(arg.value).strip()
        parts.append(f"{arg.keyword.value}={value}" if arg.keyword is not None else value)
    return f"{empty.code_for_node(call.func).strip()}({', '.join(parts)})"


def _names_read(source: PySource, scope: cst.CSTNode | None) -> set[str]:
    """The names used in a function (the whole file at module level): a new local import must
    not make one of them local."""
    if scope is None:
        return set(source.used_names())
    return {n.value for n in source.free_names(scope)} | {
        node.value  # type: ignore[attr-defined]
        for node in source.nodes(cst.Name)
        if source.enclosing(node, (cst.FunctionDef,)) is scope
    }


def _binds_package(source: PySource, scope: cst.CSTNode | None, head: str) -> bool:
    """At module level, `head` is already the package itself (`import head...`)."""
    return scope is None and source.global_binding(head) == f"import:{head}"


def _reset_by_hand(change: ResetAfterFork) -> str:
    if change.kind == "engine":
        return f"dispose the pool of {change.name} in every forked child with {change.name}.dispose(close=False)"
    return (
        f"create {change.name} ({change.what}) after the fork: in the job, in a getter called "
        "after the fork, or again in os.register_at_fork(after_in_child=...)"
    )


def _step_order(step: PlanStep) -> tuple[int, str]:
    title = step.title
    rank = 3
    if (
        "PreforkWorker" in title
        or "PreforkMixin" in title
        or ".work()" in title
        or "worker_init" in title
    ):
        rank = 1
    elif "forked child" in title:
        rank = 2
    if step.applicability == "unsafe":
        rank = 4
    return rank, title


def _what(prefork: Prefork) -> str:
    parts = []
    if prefork.imports:
        parts.append("import " + ", ".join(prefork.imports))
    if prefork.calls:
        parts.append("call " + ", ".join(c.partition(":")[2] + "()" for c in prefork.calls))
    return " and ".join(parts)


def _switched_line(line: str) -> str | None:
    """`line` with its worker command running PreforkWorker (None when it holds no such command)."""
    if "rq" not in line:
        return None
    switched = with_prefork_worker(line)
    if "(add --worker-class" not in switched:
        return switched
    # JSON/YAML list form: ["rq", "worker", "default"]
    match = re.search(r"""(["'])rq\1\s*,\s*(["'])(worker(?:-pool)?)\2\s*""", line)
    if match is None:
        return None
    quote = match.group(2)
    insert = f"{match.group(0).rstrip()}, {quote}-w{quote}, {quote}{PREFORK_WORKER}{quote}"
    return line[: match.start()] + insert + line[match.start() + len(match.group(0).rstrip()) :]


def _reads_back(path: Path, relpath: str, text: str, line: int) -> bool:
    """The edited deployment file still starts a worker at `line`, now with PreforkWorker."""
    for command in commands_in(path, relpath, text):
        if command.line == line:
            return command.worker_class == PREFORK_WORKER
    return False


def _unused_import_removal(source: PySource, name: cst.Name) -> TextEdit | None:
    """Remove `name` from its `from x import a, name` when `name` is not used anywhere else."""
    scope = source.module_scope()
    if name.value not in scope:
        return None
    assignments = list(scope[name.value])
    if len(assignments) != 1:
        return None
    assignment = assignments[0]
    node = getattr(assignment, "node", None)
    if not isinstance(node, cst.ImportFrom) or isinstance(node.names, cst.ImportStar):
        return None
    if any(ref.node is not name for ref in assignment.references):
        return None
    statement = source.parents.get(node)
    if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
        return None
    kept = [a for a in node.names if not (a.asname is None and source.code(a.name) == name.value)]
    if len(kept) == len(node.names):
        return None
    if not kept:
        start = source.line_start(source.positions[statement].start.line)
        end = source.line_start(source.positions[statement].end.line + 1)
        return TextEdit(start, end, "")
    kept[-1] = kept[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
    new = node.with_changes(names=kept)
    return TextEdit(*source.span(node), cst.Module([]).code_for_node(new))


def _merge_into(imports: TextEdit, removal: TextEdit | None) -> TextEdit:
    """An import insertion where a removed import line was: one replacement instead of two edits
    at the same place."""
    if removal is None or removal.start != imports.start:
        return imports
    return TextEdit(removal.start, removal.end, imports.content + removal.content)


def _module_assignments(source: PySource, name: str) -> list[cst.Assign]:
    out = []
    for node in source.module.body:
        if isinstance(node, cst.SimpleStatementLine):
            for statement in node.body:
                if isinstance(statement, cst.Assign) and any(
                    isinstance(t.target, cst.Name) and t.target.value == name
                    for t in statement.targets
                ):
                    out.append(statement)
    return out


def _is_none(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Name) and node.value == "None"


def _returns(source: PySource, function: cst.FunctionDef, call: cst.Call) -> bool:
    """Whether every `return` of `function` returns the object `call` makes (directly, or through
    the one variable it is stored in)."""
    names: set[str] = set()
    holder = source.parents.get(call)
    if (
        isinstance(holder, cst.Assign)
        and len(holder.targets) == 1
        and isinstance(holder.targets[0].target, cst.Name)
    ):
        names.add(holder.targets[0].target.value)
    returns: list[cst.Return] = []
    assigned: dict[str, int] = {}
    # a walk over `children` (a libcst visitor rebuilds every node it passes), not into nested
    # functions, classes or lambdas: their returns are not this function's
    stack: list[cst.CSTNode] = list(function.body.children)
    while stack:
        node = stack.pop()
        if isinstance(node, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
            continue
        if isinstance(node, cst.Return):
            returns.append(node)
        elif isinstance(node, cst.AssignTarget) and isinstance(node.target, cst.Name):
            assigned[node.target.value] = assigned.get(node.target.value, 0) + 1
        stack.extend(node.children)
    if not returns:
        return False
    for r in returns:
        if r.value is call:
            continue
        if (
            isinstance(r.value, cst.Name)
            and r.value.value in names
            and assigned.get(r.value.value) == 1
        ):
            continue
        return False
    return True


def _unhashable(source: PySource, function: cst.CSTNode, value: cst.BaseExpression) -> str:
    """Why the value of an argument made from the job's own variables cannot key a cache ("" when
    it can: a string built with an f-string, or a parameter annotated with a hashable type)."""
    if isinstance(
        value,
        (cst.FormattedString, cst.ConcatenatedString, cst.SimpleString, cst.Integer, cst.Float),
    ):
        return ""
    if (
        isinstance(value, cst.Call)
        and isinstance(value.func, cst.Name)
        and value.func.value in ("str", "int", "float", "bool")
    ):
        return ""
    if isinstance(value, cst.Name) and isinstance(function, cst.FunctionDef):
        for param in [
            *function.params.params,
            *function.params.kwonly_params,
            *function.params.posonly_params,
        ]:
            if param.name.value != value.value:
                continue
            if param.annotation is None:
                return f"{value.value}, whose type is not annotated"
            annotation = source.code(param.annotation.annotation).replace(" ", "")
            kinds = [
                a for a in annotation.replace("Optional[", "").rstrip("]").split("|") if a != "None"
            ]
            if kinds and all(k in _HASHABLE for k in kinds):
                return ""
            return f"{value.value}: {annotation}"
        return f"{value.value}, which the job makes itself"
    return f"`{source.code(value)}`, which the job computes"


def _getter_name(source: PySource, call: cst.Call) -> str:
    """get_model for `model = load(...)`, get_churn_model for `model = load_model("churn")`."""
    name = _base_getter_name(source, call)
    if len(call.args) == 1 and isinstance(call.args[0].value, cst.SimpleString):
        literal = call.args[0].value.evaluated_value
        base = name.removeprefix("get_")
        if (
            isinstance(literal, str)
            and literal.isidentifier()
            and len(literal) <= 30
            and literal.lower() not in base.split("_")  # `s3 = resource("s3")`: get_s3
        ):
            name = f"get_{literal.lower()}_{base}"
    return name


def _base_getter_name(source: PySource, call: cst.Call) -> str:
    holder = source.parents.get(call)
    if (
        isinstance(holder, cst.Assign)
        and len(holder.targets) == 1
        and isinstance(holder.targets[0].target, cst.Name)
    ):
        return "get_" + holder.targets[0].target.value.strip("_").lower()
    func = call.func
    name = (
        func.attr.value
        if isinstance(func, cst.Attribute)
        else func.value
        if isinstance(func, cst.Name)
        else "resource"
    )
    for prefix in ("get_", "create_", "load_", "make_", "build_", "init_", "_"):
        if name.startswith(prefix) and len(name) > len(prefix):
            name = name[len(prefix) :]
            break
    return "get_" + "".join(c if c.isalnum() else "_" for c in name).lower().strip("_")


def _lru_cache(source: PySource, taken: NewNames) -> tuple[str, str | None]:
    """How to write `functools.lru_cache(maxsize=None)` here, and the import it needs."""
    if source.global_binding("lru_cache") == "from:functools:lru_cache":
        return "lru_cache(maxsize=None)", None
    name, line = imported_module(source, "functools", taken)
    return f"{name}.lru_cache(maxsize=None)", line


def _has_parameters(function: cst.FunctionDef) -> bool:
    p = function.params
    return bool(
        p.posonly_params
        or p.params
        or p.kwonly_params
        or isinstance(p.star_arg, cst.Param)
        or p.star_kwarg is not None
    )
