"""Round 12's held-out shapes: what the worker's own command line sets (DJANGO_SETTINGS_MODULE
before `manage.py rqworker`), and which module `flask rq worker` loads when nothing names it. Each
is a small reproduction written for this suite, with the findings that must and must not be
reported as inline `# FRKxxx:col` comments."""

from __future__ import annotations

import pytest

from tests.projects import heavy_job

EXPORT_JOB = """
    import boto3
    from django_rq import job


    @job("default")
    def export_orders(order_id):  # FRK101:5
        boto3.client("s3").put_object(Bucket="exports", Key=str(order_id), Body=b"")
"""


def _settings_from_the_command(urls: str, procfile: str) -> dict[str, str]:
    """A Django project whose settings package holds several modules and whose manage.py sets
    none: only the worker's own command line names the settings module."""
    return {
        "Procfile": procfile,
        "manage.py": """
            import sys

            if __name__ == "__main__":
                from django.core.management import execute_from_command_line

                execute_from_command_line(sys.argv)
        """,
        "shop/__init__.py": "",
        "shop/settings/__init__.py": "",
        "shop/settings/base.py": """
            INSTALLED_APPS = ["django.contrib.contenttypes", "django_rq", "shop.orders"]
            ROOT_URLCONF = "shop.urls"
        """,
        "shop/settings/dev.py": "from .base import *  # noqa\n\nDEBUG = True\n",
        "shop/settings/prod.py": "from .base import *  # noqa\n\nDEBUG = False\n",
        "shop/urls.py": urls,
        "shop/orders/__init__.py": "",
        "shop/orders/jobs.py": EXPORT_JOB,
    }


@pytest.mark.parametrize(
    "procfile",
    [
        "worker: DJANGO_SETTINGS_MODULE=shop.settings.prod python manage.py rqworker default\n",
        "worker: env DJANGO_SETTINGS_MODULE=shop.settings.prod ./manage.py rqworker default\n",
    ],
)
def test_the_settings_module_on_the_rqworker_command_line_resolves_the_parent(
    project, procfile: str
) -> None:
    # held-out round 12, zoltar / resource-hub: `X=... manage.py rqworker` had its environment
    # dropped on the way to django-rq's command, so the settings went unfound (a note, and every
    # parent-dependent rule silent) or were taken from another service's environment
    files = _settings_from_the_command("urlpatterns = []\n", procfile)
    report = project.assert_expected(files, {"FRK101"})
    assert report.unresolved == ()
    assert [p.label for p in report.parents] == ["Procfile:1"]


def test_a_compose_services_environment_names_its_workers_settings(project) -> None:
    files = _settings_from_the_command(
        """
            from django.urls import path

            from shop.orders.jobs import export_orders

            urlpatterns = [path("export/<int:pk>/", lambda request, pk: export_orders.delay(pk))]
        """,
        "",
    )
    del files["Procfile"]
    files["docker-compose.yml"] = """
        services:
          worker:
            command: python manage.py rqworker default
            environment:
              DJANGO_SETTINGS_MODULE: shop.settings.prod
    """
    # the URL check imports shop.urls, and with it the job module, before the fork
    files["shop/orders/jobs.py"] = EXPORT_JOB.replace("  # FRK101:5", "")
    report = project.assert_expected(files, {"FRK101"})
    assert report.unresolved == ()


FLASK_RQ2_API = {
    "api/labapi/__init__.py": """
        from flask import Flask
        from flask_rq2 import RQ

        rq = RQ()


        def create_app():
            app = Flask(__name__)
            rq.init_app(app)
            from labapi.reports import views  # noqa: F401

            return app
    """,
    "api/labapi/reports/__init__.py": "",
    "api/labapi/reports/views.py": """
        import boto3

        from labapi import rq


        @rq.job
        def render(report_id):
            boto3.client("s3").put_object(Bucket="reports", Key=str(report_id), Body=b"")
    """,
    # the monorepo's Django site: its WSGI module is not the Flask app
    "site/wsgi.py": """
        import os

        from django.core.wsgi import get_wsgi_application

        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
        application = get_wsgi_application()
    """,
    "site/portal/__init__.py": "",
}


def test_flask_rq2s_assumed_app_is_never_another_frameworks_wsgi_module(project) -> None:
    # held-out round 12, mpcontribs: with no start-up found and no FLASK_APP, the Flask-RQ2
    # worker's app was guessed as the top-level `wsgi` module, here the Django portal's, so the
    # parent imported nothing of the API and FRK101 fired although create_app() imports the job
    report = project.assert_expected(dict(FLASK_RQ2_API), {"FRK101"})
    assert any("cannot tell which Flask app" in a for a in report.assumptions)


