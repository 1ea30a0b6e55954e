"""Job discovery: every form of the spec's "Job discovery", names resolved through imports and aliases."""

from __future__ import annotations

import pytest

RQ_FORMS = {
    "decorator": """
        from rq.decorators import job

        @job("default")
        def work(): pass
    """,
    "decorator-module-alias": """
        from rq import decorators as d

        @d.job("default")
        def work(): pass
    """,
    "decorator-import-alias": """
        import rq.decorators as _dec

        @_dec.job("default")
        def work(): pass
    """,
    "partial-wrapper": """
        from functools import partial
        from rq.decorators import job

        background = partial(job, "default")

        @background()
        def work(): pass
    """,
    "enqueue-function": """
        from redis import Redis
        from rq import Queue

        def work(): pass

        def view():
            Queue(connection=Redis()).enqueue(work, 1)
    """,
    "enqueue-string": """
        import rq

        def work(): pass

        q = rq.Queue("default")
        q.enqueue("app.tasks.work")
    """,
    "enqueue-call-keyword": """
        from rq import Queue

        def work(): pass

        def view(q: Queue):
            q.enqueue_call(func=work)
    """,
    "enqueue-at": """
        from datetime import datetime
        from rq import Queue

        def work(): pass

        def view():
            Queue().enqueue_at(datetime(2030, 1, 1), work)
    """,
    "enqueue-in-unresolved-queue": """
        from datetime import timedelta
        from app.queues import get_queue

        def work(): pass

        def view():
            get_queue().enqueue_in(timedelta(seconds=5), work)
    """,
    "enqueue-many-prepare-data": """
        from rq import Queue

        def work(): pass

        def view(q):
            q.enqueue_many([Queue.prepare_data(work, (1,))])
    """,
    "job-create": """
        from rq.job import Job

        def work(): pass

        def view(redis):
            Job.create(func=work, connection=redis)
    """,
    "callback": """
        from rq import Callback, Queue

        def report(job, connection, result): pass

        def view():
            Queue().enqueue(print, on_success=Callback(report))
    """,
    "on-failure-function": """
        from rq import Queue

        def work(job, connection, *exc_info): pass

        def view():
            Queue().enqueue(print, on_failure=work)
    """,
    "rq-scheduler": """
        from datetime import datetime
        from rq_scheduler import Scheduler

        def work(): pass

        scheduler = Scheduler(connection=None)
        scheduler.schedule(scheduled_time=datetime.utcnow(), func=work, interval=60)
    """,
    "rq-scheduler-cron": """
        from rq_scheduler import Scheduler

        def work(): pass

        Scheduler().cron("0 9 * * *", func=work)
    """,
    "rq-cron": """
        from rq import cron

        def work(): pass

        cron.register(work, queue_name="default", cron="0 9 * * *")
    """,
    "django-rq-decorator": """
        import django_rq

        @django_rq.job
        def work(): pass
    """,
    "django-rq-get-queue": """
        import django_rq

        def work(): pass

        def view():
            django_rq.get_queue("default").enqueue(work)
    """,
    "flask-rq2": """
        from flask import Flask
        from flask_rq2 import RQ

        rq = RQ(Flask(__name__))

        @rq.job
        def work(): pass
    """,
}


@pytest.mark.parametrize("form", sorted(RQ_FORMS))
def test_rq_job_forms(model, form):
    m = model({"app/__init__.py": "", "app/tasks.py": RQ_FORMS[form]})
    names = {fq for fq, framework in m.job_names if framework == "rq"}
    assert any(fq in names for fq in ("app.tasks.work", "app.tasks.report")), m.job_names


