"""Every rule, positive and negative, on small multi-file projects; expectations are inline comments."""

from __future__ import annotations

import pytest

MODELS = """
    from sqlalchemy import ForeignKey
    from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


    class Base(DeclarativeBase):
        pass


    class Account(Base):
        __tablename__ = "account"
        id: Mapped[int] = mapped_column(primary_key=True)
        events: Mapped[list["Event"]] = relationship(back_populates="account")


    class Event(Base):
        __tablename__ = "event"
        id: Mapped[int] = mapped_column(primary_key=True)
        account_id: Mapped[int] = mapped_column(ForeignKey("account.id"))
        account: Mapped[Account] = relationship(back_populates="events")

        @classmethod
        def record(cls, session, account_id):
            session.add(cls(account_id=account_id))
"""

DB = """
    from sqlalchemy import create_engine
    from sqlalchemy.orm import sessionmaker

    engine = create_engine("postgresql+psycopg://app@db/app")
    Session = sessionmaker(engine)
"""

ORM_TASKS = """
    from rq.decorators import job

    from app.db import Session
    from app.models import Event


    @job("default")
    def record_event(account_id):  # {expect}
        with Session.begin() as session:
            Event.record(session, account_id)
"""


def orm_project(expect: str, **extra: str) -> dict[str, str]:
    files = {
        "app/__init__.py": "",
        "app/models.py": MODELS,
        "app/db.py": DB,
        "app/tasks.py": ORM_TASKS.replace("# {expect}", f"# {expect}" if expect else ""),
    }
    files.update({k.replace("__", "/").replace("_py", ".py"): v for k, v in extra.items()})
    return files


# --- FRK101 / FRK102: what the parent has not done -------------------------------------------


def test_stock_rq_worker_flags_module_import_and_mappers(project):
    report = project.assert_expected(orm_project("FRK101:5 FRK102:5"), codes={"FRK101", "FRK102"})
    assert report.assumptions == ("no worker start-up found: assumed stock `rq worker`",)
    frk102 = next(f for f in report.findings if f.code == "FRK102")
    assert frk102.jobs == ("app.tasks.record_event",)
    assert frk102.trace[0].text.startswith("def record_event")
    assert any("Event.record" in step.text for step in frk102.trace)
    assert "start the worker with `rq worker -w forklint.rq.PreforkWorker`" in frk102.fix.summary
    assert frk102.fix.applicability == "safe"
    assert [e.path for e in frk102.fix.edits] == ["pyproject.toml"]
    assert report.prefork.imports[0] == "app.tasks"
    assert report.prefork.calls == ("sqlalchemy.orm:configure_mappers",)


STARTUP = """
    from redis import Redis
    from rq import Worker
    from sqlalchemy.orm import configure_mappers

    import app.tasks


    def main():
        configure_mappers()
        Worker(["default"], connection=Redis()).work()


    if __name__ == "__main__":
        main()
"""


def test_startup_function_that_preloads_and_configures_fixes_both(project):
    report = project.assert_expected(orm_project("", worker_py=STARTUP), codes={"FRK101", "FRK102"})
    assert report.assumptions == ()


def test_startup_fix_names_the_startup_function(project):
    startup = STARTUP.replace("        configure_mappers()\n", "")
    report = project.assert_expected(
        orm_project("FRK102:5", worker_py=startup), codes={"FRK101", "FRK102"}
    )
    fix = next(f for f in report.findings if f.code == "FRK102").fix
    assert fix.summary == "call configure_mappers() in worker.py:main() before Worker.work()"
    # the lines go into worker.py itself: no table, no other worker class
    assert fix.applicability == "safe" and {e.path for e in fix.edits} == {"worker.py"}
    added = "".join(e.content for e in fix.edits)
    assert "configure_mappers()" in added and "import app.tasks" not in added


def test_configure_mappers_before_the_models_are_imported_is_the_frk202_trap(project):
    trap = """
        from redis import Redis
        from rq import Worker
        from sqlalchemy.orm import configure_mappers

        configure_mappers()  # FRK202:1

        import app.tasks


        def main():
            Worker(["default"], connection=Redis()).work()
    """
    project.assert_expected(
        orm_project("FRK102:5", worker_py=trap), codes={"FRK101", "FRK102", "FRK202"}
    )


def test_script_startup_in_main_block(project):
    script = """
        from redis import Redis
        from rq import Worker
        from sqlalchemy.orm import configure_mappers

        import app.tasks

        if __name__ == "__main__":
            configure_mappers()
            worker = Worker(["default"], connection=Redis())
            worker.work()
    """
    project.assert_expected(orm_project("", worker_py=script), codes={"FRK101", "FRK102"})


