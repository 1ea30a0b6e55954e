"""The pre-commit hook, run by the real `pre-commit` from a copy of this repository."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from test_end_to_end import TASKS, WORKER, write

import forklint

pytestmark = pytest.mark.xfail(
    importlib.util.find_spec("forklint.api") is None,
    reason="forklint.api (the engine) has not landed yet",
    strict=True,
)

REPO = Path(forklint.__file__).resolve().parents[1]
# What the hook's environment installs from: the package, its data and the build metadata.
SHIPPED = ("pyproject.toml", "README.md", ".pre-commit-hooks.yaml", "forklint", "rules")


def git(cwd: Path, *args: str) -> str:
    identity = (
        "-c",
        "user.name=forklint tests",
        "-c",
        "user.email=tests@forklint.invalid",
        "-c",
        "commit.gpgsign=false",
    )
    done = subprocess.run(
        ["git", *identity, *args], cwd=cwd, check=True, capture_output=True, text=True
    )
    return done.stdout.strip()


def pre_commit(cwd: Path, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PRE_COMMIT_HOME": str(home), "PRE_COMMIT_COLOR": "never"}
    env.pop("GITHUB_STEP_SUMMARY", None)
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", *args],
        cwd=cwd,
        env=env,
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A committed copy of this checkout's working tree (try-repo sees only committed and tracked files)."""
    copy = tmp_path_factory.mktemp("hook-repo")
    for name in SHIPPED:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(
                source, copy / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "_rules")
            )
        else:
            shutil.copy2(source, copy / name)
    git(copy, "init", "-q")
    git(copy, "add", "-A")
    git(copy, "commit", "-q", "-m", "snapshot")
    return copy, git(copy, "rev-parse", "HEAD")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = write(
        tmp_path / "project",
        {
            "app/__init__.py": "",
            "app/tasks.py": TASKS,
            "worker.py": WORKER,
            "README.txt": "not python\n",
        },
    )
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "init")
    return root


def test_try_repo_all_files(hook_repo: tuple[Path, str], project: Path, tmp_path: Path) -> None:
    repo, _ = hook_repo
    done = pre_commit(
        project, tmp_path / "home", "try-repo", str(repo), "forklint", "--all-files", "--verbose"
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "forklint" in done.stdout and "Failed" in done.stdout
    assert "app/tasks.py:8:13: FRK103 " in done.stdout


def test_hook_reports_only_the_staged_files(
    hook_repo: tuple[Path, str], project: Path, tmp_path: Path
) -> None:
    repo, rev = hook_repo
    (project / ".pre-commit-config.yaml").write_text(
        f"repos:\n- repo: {repo}\n  rev: {rev}\n  hooks:\n  - id: forklint\n", encoding="utf-8"
    )
    home = tmp_path / "home"
    # The start-up file alone: the job module is analysed (whole project) but not reported.
    startup_only = pre_commit(project, home, "run", "--files", "worker.py", "README.txt")
    assert startup_only.returncode == 0, startup_only.stdout + startup_only.stderr
    assert "Passed" in startup_only.stdout
    job_module = pre_commit(project, home, "run", "--files", "app/tasks.py")
    assert job_module.returncode == 1, job_module.stdout + job_module.stderr
    assert "app/tasks.py:8:13: FRK103 " in job_module.stdout
    skipped = pre_commit(project, home, "run", "--files", "README.txt")
    assert "(no files to check)Skipped" in skipped.stdout