def test_flask_rq2s_assumed_app_is_a_wsgi_module_that_builds_the_flask_app(project) -> None:
    files = dict(FLASK_RQ2_API)
    del files["site/wsgi.py"]
    files["api/wsgi.py"] = "from labapi import create_app\n\napp = create_app()\n"
    report = project.assert_expected(files, {"FRK101"})
    assert report.unresolved == ()
    assert any("flask rq worker" in a for a in report.assumptions)


CLI_BUILT_BY_A_FUNCTION = {
    "pyproject.toml": """
        [project]
        name = "lab"
        version = "1.0"

        [project.scripts]
        lab = "lab.cli:cli"
    """,
    "Procfile": "worker: lab agent run --queues default\n",
    "lab/__init__.py": "",
    "lab/cli.py": """
        import click


        def load_commands(group):
            from lab.cmd.agent import agentcli
            from lab.cmd.reports import reportscli

            group.add_command(agentcli)
            group.add_command(reportscli)


        def init_cli():
            @click.group()
            def cli():
                pass

            load_commands(cli)
            return cli


        cli = init_cli()
    """,
    "lab/cmd/__init__.py": "",
    "lab/cmd/agent.py": """
        import click


        @click.group(name="agent")
        def agentcli():
            pass


        @agentcli.command(name="run")
        @click.option("--queues", default="default")
        def runcli(queues):
            from lab.worker import start_worker

            start_worker(queues.split(","))
    """,
    "lab/cmd/reports.py": """
        import click

        from lab.jobs import enqueue_report


        @click.command(name="report")
        def reportscli():
            enqueue_report()
    """,
    "lab/jobs.py": """
        import pandas
        from redis import Redis
        from rq import Queue


        def build_report():
            return pandas.DataFrame()


        def enqueue_report():
            Queue(connection=Redis()).enqueue(build_report)
    """,
    "lab/worker.py": """
        from redis import Redis
        from rq import Worker


        def start_worker(queues):
            Worker(queues, connection=Redis()).work()
    """,
}


def test_a_cli_commands_start_up_runs_after_its_programs_module_loaded(project) -> None:
    # held-out round 12, labfunctions: the console script's module builds the click group through
    # a function that imports every command's module, the job module among them; the worker
    # command's callback was the parent on its own, and the job got a false FRK101
    report = project.assert_expected(dict(CLI_BUILT_BY_A_FUNCTION), {"FRK101"})
    assert [p.label for p in report.parents] == ["lab/cmd/agent.py:runcli()"]
    assert "lab.jobs" in report.parents[0].imports


def _two_queues(worker_script: str) -> dict[str, str]:
    return {
        "docker-compose.yml": """
            services:
              worker:
                command: python3 scripts/run_worker.py
        """,
        "scripts/run_worker.py": worker_script,
        "proj/__init__.py": "",
        "proj/mail.py": """
            from redis import Redis
            from rq import Queue


            def send(to, body):
                return (to, body)


            def enqueue_send(to, body):
                Queue("emails", connection=Redis()).enqueue(send, to, body)
        """,
        "proj/media.py": """
            import pandas as pd
            from redis import Redis
            from rq import Queue


            def enqueue_thumbnail(item_id):
                Queue("thumbnails", connection=Redis()).enqueue(make_thumbnail, item_id)


            def make_thumbnail(item_id):
                return pd.DataFrame({"id": [item_id]})
        """,
    }


@pytest.mark.parametrize(
    "construction",
    ["Worker(map(Queue, listen), connection=conn)", 'Worker(["emails"], connection=conn)'],
)
def test_a_worker_script_runs_only_the_jobs_of_the_queues_it_names(project, construction) -> None:
    # held-out round 12, process-management-system: `listen = ["emails"]` ...
    # `Worker(map(Queue, listen)).work()` in a script's main block; a job enqueued only on
    # "thumbnails" was charged to it (12 false findings)
    script = f"""
        from redis import Redis
        from rq import Queue, Worker

        listen = ["emails"]
        conn = Redis()

        if __name__ == "__main__":
            {construction}.work()
    """
    report = project.assert_expected(_two_queues(script))
    (parent,) = report.parents
    assert parent.jobs == ("proj.mail.send",)


def test_the_same_script_on_the_thumbnails_queue_is_charged_with_that_job(project) -> None:
    script = """
        from redis import Redis
        from rq import Queue, Worker

        listen = ["thumbnails"]

        if __name__ == "__main__":
            Worker(map(Queue, listen), connection=Redis()).work()
    """
    files = _two_queues(script)
    files["proj/media.py"] = files["proj/media.py"].replace(
        "def make_thumbnail(item_id):", "def make_thumbnail(item_id):  # FRK101:5"
    )
    project.assert_expected(files)


