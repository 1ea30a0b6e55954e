"""Start-ups read from deployment files, held-out round 11: wrappers, console scripts that run
Django's management dispatch, programs that start nothing, apps of other distributions."""

from __future__ import annotations

HEAVY_RQ_JOB = """
    import pandas
    from redis import Redis
    from rq import Queue


    def export(rows):  {expect}
        return pandas.DataFrame(rows).to_csv()


    def schedule(rows):
        Queue(connection=Redis()).enqueue(export, rows)
"""


def test_installing_a_worker_subproject_is_no_start_up(project) -> None:
    # held-out round 11, taranis-ai: `uv sync --directory src/worker` stood for an unresolved
    # start-up, and so hid that none was found (the stock `rq worker` assumption)
    report = project.assert_expected(
        {
            "dev/bump_deps.sh": "#!/bin/sh\nuv sync --upgrade --all-extras --directory src/worker\n",
            "src/worker/shop/__init__.py": "",
            "src/worker/shop/jobs.py": HEAVY_RQ_JOB.replace("{expect}", "# FRK101:5"),
        },
        {"FRK101"},
    )
    assert report.unresolved == ()
    assert any("assumed stock `rq worker`" in a for a in report.assumptions)


def test_a_console_script_that_chooses_its_worker_class_at_run_time_is_unresolved(
    project,
) -> None:
    # held-out round 11, taranis-ai: the image runs `taranis-worker`, a console script of the
    # sub-project src/worker, whose function builds `worker_class(...)` from a setting
    report = project.assert_expected(
        {
            "docker/Containerfile.worker": 'FROM python:3.12\nENTRYPOINT ["shop-worker"]\n',
            "src/worker/pyproject.toml": (
                '[project]\nname = "w"\n\n[project.scripts]\nshop-worker = "shop:start_worker"\n'
            ),
            "src/worker/shop/__init__.py": """
                import os

                from redis import Redis
                from rq import SpawnWorker, Worker


                def worker_class():
                    return SpawnWorker if os.environ.get("SPAWN") else Worker


                def start_worker():
                    from shop import jobs  # noqa: F401

                    cls = worker_class()
                    worker = cls(["default"], connection=Redis())
                    worker.work()
            """,
            "src/worker/shop/jobs.py": HEAVY_RQ_JOB.replace("{expect}", ""),
        },
        {"FRK101"},
    )
    assert [(u.path, u.line) for u in report.unresolved] == [("docker/Containerfile.worker", 2)]


def test_a_console_script_that_starts_a_celery_worker_is_no_rq_start_up(project) -> None:
    # the same shape on real projects (faraday, fides): `app.worker_main()` behind a console
    # script is Celery's, and the project's RQ jobs keep the stock `rq worker` assumption
    report = project.assert_expected(
        {
            "docker-compose.yml": "services:\n  w:\n    command: shop-worker\n",
            "pyproject.toml": (
                '[project]\nname = "shop"\n\n[project.scripts]\nshop-worker = "shop.worker:main"\n'
            ),
            "shop/__init__.py": "",
            "shop/worker.py": """
                from celery import Celery

                app = Celery("shop")


                def main():
                    app.worker_main(["worker"])
            """,
            "shop/jobs.py": HEAVY_RQ_JOB.replace("{expect}", "# FRK101:5"),
        },
        {"FRK101"},
    )
    assert report.unresolved == ()


