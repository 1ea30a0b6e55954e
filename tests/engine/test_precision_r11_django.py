"""Round 11's held-out shapes of what a Django / RQ worker parent has imported before it forks:
django-configurations' class settings, URLconfs included by name, RQ's CLI run in-process. Each
is a small reproduction written for this suite, with the findings that must and must not be
reported as inline `# FRKxxx:col` comments."""

from __future__ import annotations

RECEIPTS_JOB = """
    import boto3


    def push_receipt(payload):
        boto3.client("s3").put_object(Bucket="receipts", Key="r", Body=payload)
"""
RECEIPTS_VIEW = """
    import django_rq

    from shop.orders.jobs import push_receipt


    def receipt_webhook(request):
        django_rq.enqueue(push_receipt, request.body)
"""
MANAGE = """
    import os
    import sys

    if __name__ == "__main__":
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop.settings")
        os.environ.setdefault("DJANGO_CONFIGURATION", "Development")
        from configurations.management import execute_from_command_line

        execute_from_command_line(sys.argv)
"""


def _configurations_shop(base: str, urls: str) -> dict[str, str]:
    """A django-configurations project: `shop.settings` only imports its settings classes."""
    return {
        "Procfile": "worker: python manage.py rqworker default\n",
        "manage.py": MANAGE,
        "shop/__init__.py": "",
        "shop/settings/__init__.py": """
            from .base import Base
            from .development import Development
            from .production import Production
        """,
        "shop/settings/base.py": base,
        "shop/settings/development.py": """
            from configurations import Configuration

            from .base import Base


            class Development(Base, Configuration):
                DEBUG = True
        """,
        "shop/settings/production.py": """
            from configurations import Configuration

            from .base import Base


            class Production(Base, Configuration):
                DEBUG = False
        """,
        "shop/urls.py": urls,
        "shop/orders/__init__.py": "",
        "shop/orders/views.py": RECEIPTS_VIEW,
        "shop/orders/jobs.py": RECEIPTS_JOB,
    }


def test_root_urlconf_set_in_a_django_configurations_class_is_imported_by_the_url_check(
    project,
) -> None:
    # held-out round 11, donate-wagtail: `ROOT_URLCONF` is an attribute of a mixin of the
    # Configuration classes; `manage.py rqworker` runs the URL check, which imports the URLconf,
    # its views and the job module before the fork: no FRK101
    files = _configurations_shop(
        """
            class Base:
                INSTALLED_APPS = ["django_rq", "shop.orders"]
                ROOT_URLCONF = "shop.urls"
        """,
        """
            from django.urls import path

            from shop.orders.views import receipt_webhook

            urlpatterns = [path("webhook/", receipt_webhook)]
        """,
    )
    report = project.assert_expected(files, {"FRK101"})
    assert report.unresolved == ()


def test_each_django_configurations_class_root_urlconf_counts_when_they_differ(project) -> None:
    # held-out round 11, donate-wagtail: DJANGO_CONFIGURATION picks the class where the process
    # starts (manage.py's setdefault is only a default); the parent may have imported either
    # URLconf, and the one that reaches the job module keeps FRK101 silent
    files = _configurations_shop(
        """
            class Base:
                INSTALLED_APPS = ["django_rq", "shop.orders"]
                ROOT_URLCONF = "shop.urls"
        """,
        """
            from django.urls import path

            from shop.orders.views import receipt_webhook

            urlpatterns = [path("webhook/", receipt_webhook)]
        """,
    )
    files["shop/urls.py"] = "urlpatterns = []\n"
    files["shop/prod_urls.py"] = """
        from django.urls import path

        from shop.orders.views import receipt_webhook

        urlpatterns = [path("webhook/", receipt_webhook)]
    """
    files["shop/settings/production.py"] = """
        from configurations import Configuration

        from .base import Base


        class Production(Base, Configuration):
            ROOT_URLCONF = "shop.prod_urls"
    """
    project.assert_expected(files, {"FRK101"})


def test_installed_apps_set_in_a_django_configurations_class_are_read(project) -> None:
    # held-out round 11, donate-wagtail: INSTALLED_APPS is a class attribute too; with
    # django.contrib.admin installed, django.setup() imports every app's admin module, and this
    # one imports the job module
    files = {
        "Procfile": "worker: python manage.py rqworker default\n",
        "manage.py": MANAGE,
        "shop/__init__.py": "",
        "shop/settings/__init__.py": "from .base import Development\n",
        "shop/settings/base.py": """
            from configurations import Configuration


            class Development(Configuration):
                INSTALLED_APPS = ["django.contrib.admin", "django_rq", "shop.orders"]
        """,
        "shop/orders/__init__.py": "",
        "shop/orders/admin.py": "from shop.orders.views import receipt_webhook  # noqa: F401\n",
        "shop/orders/views.py": RECEIPTS_VIEW,
        "shop/orders/jobs.py": RECEIPTS_JOB,
    }
    project.assert_expected(files, {"FRK101"})