def test_cli_function_startup(project):
    cli = """
        import click
        from redis import Redis
        from rq import Worker


        @click.command()
        def run_worker():
            import app.tasks
            from sqlalchemy.orm import configure_mappers

            configure_mappers()
            Worker(["default"], connection=Redis()).work(burst=False)
    """
    project.assert_expected(orm_project("", app__cli_py=cli), codes={"FRK101", "FRK102"})


def test_worker_subclass_that_configures_in_its_parent_side_init(project):
    worker = """
        from rq import Worker
        from sqlalchemy.orm import configure_mappers


        class PreloadingWorker(Worker):
            def __init__(self, *args, **kwargs):
                import app.tasks

                configure_mappers()
                super().__init__(*args, **kwargs)
    """
    files = orm_project(
        "",
        app__worker_py=worker,
        Procfile="worker: rq worker -w app.worker.PreloadingWorker default\n",
    )
    project.assert_expected(files, codes={"FRK101", "FRK102"})


def test_worker_subclass_doing_it_in_the_horse_does_not_help(project):
    worker = """
        from rq import Worker
        from sqlalchemy.orm import configure_mappers


        class LateWorker(Worker):
            def perform_job(self, job, queue):
                configure_mappers()
                return super().perform_job(job, queue)
    """
    files = orm_project(
        "FRK101:5 FRK102:5",
        app__worker_py=worker,
        Procfile="worker: rq worker -w app.worker.LateWorker default\n",
    )
    project.assert_expected(files, codes={"FRK101", "FRK102"})


def test_rq_settings_module_is_imported_by_the_parent(project):
    settings = """
        import app.tasks

        REDIS_URL = "redis://localhost:6379/0"
    """
    files = orm_project(
        "FRK102:5",
        app__settings_py=settings,
        Procfile="worker: rq worker -c app.settings default\n",
    )
    project.assert_expected(files, codes={"FRK101", "FRK102"})


def test_prefork_worker_from_dockerfile_with_table(project):
    files = orm_project(
        "",
        Dockerfile='FROM python:3.12\nCMD ["rq", "worker", "-w", "forklint.rq.PreforkWorker", "default"]\n',
        pyproject_toml='[tool.forklint.prefork]\nimports = ["app.tasks"]\ncalls = ["sqlalchemy.orm:configure_mappers"]\n',
    )
    files["pyproject.toml"] = files.pop("pyproject.toml", None) or files.pop("pyproject_toml")
    report = project.assert_expected(files, codes={"FRK101", "FRK102"})
    assert report.prefork == type(report.prefork)()


def test_prefork_worker_from_compose_without_calls_leaves_frk102(project):
    files = orm_project(
        "FRK102:5",
        **{
            "docker-compose.yml": "services:\n  worker:\n    command: rq worker -w forklint.rq.PreforkWorker default\n"
        },
    )
    files["pyproject.toml"] = '[tool.forklint.prefork]\nimports = ["app.tasks"]\n'
    report = project.assert_expected(files, codes={"FRK101", "FRK102"})
    assert report.prefork.calls == ("sqlalchemy.orm:configure_mappers",)


def test_simple_worker_and_spawn_worker_never_flag_lazy_setup(project):
    for cls in ("rq.SimpleWorker", "rq.worker.SpawnWorker"):
        files = orm_project("", Procfile=f"worker: rq worker -w {cls} default\n")
        project.assert_expected(files, codes={"FRK101", "FRK102", "FRK104", "FRK105"})


def test_job_receiving_a_mapped_instance_as_argument(project):
    tasks = """
        from rq.decorators import job

        from app.models import Event


        @job("default")
        def notify(event: Event):  # FRK102:5
            return event.id
    """
    files = {"app/__init__.py": "", "app/models.py": MODELS, "app/tasks.py": tasks}
    project.assert_expected(files, codes={"FRK102"})


def test_heavy_library_in_job_module_closure(project):
    files = {
        "app/__init__.py": "",
        "app/frames.py": "import pandas as pd\n\n\ndef frame(rows):\n    return pd.DataFrame(rows)\n",
        "app/reports.py": """
            from rq.decorators import job

            from app.frames import frame


            @job("reports")
            def totals(rows):  # FRK101:5
                return frame(rows).sum()


            @job("reports")
            def count(rows):  # FRK101:5
                return len(rows)
        """,
    }
    report = project.assert_expected(files, codes={"FRK101"})
    assert any("pandas" in f.message for f in report.findings)
    assert report.findings[0].trace[-1].text == "import pandas as pd"


def test_light_job_module_is_not_flagged(project):
    files = {
        "app/__init__.py": "",
        "app/tasks.py": "import json\nfrom rq.decorators import job\n\n\n@job('q')\ndef dump(x):\n    return json.dumps(x)\n",
    }
    project.assert_expected(files)


