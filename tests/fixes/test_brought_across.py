"""A pre-fork fix that preloads a module whose import connects a pool, creates a client or starts a
thread brings that across the fork: the fix says so and carries the after-fork reset (held-out
openfactory: the job package's `__init__` runs `create_app()`, whose `db.create_all()` connects)."""

from __future__ import annotations

from pathlib import Path

from fix_helpers import analyse, make_project, run

from tests.projects import ACCOUNT_EVENT_MODELS

PROJECT = {
    "app/__init__.py": "",
    "app/db.py": """
        from sqlalchemy import create_engine

        from app.models import Base

        engine = create_engine("postgresql://db/app")


        def setup():
            Base.metadata.create_all(engine)
    """,
    "app/models.py": ACCOUNT_EVENT_MODELS,
    "app/jobs/__init__.py": """
        from app.db import setup

        setup()
    """,
    "app/jobs/record.py": """
        from rq.decorators import job

        from app.models import Event


        @job("default")
        def record_event(account_id: int) -> int:
            return account_id
    """,
    "worker.py": """
        from redis import Redis
        from rq import Worker


        def main():
            Worker(["default"], connection=Redis()).work()


        if __name__ == "__main__":
            main()
    """,
    "Procfile": "worker: python worker.py\n",
}


def test_preloading_a_module_that_connects_also_disposes_the_pool_in_every_child(
    tmp_path: Path,
) -> None:
    root = make_project(tmp_path, PROJECT)
    before = {f.code for f in analyse(root).findings}
    assert "FRK101" in before and "FRK301" not in before  # the horse connects, not the parent
    (frk101,) = [f for f in analyse(root).findings if f.code == "FRK101"]
    assert frk101.fix is not None
    assert "create_all() (app/db.py:9) before the fork too" in frk101.fix.summary
    assert frk101.fix.applicability == "safe"
    assert any(e.path == "app/db.py" for e in frk101.fix.edits)
    result = run(root, "--fix", "--unsafe-fixes")
    assert result.exit_code in (0, 1), result.output
    db = (root / "app/db.py").read_text(encoding="utf-8")
    compile(db, "app/db.py", "exec")
    assert "engine.dispose(close=False)" in db and "os.register_at_fork(" in db
    after = {f.code for f in analyse(root).findings}
    assert not after & {"FRK101", "FRK301"}, after


def test_a_thread_the_preloaded_module_starts_is_said_as_advice(tmp_path: Path) -> None:
    files = dict(PROJECT)
    files["app/jobs/__init__.py"] = """
        import threading

        from app.models import Base


        def heartbeat():
            pass


        threading.Thread(target=heartbeat, daemon=True).start()
    """
    root = make_project(tmp_path, files)
    assert "FRK302" not in {f.code for f in analyse(root).findings}
    (frk101,) = [f for f in analyse(root).findings if f.code == "FRK101"]
    assert frk101.fix is not None
    assert "start() (app/jobs/__init__.py:10) before the fork too" in frk101.fix.summary
    assert "start the thread after the fork" in frk101.fix.advice
    # the preload itself is still written; what it brings is for the user to settle
    assert frk101.fix.applicability == "safe"


def test_a_module_that_connects_nothing_brings_nothing(tmp_path: Path) -> None:
    files = dict(PROJECT)
    files["app/jobs/__init__.py"] = ""
    root = make_project(tmp_path, files)
    (frk101,) = [f for f in analyse(root).findings if f.code == "FRK101"]
    assert frk101.fix is not None
    assert "before the fork too" not in frk101.fix.summary
    assert not frk101.fix.advice
