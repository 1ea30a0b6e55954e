"""Entries of [tool.forklint.prefork] that name nothing in the project are reported before a
worker refuses to start on them."""

from __future__ import annotations

from pathlib import Path

from forklint.api import check
from forklint.config import load_config
from tests.engine.conftest import write_files


def test_missing_project_entries_are_errors_with_their_line(tmp_path: Path) -> None:
    write_files(
        tmp_path,
        {
            "pyproject.toml": """
                [tool.forklint.prefork]
                imports = ["app.tasks", "app.gone", "sqlalchemy.orm"]
                calls = ["sqlalchemy.orm:configure_mappers", "app.db:warm"]
                after-fork = ["app.db:engine_dispose"]
                """,
            "app/__init__.py": "",
            "app/tasks.py": "x = 1\n",
            "app/db.py": "def warm():\n    pass\n",
        },
    )
    report = check([tmp_path], load_config(tmp_path))
    assert [str(e) for e in report.errors] == [
        "pyproject.toml:2: [tool.forklint.prefork] imports entry 'app.gone': the project has no "
        "module app.gone; the worker would not start",
        "pyproject.toml:4: [tool.forklint.prefork] after-fork entry 'app.db:engine_dispose': "
        "app.db defines no engine_dispose; the worker would not start",
    ]


def test_trace_steps_from_the_table_open_on_the_entry_line(tmp_path: Path) -> None:
    write_files(
        tmp_path,
        {
            "pyproject.toml": """
                [tool.forklint.prefork]

                calls = ["app.clients:connect"]
                """,
            "Procfile": "worker: rq worker -w forklint.rq.PreforkWorker default\n",
            "app/__init__.py": "",
            "app/clients.py": """
                import pymongo

                mongo = None


                def connect():
                    global mongo
                    mongo = pymongo.MongoClient("mongodb://db")
                """,
            "app/tasks.py": """
                from rq.decorators import job

                from app import clients


                @job("default")
                def store(doc):
                    clients.mongo.db.docs.insert_one(doc)
                """,
        },
    )
    report = check([tmp_path], load_config(tmp_path))
    steps = [
        (step.path, step.line)
        for finding in report.findings
        if finding.code == "FRK303"
        for step in finding.trace
        if step.path == "pyproject.toml"
    ]
    assert steps == [("pyproject.toml", 3)]