def test_a_poetry_script_named_like_rqs_own_is_the_projects_program(project) -> None:
    # held-out round 12, questbycycle: `poetry run rqworker` runs the project's
    # `[tool.poetry.scripts] rqworker = "run_jobs:main"`, which imports the job module; it was read
    # as RQ's legacy `rqworker` with nothing preloaded (a false FRK101)
    files = _two_queues("")
    del files["scripts/run_worker.py"]
    files["docker-compose.yml"] = """
        services:
          worker:
            command: poetry run rqworker
    """
    files["pyproject.toml"] = """
        [tool.poetry]
        name = "shop"
        version = "0.1.0"

        [tool.poetry.scripts]
        rqworker = "run_jobs:main"
    """
    files["run_jobs.py"] = """
        from redis import Redis
        from rq import Worker

        import proj.media  # noqa: F401


        def main():
            Worker(["thumbnails"], connection=Redis()).work()
    """
    report = project.assert_expected(files)
    assert [(p.label, p.imports[:1]) for p in report.parents] == [("rqworker", ("run_jobs",))]


BOOKS = {
    "Makefile": "worker:\n\tpython scripts/run_ingest_worker.py\n",
    **heavy_job("books.ingest.parse_book", "books.queueing", "ingest"),
}


def test_a_worker_class_picked_by_platform_is_the_forking_one_where_it_forks(project) -> None:
    # held-out round 12, learn-faster-core: `cls = SimpleWorker if os.name == "nt" else Worker`;
    # the start-up was unresolved and every rule silent (issue 8, item 4: the forking one counts)
    files = dict(BOOKS)
    files["scripts/run_ingest_worker.py"] = """
        import os

        from redis import Redis
        from rq import SimpleWorker, Worker


        def main():
            cls = SimpleWorker if os.name == "nt" else Worker
            cls(["ingest"], connection=Redis()).work()


        if __name__ == "__main__":
            main()
    """
    report = project.assert_expected(files)
    assert report.unresolved == ()


def test_the_configured_worker_settles_a_start_up_forklint_cannot_follow(project) -> None:
    # the note's own advice, `[tool.forklint] worker = ...`, left the note and the silence as they
    # were: the configured function is the parent, and no command line is unresolved any more
    files = dict(BOOKS)
    files["scripts/run_ingest_worker.py"] = """
        import os

        from redis import Redis
        from rq import SimpleWorker, Worker

        WORKERS = {"fork": Worker, "simple": SimpleWorker}


        def main():
            WORKERS[os.environ.get("KIND", "fork")](["ingest"], connection=Redis()).work()


        if __name__ == "__main__":
            main()
    """
    unsettled = dict(files)
    unsettled["books/ingest.py"] = unsettled["books/ingest.py"].replace("  # FRK101:5", "")
    assert len(project.assert_expected(unsettled).unresolved) == 1
    files["pyproject.toml"] = """
        [project]
        name = "books"
        version = "0.1"

        [tool.forklint]
        worker = "scripts.run_ingest_worker:main"
    """
    report = project.assert_expected(files)
    assert report.unresolved == ()


def _flask_sqlalchemy_jobs(task: str) -> dict[str, str]:
    return {
        "Dockerfile": "FROM python:3.12\nCOPY . /srv\nWORKDIR /srv\nCMD python -m app.runner\n",
        "app/__init__.py": "",
        "app/models.py": """
            from flask_sqlalchemy import SQLAlchemy

            db = SQLAlchemy()


            class Option(db.Model):
                id = db.Column(db.Integer, primary_key=True)
                value = db.Column(db.String)


            def read_option(key):
                return Option.query.filter_by(value=key).one_or_none()  # FRK301:12
        """,
        "app/runner.py": """
            import redis
            import rq
            from flask import Flask

            from app import tasks  # noqa: F401
            from app.models import db, read_option


            def main():
                parent_app = Flask("runner")
                db.init_app(parent_app)
                with parent_app.app_context():
                    read_option("greeting")
                    rq.Worker("work", connection=redis.Redis()).work()


            if __name__ == "__main__":
                main()
        """,
        "app/tasks.py": task,
        "app/views.py": """
            import redis
            import rq

            from app.tasks import touch


            def submit(option_id):
                rq.Queue("work", connection=redis.Redis()).enqueue(touch, option_id)
        """,
    }