# --- FRK103 ----------------------------------------------------------------------------------


def test_heavy_call_two_calls_away_reported_once_for_every_job(project):
    files = {
        "app/__init__.py": "",
        "app/ml.py": """
            import joblib


            def predict(features):
                model = joblib.load("model.joblib")  # FRK103:13
                return model.predict([features])
        """,
        "app/scoring.py": "from app import ml\n\n\ndef score(features):\n    return ml.predict(features)\n",
        "app/tasks.py": """
            from rq.decorators import job

            from app.scoring import score


            @job("default")
            def one(features):
                return score(features)


            @job("default")
            def two(features):
                return score(features)
        """,
    }
    report = project.assert_expected(files, codes={"FRK103"})
    (finding,) = (
        report.findings
        if len(report.findings) == 1
        else [f for f in report.findings if f.code == "FRK103"]
    )
    assert finding.jobs == ("app.tasks.one", "app.tasks.two")
    assert [s.text for s in finding.trace][1:] == [
        "score(features)",
        "ml.predict(features)",
        'joblib.load("model.joblib")',
    ]


def test_heavy_call_inside_a_helper_is_one_finding_with_a_concrete_fix(project):
    files = {
        "app/__init__.py": "",
        "app/web.py": """
            from flask import Flask


            def create_app():
                app = Flask(__name__)  # FRK103:11
                return app
        """,
        "app/tasks.py": """
            from rq.decorators import job

            from app.web import create_app


            @job("default")
            def send(user_id):
                with create_app().app_context():
                    return user_id
        """,
    }
    report = project.assert_expected(files, codes={"FRK103"})
    (finding,) = [f for f in report.findings if f.code == "FRK103"]
    assert [s.text for s in finding.trace][1:] == ["create_app()", "Flask(__name__)"]
    assert finding.fix is not None
    # the outermost factory the job calls is memoised (create_app registers things on the app:
    # an inner Flask() getter would hand it out twice), in the job's module, and warmed
    fix = finding.fix
    assert fix.applicability == "unsafe"
    assert {e.path for e in fix.edits} == {"app/tasks.py", "pyproject.toml"}
    added = "".join(e.content for e in fix.edits)
    assert "def get_app():\n    return create_app()\n" in added
    assert "with get_app().app_context():" not in added  # only the call is replaced
    assert any(e.content == "get_app()" for e in fix.edits)
    assert fix.prefork is not None and fix.prefork.calls == ("app.tasks:get_app",)


def test_heavy_call_conditional_or_memoised_or_module_level_is_not_frk103(project):
    files = {
        "app/__init__.py": "",
        "app/tasks.py": """
            import functools

            import joblib
            import yaml
            from rq.decorators import job

            SETTINGS = yaml.safe_load(open("settings.yml"))


            @functools.lru_cache(maxsize=None)
            def model():
                return joblib.load("m.joblib")


            @job("default")
            def score(x, path=None):
                if path:
                    joblib.load(path)
                return model().predict(x) or (path and joblib.load(path))
        """,
    }
    project.assert_expected(files, codes={"FRK103"})


def test_heavy_call_in_celery_and_dramatiq_jobs(project):
    files = {
        "app/__init__.py": "",
        "app/c.py": """
            import spacy
            from celery import shared_task


            @shared_task
            def parse(text):
                nlp = spacy.load("en_core_web_sm")  # FRK103:11
                return nlp(text)
        """,
        "app/d.py": """
            import dramatiq
            from transformers import AutoModel


            @dramatiq.actor
            def embed(text):
                return AutoModel.from_pretrained("bert-base-uncased")(text)  # FRK103:12
        """,
    }
    project.assert_expected(files)


def test_config_heavy_calls_extend_the_catalog(project):
    files = {
        "pyproject.toml": '[tool.forklint]\nheavy-calls = ["vendor.sdk:Client"]\n',
        "app/__init__.py": "",
        "app/tasks.py": """
            from rq.decorators import job
            from vendor.sdk import Client as SDK


            @job("default")
            def call():
                return SDK().ping()  # FRK103:12
        """,
    }
    project.assert_expected(files, codes={"FRK103"})


# --- FRK104 / FRK105 -------------------------------------------------------------------------


def test_function_level_heavy_import_on_the_path(project):
    files = {
        "app/__init__.py": "",
        "app/charts.py": """
            def render(points):
                import json
                from matplotlib import pyplot  # FRK104:5

                return pyplot.plot(points), json
        """,
        "app/tasks.py": """
            from rq.decorators import job


            @job("default")
            def chart(points):
                from app.charts import render

                return render(points)
        """,
    }
    project.assert_expected(files, codes={"FRK104"})


