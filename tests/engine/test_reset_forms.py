"""A Celery after-fork handler resets a client however it names the module that holds it."""

from __future__ import annotations

from pathlib import Path

import pytest

from forklint.api import check
from forklint.config import load_config
from tests.engine.conftest import write_files

TASKS = """
import pymongo
from celery import shared_task

mongo = pymongo.MongoClient("mongodb://db")


@shared_task
def store(doc):
    mongo.db.docs.insert_one(doc)
"""

HANDLERS = {
    "none": "    pass\n",
    "module attribute": (
        "    import proj.tasks\n"
        "    import pymongo\n"
        '    proj.tasks.mongo = pymongo.MongoClient("mongodb://db")\n'
    ),
    "from import": "    from proj import tasks\n    tasks.mongo.close()\n",
}


@pytest.mark.parametrize("handler", HANDLERS)
def test_worker_process_init_reset_forms(tmp_path: Path, handler: str) -> None:
    write_files(
        tmp_path,
        {
            "pyproject.toml": "",
            "Procfile": "worker: celery -A proj worker\n",
            "proj/__init__.py": "",
            "proj/celery.py": (
                "from celery import Celery\n"
                "from celery.signals import worker_process_init\n\n"
                'app = Celery("proj")\n'
                'app.autodiscover_tasks(["proj"])\n\n\n'
                "@worker_process_init.connect\n"
                "def reset(**kwargs):\n" + HANDLERS[handler]
            ),
            "proj/tasks.py": TASKS,
        },
    )
    report = check([tmp_path], load_config(tmp_path))
    found = {(f.code, f.path, f.line) for f in report.findings if f.code == "FRK303"}
    assert found == ({("FRK303", "proj/tasks.py", 4)} if handler == "none" else set())
