"""PreforkWorker on a real `rq worker` that forks, a real Redis and real SQLAlchemy mappers."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest
from redis import Redis
from rq import Queue

if TYPE_CHECKING:
    from tests.runtime.conftest import App


JOBS = 3
TABLE = """\
imports = ["app.tasks", "app.models"]
calls = ["sqlalchemy.orm:configure_mappers"]
after-fork = ["app.db:dispose_pool"]
"""


def enqueue(app: App, redis_conn: Redis, count: int = JOBS, queue: str = "default") -> Queue:
    # By dotted name: the test process never imports the app.
    q = Queue(queue, connection=redis_conn)
    for n in range(count):
        q.enqueue(app.job, n)
    return q


def failures(q: Queue) -> list[str]:
    return [
        q.fetch_job(job_id).latest_result().exc_string
        for job_id in q.failed_job_registry.get_job_ids()
    ]


def assert_all_finished(q: Queue, count: int = JOBS) -> None:
    assert failures(q) == []
    assert q.finished_job_registry.count == count
    assert q.count == 0


def test_stock_worker_redoes_imports_and_mappers_in_every_horse(
    app: App, redis_conn: Redis, redis_server, run_worker
) -> None:
    app.write_pyproject(TABLE)  # ignored by the stock worker
    q = enqueue(app, redis_conn)

    run = run_worker(app, redis_server.url, "rq.Worker")

    assert run.returncode == 0, run.stderr
    assert_all_finished(q)
    horses = app.horses()
    assert len(horses) == JOBS
    assert len({h.pid for h in horses}) == JOBS  # one fork per job
    worker_pid = horses[0].ppid
    assert all(h.ppid == worker_pid for h in horses)
    assert app.in_process(worker_pid, "import") == []  # the parent never imported the app
    for horse in horses:
        assert set(horse.imported) == app.modules() - {"app.workers"}
        assert horse.configured == 1
        assert horse.after_fork == 0


def test_prefork_worker_preloads_once_and_resets_in_every_horse(
    app: App, redis_conn: Redis, redis_server, run_worker
) -> None:
    app.write_pyproject(TABLE)
    q = enqueue(app, redis_conn)

    run = run_worker(app, redis_server.url, "forklint.rq.PreforkWorker")

    assert run.returncode == 0, run.stderr
    assert_all_finished(q)
    horses = app.horses()
    assert len(horses) == JOBS
    assert len({h.pid for h in horses}) == JOBS
    worker_pid = horses[0].ppid
    assert all(h.ppid == worker_pid for h in horses)
    # The parent did the work once, in the table's order...
    assert set(app.in_process(worker_pid, "import")) == app.modules() - {"app.workers"}
    assert len(app.in_process(worker_pid, "configure")) == 1
    assert app.in_process(worker_pid, "after-fork") == []
    # ...and no horse redid it; each reset its pool exactly once.
    for horse in horses:
        assert horse.imported == ()
        assert horse.configured == 0
        assert horse.after_fork == 1
    assert "forklint prefork: imported app.tasks" in run.stdout
    assert "forklint prefork: called sqlalchemy.orm:configure_mappers" in run.stdout


def test_table_from_environment_variable(
    app: App, redis_conn: Redis, redis_server, run_worker
) -> None:
    app.write_pyproject('imports = ["app.does_not_exist"]\n')  # the environment wins
    q = enqueue(app, redis_conn, count=2)
    table = {
        "imports": ["app.tasks"],
        "calls": ["sqlalchemy.orm:configure_mappers"],
        "after-fork": ["app.db:dispose_pool"],
    }

    run = run_worker(
        app,
        redis_server.url,
        "forklint.rq.PreforkWorker",
        env={"FORKLINT_PREFORK": json.dumps(table)},
    )

    assert run.returncode == 0, run.stderr
    assert_all_finished(q, 2)
    assert [(h.imported, h.configured, h.after_fork) for h in app.horses()] == [((), 0, 1)] * 2


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (
            'imports = ["app.tasks", "app.nope"]\n',
            (
                "`imports` entry 'app.nope' in [tool.forklint.prefork] in {root}/pyproject.toml: "
                "cannot import it (ModuleNotFoundError: No module named 'app.nope')"
            ),
        ),
        (
            'calls = ["app.db:missing"]\n',
            (
                "`calls` entry 'app.db:missing' in [tool.forklint.prefork] in "
                "{root}/pyproject.toml: app.db has no attribute 'missing'"
            ),
        ),
        (
            'calls = ["app.db:broken_reset"]\n',
            (
                "`calls` entry 'app.db:broken_reset' in [tool.forklint.prefork] in "
                "{root}/pyproject.toml raised RuntimeError: reset failed"
            ),
        ),
        (
            'calls = ["app.db.broken_reset"]\n',
            (
                "`tool.forklint.prefork.calls` entry 'app.db.broken_reset' "
                'must look like "pkg.module:function"'
            ),
        ),
        ('imports = "app.tasks"\n', "`tool.forklint.prefork.imports` must be a list of strings"),
        (
            'imports = ["app.tasks"]\nafter-fork = ["nope:x"]\n',
            (
                "`after-fork` entry 'nope:x' in [tool.forklint.prefork] in {root}/pyproject.toml: "
                "cannot import nope (ModuleNotFoundError: No module named 'nope')"
            ),
        ),
        (
            'after-fork = ["app.db:dispose_pool", "app.db:missing"]\n',
            (
                "`after-fork` entry 'app.db:missing' in [tool.forklint.prefork] in "
                "{root}/pyproject.toml: app.db has no attribute 'missing'"
            ),
        ),
        (
            'after-fork = ["app.db:engine"]\n',
            (
                "`after-fork` entry 'app.db:engine' in [tool.forklint.prefork] in "
                "{root}/pyproject.toml is not callable"
            ),
        ),
    ],
    ids=[
        "missing-module",
        "missing-function",
        "raising-call",
        "malformed-entry",
        "wrong-type",
        "after-fork-missing-module",
        "after-fork-missing-function",
        "after-fork-not-callable",
    ],
)
def test_bad_entry_stops_the_worker_at_start_up(
    app: App, redis_conn: Redis, redis_server, run_worker, table: str, message: str
) -> None:
    app.write_pyproject(table)
    q = enqueue(app, redis_conn)

    run = run_worker(app, redis_server.url, "forklint.rq.PreforkWorker")

    assert run.returncode == 1
    errors = run.stderr.strip().splitlines()
    assert len(errors) == 1, run.stderr  # one line, no traceback
    assert errors[0].startswith("forklint: ")
    assert message.format(root=app.root) in errors[0]
    assert errors[0].endswith("; the worker did not start")
    # Nothing was forked or failed: the jobs wait for a fixed worker.
    assert [r for r in app.records() if r.kind == "job"] == []
    assert q.count == JOBS
    assert q.failed_job_registry.count == 0
    assert redis_conn.smembers("rq:workers") == set()  # the worker never registered


def test_broken_after_fork_from_environment_stops_the_worker(
    app: App, redis_conn: Redis, redis_server, run_worker
) -> None:
    q = enqueue(app, redis_conn, count=2)

    run = run_worker(
        app,
        redis_server.url,
        "forklint.rq.PreforkWorker",
        env={"FORKLINT_PREFORK": '{"after-fork": ["nope:x"]}'},
    )

    assert run.returncode == 1
    assert run.stderr.strip().splitlines() == [
        "forklint: `after-fork` entry 'nope:x' in FORKLINT_PREFORK: cannot import nope "
        "(ModuleNotFoundError: No module named 'nope'); the worker did not start"
    ]
    assert app.records() == []  # nothing imported, no horse, no job
    assert q.count == 2
    assert q.failed_job_registry.count == 0


def test_failing_after_fork_fails_each_job_with_the_entry_named(
    app: App, redis_conn: Redis, redis_server, run_worker
) -> None:
    app.write_pyproject('imports = ["app.tasks"]\nafter-fork = ["app.db:broken_reset"]\n')
    q = enqueue(app, redis_conn, count=2)

    run = run_worker(app, redis_server.url, "forklint.rq.PreforkWorker")

    assert run.returncode == 0, run.stderr
    assert q.failed_job_registry.count == 2
    assert [r for r in app.records() if r.kind == "job"] == []  # the job body never ran
    for job_id in q.failed_job_registry.get_job_ids():
        exc_string = q.fetch_job(job_id).latest_result().exc_string
        assert "PreforkError: `after-fork` entry 'app.db:broken_reset'" in exc_string
        assert "raised RuntimeError: reset failed" in exc_string


def test_mixin_keeps_a_custom_worker_class_and_its_class_table(
    app: App, redis_conn: Redis, redis_server, run_worker
) -> None:
    app.write_pyproject('imports = ["app.does_not_exist"]\n')  # the class attribute wins
    q = enqueue(app, redis_conn)

    run = run_worker(app, redis_server.url, "app.workers.AppWorker")

    assert run.returncode == 0, run.stderr
    assert_all_finished(q)
    horses = app.horses()
    worker_pid = horses[0].ppid
    assert len(app.in_process(worker_pid, "audited")) == JOBS  # the custom execute_job still runs
    assert len({h.pid for h in horses}) == JOBS
    assert [(h.imported, h.configured, h.after_fork) for h in horses] == [((), 0, 1)] * JOBS
    assert "forklint prefork: imported app.tasks" in run.stdout
    assert "app.workers.AppWorker.prefork" in run.stdout


def test_simple_worker_preloads_but_never_calls_after_fork(
    app: App, redis_conn: Redis, redis_server, run_worker
) -> None:
    q = enqueue(app, redis_conn)

    run = run_worker(app, redis_server.url, "app.workers.AppSimpleWorker")

    assert run.returncode == 0, run.stderr
    assert_all_finished(q)
    horses = app.horses()
    worker_pid = horses[0].pid
    assert all(h.pid == worker_pid for h in horses)  # no fork: every job in the worker itself
    assert len(app.in_process(worker_pid, "configure")) == 1  # once, before the first job
    assert app.in_process(worker_pid, "after-fork") == []
    assert "does not fork, so after-fork entries are not called" in run.stdout


def test_spawn_worker_warns_and_ignores_the_table(
    app: App, redis_conn: Redis, redis_server, run_worker
) -> None:
    q = enqueue(app, redis_conn, count=2)

    run = run_worker(app, redis_server.url, "app.workers.AppSpawnWorker")

    assert run.returncode == 0, run.stderr
    assert_all_finished(q, 2)
    assert "fresh interpreter" in run.stdout + run.stderr
    horses = app.horses()
    worker_pid = horses[0].ppid
    assert app.in_process(worker_pid, "import") == [
        "app.evidence",
        "app",
        "app.workers",
    ]  # only -w's module
    for horse in horses:
        assert {"app.tasks", "app.models"} <= set(horse.imported)
        assert horse.configured == 1
        assert horse.after_fork == 0


def test_worker_pool_preloads_in_each_pool_worker(
    app: App, redis_conn: Redis, redis_server, run_worker
) -> None:
    app.write_pyproject(TABLE)
    q = enqueue(app, redis_conn, count=6)

    run = run_worker(
        app, redis_server.url, "forklint.rq.PreforkWorker", "-n", "2", command="worker-pool"
    )

    assert run.returncode == 0, run.stderr
    assert_all_finished(q, 6)
    horses = app.horses()
    assert len({h.pid for h in horses}) == 6
    for pool_worker in {h.ppid for h in horses}:
        assert len(app.in_process(pool_worker, "configure")) == 1
    assert [(h.imported, h.configured, h.after_fork) for h in horses] == [((), 0, 1)] * 6


def test_no_table_says_so_and_works_like_the_stock_worker(
    app: App, redis_conn: Redis, redis_server, run_worker
) -> None:
    q = enqueue(app, redis_conn, count=2)

    run = run_worker(app, redis_server.url, "forklint.rq.PreforkWorker")

    assert run.returncode == 0, run.stderr
    assert_all_finished(q, 2)
    assert "forklint: no pre-fork table" in run.stdout
    assert [(h.configured, h.after_fork) for h in app.horses()] == [(1, 0)] * 2


@pytest.mark.parametrize(
    ("worker_class", "table", "frozen"),
    [
        ("rq.Worker", TABLE, False),
        ("forklint.rq.PreforkWorker", TABLE, True),
        ("forklint.rq.PreforkWorker", TABLE + "freeze = false\n", False),
    ],
    ids=["stock", "prefork", "prefork-freeze-false"],
)
def test_prefork_worker_freezes_the_warmed_heap_before_forking(
    app: App, redis_conn: Redis, redis_server, run_worker, worker_class, table, frozen
) -> None:
    (app.root / "app" / "heap.py").write_text(
        "import gc\n\n\ndef frozen_objects():\n    return gc.get_freeze_count()\n",
        encoding="utf-8",
    )
    app.write_pyproject(table)
    job = Queue("default", connection=redis_conn).enqueue("app.heap.frozen_objects")

    run = run_worker(app, redis_server.url, worker_class)

    assert run.returncode == 0, run.stderr
    job.refresh()
    # What the horse inherited: the parent's permanent generation, frozen after the pre-fork work.
    if frozen:
        assert job.return_value() > 10_000  # SQLAlchemy and the models: far more than RQ's own
        assert "forklint prefork: gc.freeze() on" in run.stdout
    else:
        assert job.return_value() == 0
    if "freeze = false" in table:
        assert "forklint prefork: freeze = false, the heap is not frozen" in run.stdout


def test_freeze_false_from_the_environment_variable(
    app: App, redis_conn: Redis, redis_server, run_worker
) -> None:
    (app.root / "app" / "heap.py").write_text(
        "import gc\n\n\ndef frozen_objects():\n    return gc.get_freeze_count()\n",
        encoding="utf-8",
    )
    job = Queue("default", connection=redis_conn).enqueue("app.heap.frozen_objects")
    table = {"imports": ["app.tasks"], "freeze": False}

    run = run_worker(
        app, redis_server.url, "forklint.rq.PreforkWorker",
        env={"FORKLINT_PREFORK": json.dumps(table)},
    )  # fmt: skip

    assert run.returncode == 0, run.stderr
    job.refresh()
    assert job.return_value() == 0