def test_a_systemd_unit_an_install_script_writes_is_not_a_program_it_runs(project) -> None:
    # held-out round 11, cupcake: `sudo tee /etc/systemd/system/cupcake-worker.service << EOF`
    files = {
        "install.sh": """
            #!/bin/bash
            sudo tee /etc/systemd/system/shop-worker.service > /dev/null << EOF
            [Service]
            ExecStart=/srv/shop/venv/bin/python manage.py rqworker default
            EOF
            sudo systemctl enable shop-worker
        """,
        "manage.py": """
            import os
            import sys

            if __name__ == "__main__":
                os.environ.setdefault("DJANGO_SETTINGS_MODULE", "site_settings")
                from django.core.management import execute_from_command_line

                execute_from_command_line(sys.argv)
        """,
        "site_settings.py": "INSTALLED_APPS = ['django_rq', 'shop']\n",
        "shop/__init__.py": "",
        "shop/jobs.py": """
            import pandas
            from django_rq import job


            @job("default")
            def export(rows):  # FRK101:5
                return pandas.DataFrame(rows).to_csv()
        """,
    }
    report = project.assert_expected(files, {"FRK101"})
    assert report.unresolved == ()
    assert [p.label for p in report.parents] == ["install.sh:4"]


CELERY_SHOP = {
    "shop/__init__.py": "",
    "shop/celery.py": "from celery import Celery\n\napp = Celery('shop')\n",
    "shop/tasks.py": """
        from shop.celery import app


        @app.task(queue="sync")
        def sync():
            return 1


        @app.task
        def tally():
            return 2
    """,
}


def test_an_environment_wrapper_out_of_the_repository_runs_its_arguments(model) -> None:
    # held-out round 11, ureport: supervisord `command=/home/${user}/env.sh /home/${user}/live/
    # env/bin/celery worker -A proj -Q sync` was an unresolved start-up, and the queues were lost
    files = dict(CELERY_SHOP)
    files["deploy/sync.conf"] = (
        "[program:sync]\n"
        "command=/home/${user}/env.sh /home/${user}/venv/bin/celery worker -A shop -Q sync\n"
    )
    files["deploy/celery.conf"] = (
        "[program:celery]\ncommand=/home/shop/env.sh /home/shop/venv/bin/celery worker -A shop\n"
    )
    world = model(files).world
    assert world.unresolved == []
    assert sorted((p.label, p.queues) for p in world.parents) == [
        ("deploy/celery.conf:2", None),
        ("deploy/sync.conf:2", frozenset({"sync"})),
    ]
    assert [p.label for p in world.job_parents["shop.tasks.sync"]] == [
        "deploy/celery.conf:2",
        "deploy/sync.conf:2",
    ]
    assert [p.label for p in world.job_parents["shop.tasks.tally"]] == ["deploy/celery.conf:2"]


def test_a_projects_own_script_keeps_its_arguments(model) -> None:
    # the same line through a Python script of the project, or a CLI subcommand, is not a wrapper
    files = dict(CELERY_SHOP)
    files["run.py"] = "import sys\n\nprint(sys.argv)\n"
    files["Procfile"] = "worker: /srv/run.py /venv/bin/celery worker -A shop -Q sync\n"
    world = model(files).world
    assert [p.label for p in world.parents] == ["celery worker"]


# held-out round 11, pychunkedgraph: `[program:test_worker]` running a stock `rq worker` with
# numprocs=0 was a parent that took every job of a computed queue (a false FRK101)
def test_a_supervisord_worker_with_no_processes_is_no_parent(project) -> None:
    files = {
        "conf/supervisord.conf": """
            [program:debug_worker]
            command=rq worker -c debug_settings
            numprocs=0
        """,
        "tracker.py": """
            import sys

            from redis import Redis
            from rq import Worker

            import ingest.helpers  # noqa: F401

            if __name__ == "__main__":
                Worker(sys.argv[1:], connection=Redis()).work()
        """,
        "ingest/__init__.py": "",
        "ingest/helpers.py": "import pandas\n",
        "ingest/tasks.py": """
            from redis import Redis
            from rq import Queue

            from ingest.helpers import pandas


            def roll_up(layer):  {expect}
                return pandas.DataFrame([layer])


            def enqueue(layer):
                Queue(f"t{layer}", connection=Redis()).enqueue(roll_up, layer)
        """,
    }
    quiet = {**files, "ingest/tasks.py": files["ingest/tasks.py"].replace("{expect}", "")}
    project.assert_expected(quiet, {"FRK101"})
    started = {
        **files,
        "conf/supervisord.conf": files["conf/supervisord.conf"].replace("=0", "=1"),
        "ingest/tasks.py": files["ingest/tasks.py"].replace("{expect}", "# FRK101:5"),
    }
    project.assert_expected(started, {"FRK101"})


