"""`forklint verify` end to end: a real Redis, a real forking RQ worker, real SQLAlchemy mappers."""

from __future__ import annotations

import json

PREFORK = """
[tool.forklint.prefork]
imports = ["app.tasks"]
calls = ["sqlalchemy.orm:configure_mappers"]
"""


def test_json_stock_vs_prefork(make_project, verify):
    root = make_project(PREFORK)
    result = verify(
        root,
        "app.tasks:record_event",
        "--args",
        '[{"action": "create"}]',
        "-n",
        "3",
        "--format",
        "json",
    )
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["schema"] == "forklint-verify/1"
    assert doc["job"] == "app.tasks:record_event"
    assert doc["jobs"] == 3
    assert doc["redis"] == "embedded"
    assert doc["prefork_source"] == "[tool.forklint.prefork]"
    stock, prefork = doc["runs"]
    assert stock["worker"] == "rq.Worker"
    assert stock["prefork"] == {}
    assert prefork["worker"] == "forklint.rq.PreforkWorker"
    assert prefork["prefork"] == {
        "imports": ["app.tasks"],
        "calls": ["sqlalchemy.orm:configure_mappers"],
    }
    for run in (stock, prefork):
        assert run["jobs_completed"] == 3
        assert run["jobs_failed"] == 0
        per_job = run["per_job"]
        assert set(per_job) >= {
            "wall_ms",
            "cpu_ms",
            "imports_after_fork",
            "import_ms",
            "mappers_configured",
            "heavy_calls",
        }
        assert per_job["wall_ms"]["median"] <= per_job["wall_ms"]["p95"]
        assert run["jobs_per_second"] == round(3 / run["seconds"], 2)
    # Every stock horse imports the app (and SQLAlchemy) and configures the mappers again.
    assert stock["per_job"]["mappers_configured"] == 3
    assert stock["per_job"]["imports_after_fork"]["median"] > 10
    assert stock["per_job"]["import_ms"]["median"] > 0
    # The pre-forked horses find both done by the parent.
    assert prefork["per_job"]["mappers_configured"] == 0
    assert prefork["per_job"]["imports_after_fork"]["max"] == 0
    assert prefork["prefork_seconds"] > 0
    assert doc["speedup"] == round(stock["seconds"] / prefork["seconds"], 2)
    assert verify.leftovers() == []


def test_text_table(make_project, verify):
    root = make_project()
    result = verify(
        root, "app.tasks.record_event", "--kwargs", '{"data": {"action": "x"}}', "--jobs", "3"
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "forklint verify app.tasks:record_event: 3 jobs on each worker, embedded Redis" in out
    header = next(
        line for line in out.splitlines() if "rq.Worker" in line and "PreforkWorker" in line
    )
    assert header.index("rq.Worker") < header.index("forklint.rq.PreforkWorker")
    for row in (
        "wall ms per job, median / p95",
        "imports after fork, median / max",
        "mapper configurations",
        "jobs/s",
        "seconds",
    ):
        assert row in out
    mappers = next(
        line for line in out.splitlines() if line.strip().startswith("mapper configurations")
    )
    assert mappers.split()[-2:][0] == "3"
    assert "speed-up: " in out
    assert verify.leftovers() == []


def test_given_redis_and_custom_worker_class(make_project, verify):
    from redis import Redis

    from forklint.redis_server import EmbeddedRedis

    workers = "from rq import Worker\n\n\nclass AppWorker(Worker):\n    pass\n"
    root = make_project(app__workers=workers)
    with EmbeddedRedis() as server, Redis.from_url(server.url) as client:
        client.set("unrelated", "kept")
        result = verify(
            root, "app.jobs:ok", "--redis-url", server.url, "--worker-class", "app.workers.AppWorker",
            "-n", "2", "--format", "json",
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        doc = json.loads(result.stdout)
        assert doc["redis"] == server.url
        assert [run["worker"] for run in doc["runs"]] == [
            "app.workers.AppWorker",
            "forklint.rq.PreforkMixin+app.workers.AppWorker",
        ]
        assert [run["jobs_completed"] for run in doc["runs"]] == [2, 2]
        # Queues, jobs, results, worker keys and measurements are gone; rq:clean_groups is a lock
        # RQ's maintenance sets with a TTL of its own.
        leftover = {key.decode() for key in client.keys("*")} - {"unrelated"}
        assert leftover <= {"rq:clean_groups"}
        assert client.get("unrelated") == b"kept"
    assert verify.leftovers() == []
