"""`forklint verify` end to end: a real Redis, a real forking RQ worker, real SQLAlchemy mappers."""

from __future__ import annotations

import json
import pickle
import re

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
        "--warmup",
        "1",
        "--format",
        "json",
    )
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["schema"] == "forklint-verify/1"
    assert doc["job"] == "app.tasks:record_event"
    assert (doc["jobs"], doc["warmup"]) == (3, 1)
    assert doc["redis"] == "embedded"
    assert doc["baseline"] == {"kind": "stock", "label": "stock rq.Worker"}
    assert doc["experiment"]["stopped"] == "jobs"
    assert (doc["experiment"]["rounds"], doc["experiment"]["intervals_from"]) == (3, "jobs")
    assert doc["prefork_source"] == "[tool.forklint.prefork]"
    stock, prefork = doc["runs"]
    assert (stock["worker"], stock["baseline"], stock["label"]) == (
        "rq.Worker", "stock", "stock rq.Worker"
    )
    assert stock["prefork"] == {}
    assert (prefork["worker"], prefork["baseline"], prefork["label"]) == (
        "forklint.rq.PreforkWorker", None, "pre-fork"
    )
    assert prefork["prefork"] == {
        "imports": ["app.tasks"],
        "calls": ["sqlalchemy.orm:configure_mappers"],
    }
    assert (stock["freeze"], prefork["freeze"]) == (None, True)
    for run in (stock, prefork):
        assert (run["jobs_measured"], run["jobs_completed"], run["jobs_failed"]) == (3, 4, 0)
        per_job = run["per_job"]
        assert set(per_job) >= {
            "job_ms", "wall_ms", "fork_ms", "minor_faults", "private_kb", "private_dirty_kb",
            "cpu_ms", "imports_after_fork", "import_ms", "mappers_configured", "heavy_calls",
        }  # fmt: skip
        for name in ("job_ms", "wall_ms", "fork_ms", "minor_faults", "private_kb"):
            low, high = per_job[name]["ci95"]
            assert low <= per_job[name]["median"] <= high, (name, per_job[name])
        assert per_job["wall_ms"]["median"] <= per_job["wall_ms"]["p95"]
        # The parent's time for a job holds the fork and the horse's whole life.
        assert per_job["job_ms"]["median"] > per_job["wall_ms"]["median"] > 0
        assert per_job["fork_ms"]["median"] > 0
        assert per_job["minor_faults"]["median"] > 100  # a fresh horse touches pages
        assert per_job["private_kb"]["median"] >= per_job["private_dirty_kb"]["median"] > 0
        assert run["jobs_per_second"] == round(3 / run["seconds"], 2)
    # Every stock horse imports the app (and SQLAlchemy) and configures the mappers again: the
    # measured three, and the warm-up one.
    assert stock["per_job"]["mappers_configured"] == 3
    assert stock["per_job"]["imports_after_fork"]["median"] > 10
    assert stock["per_job"]["import_ms"]["median"] > 0
    # The pre-forked horses find both done by the parent.
    assert prefork["per_job"]["mappers_configured"] == 0
    assert prefork["per_job"]["imports_after_fork"]["max"] == 0
    assert prefork["prefork_seconds"] > 0
    # SQLAlchemy and the models imported in the parent, configured there and frozen: the horse
    # un-shares far less than one that builds all of it itself.
    assert prefork["per_job"]["private_kb"]["median"] < stock["per_job"]["private_kb"]["median"]
    low, high = doc["speedup_ci95"]
    assert low <= doc["speedup"] <= high
    # The speedup is the ratio of the unrounded medians; the JSON's medians are rounded to 0.1 ms,
    # so the ratio of the printed ones only bounds it.
    top, bottom = stock["per_job"]["job_ms"]["median"], prefork["per_job"]["job_ms"]["median"]
    assert (top - 0.05) / (bottom + 0.05) - 0.005 <= doc["speedup"] <= (top + 0.05) / (bottom - 0.05) + 0.005
    assert doc["verdict"] == "faster"
    # The static findings for this job, checked against what the stock horses did.
    assert all(set(f) >= {"code", "path", "line", "status"} for f in doc["findings"])
    assert {(f["code"], f["path"], f["status"]) for f in doc["findings"]} >= {
        ("FRK101", "app/tasks.py", "confirmed"),
        ("FRK102", "app/tasks.py", "confirmed"),
    }
    assert verify.leftovers() == []


