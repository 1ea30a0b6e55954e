"""Apply forklint's fixes to the corpus projects with a true finding and check what they leave.

    python bench/realworld/fixes.py --corpus ~/forklint-corpus [NAME ...]

For each project (by default every one whose verdicts hold a `true` finding) a copy is made in a
temporary folder, then `forklint check --fix --unsafe-fixes` runs on it. A fix is code a user
applies, so the script checks, per project: every file the fixes changed still parses (Python
with `compile`, TOML with `tomllib`); every finding that had safe or unsafe edits is gone after
them; no finding appears that was not there before, unless a fix's own text announced it (a module
it preloads connects a pool at import: "that runs X (path:line) before the fork too, so ..."); and a
second `--fix --unsafe-fixes` changes nothing. Findings whose fix is advice, whole or in part (display-only, or a step forklint cannot
write such as a worker command it cannot see: the JSON's `advice`), may stay, and are counted
apart. Like `run.py`, it never reaches the network and is not part of CI.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

from run import materialise, projects, tomllib, verdicts  # beside this script


def forklint(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "forklint", "check", ".", "--no-cache", "--exit-zero", *args]
    return subprocess.run(command, cwd=root, capture_output=True, text=True, check=False)


def findings(root: Path) -> list[dict]:
    out = forklint(root, "--format", "json")
    return [f for f in json.loads(out.stdout)["findings"] if f["code"] != "FRK001"]


def digests(root: Path) -> dict[str, str]:
    out = {}
    for dirpath, _dirs, names in os.walk(root):
        for name in names:
            path = Path(dirpath, name)
            if path.is_file() and not path.is_symlink():
                out[str(path.relative_to(root))] = hashlib.sha1(path.read_bytes()).hexdigest()
    return out


def broken(root: Path, relpath: str) -> str | None:
    path = root / relpath
    try:
        if relpath.endswith(".py"):
            compile(path.read_bytes(), relpath, "exec")
        elif relpath.endswith(".toml"):
            tomllib.loads(path.read_text(encoding="utf-8"))
    except (SyntaxError, ValueError) as error:
        return f"{relpath}: {error}"
    return None


def key(finding: dict) -> tuple[str, str, str]:
    # lines move when a fix inserts code above a finding: match on what it says
    return finding["code"], finding["path"], finding["message"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="only these projects")
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--mirrors", type=Path)
    args = parser.parse_args()
    chosen = [
        p
        for p in projects()
        if (p.name in args.names)
        or (not args.names and any(v.verdict == "true" for v in verdicts(p.name).values()))
    ]
    problems = 0
    announced: list[str] = []  # new findings the fix's own text announced, with their remedy
    totals = {"findings": 0, "fixed": 0, "advice": 0}
    print(f"{'project':<24} {'findings':>8} {'fixed':>5} {'advice':>6}  files changed / problems")
    with tempfile.TemporaryDirectory(prefix="forklint-fixes-") as scratch:
        for project in chosen:
            folder = materialise(project, args.corpus, args.mirrors)
            if folder is None:
                print(f"{project.name:<24} missing")
                continue
            root = Path(scratch) / project.name
            shutil.copytree(folder, root, symlinks=True)
            before = findings(root)
            editable = [
                f
                for f in before
                if f.get("fix")
                and f["fix"]["applicability"] != "display-only"
                and f["fix"]["edits"]
                and not f["fix"].get("advice")  # a step forklint cannot write (no command line)
            ]
            start = digests(root)
            forklint(root, "--fix", "--unsafe-fixes")
            fixed_state = digests(root)
            changed = sorted(p for p in fixed_state if start.get(p) != fixed_state[p])
            issues = [b for p in changed if (b := broken(root, p)) is not None]
            after = findings(root)
            left = {key(f) for f in after}
            issues += [
                f"still reported after its fix: {f['code']} {f['path']}:{f['line']}"
                for f in editable
                if key(f) in left
            ]
            # a finding whose fix served some of its jobs says fewer jobs after it: the same one
            counts = Counter((f["code"], f["path"]) for f in before)
            # what a fix says it brings across the fork (a preloaded module's import connects a
            # pool: "that runs db.create_all() (app/__init__.py:46) before the fork too, so ...")
            said = " ".join(
                f["fix"]["summary"] + " " + f["fix"].get("advice", "")
                for f in before
                if f.get("fix")
            )
            for f in after:
                counts[(f["code"], f["path"])] -= 1
                if counts[(f["code"], f["path"])] < 0:
                    where = f"{f['path']}:{f['line']}"
                    if f"({where}) before the fork too" in said:
                        announced.append(f"{project.name}: {f['code']} {where}")
                    else:
                        issues.append(f"new: {f['code']} {where}")
            forklint(root, "--fix", "--unsafe-fixes")
            issues += [
                f"changed by a second --fix: {p}"
                for p, d in digests(root).items()
                if fixed_state.get(p) != d
            ]
            shutil.rmtree(root, ignore_errors=True)
            gone = len(before) - len(after)
            totals["findings"] += len(before)
            totals["fixed"] += gone
            totals["advice"] += len(before) - len(editable)
            problems += len(issues)
            print(
                f"{project.name:<24} {len(before):>8} {gone:>5} {len(before) - len(editable):>6}  "
                f"{len(changed)} file(s) changed"
            )
            for issue in issues:
                print(f"{'':<24} PROBLEM {issue}")
    print(
        f"\n{len(chosen)} projects: {totals['findings']} findings, {totals['fixed']} gone after "
        f"--fix --unsafe-fixes, {totals['advice']} with advice (whole or in part); {problems} problem(s)"
    )
    for line in announced:
        print(
            f"announced by its fix (what the preload brings across the fork, with its advice): {line}"
        )
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
