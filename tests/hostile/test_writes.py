"""Files forklint writes (prefork --write, --write-baseline, --output-file) are replaced whole or not at all."""

from __future__ import annotations

import json
import os
import resource
import shutil
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hostile_helpers import forklint, forklint_as, one_error_line

from forklint.fsutil import FileProblem, atomic_write
from tests.projects import write_files

NOBODY = 65534

# A job that imports SQLAlchemy's ORM and runs a query: `forklint prefork` has a table to write.
TASKS = """\
from rq.decorators import job
from sqlalchemy.orm import Session


@job("default")
def record(engine, row):
    with Session(engine) as session:
        session.add(row)
        session.commit()
"""
# A real project's pyproject.toml is a few KB; the 3.8 KB one was cut to 2,048 bytes.
PYPROJECT = (
    '[project]\nname = "shop"\nversion = "1.0"\ndependencies = [\n'
    + "".join(f'    "package-number-{i}>=1.0",\n' for i in range(120))
    + "]\n"
)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = write_files(
        tmp_path / "shop",
        {"pyproject.toml": PYPROJECT, "app/__init__.py": "", "app/tasks.py": TASKS},
    )
    assert len(PYPROJECT) > 3000
    return root


# ---- the primitive --------------------------------------------------------------------------


def test_atomic_write_replaces_and_keeps_the_mode(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    atomic_write(target, b"first")
    assert target.read_bytes() == b"first"
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~_umask()
    target.chmod(0o640)
    atomic_write(target, b"second")
    assert target.read_bytes() == b"second"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]  # no temporary left


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_atomic_write_refuses_links_and_odd_targets(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere.txt"
    elsewhere.write_bytes(b"keep")
    (tmp_path / "link").symlink_to(elsewhere)
    (tmp_path / "dangling").symlink_to(tmp_path / "created-by-forklint")
    (tmp_path / "folder").mkdir()
    os.mkfifo(tmp_path / "fifo")
    cases = {
        "link": f"is a symlink (to {elsewhere}); refusing to write through it",
        "dangling": (
            f"is a dangling symlink (to {tmp_path / 'created-by-forklint'}); "
            "refusing to create its target"
        ),
        "folder": "is a directory, not a file",
        "fifo": "not a regular file (device, socket or FIFO); refusing to write to it",
        "missing/out.txt": f"no such directory {tmp_path / 'missing'}",
    }
    for name, message in cases.items():
        with pytest.raises(FileProblem) as raised:
            atomic_write(tmp_path / name, b"new")
        assert str(raised.value) == message
    assert elsewhere.read_bytes() == b"keep"
    assert not (tmp_path / "created-by-forklint").exists()


# ---- through the command line ---------------------------------------------------------------


def test_prefork_write_under_a_file_size_limit_leaves_pyproject_whole(project: Path) -> None:
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (2048, 2048))

    done = forklint("prefork", "--write", cwd=project, preexec_fn=limit)
    line = one_error_line(done)
    assert line.startswith(f"forklint: {project / 'pyproject.toml'}: cannot write (file too large)")
    assert line.endswith("the file was left as it was")
    assert (project / "pyproject.toml").read_text(encoding="utf-8") == PYPROJECT
    assert sorted(p.name for p in project.iterdir()) == ["app", "pyproject.toml"]
    # Without the limit the same command succeeds: the table is there and the rest is intact.
    assert forklint("prefork", "--write", cwd=project).returncode == 0
    written = (project / "pyproject.toml").read_text(encoding="utf-8")
    assert written.startswith(PYPROJECT) and "[tool.forklint.prefork]" in written


def test_baseline_and_output_file_under_a_file_size_limit(project: Path) -> None:
    (project / "base.json").write_text("OLD BASELINE " * 400, encoding="utf-8")
    (project / "out.sarif").write_text("OLD REPORT " * 400, encoding="utf-8")

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (100, 100))

    line = one_error_line(forklint("--write-baseline", "base.json", cwd=project, preexec_fn=limit))
    assert line == "forklint: cannot write baseline base.json: file too large"
    assert (project / "base.json").read_text(encoding="utf-8") == "OLD BASELINE " * 400
    done = forklint("--format", "sarif", "-o", "out.sarif", cwd=project, preexec_fn=limit)
    assert one_error_line(done) == "forklint: cannot write --output-file out.sarif: file too large"
    assert (project / "out.sarif").read_text(encoding="utf-8") == "OLD REPORT " * 400
    assert not [p for p in project.iterdir() if p.name.endswith(".tmp")]