def test_text_table_suggested_table_and_findings(make_project, verify):
    # No table configured: verify uses what `forklint prefork` suggests, and checks the findings.
    root = make_project()
    (root / "data.pkl").write_bytes(pickle.dumps({"action": "loaded"}))
    result = verify(root, "app.heavy.load_and_record", "--jobs", "3", "--warmup", "0")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == (
        "forklint verify app.heavy:load_and_record: 3 jobs measured on each worker in 3 rounds "
        "after 0 warm-up (the count asked for), embedded Redis"
    )
    # No start-up in the project: the stock worker is the baseline, and says so.
    assert lines[1].startswith("baseline: stock rq.Worker (--baseline project runs the project's")
    assert lines[2].startswith('pre-fork table: imports = ["app.heavy"')
    assert "sqlalchemy.orm:configure_mappers" in lines[2]
    assert lines[2].endswith("freeze = true (from `forklint prefork`)")
    header = lines.index("") + 1
    assert lines[header].split() == ["rq.Worker", "forklint.rq.PreforkWorker"]
    rows = {
        cells[0]: cells[1:]
        for cells in (re.split(r" {3,}", line.strip()) for line in lines[header + 1 :])
        if len(cells) == 3
    }
    assert rows["mapper configurations (all jobs)"] == ["3", "0"]
    assert rows["heavy calls (all jobs)"] == ["6", "6"]  # two pickle loads per job, in both runs
    assert rows["pickle.load"] == ["6", "6"]
    assert rows["jobs completed / failed"] == ["3 / 0", "3 / 0"]
    assert set(rows) >= {
        "job ms (parent), median [95% CI]", "wall ms in the horse, median / p95",
        "fork ms, median [95% CI]", "minor page faults, median [95% CI]",
        "private kB at job end (USS), median", "private dirty kB, median", "cpu ms per job, median",
        "imports after fork, median / max", "import ms per job, median", "jobs/s (measured jobs)",
        "start-up s (pre-fork work)",
    }  # fmt: skip
    assert re.fullmatch(r"\d+\.\d \[\d+\.\d-\d+\.\d\]", rows["job ms (parent), median [95% CI]"][0])
    assert any(line.startswith("speed-up: ") for line in lines)
    statuses = {
        line.split(": ", 1)[1].split(" (")[0]
        for line in lines
        if line.startswith("  app/heavy.py:")
    }
    assert {
        "FRK101 job-module-imported-after-fork: confirmed",
        "FRK102 mappers-configured-after-fork: confirmed",
        "FRK103 heavy-call-per-job: confirmed",
    } <= statuses
    assert verify.leftovers() == []


# A worker class that preloads in its module: static analysis, which finds no start-up that uses it,
# assumes the stock `rq worker`; run on this class, the findings' premises do not hold.
PRELOADING_WORKER = """
from rq import Worker
from sqlalchemy.orm import configure_mappers

import app.tasks

configure_mappers()


class AppWorker(Worker):
    pass
"""


def test_given_redis_and_custom_worker_class(make_project, verify):
    from redis import Redis

    from forklint.redis_server import EmbeddedRedis

    root = make_project(app__workers=PRELOADING_WORKER)
    with EmbeddedRedis() as server, Redis.from_url(server.url) as client:
        client.set("unrelated", "kept")
        result = verify(
            root, "app.tasks:record_event", "--args", '[{"action": "a"}]', "--redis-url", server.url,
            "--worker-class", "app.workers.AppWorker", "-n", "2", "--warmup", "1", "--format", "json",
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        doc = json.loads(result.stdout)
        assert doc["redis"] == server.url
        stock, prefork = doc["runs"]
        assert (stock["worker"], prefork["worker"]) == (
            "app.workers.AppWorker",
            "forklint.rq.PreforkMixin+app.workers.AppWorker",
        )
        assert stock["jobs_completed"] == prefork["jobs_completed"] == 3
        assert stock["per_job"]["mappers_configured"] == 0
        assert stock["per_job"]["imports_after_fork"]["max"] == 0
        statuses = {f["code"]: f["status"] for f in doc["findings"]}
        assert statuses["FRK101"] == statuses["FRK102"] == "not observed"
        # Queues, jobs, results, worker keys and measurements are gone; rq:clean_groups is a lock
        # RQ's maintenance sets with a TTL of its own.
        leftover = {key.decode() for key in client.keys("*")} - {"unrelated"}
        assert leftover <= {"rq:clean_groups"}
        assert client.get("unrelated") == b"kept"
    assert verify.leftovers() == []
