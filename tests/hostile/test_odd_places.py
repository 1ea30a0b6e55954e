"""Special files where a file is expected, odd output targets, deep trees, folders one cannot enter."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hostile_helpers import forklint, forklint_as, one_error_line

from forklint.config import tomllib
from tests.projects import write_files

NOBODY = 65534


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write_files(tmp_path, {"pyproject.toml": "", "app/__init__.py": "", "app/t.py": ""})


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("--config", "pipe"), "forklint: pipe: cannot read config file (not a regular file"),
        (("--config", "/dev/zero"), "forklint: /dev/zero: cannot read config file (not a regular"),
        (("--baseline", "pipe"), "forklint: pipe: cannot read baseline (not a regular file"),
        (("--baseline", "/dev/zero"), "forklint: /dev/zero: cannot read baseline (not a regular"),
        (("--write-baseline", "pipe"), "forklint: cannot write baseline pipe: not a regular file"),
        (("-o", "pipe"), "forklint: cannot write --output-file pipe: not a regular file"),
        (
            ("-o", "/dev/stdout"),
            "forklint: cannot write --output-file /dev/stdout: is a symlink (to /proc/self/fd/1); "
            "refusing to write through it; leave out --output-file to write to stdout",
        ),
    ],
)
def test_special_files_are_refused_without_blocking(
    project: Path, args: tuple[str, ...], expected: str
) -> None:
    os.mkfifo(project / "pipe")
    line = one_error_line(forklint(*args, cwd=project, timeout=30))
    assert line.startswith(expected), line


def test_a_fifo_pyproject_and_step_summary_do_not_block(project: Path) -> None:
    os.mkfifo(project / "summary.md")
    done = forklint(
        "--format", "github", cwd=project, env={"GITHUB_STEP_SUMMARY": "summary.md"}, timeout=30
    )
    assert one_error_line(done) == (
        "forklint: cannot write GITHUB_STEP_SUMMARY summary.md: "
        "not a regular file (device, socket or FIFO)"
    )
    (project / "pyproject.toml").unlink()
    os.mkfifo(project / "pyproject.toml")
    assert one_error_line(forklint(cwd=project, timeout=30)) == (
        f"forklint: {project / 'pyproject.toml'}: cannot read config file "
        "(not a regular file (device, socket or FIFO))"
    )


def test_a_socket_named_like_a_module_is_one_error(project: Path) -> None:
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(str(project / "app/sock.py"))
        done = forklint("--format", "concise", cwd=project)
    finally:
        server.close()
    assert done.returncode == 1
    assert done.stderr.decode() == (
        "error: app/sock.py: not a regular file (device, socket or FIFO); skipped\n"
    )


# Deeper than Python's recursion limit (1,000), and ddd/ddd/... longer than PATH_MAX (4,096).
DEPTH, NAME = 1100, "ddd"


@pytest.fixture
def deep() -> Iterator[Path]:
    """`ddd/` nested DEPTH times, made and removed relative to each parent (shutil.rmtree recurses,
    and past PATH_MAX no absolute path works). Not below pytest's tmp_path: a tree left by a run
    killed half-way would make pytest's own clean-up of old temporary folders crash."""
    root = Path(tempfile.mkdtemp(prefix="forklint-deep-"))
    write_files(root, {"pyproject.toml": "", "top.py": "def f(:\n"})
    fds = [os.open(root, os.O_RDONLY)]
    try:
        for _ in range(DEPTH):
            os.mkdir(NAME, dir_fd=fds[-1])
            fds.append(os.open(NAME, os.O_RDONLY, dir_fd=fds[-1]))
        yield root
    finally:
        while len(fds) > 1:  # innermost first: empty the folder, then remove it from its parent
            folder = fds.pop()
            with os.scandir(folder) as entries:
                files = [e.name for e in entries if not e.is_dir(follow_symlinks=False)]
            for name in files:
                os.unlink(name, dir_fd=folder)
            os.close(folder)
            os.rmdir(NAME, dir_fd=fds[-1])
        os.close(fds[0])
        shutil.rmtree(root)


def test_a_tree_thousands_of_folders_deep(deep: Path) -> None:
    """One error where paths get too long; the files above it and beside it are analysed."""
    root = deep
    (root.joinpath(*[NAME] * 1000) / "mid.py").write_text("def g(:\n", encoding="utf-8")
    done = forklint("--format", "concise", "--quiet", cwd=root, timeout=120)
    assert done.returncode == 1, done.stderr
    assert b"internal error" not in done.stderr
    paths = [line.split(b":", 1)[0] for line in done.stdout.splitlines()]
    assert paths == [b"/".join([NAME.encode()] * 1000) + b"/mid.py", b"top.py"]
    (error,) = done.stderr.decode().splitlines()
    assert error.endswith(": cannot read directory: file name too long")


@pytest.fixture
def hidden_parent() -> Iterator[Path]:
    """A project below a folder `nobody` may not enter (it can still enter the project)."""
    outer = Path(tempfile.mkdtemp(prefix="forklint-hidden-"))
    project = write_files(outer / "inner" / "proj", {"pyproject.toml": "", "a.py": "x = 1\n"})
    (outer / "inner").chmod(0o711)
    project.chmod(0o777)
    outer.chmod(0o700)
    try:
        yield project
    finally:
        outer.chmod(0o755)
        shutil.rmtree(outer)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to drop to nobody")
def test_a_folder_below_one_nobody_may_enter_is_one_error(hidden_parent: Path) -> None:
    done = forklint_as(NOBODY, "check", "--no-cache", cwd=hidden_parent)
    assert done.returncode == 1, done.stderr
    assert done.stderr == b"error: .: cannot read directory: permission denied\n"
    done = forklint_as(NOBODY, "check", "--no-cache", "--format", "sarif", cwd=hidden_parent)
    assert done.returncode == 1 and b"internal error" not in done.stderr


def test_show_config_stays_toml_in_a_folder_named_with_a_line_break(tmp_path: Path) -> None:
    root = write_files(tmp_path / "odd\nname", {"pyproject.toml": "[tool.forklint]\nsrc = []\n"})
    done = forklint("--show-config", cwd=root)
    assert done.returncode == 0, done.stderr
    assert tomllib.loads(done.stdout.decode())["tool"]["forklint"]["src"] == []
    assert b"odd\\nname" in done.stdout