OTHER_FORMS = {
    "celery-app-task": (
        "celery",
        """
        from celery import Celery

        app = Celery("app")

        @app.task
        def work(): pass
    """,
    ),
    "celery-app-task-called": (
        "celery",
        """
        from celery import Celery

        celery = Celery("app")

        @celery.task(bind=True)
        def work(self): pass
    """,
    ),
    "celery-shared-task": (
        "celery",
        """
        from celery import shared_task

        @shared_task
        def work(): pass
    """,
    ),
    "celery-task-class": (
        "celery",
        """
        from celery import Task

        class Work(Task):
            def run(self): pass
    """,
    ),
    "celery-app-task-class": (
        "celery",
        """
        from celery import Celery

        app = Celery("app")

        class Work(app.Task):
            def run(self): pass
    """,
    ),
    "dramatiq": (
        "dramatiq",
        """
        import dramatiq

        @dramatiq.actor
        def work(): pass
    """,
    ),
    "dramatiq-from-import": (
        "dramatiq",
        """
        from dramatiq import actor

        @actor(queue_name="q")
        def work(): pass
    """,
    ),
    "huey-task": (
        "huey",
        """
        from huey import RedisHuey

        huey = RedisHuey("app")

        @huey.task()
        def work(): pass
    """,
    ),
    "huey-periodic": (
        "huey",
        """
        from huey import RedisHuey, crontab

        huey = RedisHuey("app")

        @huey.periodic_task(crontab(minute="0"))
        def work(): pass
    """,
    ),
    "huey-django": (
        "huey",
        """
        from huey.contrib.djhuey import db_task

        @db_task()
        def work(): pass
    """,
    ),
    "huey-django-instance": (
        # held-out linkding: django-huey's own instance, imported under the name `huey`
        "huey",
        """
        from huey import crontab
        from huey.contrib.djhuey import HUEY as huey

        @huey.periodic_task(crontab(minute="*"))
        @huey.lock_task("work-lock")
        def work(): pass
    """,
    ),
    "django-huey-package": (
        # held-out tubesync: the django-huey package's decorators, one queue each
        "huey",
        """
        from django_huey import db_task

        @db_task(queue="filesystem")
        def work(): pass
    """,
    ),
}


@pytest.mark.parametrize("form", sorted(OTHER_FORMS))
def test_other_framework_forms(model, form):
    framework, source = OTHER_FORMS[form]
    m = model({"app/__init__.py": "", "app/tasks.py": source})
    assert {framework} == {fw for _, fw in m.job_names}
    assert {fq for fq, _ in m.job_names} <= {"app.tasks.work", "app.tasks.Work.run"}


def test_reexport_through_package_init(model):
    m = model(
        {
            "app/__init__.py": "from .tasks import work as public_work\n",
            "app/tasks.py": "def work(): pass\n",
            "app/views.py": """
            from rq import Queue
            from app import public_work

            def view():
                Queue().enqueue(public_work)
        """,
        }
    )
    assert m.job_names == {("app.tasks.work", "rq")}


def test_an_enqueued_string_constant_names_its_job(model):
    # held-out dioptra: `JOB: Final[str] = "app.jobs.run"` in one module, imported and enqueued
    # by name in another; `app/jobs/__init__.py` re-exports `run` from its submodule `run`, and
    # RQ imports `app.jobs` and takes its attribute: the function, not the submodule
    m = model(
        {
            "app/__init__.py": "",
            "app/jobs/__init__.py": "from .run import run\n",
            "app/jobs/run.py": "def run(job_id): pass\n",
            "app/names.py": 'from typing import Final\nJOB: Final[str] = "app.jobs.run"\n',
            "app/service.py": """
            from rq import Queue
            from app.names import JOB

            def submit(q: Queue, job_id):
                q.enqueue(JOB, job_id)
        """,
        }
    )
    assert m.job_names == {("app.jobs.run.run", "rq")}


def test_a_job_decorator_applied_as_a_call_makes_a_job(model):
    # Metecho: `create_repository_job = job(create_repository)` (django-rq takes the function);
    # `job("high")(fn)` and `app.task(fn)` too; `job("default")` alone builds a decorator
    m = model(
        {
            "app/__init__.py": "",
            "app/jobs.py": """
            from celery import Celery
            from django_rq import job
            from rq.decorators import job as rq_job

            app = Celery("app")


            def create_repo(name): pass
            def refresh(org): pass
            def notify(user): pass
            def helper(x): pass


            create_repo_job = job(create_repo)
            refresh_job = rq_job("high")(refresh)
            notify_task = app.task(notify)
            default = job("default")
            print(helper)
        """,
        }
    )
    assert m.job_names == {
        ("app.jobs.create_repo", "rq"),
        ("app.jobs.refresh", "rq"),
        ("app.jobs.notify", "celery"),
    }


