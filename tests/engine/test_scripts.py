"""A program nothing imports: its module-level code is its body, not import-time work."""

from __future__ import annotations


def test_a_top_level_script_nothing_imports_has_no_query_at_import(project) -> None:
    # runtestserver.py (`db.create_all()` as its body) is run by hand; app/models.py is imported by
    # the app, so a query at its module level runs at every import.
    project.assert_expected(
        {
            "app/__init__.py": "from app.models import db, User\n",
            "app/models.py": """
                from flask_sqlalchemy import SQLAlchemy

                db = SQLAlchemy()


                class User(db.Model):
                    id = db.Column(db.Integer, primary_key=True)


                ADMIN = User.query.get(1)  # FRK201:9
            """,
            "runtestserver.py": """
                from app import db

                db.drop_all()
                db.create_all()
            """,
            "seed.py": """
                from app.models import User

                FIRST = User.query.get(1)
            """,
        },
        {"FRK201"},
    )


def test_a_script_in_a_folder_that_is_no_package_is_a_program(project) -> None:
    # Held-out codalab: proj/scripts/seed.py (no __init__.py in scripts/, a `#!` line) is run by
    # scripts/init.sh; nothing imports it. Held-out cabotage: create_admin.py has no marker, but
    # nothing imports it or names it in a string either (a Makefile runs it with `python -m`).
    # A module code imports, and one that code names in a string (a plugin a setting lists), are
    # imported code; a package's module nothing names (held-out ownphotos' `api/bench.py`, run in
    # a shell) is not, unless a framework finds it by its name (`admin.py`, `tasks.py`).
    project.assert_expected(
        {
            "Procfile": "worker: cd proj && celery -A app.tasks worker\n",
            "proj/app/__init__.py": "",
            "proj/app/models.py": """
                from django.db import models


                class Page(models.Model):
                    name = models.CharField(max_length=10)
            """,
            "proj/app/defaults.py": """
                from app.models import Page

                HOME = Page.objects.get(name="home")  # FRK201:8
            """,
            "proj/app/views.py": "from app.defaults import HOME\n",
            "proj/app/bench.py": """
                from app.models import Page

                PAGES = list(Page.objects.all())
            """,
            "proj/app/admin.py": """
                from app.models import Page

                PAGES = list(Page.objects.all())  # FRK201:9
            """,
            "proj/scripts/seed.py": """
                #!/usr/bin/env python
                import django

                django.setup()
                from app.models import Page

                Page.objects.get_or_create(name="home")
            """,
            "proj/scripts/report.py": """
                from app.models import Page

                COUNT = Page.objects.count()


                if __name__ == "__main__":
                    print(COUNT)
            """,
            "proj/scripts/plugin.py": """
                from app.models import Page

                FIRST = Page.objects.first()  # FRK201:9
            """,
            "proj/app/settings.py": 'PLUGINS = ["scripts.plugin"]\n',
            "proj/scripts/create_admin.py": """
                from app.models import Page

                Page.objects.create(name="admin")
            """,
            "Makefile": "create-admin:\n\tcd proj && python3 -m scripts.create_admin\n",
            "proj/scripts/init.sh": '#!/bin/bash\ncd "$(dirname "$0")"\npython ./seed.py\n',
        },
        {"FRK201"},
    )


# Flask-RQ2 jobs with no worker start-up in the repository
FLASK_RQ2_PROJECT = {
    "app.py": """
        from flask import Flask
        from flask_rq2 import RQ
        from flask_sqlalchemy import SQLAlchemy

        app = Flask(__name__)
        db = SQLAlchemy(app)
        rq = RQ(app)

        import views  # noqa: E402,F401
    """,
    "models.py": """
        from app import db


        class Order(db.Model):
            id = db.Column(db.Integer, primary_key=True)
    """,
    "views.py": """
        from app import app
        from mail import send_receipt


        @app.route("/pay/<int:order_id>")
        def pay(order_id):
            send_receipt.queue(order_id)
            return "ok"
    """,
    "mail.py": """
        import jinja2

        from app import rq
        from models import Order


        @rq.job("default")
        def send_receipt(order_id):  # FRK102:5
            order = Order.query.get(order_id)
            return str(order)
    """,
}


def test_flask_rq2_jobs_with_no_start_up_run_under_flask_rq_worker(project) -> None:
    # No worker start-up in the repository: Flask-RQ2's jobs run under `flask rq worker`, which
    # loads the app (and the views that import the job module) before it forks, so no FRK101; the
    # app never configures the mappers, so every horse does (FRK102).
    report = project.assert_expected(FLASK_RQ2_PROJECT, {"FRK101", "FRK102"})
    # `flask rq worker` takes no --worker-class, and a plain `rq worker` would lose the app
    # context: the fix names Flask-RQ2's own setting
    (frk102,) = report.findings
    assert (
        'set RQ_WORKER_CLASS = "forklint.rq.PreforkWorker" in the Flask config'
        in frk102.fix.summary
    )
    assert "rq worker -w" not in frk102.fix.summary


def test_a_flask_rq_worker_command_is_fixed_through_the_flask_config(project) -> None:
    files = dict(FLASK_RQ2_PROJECT, Procfile="worker: flask rq worker default\n")
    report = project.assert_expected(files, {"FRK101", "FRK102"})
    (frk102,) = report.findings
    assert (
        'set RQ_WORKER_CLASS = "forklint.rq.PreforkWorker" in the Flask config'
        in frk102.fix.summary
    )
    assert report.assumptions == ()


def test_a_console_script_of_a_distribution_in_a_subfolder_is_followed(project) -> None:
    # held-out libretime: worker/setup.py declares `myworker = myworker.main:cli` and a systemd
    # unit runs /usr/local/bin/myworker: the project's console script, followed (it was an
    # unresolved start-up, so nothing was said about the jobs it runs).
    report = project.assert_expected(
        {
            "worker/setup.py": (
                "from setuptools import setup\n\nsetup(name='myworker', entry_points="
                "{'console_scripts': ['myworker = myworker.main:cli']})\n"
            ),
            "worker/myworker/__init__.py": "",
            "worker/myworker/main.py": """
                from redis import Redis
                from rq import Worker


                def cli():
                    Worker(["default"], connection=Redis()).work()
            """,
            "worker/myworker/tasks.py": """
                import pandas as pd
                from rq.decorators import job


                @job("default")
                def crunch(path):  # FRK101:5
                    return float(pd.read_csv(path).sum().sum())
            """,
            "deploy/myworker.service": "[Service]\nExecStart=/usr/local/bin/myworker\n",
        },
        {"FRK101"},
    )
    assert report.unresolved == ()