def test_django_configurations_without_the_urlconf_leave_the_job_module_to_the_horse(
    project,
) -> None:
    # the control: the classes name no URLconf that reaches the job, so the horse imports it
    files = _configurations_shop(
        """
            class Base:
                INSTALLED_APPS = ["django_rq", "shop.orders"]
                ROOT_URLCONF = "shop.urls"
        """,
        "urlpatterns = []\n",
    )
    files["shop/orders/jobs.py"] = RECEIPTS_JOB.replace(
        "def push_receipt(payload):", "def push_receipt(payload):  # FRK101:5"
    )
    project.assert_expected(files, {"FRK101"})


# --- URLconfs included by name ---------------------------------------------------------------

REPORTS = {
    "Procfile": "worker: python manage.py rqworker default\n",
    "manage.py": """
        import os
        import sys

        if __name__ == "__main__":
            os.environ.setdefault("DJANGO_SETTINGS_MODULE", "site_conf.settings")
            from django.core.management import execute_from_command_line

            execute_from_command_line(sys.argv)
    """,
    "site_conf/__init__.py": "",
    "site_conf/settings.py": """
        INSTALLED_APPS = ["django_rq", "reports"]
        ROOT_URLCONF = "site_conf.urls"
    """,
    "reports/__init__.py": "",
    "reports/urls.py": """
        from django.urls import path

        from .views import start

        urlpatterns = [path("", start)]
    """,
    "reports/views.py": """
        import django_rq

        from .jobs import build


        def start(request):
            django_rq.enqueue(build)
    """,
    "reports/jobs.py": """
        import pandas


        def build():
            return pandas.DataFrame()
    """,
}


def test_a_urlconf_included_by_its_dotted_name_is_imported_by_the_url_check(project) -> None:
    # held-out round 11, rnacentral-webcode: `include("app.urls")` imports the app's URLconf
    # (and its views, and the job module) when the root URLconf is imported
    files = dict(REPORTS)
    files["site_conf/urls.py"] = """
        from django.urls import include, path

        urlpatterns = [path("reports/", include("reports.urls"))]
    """
    project.assert_expected(files, {"FRK101"})


def test_a_urlconf_included_with_its_app_name_is_imported_too(project) -> None:
    # held-out round 11, rnacentral-webcode: `include(("app.urls", "app"))` under the old
    # `url()` of django.conf.urls
    files = dict(REPORTS)
    files["site_conf/urls.py"] = """
        from django.conf.urls import include, url

        urlpatterns = [url(r"^reports/", include(("reports.urls", "reports"), namespace="r"))]
    """
    project.assert_expected(files, {"FRK101"})


def test_a_urlconf_the_root_urlconf_does_not_include_is_not_imported(project) -> None:
    # the control: a string that is not include()'s argument imports nothing
    files = dict(REPORTS)
    files["site_conf/urls.py"] = """
        from django.urls import path

        REPORTS_URLCONF = "reports.urls"
        urlpatterns = []
    """
    files["reports/jobs.py"] = """
        import pandas


        def build():  # FRK101:5
            return pandas.DataFrame()
    """
    project.assert_expected(files, {"FRK101"})


# --- RQ's CLI run in-process ----------------------------------------------------------------

SHOP_TASKS = {
    "setup.py": """
        from setuptools import setup

        setup(
            name="shop",
            entry_points={"console_scripts": ["shop-worker = shop.tasking.entrypoint:worker"]},
        )
    """,
    "shop/__init__.py": "",
    "shop/rqconfig.py": 'REDIS_URL = "redis://localhost:6379/0"\n',
    "shop/app/__init__.py": "",
    "shop/app/views.py": """
        from redis import Redis
        from rq import Queue

        from shop.app.tasks import build_report


        def request_report(report_id):
            Queue(connection=Redis()).enqueue(build_report, report_id)
    """,
    "shop/app/tasks.py": """
        import pandas


        def build_report(report_id):
            return len(pandas.DataFrame({"n": [report_id]}))
    """,
    "shop/tasking/__init__.py": "",
    "shop/tasking/worker.py": """
        from rq.worker import Worker

        import shop.app.tasks  # noqa: F401  the job module, loaded once in the parent


        class ShopWorker(Worker):
            pass
    """,
}