def test_a_helper_that_enqueues_its_parameter_makes_jobs_of_what_callers_pass(model):
    # held-out okpy: `def enqueue_job(func, *args): q.enqueue_call(func=func, args=args)`,
    # called `enqueue_job(grade, backup_id)`; beautiful-sat-solver passes a dotted path
    m = model(
        {
            "app/__init__.py": "",
            "app/queueing.py": """
            from rq import Queue


            def enqueue_job(func, *args):
                return Queue().enqueue_call(func=func, args=args)
        """,
            "app/grading.py": """
            from app.queueing import enqueue_job


            def grade(backup_id): pass
            def regrade(backup_id): pass


            def submit(backup_id):
                enqueue_job(grade, backup_id)
                enqueue_job("app.grading.regrade", backup_id)
                enqueue_job("app.grading.unknown", backup_id)
        """,
        }
    )
    assert m.job_names == {("app.grading.grade", "rq"), ("app.grading.regrade", "rq")}


def test_a_helper_that_forwards_its_star_args_to_enqueue_makes_jobs_of_what_callers_pass(model):
    # held-out eda-server: `def unique_enqueue(queue_name, job_id, *args, **kwargs)` ends in
    # `queue.enqueue(*args, **kwargs)`, and `enqueue_delay(queue_name, job_id, delay, *args)` in
    # `scheduler.enqueue_at(when, job_id=job_id, *args)`: the function is the first of `*args`
    m = model(
        {
            "app/__init__.py": "",
            "app/tasking.py": """
            from datetime import datetime, timedelta

            import django_rq


            def unique_enqueue(queue_name, job_id, *args, **kwargs):
                kwargs["job_id"] = job_id
                return django_rq.get_queue(name=queue_name).enqueue(*args, **kwargs)


            def enqueue_delay(queue_name, job_id, delay, *args, **kwargs):
                when = datetime.utcnow() + timedelta(seconds=delay)
                return django_rq.get_scheduler(name=queue_name).enqueue_at(when, job_id=job_id, *args)


            def spread(*args):
                return print(*args)
        """,
            "app/jobs.py": """
            from app import tasking


            def gather(): pass
            def restart(activation_id): pass
            def not_a_job(): pass


            def schedule():
                tasking.unique_enqueue("default", "gather", gather)
                tasking.enqueue_delay("default", "restart-1", 30, restart, 1)
                tasking.spread(not_a_job)
        """,
        }
    )
    assert m.job_names == {("app.jobs.gather", "rq"), ("app.jobs.restart", "rq")}


def test_horse_side_worker_methods_are_on_every_jobs_path(model):
    m = model(
        {
            "app/__init__.py": "",
            "app/worker.py": """
            from rq import Worker

            class AuditWorker(Worker):
                def perform_job(self, job, queue):
                    return super().perform_job(job, queue)

                def work(self, *args, **kwargs):
                    return super().work(*args, **kwargs)
        """,
        }
    )
    assert m.job_names == {("app.worker.AuditWorker.perform_job", "rq")}


def test_config_job_decorators_and_jobs(model):
    m = model(
        {
            "pyproject.toml": """
            [tool.forklint]
            job-decorators = ["app.bg:background"]
            jobs = ["app.tasks:plain"]
        """,
            "app/__init__.py": "",
            "app/bg.py": "def background(f):\n    return f\n",
            "app/tasks.py": """
            from app.bg import background

            @background
            def decorated(): pass

            def plain(): pass

            def other(): pass
        """,
        }
    )
    assert {fq for fq, _ in m.job_names} == {"app.tasks.decorated", "app.tasks.plain"}


