"""`--format gitlab`: the Code Quality report GitLab shows in merge requests (a JSON array)."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from forklint.findings import Finding, Report
from forklint.report.common import repo_path

# forklint severity -> GitLab's scale (info, minor, major, critical, blocker): an error breaks
# the program (an unparseable file, a connection shared across a fork), a warning costs time.
SEVERITY = {"error": "critical", "warning": "major", "info": "info"}


def render(report: Report, *, color: bool = False, quiet: bool = False) -> str:
    seen: Counter[str] = Counter()
    issues = []
    for finding in report.findings:
        seen[finding.fingerprint] += 1
        issues.append(_issue(report.root, finding, seen[finding.fingerprint]))
    return json.dumps(issues, indent=2) + "\n"


def _issue(root: str, finding: Finding, occurrence: int) -> dict[str, Any]:
    # GitLab needs a unique fingerprint per issue; identical lines in one function share ours.
    fingerprint = finding.fingerprint if occurrence == 1 else f"{finding.fingerprint}-{occurrence}"
    return {
        "description": f"{finding.code} {finding.message}",
        "check_name": finding.code,
        "fingerprint": fingerprint,
        "severity": SEVERITY.get(finding.severity, "major"),
        "location": {
            "path": repo_path(root, finding.path),
            "lines": {"begin": finding.line, "end": finding.end_line},
        },
    }
