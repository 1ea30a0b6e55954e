"""The baseline is the project's own start-up when forklint resolved one that runs the job."""

from __future__ import annotations

import json

import pytest

# A start-up that already imports the models and configures the mappers before it forks.
WORKER = """
from redis import Redis
from rq import Worker
from sqlalchemy.orm import configure_mappers

import app.models


def main():
    configure_mappers()
    Worker(["default"], connection=Redis()).work()


if __name__ == "__main__":
    main()
"""


def run(verify, root, *args):
    result = verify(
        root, "app.tasks:record_event", "--args", '[{"action": "a"}]', "-n", "3", "--warmup", "1",
        "--format", "json", *args,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_project_start_up_is_the_baseline(make_project, verify):
    doc = run(verify, make_project(worker=WORKER))
    assert doc["baseline"] == {"kind": "project", "label": "project start-up worker.py:main()"}
    baseline, prefork = doc["runs"]
    assert (baseline["baseline"], baseline["label"]) == (
        "project", "project start-up worker.py:main()"
    )
    # Replayed without the start-up itself (calling worker:main would start a worker) and without
    # gc.freeze(), which the project does not do.
    assert baseline["prefork"] == {
        "imports": ["worker", "app", "app.models"],
        "calls": ["sqlalchemy.orm:configure_mappers"],
    }
    assert baseline["freeze"] is False
    # What the project's horses really do: the mappers are configured in its parent already.
    assert baseline["per_job"]["mappers_configured"] == 0
    assert baseline["per_job"]["imports_after_fork"]["max"] < 5  # app.tasks, not SQLAlchemy
    # The pre-fork run is the same start-up plus the table, frozen.
    assert prefork["prefork"]["imports"][:3] == ["worker", "app", "app.models"]
    assert prefork["freeze"] is True
    assert verify.leftovers() == []


def test_stock_baseline_on_request(make_project, verify):
    doc = run(verify, make_project(worker=WORKER), "--baseline", "stock")
    assert doc["baseline"] == {"kind": "stock", "label": "stock rq.Worker"}
    stock = doc["runs"][0]
    assert stock["prefork"] == {}
    assert stock["per_job"]["mappers_configured"] == 3  # every stock horse configures again
    assert verify.leftovers() == []


def test_project_baseline_needs_a_resolved_start_up(make_project, verify, one_line_error):
    result = verify(make_project(), "app.jobs:ok", "--baseline", "project")
    one_line_error(result, 2, "--baseline project: forklint resolved no worker start-up")
    assert verify.leftovers() == []


@pytest.mark.parametrize("freeze", ["false", "true"])
def test_freeze_setting_reaches_the_pre_fork_run(make_project, verify, freeze):
    root = make_project(
        f'[tool.forklint.prefork]\nimports = ["app.tasks"]\nfreeze = {freeze}\n'
    )
    doc = run(verify, root)
    assert doc["runs"][1]["freeze"] is (freeze == "true")
    assert verify.leftovers() == []