def test_symlinked_targets_are_refused(project: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.toml"
    outside.write_text(PYPROJECT, encoding="utf-8")
    (project / "pyproject.toml").unlink()
    (project / "pyproject.toml").symlink_to(outside)
    # A pyproject.toml that leads out of the project is not even read.
    line = one_error_line(forklint("prefork", "--write", cwd=project))
    assert "a symlink to a file outside the project" in line
    assert outside.read_text(encoding="utf-8") == PYPROJECT

    # Inside the project, a linked pyproject.toml is read but not written through.
    (project / "pyproject.toml").unlink()
    (project / "real.toml").write_text(PYPROJECT, encoding="utf-8")
    (project / "pyproject.toml").symlink_to("real.toml")
    line = one_error_line(forklint("prefork", "--write", cwd=project))
    assert line.startswith(
        f"forklint: {project / 'pyproject.toml'}: is a symlink (to real.toml); refusing to edit"
    )
    assert (project / "real.toml").read_text(encoding="utf-8") == PYPROJECT

    (project / "base.json").symlink_to(outside)
    line = one_error_line(forklint("--write-baseline", "base.json", cwd=project))
    assert line == (
        f"forklint: cannot write baseline base.json: is a symlink (to {outside}); "
        "refusing to write through it"
    )
    (project / "report.json").symlink_to(tmp_path / "new-file.json")
    done = forklint("--format", "json", "--output-file", "report.json", cwd=project)
    assert "is a dangling symlink" in one_error_line(done)
    assert outside.read_text(encoding="utf-8") == PYPROJECT
    assert not (tmp_path / "new-file.json").exists()


def test_dangling_pyproject_link_is_refused_not_created(tmp_path: Path) -> None:
    root = write_files(tmp_path / "p", {"app/__init__.py": "", "app/tasks.py": TASKS})
    (root / ".git").mkdir()
    (root / "pyproject.toml").symlink_to("missing.toml")
    line = one_error_line(forklint("prefork", "--write", cwd=root))
    assert line == (
        f"forklint: {root / 'pyproject.toml'}: cannot read config file (no such file or directory)"
    )
    assert not (root / "missing.toml").exists()


@pytest.fixture
def world_readable() -> Iterator[Path]:
    """A folder `nobody` can reach (pytest's tmp_path sits below a folder only root may enter)."""
    folder = Path(tempfile.mkdtemp(prefix="forklint-ro-"))
    folder.chmod(0o755)
    try:
        yield folder
    finally:
        for path in (folder, *folder.rglob("*")):
            path.chmod(0o755)
        shutil.rmtree(folder)


def test_a_read_only_directory_is_one_line(world_readable: Path) -> None:
    """The file is writable but its folder is not: writing in place would succeed, replacing
    cannot. Run as `nobody`, since root writes anywhere."""
    project = write_files(
        world_readable / "shop",
        {"pyproject.toml": PYPROJECT, "app/__init__.py": "", "app/tasks.py": TASKS},
    )
    for path in project.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o666)
    project.chmod(0o555)
    done = forklint_as(NOBODY, "prefork", "--write", cwd=project)
    line = one_error_line(done)
    assert line == (
        f"forklint: {project / 'pyproject.toml'}: cannot write (cannot create a file in "
        f"{project}: permission denied); the file was left as it was"
    )
    assert (project / "pyproject.toml").read_text(encoding="utf-8") == PYPROJECT
    done = forklint_as(NOBODY, "--format", "json", "-o", "out.json", cwd=project)
    assert one_error_line(done) == (
        f"forklint: cannot write --output-file out.json: cannot create a file in {project}: "
        "permission denied"
    )


def test_written_files_are_complete(project: Path) -> None:
    done = forklint("--write-baseline", "base.json", cwd=project)
    assert done.returncode == 0, done.stderr
    assert json.loads((project / "base.json").read_text(encoding="utf-8"))["findings"]
    done = forklint("--format", "sarif", "--output-file", "out.sarif", cwd=project)
    assert done.returncode == 1 and done.stdout == b""
    assert json.loads((project / "out.sarif").read_text(encoding="utf-8"))["runs"][0]["results"]


def test_a_read_only_file_in_a_writable_folder_is_left_alone(world_readable: Path) -> None:
    """A rename could replace it; the read-only bit says not to (as `nobody`: root may write)."""
    project = write_files(
        world_readable / "shop",
        {"pyproject.toml": PYPROJECT, "app/__init__.py": "", "app/tasks.py": TASKS},
    )
    for path in project.rglob("*"):
        path.chmod(0o777 if path.is_dir() else 0o644)
    project.chmod(0o777)
    (project / "pyproject.toml").chmod(0o444)
    line = one_error_line(forklint_as(NOBODY, "prefork", "--write", cwd=project))
    assert line == (
        f"forklint: {project / 'pyproject.toml'}: cannot write (permission denied (the file is "
        "read-only)); the file was left as it was"
    )
    assert (project / "pyproject.toml").read_text(encoding="utf-8") == PYPROJECT
