"""PreforkWorker driven from Python (`Worker.work(burst=True)` forks too) and the table loader."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from redis import Redis
from rq import Queue

from forklint.findings import Prefork
from forklint.rq import PreforkError, PreforkWorker, load_prefork

if TYPE_CHECKING:
    from tests.runtime.conftest import App


@pytest.fixture
def isolated(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Undo what an in-process worker leaves: sys.path entries, app modules, signal handlers."""
    monkeypatch.setattr(sys, "path", list(sys.path))
    modules = set(sys.modules)
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    yield
    for name in set(sys.modules) - modules:
        if name.startswith("inproc_"):
            del sys.modules[name]
    for sig, handler in handlers.items():
        signal.signal(sig, handler)


def test_work_in_process_forks_preloaded_horses(
    make_app, redis_conn: Redis, monkeypatch: pytest.MonkeyPatch, isolated: None
) -> None:
    app: App = make_app("inproc_app")
    monkeypatch.chdir(app.root)
    table = {
        "imports": ["inproc_app.tasks"],
        "calls": ["sqlalchemy.orm:configure_mappers"],
        "after-fork": ["inproc_app.db:dispose_pool"],
    }
    monkeypatch.setenv("FORKLINT_PREFORK", json.dumps(table))
    queue = Queue("inproc", connection=redis_conn)
    for n in range(3):
        queue.enqueue(app.job, n)
    assert "inproc_app" not in sys.modules

    worked = PreforkWorker([queue], connection=redis_conn).work(burst=True)

    assert worked
    assert queue.finished_job_registry.count == 3
    assert "inproc_app.tasks" in sys.modules  # preloaded here, in the parent
    horses = app.horses()
    assert len({h.pid for h in horses}) == 3
    assert {h.ppid for h in horses} == {os.getpid()}
    assert [(h.imported, h.configured, h.after_fork) for h in horses] == [((), 0, 1)] * 3


def test_bad_entry_in_process_stops_with_one_line(
    redis_conn: Redis, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, isolated: None
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FORKLINT_PREFORK", '{"imports": ["inproc_missing.tasks"]}')
    queue = Queue("inproc", connection=redis_conn)
    queue.enqueue("inproc_missing.tasks.job")
    worker = PreforkWorker([queue], connection=redis_conn)

    with pytest.raises(SystemExit) as stopped:
        worker.work(burst=True)

    message = str(stopped.value)
    assert message == (
        "forklint: `imports` entry 'inproc_missing.tasks' in FORKLINT_PREFORK: cannot import it "
        "(ModuleNotFoundError: No module named 'inproc_missing'); the worker did not start"
    )
    assert isinstance(stopped.value.__cause__, PreforkError)
    assert queue.count == 1
    assert PreforkWorker.all(connection=redis_conn) == []


def test_run_prefork_raises_prefork_error_for_subclasses(redis_conn: Redis) -> None:
    class Broken(PreforkWorker):
        prefork = Prefork(calls=("json:no_such_function",))

    with pytest.raises(
        PreforkError,
        match=r"`calls` entry 'json:no_such_function' in [\w.<>]*Broken.prefork: json has no attr",
    ):
        Broken(["q"], connection=redis_conn).run_prefork()


def test_class_table_is_checked_like_the_config(redis_conn: Redis) -> None:
    class Malformed(PreforkWorker):
        prefork = Prefork(imports=("app tasks",), calls=("json",))

    with pytest.raises(
        PreforkError,
        match=r"`imports` entry 'app tasks' in [\w.<>]*Malformed.prefork is not a dotted module",
    ):
        Malformed(["q"], connection=redis_conn).run_prefork()
    Malformed.prefork = Prefork(calls=("json",))
    with pytest.raises(
        PreforkError, match=r"`calls` entry 'json' in [\w.<>]*Malformed.prefork must look like"
    ):
        Malformed(["q"], connection=redis_conn).run_prefork()


def test_load_prefork_sources(tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / "pkg" / "sub").mkdir(parents=True)
    (project / "pyproject.toml").write_text(
        '[tool.forklint.prefork]\nimports = ["pkg.tasks"]\n', encoding="utf-8"
    )

    table, source = load_prefork(project / "pkg" / "sub", environ={})
    assert table == Prefork(imports=("pkg.tasks",))
    assert source == f"[tool.forklint.prefork] in {project / 'pyproject.toml'}"

    table, source = load_prefork(
        project, environ={"FORKLINT_PREFORK": '{"after-fork": ["pkg.db:reset"]}'}
    )
    assert (table, source) == (Prefork(after_fork=("pkg.db:reset",)), "FORKLINT_PREFORK")

    with pytest.raises(PreforkError, match=r"^FORKLINT_PREFORK is not valid JSON \("):
        load_prefork(project, environ={"FORKLINT_PREFORK": "{imports"})
    with pytest.raises(PreforkError, match=r"^FORKLINT_PREFORK: unknown key `prefork.import`"):
        load_prefork(project, environ={"FORKLINT_PREFORK": '{"import": ["x"]}'})

    (project / "pyproject.toml").write_text("[tool.forklint\n", encoding="utf-8")
    with pytest.raises(PreforkError, match=r"pyproject.toml: invalid TOML"):
        load_prefork(project, environ={})


def test_importing_the_worker_class_stays_light() -> None:
    # `rq worker -w forklint.rq.PreforkWorker` imports this in every worker: no static analyser.
    code = (
        "import sys, forklint.rq; "
        "print(sorted(m for m in sys.modules if m.startswith(('forklint', 'libcst', 'click'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == (
        "['forklint', 'forklint.config', 'forklint.findings', 'forklint.fsutil', 'forklint.globs', "
        "'forklint.rq']"
    )


def test_django_setup_in_the_table_runs_before_its_imports(redis_server, tmp_path: Path) -> None:
    # a models module imported before django.setup() raises AppRegistryNotReady: the fix for a
    # plain `rq worker` in a Django project lists both, and the worker must set Django up first
    app = tmp_path / "inproc_camps"
    app.mkdir()
    (app / "__init__.py").write_text("", encoding="utf-8")
    (app / "settings.py").write_text(
        'INSTALLED_APPS = ["django.contrib.contenttypes", "inproc_camps"]\n'
        'DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}\n',
        encoding="utf-8",
    )
    (app / "models.py").write_text(
        "from django.db import models\n\n\n"
        "class Camp(models.Model):\n"
        "    name = models.CharField(max_length=50)\n",
        encoding="utf-8",
    )
    table = {"imports": ["inproc_camps.models"], "calls": ["django:setup"]}
    code = (
        "import sys\n"
        "from redis import Redis\n"
        "from forklint.rq import PreforkWorker\n"
        f"worker = PreforkWorker(['q'], connection=Redis.from_url({redis_server.url!r}))\n"
        "worker.run_prefork()\n"
        "print(sys.modules['inproc_camps.models'].Camp._meta.app_label)\n"
    )
    env = {
        **os.environ,
        "FORKLINT_PREFORK": json.dumps(table),
        "DJANGO_SETTINGS_MODULE": "inproc_camps.settings",
    }
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "inproc_camps"
