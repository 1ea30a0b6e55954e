"""Finding statuses from real runs: a memoised loader's own heavy calls, failed jobs, a worker that does not fork."""

from __future__ import annotations

import json

LOADERS = """
import functools

import yaml


@functools.lru_cache(maxsize=1)
def settings():
    return yaml.safe_load("a: 1\\nb: [1, 2]")
"""

NOTIFY = """
from app.loaders import settings


def notify(n):
    return settings()["a"] + n
"""


def test_memoised_loader_confirmed_by_its_own_heavy_calls(make_project, verify):
    # The engine's trace stops at `settings()`; the horses show what that call did.
    root = make_project(app__loaders=LOADERS, app__notify=NOTIFY)
    result = verify(root, "app.notify:notify", "--args", "[1]", "-n", "2", "--format", "json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    (frk105,) = [f for f in doc["findings"] if f["code"] == "FRK105"]
    assert frk105["status"] == "confirmed", frk105
    assert frk105["evidence"] == (
        "app.loaders:settings called in 2 of 2 horses, making catalog heavy calls in 2 of them "
        "(yaml.safe_load x2)"
    )
    stock, prefork = (run["per_job"]["heavy_calls"] for run in doc["runs"])
    assert list(stock) == list(prefork)  # the same names in both runs, zeros included
    assert stock["yaml.safe_load"] == 2
    assert stock.get("yaml.load", 0) == 0  # called by safe_load: not a second heavy call
    assert prefork["yaml.safe_load"] == 0  # filled once in the parent by the pre-fork table
    assert doc["speedup"] is not None
    assert verify.leftovers() == []


def test_failed_jobs_make_findings_and_speedup_inconclusive(make_project, verify):
    root = make_project()
    result = verify(root, "app.tasks:record_event", "--args", "[{}]", "-n", "2", "--format", "json")
    assert result.returncode == 1
    doc = json.loads(result.stdout)
    assert doc["speedup"] is None
    reason = "2 of 2 jobs failed on rq.Worker; first error: KeyError: 'action'"
    assert doc["inconclusive"] == reason
    statuses = {(f["code"], f["status"], f["evidence"]) for f in doc["findings"]}
    assert statuses >= {
        ("FRK101", "inconclusive", reason),
        ("FRK102", "inconclusive", reason),
    }
    assert {f["status"] for f in doc["findings"]} == {"inconclusive"}
    assert verify.leftovers() == []


def test_worker_that_does_not_fork_says_so(make_project, verify):
    root = make_project()
    result = verify(
        root, "app.tasks:record_event", "--args", '[{"action": "a"}]', "-n", "2",
        "--worker-class", "rq.SimpleWorker",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[3].startswith(
        "note: rq.SimpleWorker runs every job in the worker process itself: there is no fork per "
        "job, so the baseline run cannot confirm FRK101, FRK102, FRK104 or FRK105"
    )
    assert any(line.strip().startswith("imports during the job, median / max") for line in lines)
    assert not any("after fork" in line or "after the fork" in line for line in lines)
    not_applicable = {
        line.split()[1]
        for line in lines
        if line.startswith("  app/tasks.py:")
        and ": not applicable (rq.SimpleWorker runs every job in the worker itself" in line
    }
    assert not_applicable >= {"FRK101", "FRK102"}
    assert verify.leftovers() == []