def test_function_level_import_of_a_project_module_with_a_heavy_closure(project):
    files = {
        "app/__init__.py": "",
        "app/text.py": "import json\n",
        "app/render.py": "import jinja2\n\nfrom app import text\n\n\ndef render(name):\n    return name\n",
        "app/tasks.py": """
            import json

            from rq.decorators import job


            @job("default")
            def notify(name):
                from app.render import render  # FRK104:5
                from app.text import json as plain

                return render(name), plain, json
        """,
    }
    report = project.assert_expected(files, codes={"FRK104"})
    (finding,) = [f for f in report.findings if f.code == "FRK104"]
    assert [s.text for s in finding.trace][1:] == [
        "from app.render import render",
        "import jinja2",
    ]
    assert finding.fix is not None and finding.fix.prefork is not None
    assert finding.fix.prefork.imports == ("app.render",)


def test_heavy_import_preloaded_by_the_startup_is_fine(project):
    files = {
        "app/__init__.py": "",
        "app/tasks.py": "from rq.decorators import job\n\n\n@job('q')\ndef f():\n    import numpy\n    return numpy.zeros(3)\n",
        "worker.py": "import numpy\nfrom rq import Worker\n\nimport app.tasks\n\nWorker(['q']).work()\n",
    }
    project.assert_expected(files, codes={"FRK104"})


MEMO = """
    import functools

    import torch

    _tokenizer = None


    @functools.lru_cache(maxsize=None)
    def get_model():
        return torch.load("model.pt")


    def get_tokenizer():
        global _tokenizer
        if _tokenizer is None:
            _tokenizer = torch.load("tok.pt")
        return _tokenizer


    @functools.lru_cache(maxsize=None)
    def light():
        return {}
"""


def test_memoised_loaders_filled_in_the_horse(project):
    files = {
        "app/__init__.py": "",
        "app/ml.py": MEMO,
        "app/tasks.py": """
            from rq.decorators import job

            from app import ml


            @job("default")
            def predict(x):
                tokens = ml.get_tokenizer()(x)  # FRK105:14
                return ml.get_model()(tokens), ml.light()  # FRK105:12
        """,
    }
    report = project.assert_expected(files, codes={"FRK105"})
    # the anchor covers the whole call, not only the name
    spans = {(f.line, f.column, f.end_line, f.end_column) for f in report.findings}
    assert (8, 14, 8, 14 + len("ml.get_tokenizer()")) in spans
    assert report.prefork.calls == ("app.ml:get_tokenizer", "app.ml:get_model") or set(
        report.prefork.calls
    ) == {"app.ml:get_tokenizer", "app.ml:get_model"}


def test_memoised_loaders_warmed_by_the_startup(project):
    files = {
        "app/__init__.py": "",
        "app/ml.py": MEMO,
        "app/tasks.py": """
            from rq.decorators import job

            from app import ml


            @job("default")
            def predict(x):
                return ml.get_model()(ml.get_tokenizer()(x))
        """,
        "run_worker.py": """
            from redis import Redis
            from rq import Worker

            import app.tasks
            from app.ml import get_model, get_tokenizer


            def warm():
                get_model()
                get_tokenizer()


            def main():
                warm()
                Worker(["default"], connection=Redis()).work()
        """,
    }
    project.assert_expected(files, codes={"FRK105", "FRK101"})


# --- FRK201 / FRK202 -------------------------------------------------------------------------


def test_queries_at_import(project):
    files = {
        "app/__init__.py": "",
        "app/models.py": MODELS,
        "app/db.py": DB,
        "app/constants.py": """
            import psycopg2
            from sqlalchemy import select, text

            from app.db import Session, engine
            from app.models import Account

            FIRST = Session().scalars(select(Account)).first()  # FRK201:9
            conn = psycopg2.connect("dbname=app")  # FRK201:8
            with engine.begin() as c:  # FRK201:6
                c.execute(text("SELECT 1"))


            class Defaults:
                n = engine.connect().scalar(text("SELECT 1"))  # FRK201:9


            def later():
                return Session().query(Account).all()


            if __name__ == "__main__":
                print(Session().query(Account).count())
        """,
        "app/views.py": "from app.constants import FIRST\n",
    }
    project.assert_expected(files, codes={"FRK201"})


def test_flask_sqlalchemy_model_query_at_import(project):
    files = {
        "app/__init__.py": "",
        "app/ext.py": "from flask_sqlalchemy import SQLAlchemy\n\ndb = SQLAlchemy()\n",
        "app/models.py": """
            from app.ext import db


            class User(db.Model):
                id = db.Column(db.Integer, primary_key=True)


            ADMINS = User.query.filter_by(admin=True).all()  # FRK201:10
            db.session.execute("SELECT 1")  # FRK201:1
        """,
    }
    project.assert_expected(files, codes={"FRK201"})


