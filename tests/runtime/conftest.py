"""Runtime test fixtures: a real Redis, and a small SQLAlchemy app that records what horses do."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from redis import Redis

from forklint.redis_server import EmbeddedRedis


@pytest.fixture(scope="session")
def redis_server() -> Iterator[EmbeddedRedis]:
    """One private redis-server per test session (per xdist worker)."""
    with EmbeddedRedis() as server:
        yield server


@pytest.fixture
def redis_conn(redis_server: EmbeddedRedis) -> Iterator[Redis]:
    """A connection to an empty database of the session's Redis."""
    connection = Redis.from_url(redis_server.url)
    connection.flushall()
    yield connection
    connection.close()


# Twelve mapped classes with relationships both ways, so configure_mappers has real work.
_MODELS = """
from __future__ import annotations

from sqlalchemy import ForeignKey, String, event
from sqlalchemy.orm import DeclarativeBase, Mapped, Mapper, mapped_column, relationship

from {pkg}.evidence import record

record("import", __name__)


@event.listens_for(Mapper, "before_configured")
def _configuring() -> None:
    record("configure", "")


class Base(DeclarativeBase):
    pass


class Organisation(Base):
    __tablename__ = "organisation"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    accounts: Mapped[list[Account]] = relationship(back_populates="organisation")
    teams: Mapped[list[Team]] = relationship(back_populates="organisation")


class Team(Base):
    __tablename__ = "team"
    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    organisation: Mapped[Organisation] = relationship(back_populates="teams")
    members: Mapped[list[Account]] = relationship(back_populates="team")


class Account(Base):
    __tablename__ = "account"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(120))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("team.id"))
    organisation: Mapped[Organisation] = relationship(back_populates="accounts")
    team: Mapped[Team | None] = relationship(back_populates="members")
    events: Mapped[list[Event]] = relationship(back_populates="account")
    sessions: Mapped[list[LoginSession]] = relationship(back_populates="account")


class LoginSession(Base):
    __tablename__ = "login_session"
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"))
    account: Mapped[Account] = relationship(back_populates="sessions")


class Project(Base):
    __tablename__ = "project"
    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    organisation: Mapped[Organisation] = relationship()
    events: Mapped[list[Event]] = relationship(back_populates="project")
    tags: Mapped[list[Tag]] = relationship(back_populates="project")


class EventType(Base):
    __tablename__ = "event_type"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40))
    events: Mapped[list[Event]] = relationship(back_populates="event_type")


class Event(Base):
    __tablename__ = "event"
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"))
    project_id: Mapped[int | None] = mapped_column(ForeignKey("project.id"))
    event_type_id: Mapped[int | None] = mapped_column(ForeignKey("event_type.id"))
    payload: Mapped[str] = mapped_column(String(200))
    account: Mapped[Account] = relationship(back_populates="events")
    project: Mapped[Project | None] = relationship(back_populates="events")
    event_type: Mapped[EventType | None] = relationship(back_populates="events")
    attachments: Mapped[list[Attachment]] = relationship(back_populates="event")
    comments: Mapped[list[Comment]] = relationship(back_populates="event")


class Attachment(Base):
    __tablename__ = "attachment"
    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id"))
    event: Mapped[Event] = relationship(back_populates="attachments")


class Comment(Base):
    __tablename__ = "comment"
    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("account.id"))
    event: Mapped[Event] = relationship(back_populates="comments")
    author: Mapped[Account] = relationship()


class Tag(Base):
    __tablename__ = "tag"
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id"))
    project: Mapped[Project] = relationship(back_populates="tags")


class Invoice(Base):
    __tablename__ = "invoice"
    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    organisation: Mapped[Organisation] = relationship()
    lines: Mapped[list[InvoiceLine]] = relationship(back_populates="invoice")


class InvoiceLine(Base):
    __tablename__ = "invoice_line"
    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoice.id"))
    project_id: Mapped[int | None] = mapped_column(ForeignKey("project.id"))
    invoice: Mapped[Invoice] = relationship(back_populates="lines")
    project: Mapped[Project | None] = relationship()
"""

_EVIDENCE = '''
import json
import os

PATH = {path!r}


def record(kind: str, detail: str) -> None:
    """One JSON line per event, appended by whichever process (parent or horse) it happens in."""
    line = json.dumps({{"pid": os.getpid(), "ppid": os.getppid(), "kind": kind, "detail": detail}})
    with open(PATH, "a", encoding="utf-8") as out:
        out.write(line + "\\n")


record("import", __name__)
'''

_INIT = """
from {pkg}.evidence import record

record("import", __name__)
"""

_DB = """
from sqlalchemy import create_engine

from {pkg}.evidence import record

record("import", __name__)

engine = create_engine("sqlite://")


def dispose_pool() -> None:
    record("after-fork", "dispose_pool")
    engine.dispose(close=False)


def broken_reset() -> None:
    raise RuntimeError("reset failed")
"""

_TASKS = """
import os

from sqlalchemy import select

from {pkg}.db import engine
from {pkg}.evidence import record
from {pkg}.models import Account, Event, Organisation

record("import", __name__)


def record_event(n: int) -> int:
    record("job", str(n))
    organisation = Organisation(name="acme")
    account = Account(email="a@example.com", organisation=organisation)
    event = Event(payload=f"event {{n}}", account=account)
    statement = select(Event).join(Event.account).where(Account.organisation_id == 1)
    str(statement.compile(engine))
    assert event.account.organisation is organisation
    return os.getpid()
"""

