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


def test_the_engine_does_not_load_the_command_line() -> None:
    # Data flows one way: the analysis never reaches back into click or the CLI module.
    code = "import sys, forklint.api; print('click' in sys.modules, 'forklint.cli' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_root_is_the_nearest_pyproject_or_git(tmp_path: Path) -> None:
    from forklint.config import find_root

    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "vendored" / ".git").mkdir(parents=True)
    (tmp_path / "vendored" / "pkg").mkdir()
    (tmp_path / "app").mkdir()
    assert find_root(tmp_path / "vendored" / "pkg") == tmp_path / "vendored"
    assert find_root(tmp_path / "app") == tmp_path
    assert find_root(Path("/")) == Path("/")