def test_configure_mappers_placement(project):
    files = {
        "app/__init__.py": "",
        "app/base.py": """
            from sqlalchemy.orm import DeclarativeBase, configure_mappers


            class Base(DeclarativeBase):
                pass


            Base.registry.configure()  # FRK202:1
        """,
        "app/models.py": """
            from sqlalchemy.orm import Mapped, configure_mappers, mapped_column

            from app.base import Base

            configure_mappers()  # FRK202:1


            class Thing(Base):
                __tablename__ = "thing"
                id: Mapped[int] = mapped_column(primary_key=True)


            configure_mappers()
        """,
    }
    project.assert_expected(files, codes={"FRK202"})


# --- FRK301 / FRK302 / FRK303 ----------------------------------------------------------------

MONGO_TASKS = """
    from rq.decorators import job

    from app.store import events


    @job("default")
    def record(kind):
        events.insert_one({"kind": kind})
"""


def test_client_created_at_import_of_a_preloaded_module(project):
    files = {
        "app/__init__.py": "",
        "app/store.py": """
            from pymongo import MongoClient

            client = MongoClient("mongodb://mongo")  # FRK303:10
            events = client.db.events
        """,
        "app/tasks.py": MONGO_TASKS,
        "worker.py": "from rq import Worker\n\nimport app.tasks\n\nWorker(['default']).work()\n",
    }
    report = project.assert_expected(files, codes={"FRK301", "FRK302", "FRK303"})
    (finding,) = report.findings
    assert finding.jobs == ("app.tasks.record",)
    assert [s.path for s in finding.trace] == ["worker.py", "app/tasks.py", "app/store.py"]


def test_a_mongo_client_built_with_connect_false_opens_nothing_before_the_fork(project):
    # held-out kobocat/kpi: `MongoClient(url, connect=False)` in the settings Django loads in the
    # Celery parent; PyMongo starts no monitor thread and no socket until the first operation
    files = {
        "app/__init__.py": "",
        "app/store.py": """
            from pymongo import MongoClient

            client = MongoClient("mongodb://mongo", connect=False, tz_aware=True)
            events = client.db.events
        """,
        "app/tasks.py": MONGO_TASKS,
        "worker.py": "from rq import Worker\n\nimport app.tasks\n\nWorker(['default']).work()\n",
    }
    project.assert_expected(files, codes={"FRK303"})


def test_client_finding_lists_only_the_jobs_that_use_the_client(project):
    files = {
        "app/__init__.py": "",
        "app/store.py": """
            from pymongo import MongoClient

            client = MongoClient("mongodb://mongo")  # FRK303:10
        """,
        "app/tasks.py": """
            from rq.decorators import job

            from app import store


            @job("default")
            def record(kind):
                store.client.db.events.insert_one({"kind": kind})


            @job("default")
            def ping():
                return 1
        """,
        "worker.py": "from rq import Worker\n\nimport app.tasks\n\nWorker(['default']).work()\n",
    }
    report = project.assert_expected(files, codes={"FRK303"})
    (finding,) = [f for f in report.findings if f.code == "FRK303"]
    assert finding.jobs == ("app.tasks.record",)
    assert finding.fix is not None and finding.fix.applicability == "safe"
    added = "".join(e.content for e in finding.fix.edits)
    assert 'client = MongoClient("mongodb://mongo")' in added
    assert "os.register_at_fork(after_in_child=reset_client_after_fork)" in added


def test_client_created_at_import_with_stock_worker_is_created_in_the_horse(project):
    files = {
        "app/__init__.py": "",
        "app/store.py": "from pymongo import MongoClient\n\nclient = MongoClient('m')\nevents = client.db.events\n",
        "app/tasks.py": MONGO_TASKS,
    }
    project.assert_expected(files, codes={"FRK301", "FRK302", "FRK303"})


def test_register_at_fork_resets(project):
    files = {
        "app/__init__.py": "",
        "app/db.py": """
            import os

            from sqlalchemy import create_engine, text

            engine = create_engine("postgresql://db/app")
            with engine.connect() as conn:  # FRK201:6
                conn.execute(text("SELECT 1"))
            os.register_at_fork(after_in_child=lambda: engine.dispose(close=False))
        """,
        "app/tasks.py": "from rq.decorators import job\n\nfrom app.db import engine\n\n\n@job('q')\ndef f():\n    return engine\n",
        "worker.py": "from rq import Worker\n\nimport app.tasks\n\nWorker(['q']).work()\n",
    }
    project.assert_expected(files, codes={"FRK201", "FRK301", "FRK303"})