def test_jobs_that_build_their_own_flask_app_use_their_own_engine(project) -> None:
    # held-out round 12, kraken-ci: the parent queries through its own app's engine; every job
    # builds a new Flask app and calls db.init_app() on it, and Flask-SQLAlchemy keeps one engine
    # per app, so no child uses the parent's pool
    files = _flask_sqlalchemy_jobs(
        """
            from flask import Flask

            from app.models import Option, db


            def fresh_app():
                job_app = Flask("task")
                db.init_app(job_app)
                return job_app


            def touch(option_id):
                with fresh_app().app_context():
                    db.session.get(Option, option_id).value = "seen"
                    db.session.commit()
        """
    )
    files["app/models.py"] = files["app/models.py"].replace("  # FRK301:12", "")
    project.assert_expected(files, {"FRK301"})


def test_jobs_that_run_in_the_parents_app_use_its_pool(project) -> None:
    files = _flask_sqlalchemy_jobs(
        """
            from app.models import Option, db


            def touch(option_id):
                db.session.get(Option, option_id).value = "seen"
                db.session.commit()
        """
    )
    project.assert_expected(files, {"FRK301"})


def test_a_compose_command_a_dockerfile_copies_from_the_project_is_that_script(project) -> None:
    # held-out round 12, muckrock (and documentcloud in round 11): `command: /start-rqworker`, a
    # path the service's Dockerfile fills with `COPY ./compose/worker/start /start-rqworker`, was
    # "not a file of the project" (a wrong note, with an RQ hint in a Celery project)
    files = {
        "compose/Dockerfile": (
            "FROM python:3.12\n"
            "COPY --chown=app ./compose/worker/start /start-rqworker\n"
            "COPY . /app\nWORKDIR /app\n"
        ),
        "compose/worker/start": "#!/bin/bash\nset -e\nexec rq worker ingest\n",
        "local.yml": """
            services:
              worker:
                build:
                  context: .
                  dockerfile: ./compose/Dockerfile
                command: /start-rqworker
        """,
        **heavy_job("app.jobs.parse_book", "app.queueing", "ingest"),
    }
    report = project.assert_expected(files)
    assert report.unresolved == ()
    without_copy = dict(files)
    without_copy["compose/Dockerfile"] = "FROM python:3.12\nCOPY . /app\nWORKDIR /app\n"
    # an unresolved start-up may run the job: every parent-dependent rule stays silent for it
    without_copy["app/jobs.py"] = files["app/jobs.py"].replace("  # FRK101:5", "")
    report = project.assert_expected(without_copy)
    assert [u.line for u in report.unresolved] == [6]


CELERY_TASKS = {
    "shop/__init__.py": "",
    "shop/celery.py": """
        from celery import Celery

        app = Celery("shop", include=["shop.tasks"])
    """,
    "shop/tasks.py": """
        from shop.celery import app


        @app.task
        def ping():
            return "pong"
    """,
}


def test_the_assumed_celery_worker_is_said_once(project) -> None:
    # held-out round 12, squad / gitlab-tools / capstone: a worker started in ways forklint does
    # not follow (os.execvp, Worker(...).start(), subprocess.run) left the assumed `celery worker`
    # unsaid, while the RQ fallbacks say theirs
    report = project.assert_expected(dict(CELERY_TASKS))
    assert [a for a in report.assumptions if "Celery" in a] == [
        "no Celery worker command found: assumed `celery worker` (the app and its task modules "
        "imported, a prefork pool of reused children)"
    ]
    files = dict(CELERY_TASKS)
    files["Procfile"] = "worker: celery -A shop worker\n"
    assert project.assert_expected(files).assumptions == ()


def test_a_job_on_a_queue_no_worker_reads_is_left_out_and_said(project) -> None:
    # held-out round 12, process-management-system: `worker = Worker(map(Queue, listen))` then
    # `worker.work()` in a script's main block (listen = ["emails"]), the job on Queue("ocr"):
    # 12 findings (FRK103 among them) for a job no worker of the project runs
    files = _two_queues(
        """
        from redis import Redis
        from rq import Connection, Queue, Worker

        listen = ["emails"]

        if __name__ == "__main__":
            with Connection(Redis()):
                worker = Worker(map(Queue, listen))
                worker.work()
        """
    )
    files["proj/media.py"] = """
        from flask import Flask
        from redis import Redis
        from rq import Queue


        def enqueue_thumbnail(item_id):
            Queue("thumbnails", connection=Redis()).enqueue(make_thumbnail, item_id)


        def make_thumbnail(item_id):
            return Flask(__name__), item_id
    """
    report = project.assert_expected(files)
    assert report.assumptions == (
        "no worker of the project reads queue 'thumbnails': proj.media.make_thumbnail left out "
        "(a worker deployed elsewhere may run it)",
    )