def test_rq_cli_main_runs_the_command_line_the_code_sets_in_sys_argv(project) -> None:
    # held-out round 11, pulpcore: a console script's click command builds `rq worker -w ... -c
    # ...` (adding a worker name under a flag), sets sys.argv and calls rq.cli.main(): the
    # parent imports the worker class's module, and with it the job module
    files = dict(SHOP_TASKS)
    files["shop/tasking/entrypoint.py"] = """
        import sys

        import click
        from rq.cli import main


        @click.option("--manager", is_flag=True)
        @click.command()
        def worker(manager):
            args = ["rq", "worker", "-w", "shop.tasking.worker.ShopWorker", "-c", "shop.rqconfig"]
            if manager:
                args.extend(["-n", "manager"])
            sys.argv = args
            main()
    """
    report = project.assert_expected(files, {"FRK101"})
    assert report.assumptions == () and report.unresolved == ()


def test_rq_cli_main_reads_the_args_it_is_given(project) -> None:
    # held-out round 11, pulpcore: `rq.cli.main(args=[...])`, the words after the program's name
    files = dict(SHOP_TASKS)
    files["shop/tasking/entrypoint.py"] = """
        import rq.cli


        def worker():
            rq.cli.main(args=["worker", "--worker-class", "shop.tasking.worker.ShopWorker"])
    """
    report = project.assert_expected(files, {"FRK101"})
    assert report.assumptions == () and report.unresolved == ()


def test_rq_cli_main_reads_past_a_redis_url_it_cannot_spell(project) -> None:
    # held-out round 11, pulpcore: `--url "redis://..."` (a string forklint's facts do not keep)
    # and sys.argv[0] as the program name change nothing the parent loads
    files = dict(SHOP_TASKS)
    files["shop/tasking/entrypoint.py"] = """
        import sys

        from rq.cli import main


        def worker():
            url = "redis://redis:6379/0"
            sys.argv = [sys.argv[0], "worker", "--url", "redis://redis:6379/0", "-w", "shop.tasking.worker.ShopWorker"]
            main()
    """
    report = project.assert_expected(files, {"FRK101"})
    assert report.assumptions == () and report.unresolved == ()


def test_rq_cli_main_with_an_option_it_cannot_read_is_an_unresolved_start_up(project) -> None:
    # held-out round 11, pulpcore: `f"--worker-class={name}"` may name any class
    files = dict(SHOP_TASKS)
    files["shop/tasking/entrypoint.py"] = """
        import sys

        from rq.cli import main

        NAME = "shop.tasking.worker.ShopWorker"


        def worker():
            sys.argv = ["rq", "worker", f"--worker-class={NAME}"]
            main()
    """
    report = project.assert_expected(files, {"FRK101"})
    assert report.assumptions == ()
    (note,) = report.unresolved
    assert "rq.cli.main()" in note.what


def test_rq_cli_main_with_a_command_line_it_cannot_read_is_an_unresolved_start_up(
    project,
) -> None:
    # held-out round 11, pulpcore: when the argv handed to rq.cli.main() cannot be read, the
    # start-up is unresolved (a note), never an assumed stock or django-rq worker
    files = dict(SHOP_TASKS)
    files["shop/tasking/entrypoint.py"] = """
        import sys

        from rq.cli import main


        def worker():
            sys.argv = ["rq", "worker", "-w", worker_class()]
            main()


        def worker_class():
            return "shop.tasking.worker.ShopWorker"
    """
    report = project.assert_expected(files, {"FRK101"})
    assert report.assumptions == ()
    (note,) = report.unresolved
    assert (note.path, note.line) == ("shop/tasking/entrypoint.py", 8)
    assert "rq.cli.main()" in note.what


def test_rq_cli_main_whose_command_depends_on_a_condition_is_unresolved(project) -> None:
    # the worker class changes with a flag: either may run, so forklint does not pick one
    files = dict(SHOP_TASKS)
    files["shop/tasking/entrypoint.py"] = """
        import sys

        import click
        from rq.cli import main


        @click.option("--simple", is_flag=True)
        @click.command()
        def worker(simple):
            args = ["rq", "worker", "-w", "shop.tasking.worker.ShopWorker"]
            if simple:
                args.extend(["-w", "rq.SimpleWorker"])
            sys.argv = args
            main()
    """
    report = project.assert_expected(files, {"FRK101"})
    assert report.assumptions == ()
    (note,) = report.unresolved
    assert "depending on a condition" in note.what


def test_rq_cli_main_running_the_stock_worker_leaves_the_job_module_to_the_horse(project) -> None:
    # the control: `rq worker -c shop.rqconfig` names no class, and nothing it loads imports the
    # job module
    files = dict(SHOP_TASKS)
    files["shop/tasking/entrypoint.py"] = """
        import sys

        from rq.cli import main


        def worker():
            sys.argv = ["rq", "worker", "-c", "shop.rqconfig"]
            main()
    """
    files["shop/app/tasks.py"] = """
        import pandas


        def build_report(report_id):  # FRK101:5
            return len(pandas.DataFrame({"n": [report_id]}))
    """
    report = project.assert_expected(files, {"FRK101"})
    assert report.assumptions == () and report.unresolved == ()
