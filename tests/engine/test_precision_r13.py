"""Round 13's held-out shapes. Each is a small reproduction written for this suite, with the
findings that must and must not be reported as inline `# FRKxxx:col` comments."""

from __future__ import annotations

import pytest

from tests.projects import heavy_job


def _gateway(module_name: str, expected: str = "") -> dict[str, str]:
    return {
        "Procfile": "worker: rq worker default\n",
        "app/__init__.py": "",
        "app/settings.py": 'DEBUG = False\nSTUB_MODULE = "app.stub"\n',
        "app/stub.py": "class Client:\n    pass\n",
        "app/gateway.py": f"""
            from importlib import import_module

            from app import settings


            class Client:
                pass


            class Gateway:
                def __init__(self):
                    self.client = import_module({module_name}).Client(){expected}
        """,
        "app/jobs.py": """
            from redis import Redis
            from rq import Queue

            from app.gateway import Gateway


            def charge_customer(amount):
                return Gateway().client


            def submit(amount):
                Queue("default", connection=Redis()).enqueue(charge_customer, amount)
        """,
    }


def test_a_dynamic_import_of_a_module_forklint_cannot_name_is_no_per_job_import(project) -> None:
    # held-out round 13, myfxtracker: `import_module(getattr(settings, "X_MODULE", "<this
    # module>"))`; in production both name the calling module, already in sys.modules: a lookup,
    # not an import, on every run (FRK103 ×2, false)
    project.assert_expected(_gateway('getattr(settings, "GATEWAY_MODULE", "app.gateway")'))


@pytest.mark.parametrize("module_name", ['"app.stub"', "settings.STUB_MODULE"])
def test_a_dynamic_import_of_a_module_it_can_name_is_paid_by_every_horse(
    project, module_name: str
) -> None:
    project.assert_expected(_gateway(module_name, "  # FRK103:23"))


CLI_RUNS_THE_START_UP = {
    "pyproject.toml": """
        [project]
        name = "lab"
        version = "0.1"

        [project.scripts]
        lab = "lab.cli:main"
    """,
    "lab/__init__.py": "",
    "lab/cli.py": """
        import click

        from lab import stats  # noqa: F401


        @click.group()
        def main():
            pass


        @main.command()
        def worker():
            from lab.worker import start_worker

            start_worker(["reports"])
    """,
    "lab/stats.py": """
        import pandas


        def summarize(rows):
            return pandas.DataFrame(rows).describe()
    """,
    "lab/jobs.py": """
        from redis import Redis
        from rq import Queue

        from lab.stats import summarize


        def report_job(rows):
            return summarize(rows).to_dict()


        def submit(rows):
            Queue("reports", connection=Redis()).enqueue(report_job, rows)
    """,
    "lab/worker.py": """
        import os

        from redis import Redis
        from rq import Worker


        def start_worker(queues):
            Worker(queues, connection=Redis()).work()


        if __name__ == "__main__":
            start_worker(os.environ["QUEUES"].split(","))
    """,
}


def test_a_scripts_main_block_is_no_parent_where_an_installed_program_runs_it(project) -> None:
    # held-out round 13, renku-python: the start-up function's module has a `__main__` block that
    # no deployment runs; the console script `lab worker`, which has loaded pandas, runs it. The
    # light `__main__` parent made a false FRK101
    report = project.assert_expected(dict(CLI_RUNS_THE_START_UP))
    assert [p.label for p in report.parents] == ["lab worker"]


def test_a_scripts_main_block_is_a_parent_where_nothing_else_runs_it(project) -> None:
    files = dict(CLI_RUNS_THE_START_UP)
    del files["pyproject.toml"]
    files["lab/jobs.py"] = files["lab/jobs.py"].replace(
        "def report_job(rows):", "def report_job(rows):  # FRK101:5"
    )
    report = project.assert_expected(files)
    assert [p.label for p in report.parents] == ["lab/worker.py:start_worker()"]


