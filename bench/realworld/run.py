"""Run forklint over the reviewed real-world corpus and score its findings against the verdicts.

    python bench/realworld/run.py --corpus ~/forklint-corpus [--mirrors /work/.mirror] [NAME ...]

The corpus folder holds one directory per project of `projects.toml`, each the project's files
at its pinned commit. A missing one is unpacked from a fetched snapshot under `--mirrors`
(`<mirrors>/<owner>+<name>/repo`, a bare git directory) with `snapshot.py`; nothing is
fetched from the network. Each finding is matched to a verdict in `verdicts/<name>.toml` by
(code, path, line) and counted as true, false, unclear or unreviewed. Precision is
true / (true + false) over the reviewed findings besides FRK001.

`--show unreviewed|false|all` prints findings with their message and trace for review;
`--record` appends the unreviewed ones to the verdict files as `verdict = "?"` stubs to fill in.
Verdicts of findings no longer reported are listed: a lost true finding is a regression.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from snapshot import unpack  # noqa: E402

from forklint.api import check  # noqa: E402
from forklint.config import load_config  # noqa: E402
from forklint.findings import Finding, Report  # noqa: E402

VERDICTS = ("true", "false", "unclear")


@dataclass(frozen=True)
class Project:
    name: str
    repo: str
    commit: str
    stack: str
    note: str = ""


@dataclass(frozen=True)
class Verdict:
    code: str
    path: str
    line: int
    verdict: str  # true | false | unclear | ? (recorded, not yet reviewed)
    reason: str


def projects() -> list[Project]:
    data = tomllib.loads((HERE / "projects.toml").read_text())
    return [Project(**entry) for entry in data["project"]]


def verdicts(name: str) -> dict[tuple[str, str, int], Verdict]:
    path = HERE / "verdicts" / f"{name}.toml"
    if not path.exists():
        return {}
    data = tomllib.loads(path.read_text())
    out = {}
    for entry in data.get("finding", []):
        v = Verdict(entry["code"], entry["path"], entry["line"], entry["verdict"], entry["reason"])
        out[(v.code, v.path, v.line)] = v
    return out


def materialise(project: Project, corpus: Path, mirrors: Path | None) -> Path | None:
    folder = corpus / project.name
    if folder.is_dir():
        return folder
    if mirrors is None:
        return None
    git_dir = mirrors / project.repo.replace("/", "+") / "repo"
    if (git_dir / ".git").is_dir():
        git_dir = git_dir / ".git"
    if not git_dir.is_dir():
        return None
    corpus.mkdir(parents=True, exist_ok=True)
    unpack(git_dir, project.commit, folder)
    return folder


def lines_of(folder: Path, report: Report) -> int:
    total = 0
    for dirpath, _dirs, files in os.walk(folder):
        for name in files:
            if name.endswith(".py"):
                try:
                    with open(os.path.join(dirpath, name), "rb") as handle:
                        total += handle.read().count(b"\n")
                except OSError:
                    pass
    return total


def analyse(folder: Path) -> tuple[Report, float]:
    started = time.perf_counter()
    config = load_config(folder)
    report = check([folder], config, cache=False)
    return report, time.perf_counter() - started


def describe(finding: Finding) -> str:
    lines = [f"  {finding.code} {finding.path}:{finding.line}:{finding.column}  {finding.message}"]
    if finding.jobs:
        lines.append(f"      jobs: {', '.join(finding.jobs)}")
    for step in finding.trace:
        lines.append(f"      {step.path}:{step.line}  {step.text}")
    return "\n".join(lines)


def record(name: str, findings: list[Finding]) -> None:
    path = HERE / "verdicts" / f"{name}.toml"
    chunks = []
    for f in findings:
        chunks.append(
            "[[finding]]\n"
            f'code = "{f.code}"\npath = "{f.path}"\nline = {f.line}\n'
            'verdict = "?"\nreason = ""\n'
            f"# {f.message[:160]}\n"
        )
    with open(path, "a", encoding="utf-8") as handle:
        if path.stat().st_size if path.exists() else 0:
            handle.write("\n")
        handle.write("\n".join(chunks))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="only these projects")
    parser.add_argument(
        "--corpus",
        type=Path,
        default=Path(os.environ.get("FORKLINT_CORPUS", Path.home() / "forklint-corpus")),
    )
    parser.add_argument("--mirrors", type=Path, help="fetched snapshots to unpack missing projects")
    parser.add_argument("--show", choices=("unreviewed", "false", "unclear", "all"))
    parser.add_argument("--record", action="store_true", help="append stubs for unreviewed findings")
    args = parser.parse_args()

    chosen = [p for p in projects() if not args.names or p.name in args.names]
    totals: Counter[str] = Counter()
    lost: list[str] = []
    header = (
        f"{'project':<18} {'files':>6} {'lines':>8} {'secs':>6}  "
        f"{'true':>4} {'false':>5} {'uncl':>4} {'unrev':>5}  findings per rule"
    )
    print(header)
    print("-" * len(header))
    expectations: list[str] = []
    for project in chosen:
        folder = materialise(project, args.corpus, args.mirrors)
        if folder is None:
            print(f"{project.name:<18} missing: no {args.corpus / project.name} and no snapshot")
            continue
        report, seconds = analyse(folder)
        known = verdicts(project.name)
        counts: Counter[str] = Counter()
        per_rule: Counter[str] = Counter()
        unreviewed: list[Finding] = []
        shown: list[Finding] = []
        seen = set()
        for finding in report.findings:
            per_rule[finding.code] += 1
            key = (finding.code, finding.path, finding.line)
            seen.add(key)
            if finding.code == "FRK001":
                continue
            verdict = known.get(key)
            label = verdict.verdict if verdict is not None and verdict.verdict in VERDICTS else "?"
            counts[label] += 1
            if label == "?":
                unreviewed.append(finding)
            if args.show == "all" or (
                args.show in ("false", "unclear") and label == args.show
            ) or (args.show == "unreviewed" and label == "?"):
                shown.append(finding)
        for key, verdict in known.items():
            if key not in seen and verdict.verdict == "true":
                lost.append(f"{project.name}: {verdict.code} {verdict.path}:{verdict.line} ({verdict.reason})")
        totals.update(counts)
        rules = " ".join(f"{code}:{n}" for code, n in sorted(per_rule.items())) or "-"
        print(
            f"{project.name:<18} {report.files:>6} {lines_of(folder, report):>8} {seconds:>6.1f}  "
            f"{counts['true']:>4} {counts['false']:>5} {counts['unclear']:>4} {counts['?']:>5}  {rules}"
        )
        for item in report.unresolved:
            print(f"{'':<18} unresolved: {item.path}:{item.line}: {item.what}")
        if project.name == "redash-before":
            ok = per_rule["FRK102"] > 0
            expectations.append(f"redash-before reports FRK102: {'yes' if ok else 'NO'}")
        if project.name == "redash-after":
            ok = not per_rule["FRK101"] and not per_rule["FRK102"]
            expectations.append(f"redash-after silent on FRK101/FRK102: {'yes' if ok else 'NO'}")
        for finding in shown:
            print(describe(finding))
        if args.record and unreviewed:
            record(project.name, unreviewed)
    reviewed = totals["true"] + totals["false"]
    precision = totals["true"] / reviewed if reviewed else float("nan")
    print("-" * len(header))
    print(
        f"all: {totals['true']} true, {totals['false']} false, {totals['unclear']} unclear, "
        f"{totals['?']} unreviewed; precision {precision:.3f} over {reviewed} reviewed findings "
        "(FRK001 excluded)"
    )
    for line in expectations:
        print(line)
    for line in lost:
        print(f"LOST true finding: {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
