"""Fixtures for the verify tests: small projects written as files, and `forklint verify` run as a real process."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.projects import write_files

MODELS = """
from __future__ import annotations

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    events: Mapped[list[Event]] = relationship(back_populates="user")


class Event(Base):
    __tablename__ = "events"
    id: Mapped[int] = mapped_column(primary_key=True)
    action: Mapped[str] = mapped_column(String(50))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    user: Mapped[User] = relationship(back_populates="events")
"""

TASKS = """
from app.models import Event, User


def record_event(data):
    event = Event(action=data["action"], user=User(name="someone"))
    return event.action
"""

# A catalog heavy call on the job's path, once through the module and once through a name bound at
# import time (the pre-forked parent binds it before the fork).
HEAVY = """
import os
import pickle
from pickle import load

from app.models import Event, User


# The same file on every run (FRK103 reports only loads that can be hoisted: a path the job is
# given may differ per job).
DATA = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data.pkl")


def load_and_record():
    with open(DATA, "rb") as f:
        pickle.load(f)
    with open(DATA, "rb") as f:
        data = load(f)
    return Event(action=data["action"], user=User(name="someone")).action
"""

# Jobs for the failure modes: no SQLAlchemy, so they run fast.
FAILING = """
import os
import signal
import time
from pathlib import Path


def ok():
    return 1


def boom(n=0):
    raise ValueError(f"boom {n}")


def die():
    os.kill(os.getpid(), signal.SIGKILL)


def ansi():
    raise ValueError("\\x1b[31mred\\x1b[0m\\x07")


def sleep(flag):
    Path(flag).write_text("running")
    time.sleep(60)
"""


@pytest.fixture
def make_project(tmp_path: Path) -> Callable[..., Path]:
    """A project with app/models.py (real SQLAlchemy models), app/tasks.py and app/jobs.py."""

    def make(pyproject: str = "", root: Path | None = None, **extra: str) -> Path:
        root = root if root is not None else tmp_path / "project"
        files = {
            "pyproject.toml": '[project]\nname = "app"\nversion = "0"\n'
            + textwrap.dedent(pyproject),
            "app/__init__.py": "",
            "app/models.py": MODELS,
            "app/tasks.py": TASKS,
            "app/jobs.py": FAILING,
            "app/heavy.py": HEAVY,
        }
        files.update({name.replace("__", "/") + ".py": text for name, text in extra.items()})
        return write_files(root, files)

    return make


@dataclass
class Verify:
    """Runs `forklint verify` as a real process, with markers that find anything it leaves behind."""

    marker: str
    tmpdir: Path

    def env(self) -> dict[str, str]:
        return dict(os.environ, FORKLINT_VERIFY_TEST_MARKER=self.marker, TMPDIR=str(self.tmpdir))

    def command(self, *args: str) -> list[str]:
        code = "from forklint.verify.command import verify_command; verify_command(prog_name='forklint verify')"
        return [sys.executable, "-c", code, *args]

    def __call__(
        self, root: Path, *args: str, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.command(*args),
            check=False,
            cwd=root,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def start(self, root: Path, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            self.command(*args),
            cwd=root,
            env=self.env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def leftovers(self) -> list[str]:
        """Live processes carrying the marker, and files left in the private TMPDIR."""
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                environ = (entry / "environ").read_bytes()
                state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
            except OSError:
                continue
            if self.marker.encode() in environ and state != "Z":
                found.append(f"process {entry.name}: {(entry / 'cmdline').read_bytes()[:80]!r}")
        found += [f"temp file {p}" for p in self.tmpdir.iterdir()]
        return found


@pytest.fixture
def verify() -> Iterator[Verify]:
    # A short private TMPDIR (unix socket paths are limited to ~100 bytes) that must end up empty.
    tmpdir = Path(tempfile.mkdtemp(prefix="fv-", dir="/tmp"))
    runner = Verify(marker=uuid.uuid4().hex, tmpdir=tmpdir)
    try:
        yield runner
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)


def _assert_one_line_error(
    result: subprocess.CompletedProcess[str], status: int, *needles: str
) -> str:
    assert result.returncode == status, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def one_line_error() -> Callable[..., str]:
    """Check a failed run: the exit status, exactly one stderr line holding every needle, no traceback."""
    return _assert_one_line_error