def test_register_at_fork_handler_resets_only_what_it_touches(project):
    files = {
        "app/__init__.py": "",
        "app/db.py": """
            import os

            from pymongo import MongoClient
            from sqlalchemy import create_engine, text

            engine = create_engine("postgresql://db/app")
            with engine.connect() as conn:  # FRK201:6
                conn.execute(text("SELECT 1"))
            mongo = MongoClient("mongodb://mongo")  # FRK303:9


            def reset_engine():
                engine.dispose(close=False)


            os.register_at_fork(after_in_child=reset_engine)
        """,
        "app/tasks.py": "from rq.decorators import job\n\nfrom app.db import engine, mongo\n\n\n@job('q')\ndef f():\n    return engine, mongo.db\n",
        "worker.py": "from rq import Worker\n\nimport app.tasks\n\nWorker(['q']).work()\n",
    }
    project.assert_expected(files, codes={"FRK201", "FRK301", "FRK303"})


def test_connected_pool_in_celery_parent_without_reset(project):
    files = {
        "app/__init__.py": "",
        "app/db.py": "from sqlalchemy import create_engine\n\nengine = create_engine('postgresql://db/app')\n",
        "app/celery_app.py": """
            import threading

            from celery import Celery
            from celery.signals import worker_init

            from app.db import engine

            app = Celery("app", include=["app.tasks"])


            @worker_init.connect
            def warm(**kwargs):
                engine.connect().close()  # FRK301:5
                threading.Thread(target=print).start()  # FRK302:5
        """,
        "app/tasks.py": """
            from app.celery_app import app
            from app.db import engine


            @app.task
            def ping():
                with engine.connect() as conn:
                    return conn
        """,
    }
    project.assert_expected(files, codes={"FRK301", "FRK302", "FRK303"})


def test_thread_subclass_started_by_startup(project):
    files = {
        "app/__init__.py": "",
        "app/tasks.py": "from rq.decorators import job\n\n\n@job('q')\ndef f():\n    return 1\n",
        "app/beat.py": "import threading\n\n\nclass Heartbeat(threading.Thread):\n    daemon = True\n",
        "worker.py": """
            from concurrent.futures import ThreadPoolExecutor

            from rq import Worker

            from app.beat import Heartbeat

            POOL = ThreadPoolExecutor(2)  # builds no thread until work is submitted
            IDLE = ThreadPoolExecutor(2)
            POOL.submit(print, "warm")  # FRK302:1


            def main():
                beat = Heartbeat()
                beat.start()  # FRK302:5
                Worker(["q"]).work()
        """,
    }
    project.assert_expected(files, codes={"FRK302"})


# --- fork models -----------------------------------------------------------------------------


def test_celery_max_tasks_per_child_one_forks_per_task(project):
    celery_app = 'from celery import Celery\n\napp = Celery("app", include=["app.tasks"])\napp.conf.worker_max_tasks_per_child = 1\n'
    tasks = """
        from app.celery_app import app
        from app.db import Session
        from app.models import Event


        @app.task
        def record_event(account_id):  # FRK102:5
            with Session.begin() as session:
                Event.record(session, account_id)
    """
    files = {
        "app/__init__.py": "",
        "app/models.py": MODELS,
        "app/db.py": DB,
        "app/celery_app.py": celery_app,
        "app/tasks.py": tasks,
    }
    project.assert_expected(files, codes={"FRK101", "FRK102"})
    files["app/celery_app.py"] = celery_app.replace("app.conf.worker_max_tasks_per_child = 1\n", "")
    files["app/tasks.py"] = tasks.replace("  # FRK102:5", "")
    project.assert_expected(files, codes={"FRK101", "FRK102"})


def test_celery_command_line_max_tasks_per_child(project):
    files = {
        "app/__init__.py": "",
        "app/models.py": MODELS,
        "app/db.py": DB,
        "app/celery_app.py": 'from celery import Celery\n\napp = Celery("app")\n',
        "app/tasks.py": ORM_TASKS.replace(
            "from rq.decorators import job", "from app.celery_app import app"
        )
        .replace('@job("default")', "@app.task")
        .replace("# {expect}", "# FRK102:5"),
        "Procfile": "worker: celery -A app.celery_app worker --max-tasks-per-child=1\n",
    }
    project.assert_expected(files, codes={"FRK101", "FRK102"})


def test_dramatiq_jobs_only_get_frk103(project):
    files = {
        "app/__init__.py": "",
        "app/models.py": MODELS,
        "app/db.py": DB,
        "app/tasks.py": ORM_TASKS.replace("from rq.decorators import job", "import dramatiq")
        .replace('@job("default")', "@dramatiq.actor")
        .replace("# {expect}", ""),
    }
    project.assert_expected(files)


# --- whole-program behaviour -----------------------------------------------------------------


