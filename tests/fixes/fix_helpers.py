"""Helpers for the fix tests: run `forklint check` on a project written as files, read it back."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner, Result

from forklint import cli
from forklint.api import check
from forklint.config import load_config
from forklint.findings import Finding, Report
from tests.projects import write_files


def run(root: Path, *args: str) -> Result:
    """`forklint check ROOT ARGS` in-process (no cache: every run reads the files as they are)."""
    return CliRunner().invoke(
        cli.main, ["check", str(root), "--no-cache", *args], catch_exceptions=False
    )


def analyse(root: Path) -> Report:
    return check([root], load_config(root))


def snapshot(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }


def fixable(report: Report) -> list[Finding]:
    return [
        f for f in report.findings if f.fix is not None and f.fix.applicability != "display-only"
    ]


def make_project(root: Path, files: dict[str, str]) -> Path:
    (root / ".git").mkdir(exist_ok=True)
    return write_files(root, files)
