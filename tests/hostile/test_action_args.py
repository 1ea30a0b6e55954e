"""The GitHub Action's shell steps split `args` on spaces but never expand globs from the checkout."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

import forklint
from tests.projects import write_files

ACTION = Path(forklint.__file__).resolve().parents[1] / "action.yml"


def test_a_glob_in_args_cannot_pick_up_a_file_named_like_an_option(tmp_path: Path) -> None:
    root = write_files(
        tmp_path,
        {
            "pyproject.toml": "",
            "app.py": "def f(:\n",
            "--config=c.py": 'exclude = ["*"]\n',  # as settings: exclude everything, exit 0
            "c.py": 'exclude = ["*"]\n',
        },
    )
    steps = {step.get("name"): step for step in yaml.safe_load(ACTION.read_text())["runs"]["steps"]}
    done = subprocess.run(
        ["bash", "-ec", steps["forklint"]["run"]],
        cwd=root,
        env={"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "FORKLINT_ARGS": "*.py"},
        capture_output=True,
        text=True,
        check=False,
    )
    # `*.py` reaches forklint as written (no such path), never as `--config=c.py c.py ...`.
    assert done.returncode == 2, done.stdout + done.stderr
    assert "'*.py' does not exist" in done.stderr
