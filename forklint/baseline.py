"""`--write-baseline` / `--baseline`: record today's findings by fingerprint, report only new ones."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from forklint.findings import Finding, Report
from forklint.fsutil import FileProblem, atomic_write, leads_out, link_text, read_regular

SCHEMA = "forklint-baseline/1"
# ~150 bytes a finding: 400,000 findings. Anything bigger is not a baseline forklint wrote (and
# the file may come with a pull request: parsing it must not take gigabytes).
MAX_BASELINE_BYTES = 64 * 1024 * 1024


class BaselineError(Exception):
    """A baseline file that cannot be read; the message names the file and what to do."""


@dataclass(frozen=True)
class Filtered:
    report: Report  # the findings beyond the baseline
    baselined: int  # findings hidden because the baseline holds them
    gone: int  # baselined findings that no longer occur


def write(path: Path, findings: tuple[Finding, ...]) -> int:
    """Write the baseline of `findings` to `path` atomically; returns how many it records.

    Raises FileProblem when the file cannot be written (the old baseline is then untouched).
    """
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
    atomic_write(path, text.encode("utf-8"))
    return len(findings)


@dataclass(frozen=True)
class Baseline:
    counts: Counter[str]  # fingerprint -> how many findings the baseline accepts
    paths: dict[str, str]  # fingerprint -> the file it was recorded in


def read(path: Path, root: Path | None = None) -> Baseline:
    """The baseline recorded in the file at `path`; any problem is a one-line BaselineError.

    A path inside the project `root` that a symlink leads out of it is refused: the file is
    not the project's.
    """
    recreate = f"recreate it with --write-baseline {path}"
    if root is not None and leads_out(path, root):
        raise BaselineError(
            f"{path}: a symlink to a file outside the project ({link_text(path)}); "
            "forklint reads only the project's own files"
        )
    try:
        data = json.loads(read_regular(path, MAX_BASELINE_BYTES).decode("utf-8"))
    except FileProblem as problem:
        if problem.kind == "os" and str(problem) == "no such file or directory":
            raise BaselineError(
                f"{path}: baseline file not found; create it with --write-baseline {path}"
            ) from None
        raise BaselineError(f"{path}: cannot read baseline ({problem})") from None
    except ValueError as exc:  # not UTF-8, not JSON, or an integer of thousands of digits
        raise BaselineError(f"{path}: cannot read baseline ({exc}); {recreate}") from None
    except RecursionError:
        raise BaselineError(
            f"{path}: not a forklint baseline (nested too deeply); {recreate}"
        ) from None
    if (
        not isinstance(data, dict)
        or data.get("schema") != SCHEMA
        or not isinstance(data.get("findings"), list)
    ):
        raise BaselineError(
            f"{path}: not a forklint baseline (expected schema {SCHEMA!r}); {recreate}"
        )
    counts: Counter[str] = Counter()
    paths: dict[str, str] = {}
    for number, entry in enumerate(data["findings"]):
        problem = _entry_problem(entry)
        if problem is not None:
            raise BaselineError(f"{path}: findings[{number}] {problem}; {recreate}")
        counts[entry["fingerprint"]] += entry["count"]
        paths[entry["fingerprint"]] = entry["path"]
    return Baseline(counts, paths)


def _entry_problem(entry: Any) -> str | None:
    """What is wrong with one recorded finding, in a few words (never the entry itself: it may be
    megabytes, or nested thousands deep)."""
    if not isinstance(entry, dict):
        return f"must be an object, not {_kind(entry)}"
    for key in ("fingerprint", "path"):
        if not isinstance(entry.get(key), str):
            return f"`{key}` must be a string, not {_kind(entry.get(key))}"
    count = entry.get("count")
    # bool is an int to Python; `"count": true` is not a count.
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        return f"`count` must be a positive integer, not {_kind(count)}"
    return None


def _kind(value: Any) -> str:
    if value is None:
        return "missing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value) if abs(value) < 10**6 else "a huge number"
    return {dict: "an object", list: "an array", str: "a string", float: "a number"}.get(
        type(value), type(value).__name__
    )


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