def _hooks(job_body: str) -> dict[str, str]:
    return {
        "shop/__init__.py": "",
        "shop/reports.py": """
            import pandas


            class Summary:
                def build(self, rows):
                    return pandas.DataFrame(rows).describe()
        """,
        "shop/webapp.py": """
            from shop.reports import Summary  # noqa: F401

            application = object()
        """,
        "shop/hooks.py": f"""
            from redis import Redis
            from rq import Queue


            def get_summary():
                from shop.reports import Summary  # FRK104:5

                return Summary()


            def refresh_summary(rows):
            {job_body}
                return get_summary().build(rows)


            def on_change(rows):
                Queue(connection=Redis()).enqueue(refresh_summary, rows)
        """,
    }


def test_an_import_an_earlier_import_on_the_jobs_path_loaded_loads_nothing(project) -> None:
    # held-out round 13, lifelike: `from app import app` first in the job, then a helper's
    # function-level import of a module app.py's closure already holds (FRK104 ×2, false)
    files = _hooks("    from shop.webapp import application  # noqa: F401  # FRK104:5")
    files["shop/hooks.py"] = files["shop/hooks.py"].replace(
        "from shop.reports import Summary  # FRK104:5", "from shop.reports import Summary"
    )
    project.assert_expected(files, {"FRK104"})


def test_the_helpers_import_is_the_first_load_when_nothing_came_before(project) -> None:
    project.assert_expected(_hooks("    pass"), {"FRK104"})


SCANS = heavy_job("scans.normalise.normalise", "scans.submit", "scans", library="numpy")


@pytest.mark.parametrize(
    "script",
    [
        # held-out round 13, brainns: the main block starts the worker in N processes
        """
            from multiprocessing import Process

            from redis import Redis
            from rq import Worker


            def serve():
                Worker(["scans"], connection=Redis()).work()


            if __name__ == "__main__":
                for _ in range(3):
                    Process(target=serve).start()
        """,
        # held-out round 13, pise: `worker = None`, a placeholder an exception handler reads
        """
            import sys

            from redis import Redis
            from rq import Worker

            worker = None


            def on_failure(job, *exc_info):
                worker.log.info("job %s failed", job.id)


            worker = Worker(sys.argv[1:] or ["scans"], connection=Redis())
            worker.work()
        """,
    ],
)
def test_a_worker_script_started_in_these_shapes_is_followed(project, script: str) -> None:
    # both were "could not follow to a worker" (notes whose `worker = ...` hint fits nothing)
    files = {
        **SCANS,
        "worker.py": script,
        "docker-compose.yml": """
        services:
          worker:
            command: python worker.py
    """,
    }
    report = project.assert_expected(files)
    assert report.unresolved == ()


def test_an_earlier_export_in_a_shell_script_is_the_commands_environment(project) -> None:
    # held-out round 13, wmrat: `export DJANGO_SETTINGS_MODULE=...` on line 2, `manage.py
    # rqworker` below: "no Django settings module" ×5
    files = {
        "ops/run.sh": (
            "#!/bin/bash\nexport DJANGO_SETTINGS_MODULE=shop.settings.prod\n\n"
            "python3 manage.py rqworker scans &\npython3 manage.py runserver\n"
        ),
        "manage.py": """
            import sys

            from django.core.management import execute_from_command_line

            execute_from_command_line(sys.argv)
        """,
        "shop/__init__.py": "",
        "shop/settings/__init__.py": "",
        "shop/settings/base.py": 'INSTALLED_APPS = ["django_rq", "scans"]\nROOT_URLCONF = "shop.urls"\n',
        "shop/settings/prod.py": "from .base import *  # noqa\n",
        "shop/settings/dev.py": "from .base import *  # noqa\n",
        "shop/urls.py": "urlpatterns = []\n",
        **SCANS,
    }
    report = project.assert_expected(files)
    assert report.unresolved == ()