def test_findings_only_in_given_paths(project):
    files = orm_project("FRK101:5 FRK102:5")
    project(files)
    report = project(files, paths=[project.root / "app" / "models.py"])
    assert report.findings == ()
    report = project(files, paths=[project.root / "app" / "tasks.py"])
    assert {f.code for f in report.findings} == {"FRK101", "FRK102"}


def test_analysed_code_is_never_imported(project, tmp_path):
    marker = tmp_path / "imported.marker"
    bomb = f"open({str(marker)!r}, 'w').write('x')\n"
    files = {
        "app/__init__.py": bomb,
        "app/tasks.py": bomb
        + "from rq.decorators import job\n\n\n@job('q')\ndef f():\n    import pandas\n",
        "worker.py": bomb + "from rq import Worker\nWorker(['q']).work()\n",
        "conftest.py": bomb,
        "setup.py": bomb,
    }
    report = project(files)
    assert report.jobs == 1
    assert not marker.exists()


def test_syntax_error_does_not_stop_the_run(project):
    files = {
        "app/__init__.py": "",
        "app/broken.py": "def f(:\n    pass\n",
        "app/deep.py": "x = " + "(" * 200 + "1" + ")" * 200 + "\n",
        "app/tasks.py": "import joblib\nfrom rq.decorators import job\n\n\n@job('q')\ndef f():\n    joblib.load('m')\n",
    }
    report = project(files)
    codes = {(f.code, f.path, f.line) for f in report.findings}
    assert ("FRK001", "app/broken.py", 1) in codes
    assert ("FRK103", "app/tasks.py", 7) in codes


def test_celery_prefork_pool_shares_clients_created_at_import(project):
    files = {
        "app/__init__.py": "",
        "app/celeryconfig.py": "broker_url = 'redis://'\n",
        "app/celery_app.py": "from celery import Celery\n\napp = Celery('app')\napp.config_from_object('app.celeryconfig')\n",
        "app/tasks.py": """
            from kafka import KafkaProducer

            from app.celery_app import app

            producer = KafkaProducer(bootstrap_servers="kafka:9092")  # FRK303:12


            @app.task
            def publish(value):
                producer.send("events", value)
        """,
    }
    project.assert_expected(files, codes={"FRK303"})


CELERY_RESET = """
    from celery.signals import worker_process_init
    from kafka import KafkaProducer

    import app.tasks
    from app.db import engine


    @worker_process_init.connect
    def reconnect(**kwargs):
        engine.dispose(close=False)
        {client_reset}
"""


def celery_kafka_project(client_reset: str, expect: str) -> dict[str, str]:
    return {
        "app/__init__.py": "",
        "app/db.py": "from sqlalchemy import create_engine\n\nengine = create_engine('postgresql://db')\n",
        "app/celery_app.py": "from celery import Celery\n\napp = Celery('app')\n",
        "app/tasks.py": f"""
            from kafka import KafkaProducer

            from app.celery_app import app

            producer = KafkaProducer(bootstrap_servers="kafka:9092")  {expect}


            @app.task
            def publish(value):
                producer.send("events", value)


            def reopen():
                global producer
                producer = KafkaProducer()
        """,
        "app/signals.py": CELERY_RESET.replace("{client_reset}", client_reset),
    }


def test_worker_process_init_handler_resets_only_what_it_touches(project):
    # disposing the engine does nothing for the Kafka producer the children share
    files = celery_kafka_project("pass", "# FRK303:12")
    project.assert_expected(files, codes={"FRK303"})


@pytest.mark.parametrize(
    "client_reset",
    [
        "app.tasks.producer.close()",
        "app.tasks.producer = KafkaProducer()",
        "app.tasks.reopen()",
    ],
)
def test_worker_process_init_handler_that_resets_the_client(project, client_reset):
    files = celery_kafka_project(client_reset, "")
    project.assert_expected(files, codes={"FRK303"})


def test_django_queries_at_import_and_before_the_fork(project):
    files = {
        "shop/__init__.py": "",
        "shop/models.py": "from django.db import models\n\n\nclass Price(models.Model):\n    amount = models.IntegerField()\n",
        "shop/rates.py": """
            from django.db import connection

            from shop.models import Price

            DEFAULT = Price.objects.first()  # FRK201:11 FRK301:11
            cursor = connection.cursor()  # FRK201:10 FRK301:10
        """,
        "shop/tasks.py": "from rq.decorators import job\n\nfrom shop.rates import DEFAULT\n\n\n@job('q')\ndef reprice():\n    return DEFAULT\n",
        "worker.py": "from rq import Worker\n\nimport shop.tasks\n\nWorker(['q']).work()\n",
    }
    project.assert_expected(files, codes={"FRK201", "FRK301"})


