"""`--format json`: the `forklint/1` document of the spec, keys in the spec's order."""

from __future__ import annotations

import json
from typing import Any

from forklint import __version__
from forklint.findings import Edit, FileError, Finding, Fix, Report

SCHEMA = "forklint/1"


def render(report: Report, *, color: bool = False, quiet: bool = False) -> str:
    return json.dumps(document(report), indent=2) + "\n"


def document(report: Report) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "tool": {"name": "forklint", "version": __version__},
        "root": report.root,
        "assumptions": list(report.assumptions),
        "findings": [_finding(f) for f in report.findings],
        "unresolved": [
            {"path": u.path, "line": u.line, "what": u.what, "settle": u.settle}
            for u in report.unresolved
        ],
        "errors": [{"path": e.path, "message": _error_message(e)} for e in report.errors],
        "summary": {
            "files": report.files,
            "jobs": report.jobs,
            "findings": len(report.findings),
            "seconds": round(report.seconds, 3),
        },
    }


def _finding(f: Finding) -> dict[str, Any]:
    return {
        "code": f.code,
        "name": f.name,
        "severity": f.severity,
        "path": f.path,
        "line": f.line,
        "column": f.column,
        "end_line": f.end_line,
        "end_column": f.end_column,
        "message": f.message,
        "jobs": list(f.jobs),
        "trace": [
            {"path": s.path, "line": s.line, "column": s.column, "text": s.text} for s in f.trace
        ],
        "fix": None if f.fix is None else fix_object(f.fix),
        "fingerprint": f.fingerprint,
    }


def fix_object(fix: Fix) -> dict[str, Any]:
    """The spec's `fix`: summary, applicability and edits (advice only for display-only fixes)."""
    out: dict[str, Any] = {
        "summary": fix.summary,
        "applicability": fix.applicability,
        "edits": [edit_object(e) for e in fix.edits],
    }
    if fix.advice:
        out["advice"] = fix.advice
    return out


def edit_object(edit: Edit) -> dict[str, Any]:
    return {
        "path": edit.path,
        "start": {"line": edit.line, "column": edit.column},
        "end": {"line": edit.end_line, "column": edit.end_column},
        "content": edit.content,
    }


def _error_message(error: FileError) -> str:
    # The schema has no position fields for errors; keep a known position in the message.
    if error.line is None:
        return error.message
    where = f"line {error.line}" + (f", column {error.column}" if error.column is not None else "")
    return f"{where}: {error.message}"