def test_a_script_a_dockerfile_copies_into_a_folder_is_that_script(project) -> None:
    # held-out round 13, aasaan: `COPY deploy/start_worker /usr/local/bin`, then supervisord's
    # `command=/usr/local/bin/start_worker` ("not a file of the project")
    files = {
        "Dockerfile": "FROM python:3.11\nCOPY . /srv\nCOPY deploy/start_worker /usr/local/bin\n",
        "deploy/start_worker": "#!/bin/sh\nexec rq worker scans\n",
        "deploy/supervisord.conf": "[program:worker]\ncommand=/usr/local/bin/start_worker\n",
        **SCANS,
    }
    report = project.assert_expected(files)
    assert report.unresolved == ()


def test_flask_app_set_by_the_image_is_the_apps_for_flask_rq_worker(project) -> None:
    # held-out round 13, qlsm: the compose service runs `flask rq worker` in an image whose
    # Dockerfile sets `ENV FLASK_APP="shop:build_app()"` ("cannot tell which Flask app")
    files = {
        "Dockerfile": 'FROM python:3.12\nENV FLASK_APP="shop:build_app()" PYTHONUNBUFFERED=1\n',
        "docker-compose.yml": """
            services:
              worker:
                build: .
                command: flask rq worker scans
        """,
        "shop/__init__.py": """
            from flask import Flask
            from flask_rq2 import RQ

            rq = RQ()


            def build_app():
                app = Flask(__name__)
                rq.init_app(app)
                from shop import jobs  # noqa: F401

                return app
        """,
        "shop/jobs.py": """
            import numpy

            from shop import rq


            @rq.job
            def normalise(path):
                return numpy.load(path)
        """,
    }
    report = project.assert_expected(files)
    assert report.unresolved == ()
    assert [p.label for p in report.parents] == ["docker-compose.yml:4"]


def test_an_earlier_import_whose_code_imports_modules_by_name_may_have_loaded_anything(
    project,
) -> None:
    # held-out round 13, lifelike: `from app import app` first in the job; app.py's
    # `app = create_app()` registers every blueprint module through werkzeug's import_string, one
    # of which imports the module a helper's import names later on the same path
    files = _hooks("    from shop.webapp import application  # noqa: F401  # FRK104:5")
    files["shop/webapp.py"] = """
        from werkzeug.utils import find_modules, import_string


        def create_app():
            for name in find_modules("shop.blueprints"):
                import_string(name)
            return object()


        application = create_app()
    """
    files["shop/hooks.py"] = files["shop/hooks.py"].replace(
        "from shop.reports import Summary  # FRK104:5", "from shop.reports import Summary"
    )
    # the job's own import of the app module is the first load (its import runs the scan)
    project.assert_expected(files, {"FRK104"})


def test_a_callback_runs_after_its_job_in_a_horse_that_configured_the_mappers(project) -> None:
    # held-out round 13 (after the fixes), brainns: `q.enqueue(predict, on_failure=report_error)`;
    # the callback runs in the horse after the job, whose own query configured the mappers
    files = {
        "Procfile": "worker: rq worker\n",
        "lab/__init__.py": "",
        "lab/models.py": """
            from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


            class Base(DeclarativeBase):
                pass


            class Scan(Base):
                __tablename__ = "scan"
                id: Mapped[int] = mapped_column(primary_key=True)
        """,
        "lab/db.py": """
            from sqlalchemy import create_engine
            from sqlalchemy.orm import Session

            session = Session(create_engine("postgresql://db/lab"))
        """,
        "lab/tasks.py": """
            from lab.db import session
            from lab.models import Scan


            def predict(scan_id):  # FRK102:5
                return session.get(Scan, scan_id)
        """,
        "lab/callbacks.py": """
            from lab.db import session
            from lab.models import Scan


            def report_error(job, connection, type, value, traceback):
                session.get(Scan, job.args[0])
        """,
        "lab/views.py": """
            from redis import Redis
            from rq import Queue

            from lab.callbacks import report_error
            from lab.tasks import predict


            def submit(scan_id):
                Queue(connection=Redis()).enqueue(predict, scan_id, on_failure=report_error)
        """,
    }
    project.assert_expected(files, {"FRK102"})
