"""Early returns: what follows them runs on every run of a job, or only on some."""

from __future__ import annotations


def test_work_after_an_early_return_on_a_setting_is_not_every_runs(project) -> None:
    # `if not METRICS_ENABLED: return` and `if app.config.get("DISABLE_EMAILS"): ... return`: the
    # client and the environment are built only where the deployment switches the feature on.
    # A validation of the job's own input (`if not url: return`) does not make what follows
    # conditional: on the normal path it runs every time.
    project.assert_expected(
        {
            "app/__init__.py": "",
            "app/settings.py": "METRICS_ENABLED = False\n",
            "app/tasks.py": """
                import boto3
                import jinja2
                from rq.decorators import job

                from app.settings import METRICS_ENABLED


                class Config:
                    def get(self, key, default=None):
                        return default


                class App:
                    config = Config()


                app = App()


                def post_metric(name):
                    if not METRICS_ENABLED:
                        return
                    client = boto3.client("cloudwatch")
                    client.put_metric_data(Namespace=name)


                def email_report(changes):
                    if app.config.get("DISABLE_EMAILS"):
                        print("emails are off")
                        return
                    env = jinja2.Environment()
                    return env.from_string("{{ changes }}").render(changes=changes)


                @job("default")
                def audit(url):
                    post_metric("audit")
                    email_report([url])


                @job("default")
                def fetch(url):
                    if not url:
                        return None
                    client = boto3.client("s3")  # FRK103:14
                    return client.get_object(Bucket="b", Key=url)
            """,
        },
        {"FRK103"},
    )


def test_work_in_a_loop_over_run_time_data_is_once_per_item(project) -> None:
    # Held-out odl-video-service: `for key in bucket.objects.all(): import_file(key)` builds an S3
    # client per file found, and most polls find none: not "on every run" but once per item, and
    # the message says so (the loop, as written). A loop over a literal with items runs its body
    # every time; a client built before the loop is every run's.
    report = project.assert_expected(
        {
            "Procfile": "worker: celery -A app.tasks worker\n",
            "app/__init__.py": "",
            "app/storage.py": """
                import boto3


                def import_file(key):
                    s3 = boto3.client("s3")  # FRK103:10
                    s3.copy({"Bucket": "watch", "Key": key}, "videos", key)


                def archive(key):
                    return boto3.resource("s3").Object("archive", key)  # FRK103:12
            """,
            "app/tasks.py": """
                import boto3
                from celery import shared_task

                from app.storage import archive, import_file


                @shared_task
                def poll_watch_bucket(keys):
                    for key in keys:
                        import_file(key)
                    names = [archive(k) for k in keys]
                    return names


                @shared_task
                def ping(bucket):
                    for attempt in range(3):
                        s3 = boto3.client("s3")  # FRK103:14
                        if s3.head_bucket(Bucket=bucket):
                            return attempt


                @shared_task
                def listing(prefix):
                    s3 = boto3.client("s3")  # FRK103:10
                    for key in s3.list_objects(Bucket="watch", Prefix=prefix):
                        print(key)
            """,
        },
        {"FRK103"},
    )
    messages = {(f.path, f.line): f.message for f in report.findings if f.code == "FRK103"}
    assert "once per item of `for key in keys` in each run of" in messages[("app/storage.py", 5)]
    assert "once per item of `for k in keys` in each run of" in messages[("app/storage.py", 10)]
    assert "on every run of" in messages[("app/tasks.py", 18)]
    assert "on every run of" in messages[("app/tasks.py", 25)]


def test_a_local_made_of_a_setting_is_the_same_on_every_run(project) -> None:
    # Held-out Thunderstore (missed): `endpoint = settings.S3_ENDPOINT_URL` then
    # `boto3.client("s3", endpoint_url=endpoint)`: the local holds a module global's value, as
    # constant as the global; a local made of the job's argument still varies.
    project.assert_expected(
        {
            "Procfile": "worker: celery -A app.tasks worker\n",
            "app/__init__.py": "",
            "app/settings.py": 'S3_ENDPOINT_URL = "https://s3.example"\n',
            "app/s3.py": """
                import boto3

                from app import settings


                def get_client():
                    endpoint = settings.S3_ENDPOINT_URL
                    return boto3.client("s3", endpoint_url=endpoint)  # FRK103:12


                def client_for(region):
                    name = region
                    return boto3.client("s3", region_name=name)
            """,
            "app/tasks.py": """
                from celery import shared_task

                from app.s3 import client_for, get_client


                @shared_task
                def cleanup():
                    return get_client().list_buckets()


                @shared_task
                def regional(region):
                    return client_for(region).list_buckets()
            """,
        },
        {"FRK103"},
    )


def test_work_after_an_early_return_on_what_the_run_fetched_is_not_every_runs(project) -> None:
    # Held-out notifications-api: `brands = query(...).all()` then `if not brands: return` before
    # `jinja2.Template(...)`: the template is built only on a run that found new brands. A lookup
    # from the job's own argument (`account = session.get(Account, account_id)`, then
    # `if account is None: return`) is a validation: the normal path goes on, every run; so is a
    # setting's value (`path = os.environ.get(...)`, timesketch's DATA_FINDER_PATH).
    project.assert_expected(
        {
            "Procfile": "worker: celery -A app.tasks worker\n",
            "app/__init__.py": "",
            "app/tasks.py": """
                import os

                import jinja2
                from celery import shared_task
                from sqlalchemy.orm import Session

                from app.db import Account, Brand, engine


                @shared_task
                def new_brand_report():
                    brands = Session(engine).query(Brand).all()
                    if not brands:
                        return None
                    template = jinja2.Template("{{ brands }}")
                    return template.render(brands=brands)


                @shared_task
                def account_report(account_id):
                    account = Session(engine).get(Account, account_id)
                    if account is None:
                        return None
                    template = jinja2.Template("{{ account }}")  # FRK103:16
                    return template.render(account=account)


                @shared_task
                def rules_report():
                    path = os.environ.get("RULES_PATH")
                    if not path:
                        return None
                    template = jinja2.Template("{{ rules }}")  # FRK103:16
                    return template.render(rules=path)
            """,
            "app/db.py": """
                from sqlalchemy import create_engine
                from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

                engine = create_engine("postgresql:///app")


                class Base(DeclarativeBase):
                    pass


                class Brand(Base):
                    __tablename__ = "brand"
                    id: Mapped[int] = mapped_column(primary_key=True)


                class Account(Base):
                    __tablename__ = "account"
                    id: Mapped[int] = mapped_column(primary_key=True)
            """,
        },
        {"FRK103"},
    )
