"""The README's promises that can drift: its rule table is derived from the rule docs, its first
two commands are what CI runs."""

from __future__ import annotations

import re
from pathlib import Path

from forklint.ruledocs import all_rules

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_rule_table_matches_rule_docs() -> None:
    rows = re.findall(r"^\| (FRK\d{3}) \| ([a-z-]+) \| (\w+) \| (.+) \|$", README, re.MULTILINE)
    expected = [(r.code, r.name, r.severity, r.summary) for r in all_rules().values()]
    assert rows == expected


def test_ci_runs_the_readme_test_command() -> None:
    commands = re.search(r"```sh\n(.+?)\n```", README, re.DOTALL)
    assert commands is not None
    lines = commands.group(1).splitlines()
    assert len(lines) == 2
    assert "forklint examples/shop" in lines[0]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert lines[1] in ci.splitlines()