_WORKERS = '''
from rq.worker import SimpleWorker, SpawnWorker, Worker

from forklint.findings import Prefork
from forklint.rq import PreforkMixin
from {pkg}.evidence import record

record("import", __name__)

TABLE = Prefork(
    imports=("{pkg}.tasks", "{pkg}.models"),
    calls=("sqlalchemy.orm:configure_mappers",),
    after_fork=("{pkg}.db:dispose_pool",),
)


class AuditedWorker(Worker):
    """A project's own worker class, with behaviour of its own that the mixin must keep."""

    def execute_job(self, job, queue):
        record("audited", job.id)
        super().execute_job(job, queue)


class AppWorker(PreforkMixin, AuditedWorker):
    prefork = TABLE


class AppSimpleWorker(PreforkMixin, SimpleWorker):
    prefork = TABLE


class AppSpawnWorker(PreforkMixin, SpawnWorker):
    prefork = TABLE
'''


@dataclass(frozen=True)
class Record:
    pid: int
    ppid: int
    kind: str  # "import" | "configure" | "after-fork" | "job" | "audited"
    detail: str


@dataclass(frozen=True)
class Horse:
    """What one job's process did, from the records written by that process."""

    pid: int
    ppid: int
    imported: tuple[str, ...]  # the app's modules imported in this process, i.e. after the fork
    configured: int  # configure_mappers runs in this process
    after_fork: int  # after-fork calls in this process


@dataclass(frozen=True)
class App:
    """A small SQLAlchemy app written to disk: package `package` under `root`."""

    root: Path
    package: str
    evidence: Path

    @property
    def job(self) -> str:
        return f"{self.package}.tasks.record_event"

    def records(self) -> list[Record]:
        if not self.evidence.exists():
            return []
        lines = self.evidence.read_text(encoding="utf-8").splitlines()
        return [Record(**json.loads(line)) for line in lines]

    def horses(self) -> list[Horse]:
        """One entry per job run, in order."""
        records = self.records()
        result = []
        for job in (r for r in records if r.kind == "job"):
            mine = [r for r in records if r.pid == job.pid]
            result.append(
                Horse(
                    pid=job.pid,
                    ppid=job.ppid,
                    imported=tuple(r.detail for r in mine if r.kind == "import"),
                    configured=sum(r.kind == "configure" for r in mine),
                    after_fork=sum(r.kind == "after-fork" for r in mine),
                )
            )
        return result

    def in_process(self, pid: int, kind: str) -> list[str]:
        return [r.detail for r in self.records() if r.pid == pid and r.kind == kind]

    def write_pyproject(self, prefork_toml: str) -> None:
        (self.root / "pyproject.toml").write_text(
            '[project]\nname = "fixture-app"\nversion = "0"\n\n[tool.forklint.prefork]\n'
            + textwrap.dedent(prefork_toml),
            encoding="utf-8",
        )

    def modules(self) -> set[str]:
        return {
            self.package,
            *(f"{self.package}.{m}" for m in ("evidence", "db", "models", "tasks")),
        }


def write_app(root: Path, package: str = "app") -> App:
    pkg_dir = root / package
    pkg_dir.mkdir(parents=True)
    evidence = root / "evidence.jsonl"
    sources = {
        "__init__.py": _INIT,
        "evidence.py": _EVIDENCE.replace("{path!r}", repr(str(evidence))),
        "db.py": _DB,
        "models.py": _MODELS,
        "tasks.py": _TASKS,
        "workers.py": _WORKERS,
    }
    for name, source in sources.items():
        text = source if name == "evidence.py" else source.replace("{pkg}", package)
        (pkg_dir / name).write_text(
            text.replace("{{", "{").replace("}}", "}").lstrip(), encoding="utf-8"
        )
    return App(root=root, package=package, evidence=evidence)


@pytest.fixture
def app(tmp_path: Path) -> App:
    """The fixture app with no pre-fork table configured (tests write the pyproject they need)."""
    return write_app(tmp_path)


@pytest.fixture
def make_app(tmp_path: Path) -> Callable[[str], App]:
    """Write the fixture app under another package name (for tests that import it in-process)."""
    return lambda package: write_app(tmp_path / package, package)


@pytest.fixture
def run_worker() -> Callable[..., subprocess.CompletedProcess[str]]:
    return rq_worker


def rq_worker(
    app: App,
    redis_url: str,
    worker_class: str,
    *args: str,
    env: dict[str, str] | None = None,
    command: str = "worker",
    timeout: float = 60,
) -> subprocess.CompletedProcess[str]:
    """Run `rq worker --burst` (or `rq worker-pool --burst`) in the app directory like a user."""
    environ = {k: v for k, v in os.environ.items() if k not in ("FORKLINT_PREFORK", "PYTHONPATH")}
    environ.update(env or {})
    command = [
        sys.executable, "-m", "rq.cli", command, "--burst",
        "-w", worker_class, "--url", redis_url, "-P", str(app.root), *args,
    ]  # fmt: skip
    return subprocess.run(
        command,
        cwd=app.root,
        env=environ,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
