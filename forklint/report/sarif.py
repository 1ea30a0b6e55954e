"""`--format sarif`: SARIF 2.1.0 as GitHub code scanning accepts it, rule help from the rule docs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

from forklint import __version__, ruledocs
from forklint.findings import Finding, Fix, Report, TraceStep
from forklint.report.common import repo_path, repo_root

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://pypi.org/project/forklint/"
_LEVEL = {"error": "error", "warning": "warning", "info": "note"}
_BASE = "%SRCROOT%"


def render(report: Report, *, color: bool = False, quiet: bool = False) -> str:
    return json.dumps(document(report), indent=2) + "\n"


def document(report: Report) -> dict[str, Any]:
    rules = _rules(report)
    index = {rule["id"]: i for i, rule in enumerate(rules)}
    root = report.root
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "forklint",
                "version": __version__,
                "semanticVersion": __version__,
                "informationUri": INFORMATION_URI,
                "rules": rules,
            }
        },
        "originalUriBaseIds": {_BASE: {"uri": _directory_uri(repo_root(root))}},
        # forklint counts columns in characters; SARIF's default is UTF-16 code units.
        "columnKind": "unicodeCodePoints",
        "invocations": [
            {
                "executionSuccessful": True,
                "toolExecutionNotifications": [
                    {
                        "level": "error",
                        "message": {"text": str(error)},
                        "locations": [
                            {"physicalLocation": {"artifactLocation": _artifact(root, error.path)}}
                        ],
                    }
                    for error in report.errors
                ],
            }
        ],
        "results": [_result(root, finding, index[finding.code]) for finding in report.findings],
    }
    return {"$schema": SCHEMA, "version": "2.1.0", "runs": [run]}


def _rules(report: Report) -> list[dict[str, Any]]:
    documented = ruledocs.all_rules()
    out = [_rule(doc) for doc in documented.values()]
    # A finding of a rule without docs still needs a rule entry for its ruleIndex.
    extra = {f.code: f for f in report.findings if f.code not in documented}
    for code in sorted(extra):
        finding = extra[code]
        out.append(
            {
                "id": code,
                "name": finding.name,
                "shortDescription": {"text": finding.name},
                "fullDescription": {"text": finding.name},
                "help": {"text": finding.name, "markdown": finding.name},
                "defaultConfiguration": {"level": _LEVEL.get(finding.severity, "warning")},
            }
        )
    return out


def _rule(doc: ruledocs.RuleDoc) -> dict[str, Any]:
    return {
        "id": doc.code,
        "name": doc.name,
        "shortDescription": {"text": doc.summary},
        "fullDescription": {"text": doc.what_it_does.strip()},
        "help": {"text": ruledocs.render_text(doc), "markdown": ruledocs.render_markdown(doc)},
        "defaultConfiguration": {"level": _LEVEL.get(doc.severity, "warning")},
        "properties": {
            "tags": ["fork", "performance" if doc.code.startswith("FRK1") else "reliability"]
        },
    }


def _result(root: str, finding: Finding, rule_index: int) -> dict[str, Any]:
    region = {
        "startLine": finding.line,
        "startColumn": finding.column,
        "endLine": finding.end_line,
        "endColumn": finding.end_column,
    }
    if finding.source_line:
        region["snippet"] = {"text": finding.source_line}
    text = finding.message
    if finding.fix is not None and finding.fix.summary not in finding.message:
        text += f"\nFix: {finding.fix.summary}"
    result: dict[str, Any] = {
        "ruleId": finding.code,
        "ruleIndex": rule_index,
        "level": _LEVEL.get(finding.severity, "warning"),
        "message": {"text": text},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": _artifact(root, finding.path),
                    "region": region,
                }
            }
        ],
        "partialFingerprints": {"forklint/v1": finding.fingerprint},
    }
    if finding.trace:
        result["relatedLocations"] = [
            _related(root, i, step) for i, step in enumerate(finding.trace, 1)
        ]
    if finding.jobs:
        result["properties"] = {"jobs": list(finding.jobs)}
    if finding.fix is not None and finding.fix.edits:
        result["fixes"] = [_fix(root, finding.fix)]
    return result


def _fix(root: str, fix: Fix) -> dict[str, Any]:
    """SARIF's fix object: one artifactChange per file, its replacements in the file's order."""
    changes: dict[str, list[dict[str, Any]]] = {}
    for edit in sorted(fix.edits, key=lambda e: (e.path, e.line, e.column)):
        changes.setdefault(edit.path, []).append(
            {
                "deletedRegion": {
                    "startLine": edit.line,
                    "startColumn": edit.column,
                    "endLine": edit.end_line,
                    "endColumn": edit.end_column,
                },
                "insertedContent": {"text": edit.content},
            }
        )
    return {
        "description": {"text": f"{fix.summary} ({fix.applicability})"},
        "artifactChanges": [
            {"artifactLocation": _artifact(root, path), "replacements": replacements}
            for path, replacements in changes.items()
        ],
    }


def _related(root: str, number: int, step: TraceStep) -> dict[str, Any]:
    return {
        "id": number,
        "physicalLocation": {
            "artifactLocation": _artifact(root, step.path),
            "region": {"startLine": step.line, "startColumn": step.column},
        },
        "message": {"text": step.text},
    }


def _artifact(root: str, path: str) -> dict[str, str]:
    if Path(path).is_absolute():  # a file error outside the project
        return {"uri": "file://" + quote(path, safe="/", errors="surrogateescape")}
    return {
        "uri": quote(repo_path(root, path), safe="/", errors="surrogateescape"),
        "uriBaseId": _BASE,
    }


def _directory_uri(directory: Path) -> str:
    return "file://" + quote(
        directory.as_posix().rstrip("/") + "/", safe="/", errors="surrogateescape"
    )
