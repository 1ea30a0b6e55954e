"""`--write-baseline` / `--baseline`: record today's findings by fingerprint, report only new ones."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from forklint.findings import Finding, Report

SCHEMA = "forklint-baseline/1"


class BaselineError(Exception):
    """A baseline file that cannot be read; the message names the file and what to do."""


@dataclass(frozen=True)
class Filtered:
    report: Report  # the findings beyond the baseline
    baselined: int  # findings hidden because the baseline holds them
    gone: int  # baselined findings that no longer occur


def write(path: Path, findings: tuple[Finding, ...]) -> int:
    """Write the baseline of `findings` to `path`; returns how many it records."""
    counts = Counter(f.fingerprint for f in findings)
    first = {}
    for f in findings:
        first.setdefault(f.fingerprint, f)
    entries = sorted(
        (
            {
                "fingerprint": fp,
                "code": f.code,
                "path": f.path,
                "context": f.context,
                "count": counts[fp],
            }
            for fp, f in first.items()
        ),
        key=lambda e: (e["path"], e["code"], e["context"], e["fingerprint"]),
    )
    text = json.dumps({"schema": SCHEMA, "findings": entries}, indent=2) + "\n"
    path.write_text(text, encoding="utf-8")
    return len(findings)


@dataclass(frozen=True)
class Baseline:
    counts: Counter[str]  # fingerprint -> how many findings the baseline accepts
    paths: dict[str, str]  # fingerprint -> the file it was recorded in


def read(path: Path) -> Baseline:
    """The baseline recorded in the file at `path`."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BaselineError(
            f"{path}: baseline file not found; create it with --write-baseline {path}"
        ) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BaselineError(
            f"{path}: cannot read baseline ({exc}); recreate it with --write-baseline"
        ) from None
    if (
        not isinstance(data, dict)
        or data.get("schema") != SCHEMA
        or not isinstance(data.get("findings"), list)
    ):
        raise BaselineError(
            f"{path}: not a forklint baseline (expected schema {SCHEMA!r}); recreate it with --write-baseline"
        )
    counts: Counter[str] = Counter()
    paths: dict[str, str] = {}
    for entry in data["findings"]:
        if (
            not isinstance(entry, dict)
            or not isinstance(entry.get("fingerprint"), str)
            or not isinstance(entry.get("count"), int)
            or entry["count"] < 1
            or not isinstance(entry.get("path"), str)
        ):
            raise BaselineError(
                f"{path}: malformed entry {entry!r}; recreate it with --write-baseline"
            )
        counts[entry["fingerprint"]] += entry["count"]
        paths[entry["fingerprint"]] = entry["path"]
    return Baseline(counts, paths)


def apply(report: Report, baseline: Baseline, checked: Callable[[str], bool]) -> Filtered:
    """Drop up to the baselined count of findings per fingerprint; the rest are new.

    `checked(path)` tells whether this run reported on that file (pre-commit passes a few
    files), so that baselined findings elsewhere do not count as gone.
    """
    left = Counter(baseline.counts)
    new = []
    for finding in report.findings:
        if left[finding.fingerprint] > 0:
            left[finding.fingerprint] -= 1
        else:
            new.append(finding)
    hidden = len(report.findings) - len(new)
    gone = sum(n for fp, n in left.items() if checked(baseline.paths[fp]))
    return Filtered(replace(report, findings=tuple(new)), hidden, gone)
