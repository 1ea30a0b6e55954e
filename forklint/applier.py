"""Apply a fix plan: pick the steps the user allows, compose their edits per file, check the result
(Python compiles, TOML parses), and write each file atomically unless it changed since it was read."""

from __future__ import annotations

import difflib
import sys
from dataclasses import dataclass, field
from pathlib import Path

from forklint.findings import FixPlan, PlanStep, Prefork
from forklint.fsutil import FileProblem, atomic_write
from forklint.fixplan import PYPROJECT, digest, offsets, ordered_table
from forklint.pyedit import parses
from forklint.pyproject_edit import EditError, set_prefork

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib


@dataclass
class FileChange:
    path: str  # relative to the root
    before: str | None  # None: the file is new
    after: str


@dataclass
class Composed:
    """What applying the chosen steps does: the new text of each file, and what was held back."""

    files: list[FileChange] = field(default_factory=list)
    steps: list[PlanStep] = field(default_factory=list)  # the steps in `files`
    held: list[str] = field(default_factory=list)  # why a step or file was left out


def compose(plan: FixPlan, root: Path, allowed: frozenset[str]) -> Composed:
    """The files as the allowed steps of `plan` leave them (nothing is written)."""
    out = Composed()
    digests = dict(plan.sources)
    chosen = [s for s in plan.steps if s.applicability in allowed]
    table = Prefork()
    per_file: dict[str, list[tuple[PlanStep, list[tuple[int, int, str]]]]] = {}
    texts: dict[str, str | None] = {}
    for step in chosen:
        table = table.merge(step.prefork)
        edits = [e for e in step.edits if e.path != PYPROJECT]
        if not edits:
            continue
        converted = []
        for edit in edits:
            text = _current(root, edit.path, digests, texts, out.held)
            if text is None:
                converted = None
                break
            converted.append((*offsets(text, edit), edit.content))
        if converted is None:
            continue
        per_file.setdefault(edits[0].path, [])
        for path in {e.path for e in edits}:
            per_file.setdefault(path, [])
        for path in {e.path for e in edits}:
            mine = [c for c, e in zip(converted, edits, strict=True) if e.path == path]
            per_file[path].append((step, mine))
    for path, steps in per_file.items():
        text = texts.get(path)
        if text is None:
            continue
        accepted: list[tuple[int, int, str]] = []
        used: list[PlanStep] = []
        for step, edits in steps:
            merged = _merge(accepted, edits)
            if merged is None:
                out.held.append(f"{step.title}: overlaps another change; run --fix again")
                continue
            accepted = merged
            used.append(step)
        after = _apply(text, accepted)
        if after == text:
            continue
        if path.endswith(".py") and not parses(after):
            out.held.append(f"{path}: the changes together would not compile; left as it is")
            continue
        out.files.append(FileChange(path, text, after))
        out.steps += [s for s in used if s not in out.steps]
    if table:
        change = _table_change(root, table, digests, out.held)
        if change is not None:
            out.files.insert(0, change)
            out.steps += [s for s in chosen if s.prefork and s not in out.steps]
    return out


def write(root: Path, composed: Composed) -> list[str]:
    """Write the composed files; returns the problems (a file that changed meanwhile is skipped)."""
    problems = []
    for change in composed.files:
        path = root / change.path
        try:
            current = _read(path)
        except OSError as exc:
            problems.append(f"{change.path}: cannot read ({exc.strerror or exc}); not changed")
            continue
        if current != change.before:
            problems.append(
                f"{change.path} changed since forklint read it; not changed (run again)"
            )
            continue
        try:
            atomic_write(path, change.after.encode("utf-8", "surrogatepass"))
        except FileProblem as problem:
            problems.append(f"{change.path}: cannot write ({problem}); not changed")
    return problems


def unified_diff(composed: Composed) -> str:
    out = []
    for change in composed.files:
        before = (change.before or "").splitlines(keepends=True)
        after = change.after.splitlines(keepends=True)
        a = f"a/{change.path}" if change.before is not None else "/dev/null"
        lines = difflib.unified_diff(before, after, a, f"b/{change.path}")
        out.extend(
            line if line.endswith("\n") else line + "\n\\ No newline at end of file\n"
            for line in lines
        )
    return "".join(out)


def _read(path: Path) -> str | None:
    try:
        return path.read_bytes().decode("utf-8", "surrogatepass")
    except FileNotFoundError:
        return None


def _current(
    root: Path,
    relpath: str,
    digests: dict[str, str],
    texts: dict[str, str | None],
    held: list[str],
) -> str | None:
    """The file's text, when it is still what the plan was computed on."""
    if relpath in texts:
        return texts[relpath]
    try:
        text = _read(root / relpath)
    except (OSError, UnicodeDecodeError):
        text = None
    expected = digests.get(relpath)
    if text is None or expected is None or digest(text) != expected:
        held.append(f"{relpath} changed since forklint read it; run again")
        texts[relpath] = None
        return None
    texts[relpath] = text
    return text


def _merge(
    accepted: list[tuple[int, int, str]], edits: list[tuple[int, int, str]]
) -> list[tuple[int, int, str]] | None:
    """`accepted` plus `edits`, or None when one of them overlaps an accepted edit. The same edit
    twice counts once; two insertions at one place are both kept, in order."""
    out = list(accepted)
    for edit in edits:
        if edit in out:
            continue
        start, end, content = edit
        for other in out:
            o_start, o_end, o_content = other
            if start == end == o_start == o_end:
                continue  # both insert here: kept in order
            if start < o_end and o_start < end:
                return None
            if start == end and o_start < start < o_end:
                return None
            if o_start == o_end and start < o_start < end:
                return None
        out.append(edit)
    return out


def _apply(text: str, edits: list[tuple[int, int, str]]) -> str:
    """Apply non-overlapping edits; insertions at one place go in the order they were accepted,
    and before a replacement that starts there."""
    keyed = sorted(
        enumerate(edits), key=lambda item: (item[1][0], item[1][1] != item[1][0], item[0])
    )
    out = []
    position = 0
    for _, (start, end, content) in keyed:
        out.append(text[position:start])
        out.append(content)
        position = max(position, end)
    out.append(text[position:])
    return "".join(out)


def _table_change(
    root: Path, table: Prefork, digests: dict[str, str], held: list[str]
) -> FileChange | None:
    path = root / PYPROJECT
    try:
        before = _read(path)
    except (OSError, UnicodeDecodeError) as exc:
        held.append(f"{PYPROJECT}: cannot read ({exc}); the table is not written")
        return None
    expected = digests.get(PYPROJECT)
    if expected is not None and (
        before is None and expected != "" or before is not None and digest(before) != expected
    ):
        held.append(f"{PYPROJECT} changed since forklint read it; run again")
        return None
    try:
        after = set_prefork(before or "", ordered_table(table), where=PYPROJECT)
    except EditError as exc:
        held.append(str(exc))
        return None
    if after == (before or ""):
        return None
    try:
        tomllib.loads(after)
    except tomllib.TOMLDecodeError:
        held.append(f"{PYPROJECT}: the table would not parse; not written")
        return None
    return FileChange(PYPROJECT, before, after)
