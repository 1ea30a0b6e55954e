"""The pre-fork world: start-ups from configuration and code, fork models, the prefork table."""

from __future__ import annotations

TASKS = """
    import pandas
    from rq.decorators import job


    @job("q")
    def report(rows):  # {expect}
        return pandas.DataFrame(rows)
"""


def tasks(expect: str = "") -> str:
    return TASKS.replace("# {expect}", f"# {expect}" if expect else "")


def test_configured_worker_function(project, model):
    files = {
        "pyproject.toml": '[tool.forklint]\nworker = "ops.run:start"\n',
        "app/__init__.py": "",
        "app/tasks.py": tasks(),
        "ops/__init__.py": "",
        "ops/run.py": "def start(worker_cls):\n    import app.tasks\n\n    worker_cls(['q']).work()\n",
    }
    project.assert_expected(files, codes={"FRK101"})
    m = model(files)
    assert [p.label for p in m.world.parents] == ["[tool.forklint] worker = ops.run:start"]
    assert "app.tasks" in m.world.parents[0].modules


def test_configured_worker_class_and_fork_model(project):
    files = {
        "pyproject.toml": '[tool.forklint]\nworker-class = "app.workers:Preloaded"\n',
        "app/__init__.py": "",
        "app/tasks.py": tasks(),
        "app/workers.py": "from rq import Worker\n\nimport app.tasks\n\n\nclass Preloaded(Worker):\n    pass\n",
    }
    project.assert_expected(files, codes={"FRK101"})
    files["pyproject.toml"] = '[tool.forklint]\nfork-model = "rq"\n'
    files["app/tasks.py"] = tasks("FRK101:5")
    project.assert_expected(files, codes={"FRK101"})
    files["pyproject.toml"] = '[tool.forklint]\nfork-model = "rq-simple"\n'
    files["app/tasks.py"] = tasks()
    project.assert_expected(files, codes={"FRK101"})


def test_fork_models_per_job(model):
    m = model(
        {
            "app/__init__.py": "",
            "app/rqjobs.py": "from rq.decorators import job\n\n\n@job('q')\ndef a(): pass\n",
            "app/celeryjobs.py": "from celery import shared_task\n\n\n@shared_task\ndef b(): pass\n",
            "app/dramatiqjobs.py": "import dramatiq\n\n\n@dramatiq.actor\ndef c(): pass\n",
            "Procfile": "rq: rq worker -w rq.worker.SpawnWorker q\ncelery: celery -A app worker --concurrency 4\n",
        }
    )
    assert m.world.job_models == {
        "app.rqjobs.a": "rq-spawn",
        "app.celeryjobs.b": "celery",
        "app.dramatiqjobs.c": "dramatiq",
    }
    assert m.world.assumptions == []


def test_stock_assumption_said_once(project):
    files = {
        "app/__init__.py": "",
        "app/tasks.py": tasks("FRK101:5"),
        "app/more.py": tasks("FRK101:5"),
    }
    report = project.assert_expected(files, codes={"FRK101"})
    assert report.assumptions == ("no worker start-up found: assumed stock `rq worker`",)
    assert report.jobs == 2 and report.files == 3


def test_worker_pool_startup(project):
    files = {
        "app/__init__.py": "",
        "app/tasks.py": tasks(),
        "pool.py": "from rq.worker_pool import WorkerPool\n\nimport app.tasks\n\nWorkerPool(['q'], num_workers=2).start()\n",
    }
    report = project.assert_expected(files, codes={"FRK101"})
    assert report.assumptions == ()


def test_prefork_table_orders_imports_then_configure_then_warmups(project):
    files = {
        "app/__init__.py": "",
        "app/models.py": "from sqlalchemy.orm import DeclarativeBase\n\n\nclass Base(DeclarativeBase):\n    pass\n\n\nclass Thing(Base):\n    __tablename__ = 't'\n",
        "app/ml.py": "import functools\n\nimport joblib\n\n\n@functools.cache\ndef model():\n    return joblib.load('m')\n",
        "app/tasks.py": """
            from rq.decorators import job

            from app.ml import model
            from app.models import Thing


            @job("q")
            def go():  # FRK101:5 FRK102:5
                return model(), Thing()  # FRK105:12
        """,
    }
    report = project.assert_expected(files, codes={"FRK101", "FRK102", "FRK105"})
    assert report.prefork.imports == ("app.tasks", "app.models", "app.ml")
    assert report.prefork.calls == ("sqlalchemy.orm:configure_mappers", "app.ml:model")


def test_long_import_and_call_chains(project, model):
    depth = 300
    files = {"app/__init__.py": ""}
    for i in range(depth):
        nxt = f"import app.m{i + 1}\n" if i + 1 < depth else "import pandas\n"
        files[f"app/m{i}.py"] = (
            nxt
            + f"\n\ndef f{i}():\n    return {f'app.m{i + 1}.f{i + 1}()' if i + 1 < depth else '1'}\n"
        )
    files["app/tasks.py"] = (
        "from rq.decorators import job\n\nimport app.m0\n\n\n@job('q')\ndef go():\n    return app.m0.f0()\n"
    )
    files["worker.py"] = (
        "from rq import Worker\n\nimport app.m0\n\n\ndef main():\n    app.m0.f0()\n    Worker(['q']).work()\n"
    )
    project.assert_expected(files, codes={"FRK101"})  # the heavy end of the chain is preloaded
    (parent,) = model(files).world.parents
    assert "pandas" in parent.modules and "app.m50.f50" in parent.warmed


def test_burst_workers_in_tests_are_not_the_apps_startup(project):
    files = {
        "app/__init__.py": "",
        "app/tasks.py": tasks("FRK101:5"),
        "tests/test_tasks.py": "import app.tasks\nfrom rq import SimpleWorker\n\n\ndef test_it():\n    SimpleWorker(['q']).work(burst=True)\n",
    }
    report = project.assert_expected(files, codes={"FRK101"})
    assert report.assumptions == ("no worker start-up found: assumed stock `rq worker`",)


def test_parallel_extraction_gives_the_same_facts(tmp_path):
    from forklint.api import extract_all
    from forklint.config import Config
    from forklint.project import discover

    for i in range(70):
        (tmp_path / f"m{i}.py").write_text(f"import os\n\n\ndef f{i}():\n    return os.getcwd()\n")
    project = discover([tmp_path], Config(root=tmp_path))
    assert extract_all(project, jobs=2) == extract_all(project)
