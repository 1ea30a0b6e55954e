"""The project holds itself to its own standards: ruff-clean, and forklint-clean on its own tree."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from forklint.cli import main

ROOT = Path(__file__).resolve().parent.parent


def test_ruff_is_clean() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", "."],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_forklint_is_clean_on_its_own_tree() -> None:
    result = CliRunner().invoke(main, ["check", "--no-cache", str(ROOT / "forklint"), str(ROOT / "bench")])
    assert result.exit_code == 0, result.output
