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
