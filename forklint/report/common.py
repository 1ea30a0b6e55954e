"""Helpers the renderers share: importance order, one-line text, repository- and cwd-relative paths."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import click

from forklint.findings import Finding, Fix, Report

# Higher first: what GitHub shows when it truncates annotations, and the order of tables.
# Errors break correctness; then the costs measured largest per job (mappers, module
# imports, heavy calls), then the cheaper per-job costs, then import-time hazards.
RULE_ORDER = (
    "FRK001",
    "FRK301",
    "FRK102",
    "FRK101",
    "FRK103",
    "FRK105",
    "FRK104",
    "FRK303",
    "FRK302",
    "FRK201",
    "FRK202",
)
_SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


def importance(finding: Finding) -> tuple[int, int, tuple[str, int, int, str]]:
    """Sort key: errors first, then by rule importance, then by position."""
    rank = RULE_ORDER.index(finding.code) if finding.code in RULE_ORDER else len(RULE_ORDER)
    return (_SEVERITY_ORDER.get(finding.severity, 3), rank, finding.sort_key())


def printable(text: str) -> str:
    """`text` with control characters, lone surrogates and line breaks escaped, so it stays one line.

    A byte of a file name that is not UTF-8 (`os.fsdecode` turns b"\\xff" into "\\udcff") is
    shown as the byte, `\\xff`.
    """
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() or c == "\t" else _escaped(c) for c in text)


def _escaped(char: str) -> str:
    if "\udc80" <= char <= "\udcff":
        return f"\\x{ord(char) - 0xDC00:02x}"
    return repr(char)[1:-1]


def encode_output(text: str) -> bytes:
    """The bytes to write for `text`: UTF-8, with a non-UTF-8 file name's bytes as they are on disk."""
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a lone surrogate that stands for no byte
        return text.encode("utf-8", "backslashreplace")


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def repo_root(root: str) -> Path:
    """The git checkout enclosing the project root, else the project root itself."""
    base = Path(root)
    for directory in (base, *base.parents):
        if os.path.exists(directory / ".git"):  # not Path.exists: it raises on a hidden folder
            return directory
    return base


def repo_path(root: str, path: str) -> str:
    """`path` (relative to the project root) made relative to the git checkout, with "/".

    GitHub and GitLab resolve annotation paths against the repository, while findings are
    relative to the project root, which may be a sub-folder of a monorepo.
    """
    if Path(path).is_absolute():
        return path
    prefix = Path(root).relative_to(repo_root(root)).as_posix()
    return path if prefix == "." else f"{prefix}/{path}"


def relative_to(report: Report, directory: Path) -> Report:
    """`report` with its paths as seen from `directory` (relative when near the root, else absolute).

    What people read (text, concise, stderr) names files as ruff does, from where they stand:
    `tasks.py` when run in `app/`, `../worker.py` for a file beside it. Machine formats keep
    root-relative paths (spec) and are rendered from the unchanged report.
    """
    root = Path(report.root)
    if directory == root:
        return report
    nearby = directory.is_relative_to(root) or root.is_relative_to(directory)

    def moved(path: str) -> str:
        if Path(path).is_absolute():
            return path
        if not nearby:  # a checkout elsewhere: an absolute path opens from anywhere
            return (root / path).as_posix()
        return Path(os.path.relpath(root / path, directory)).as_posix()

    known: dict[str, bool] = {}

    def is_file(token: str) -> bool:
        if token not in known:
            known[token] = not Path(token).is_absolute() and (root / token).is_file()
        return known[token]

    def said(text: str) -> str:
        """`text` with the project files it names (root-relative) named from `directory` too."""
        return _PATH_TOKEN.sub(
            lambda m: moved(m.group(0)) if is_file(m.group(0)) else m.group(0), text
        )

    def fix(fix: Fix | None) -> Fix | None:
        if fix is None:
            return None
        return replace(
            fix,
            summary=said(fix.summary),
            advice=said(fix.advice),
            steps=tuple(said(title) for title in fix.steps),
        )

    findings = tuple(
        replace(
            finding,
            path=moved(finding.path),
            message=said(finding.message),
            trace=tuple(
                replace(step, path=moved(step.path), text=_commented(step.text, said))
                for step in finding.trace
            ),
            fix=fix(finding.fix),
        )
        for finding in report.findings
    )
    errors = tuple(
        replace(error, path=moved(error.path), message=said(error.message))
        for error in report.errors
    )
    plan = replace(
        report.plan,
        steps=tuple(replace(step, title=said(step.title)) for step in report.plan.steps),
        notes=tuple(said(note) for note in report.plan.notes),
    )
    unresolved = tuple(
        replace(item, path=moved(item.path), what=said(item.what)) for item in report.unresolved
    )
    return replace(
        report,
        findings=findings,
        errors=errors,
        plan=plan,
        assumptions=tuple(said(a) for a in report.assumptions),
        unresolved=unresolved,
    )


def _commented(text: str, said: Callable[[str], str]) -> str:
    """A trace step's source text as written, its forklint comment ("# job (enqueue at
    app/web.py:12)") with paths moved."""
    code, sep, comment = text.partition("  # ")
    return code + sep + said(comment) if sep else text


# A relative path as messages and fixes write it: "shop/worker.py" in "shop/worker.py:main()",
# "Procfile" in "Procfile:1". Only tokens naming a file of the project are rewritten.
_PATH_TOKEN = re.compile(r"(?<![\w./-])[\w.-]+(?:/[\w.-]+)*(?![\w/-])")


SEVERITY_COLOUR = {"error": "red", "warning": "yellow", "info": "blue"}


class Painter:
    """click.style when colour is on, the plain text otherwise."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def __call__(self, text: str, **style: object) -> str:
        return click.style(text, **style) if self.enabled else text
