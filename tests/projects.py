"""Small projects written as files for the tests: {relpath: source}, sources dedented."""

from __future__ import annotations

import textwrap
from pathlib import Path


def write_files(root: Path, files: dict[str, str]) -> Path:
    for relpath, content in files.items():
        path = root / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(content).lstrip("\n"), encoding="utf-8")
    return root


def heavy_job(job: str, enqueuer: str, queue: str, library: str = "pandas") -> dict[str, str]:
    """A job (`pkg.mod.func`) whose module imports a heavy library, enqueued on `queue` from the
    module `enqueuer`; its expected FRK101 is marked inline."""
    module, _, name = job.rpartition(".")
    package = module.split(".")[0]
    return {
        f"{package}/__init__.py": "",
        f"{module.replace('.', '/')}.py": f"""
            import {library}


            def {name}(path):  # FRK101:5
                return {library}.load(path)
        """,
        f"{enqueuer.replace('.', '/')}.py": f"""
            from redis import Redis
            from rq import Queue

            from {module} import {name}


            def submit(path):
                Queue("{queue}", connection=Redis()).enqueue({name}, path)
        """,
    }


# Two mapped classes with a relationship both ways (SQLAlchemy 2 declarative), as `app/models.py`.
ACCOUNT_EVENT_MODELS = """
    from sqlalchemy import ForeignKey
    from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


    class Base(DeclarativeBase):
        pass


    class Account(Base):
        __tablename__ = "account"
        id: Mapped[int] = mapped_column(primary_key=True)
        events: Mapped[list["Event"]] = relationship(back_populates="account")


    class Event(Base):
        __tablename__ = "event"
        id: Mapped[int] = mapped_column(primary_key=True)
        account_id: Mapped[int] = mapped_column(ForeignKey("account.id"))
        account: Mapped[Account] = relationship(back_populates="events")
"""