DJANGO_SHOP = {
    "pyproject.toml": """
        [project]
        name = "shop"
        version = "1.0"

        [project.scripts]
        shop-manage = "shop.manage:main"
    """,
    "src/shop/__init__.py": "",
    "src/shop/manage.py": """
        import os
        import sys


        def main():
            os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop.settings")
            from django.core.management import execute_from_command_line

            execute_from_command_line(sys.argv)


        if __name__ == "__main__":
            main()
    """,
    "src/shop/settings.py": 'INSTALLED_APPS = ["django_rq", "shop.orders"]\n',
    "src/shop/tasking.py": """
        from rq import Worker

        import shop.orders.jobs  # noqa: F401


        class ShopWorker(Worker):
            pass
    """,
    "src/shop/orders/__init__.py": "",
    "src/shop/orders/jobs.py": """
        import django_rq
        import pandas


        def close(order_id):  {expect}
            return pandas.DataFrame({"id": [order_id]})


        def schedule(order_id):
            django_rq.get_queue("default").enqueue(close, order_id)
    """,
}


def test_a_console_script_that_runs_djangos_dispatch_is_manage_py(project) -> None:
    # held-out round 11, eda-server: `aap-eda-manage rqworker --worker-class ...`, where
    # aap-eda-manage = "aap_eda.manage:main" calls execute_from_command_line
    preloaded = {**DJANGO_SHOP, "src/shop/orders/jobs.py": DJANGO_SHOP["src/shop/orders/jobs.py"]}
    preloaded["src/shop/orders/jobs.py"] = preloaded["src/shop/orders/jobs.py"].replace(
        "{expect}", ""
    )
    for command in (
        "shop-manage rqworker --worker-class shop.tasking.ShopWorker default",
        "python -m shop.manage rqworker --worker-class shop.tasking.ShopWorker default",
    ):
        files = {**preloaded, "docker-compose.yml": f"services:\n  w:\n    command: {command}\n"}
        report = project.assert_expected(files, {"FRK101"})
        assert report.unresolved == ()
        assert report.assumptions == ()
        assert [p.label for p in report.parents] == ["docker-compose.yml:3"]
    # without the worker class: django-rq's stock worker, which has not imported the job module
    stock = {
        **DJANGO_SHOP,
        "docker-compose.yml": "services:\n  w:\n    command: shop-manage rqworker default\n",
    }
    stock["src/shop/orders/jobs.py"] = stock["src/shop/orders/jobs.py"].replace(
        "{expect}", "# FRK101:5"
    )
    report = project.assert_expected(stock, {"FRK101"})
    assert [p.label for p in report.parents] == ["docker-compose.yml:3"]


def test_a_celery_app_of_another_distribution_is_not_the_projects_worker(project) -> None:
    # held-out round 11, jf-compliance-dashboard: Superset's bootstrap script, shipped in
    # docker/, runs `celery --app=superset.tasks.celery_app:app worker`; the project's own jobs
    # are RQ's
    files = {
        "docker/bootstrap.sh": (
            "#!/bin/bash\ncelery --app=dashboards.tasks.celery_app:app worker -O fair\n"
        ),
        "docker/start.sh": "#!/bin/bash\nrq worker default\n",
        "src/service/__init__.py": "",
        "src/service/jobs.py": HEAVY_RQ_JOB.replace("{expect}", "# FRK101:5"),
    }
    report = project.assert_expected(files, {"FRK101"})
    assert report.unresolved == ()
    # a project that has that package is another matter: the worker runs the project's code
    files["src/dashboards/__init__.py"] = ""
    report = project(files)
    assert "docker/bootstrap.sh:2" in [p.label for p in report.parents]