def test_a_plain_function_is_not_a_job(model):
    m = model(
        {
            "app/__init__.py": "",
            "app/tasks.py": """
            import functools

            @functools.lru_cache
            def helper(): pass

            def enqueue(f): pass

            enqueue(helper)
        """,
        }
    )
    assert m.job_names == set()


COMPUTED_NAME = {
    "app/__init__.py": "",
    "app/tasks.py": "def export_posts(user_id): pass\n\ndef unused(user_id): pass\n",
    "app/models.py": """
    from flask import current_app

    class User:
        def launch_task(self, name, description, *args):
            return current_app.task_queue.enqueue(f"app.tasks.{name}", self.id, *args)
""",
    "app/routes.py": """
    from flask_login import current_user

    def export():
        current_user.launch_task("export_posts", "Exporting posts...")

    def other(kind):
        current_user.launch_task(kind, "not a literal")
""",
}


def test_an_enqueued_name_built_from_a_parameter_names_what_the_callers_pass(model):
    # `enqueue(f"app.tasks.{name}")` in `User.launch_task(self, name, ...)`, called through an
    # object forklint cannot type (`current_user`) with a literal: that literal's job
    m = model(COMPUTED_NAME)
    assert m.job_names == {("app.tasks.export_posts", "rq")}


def test_an_enqueued_name_concatenated_from_a_parameter_and_a_keyword_caller(model):
    m = model(
        {
            "app/__init__.py": "",
            "app/tasks.py": "def rebuild(): pass\n",
            "app/jobs.py": """
            from rq import Queue

            def launch(name):
                Queue().enqueue("app.tasks." + name)

            def nightly():
                launch(name="rebuild")
        """,
        }
    )
    assert m.job_names == {("app.tasks.rebuild", "rq")}


def test_a_computed_name_is_no_job_when_the_caller_is_ambiguous_or_only_a_test(model):
    # Two project methods named launch_task: a call on an untyped object may be either
    files = dict(COMPUTED_NAME)
    files["app/other.py"] = "class Team:\n    def launch_task(self, name): pass\n"
    assert model(files).job_names == set()
    # The only literal caller is a test: not a deployment
    files = dict(COMPUTED_NAME)
    files["app/routes.py"] = "def export(): pass\n"
    files["tests/test_routes.py"] = (
        "from flask_login import current_user\n\n"
        "def test_export():\n    current_user.launch_task('export_posts', 'x')\n"
    )
    assert model(files).job_names == set()


def test_a_project_decorator_that_applies_a_frameworks_decorator_makes_jobs(model):
    # held-out checkmate: `def pipeline_task(fn): return app.task(autoretry_for=...)(fn)`;
    # linkding: `def task(retries=5): def deco(fn): ... return huey.task(...)(inner)`. A project
    # decorator that calls a framework's decorator on something else makes no job.
    m = model(
        {
            "app/__init__.py": "",
            "app/celery_app.py": "from celery import Celery\n\napp = Celery('app')\n",
            "app/huey_app.py": "from huey import RedisHuey\n\nhuey = RedisHuey('app')\n",
            "app/deco.py": """
            import functools

            from app.celery_app import app
            from app.huey_app import huey


            def pipeline_task(wrapped):
                return app.task(autoretry_for=(OSError,))(wrapped)


            def task(retries=5):
                def deco(fn):
                    @functools.wraps(fn)
                    def inner(*args, **kwargs):
                        return fn(*args, **kwargs)

                    return huey.task(retries=retries)(inner)

                return deco


            def housekeeping():
                pass


            def logged(fn):
                app.task()(housekeeping)
                return fn
        """,
            "app/tasks.py": """
            from app.deco import logged, pipeline_task, task


            @pipeline_task
            def sync(): pass


            @task(retries=3)
            def snapshot(): pass


            @logged
            def plain(): pass
        """,
        }
    )
    assert m.job_names == {("app.tasks.sync", "celery"), ("app.tasks.snapshot", "huey")}