MAPPED_FORMS = {
    "declarative_base": (
        "from sqlalchemy.orm import declarative_base\n\nBase = declarative_base()\n",
        "class Thing(Base):\n    __tablename__ = 't'\n",
    ),
    "registry-generate-base": (
        "from sqlalchemy.orm import registry\n\nreg = registry()\nBase = reg.generate_base()\n",
        "class Thing(Base):\n    __tablename__ = 't'\n",
    ),
    "registry-mapped-decorator": (
        "from sqlalchemy.orm import registry\n\nreg = registry()\n",
        "@reg.mapped\nclass Thing:\n    __tablename__ = 't'\n",
    ),
    "flask-sqlalchemy": (
        "from flask_sqlalchemy import SQLAlchemy\n\ndb = SQLAlchemy()\nBase = db.Model\n",
        "class Thing(Base):\n    pass\n",
    ),
    "sqlmodel": (
        "from sqlmodel import SQLModel\n\nBase = SQLModel\n",
        "class Thing(Base, table=True):\n    pass\n",
    ),
}


def test_mapped_class_forms(project):
    for name, (base, model) in MAPPED_FORMS.items():
        files = {
            "app/__init__.py": "",
            "app/base.py": base,
            "app/models.py": "from app.base import *\n\n\n" + model,
            "app/tasks.py": "from rq.decorators import job\n\nfrom app.models import Thing\n\n\n@job('q')\ndef make():  # FRK102:5\n    return Thing()\n",
        }
        assert project.found(files, {"FRK102"}) == {("FRK102", "app/tasks.py", 7, 5)}, name


def test_abstract_and_plain_classes_are_not_mapped(project):
    files = {
        "app/__init__.py": "",
        "app/models.py": MODELS
        + "\n\nclass Mixin(Base):\n    __abstract__ = True\n\n\nclass Plain:\n    pass\n",
        "app/tasks.py": "from rq.decorators import job\n\nfrom app.models import Mixin, Plain\n\n\n@job('q')\ndef make():\n    return Plain(), Mixin\n",
    }
    project.assert_expected(files, codes={"FRK102"})


def test_frk202_ignores_test_modules_models(project):
    files = {
        "app/__init__.py": "",
        "app/models.py": MODELS
        + "\n\nfrom sqlalchemy.orm import configure_mappers\n\nconfigure_mappers()\n",
        "tests/test_models.py": "from app.models import Base\n\n\nclass Fake(Base):\n    __tablename__ = 'fake'\n",
    }
    project.assert_expected(files, codes={"FRK202"})


def test_call_graph_follows_methods_classmethods_partials_and_decorators(project):
    files = {
        "app/__init__.py": "",
        "app/service.py": """
            import functools
            import pickle

            import torch


            def traced(func):
                @functools.wraps(func)
                def wrapper(*args, **kwargs):
                    return func(*args, **kwargs)

                return wrapper


            class Base:
                def load(self):
                    return self._read()

                def _read(self):
                    return torch.load("weights.pt")  # FRK103:16


            class Service(Base):
                @classmethod
                def build(cls):
                    return cls()

                @staticmethod
                def unpickle(blob):
                    return pickle.loads(blob)  # the job's own input: nothing to hoist


            @traced
            def decorated(path):
                return open(path).read()


            read_weights = functools.partial(torch.load, "other.pt")
        """,
        "app/tasks.py": """
            from rq.decorators import job

            from app.service import Service, decorated, read_weights


            @job("q")
            def run(blob):
                svc = Service.build()
                svc.load()
                Service.unpickle(blob)
                read_weights()  # FRK103:5
                return decorated("x")
        """,
    }
    project.assert_expected(files, codes={"FRK103"})


def test_cached_property_filled_in_the_horse_or_warmed_in_the_parent(project):
    service = """
        from functools import cached_property

        import joblib


        class Scorer:
            @cached_property
            def model(self):
                return joblib.load("m.joblib")

            @cached_property
            def name(self):
                return "scorer"


        SCORER = Scorer()
    """
    tasks = """
        from rq.decorators import job

        from app.service import SCORER


        @job("q")
        def score(x):
            return SCORER.model.predict(x), SCORER.name  # FRK105:12
    """
    files = {"app/__init__.py": "", "app/service.py": service, "app/tasks.py": tasks}
    project.assert_expected(files, codes={"FRK105", "FRK103"})
    files["worker.py"] = (
        "from rq import Worker\n\nimport app.tasks\nfrom app.service import SCORER\n\n\n"
        "def main():\n    SCORER.model\n    Worker(['q']).work()\n"
    )
    files["app/tasks.py"] = tasks.replace("  # FRK105:12", "")
    project.assert_expected(files, codes={"FRK105", "FRK103"})
