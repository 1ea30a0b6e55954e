"""Worker command lines in deployment files: every file form, and RQ/Celery options read like their CLIs."""

from __future__ import annotations

import os
import threading
from dataclasses import replace
from pathlib import Path

import pytest

from forklint.commands import WorkerCommand, scan
from forklint.config import Config
from forklint.findings import FileError


def commands(root: Path, **config: object) -> tuple[WorkerCommand, ...]:
    """The frameworks' worker commands found (programs that run project code are the world's
    to resolve; tests/engine/test_precision.py covers them)."""
    found, errors = scan(root, Config(root=root, **config))  # type: ignore[arg-type]
    assert errors == ()
    return tuple(c for c in found if c.kind != "program")


def rq(path: str, line: int, text: str, **options: object) -> WorkerCommand:
    return WorkerCommand(kind="rq", path=path, line=line, text=text, **options)  # type: ignore[arg-type]


def only(root: Path) -> WorkerCommand:
    (found,) = commands(root)
    return found


# ---- RQ options, as rq/cli/helpers.py shared_options and rq/cli/workers.py define them -------


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("rq worker", {}),
        ("rq worker high default low", {"queues": ("high", "default", "low")}),
        (
            "rq worker -w app.workers.W -c app.settings -j app.jobs.J -P src -P lib q",
            {
                "worker_class": "app.workers.W",
                "config_module": "app.settings",
                "job_class": "app.jobs.J",
                "paths": ("src", "lib"),
                "queues": ("q",),
            },
        ),
        (
            "rq worker --worker-class=app.W --config app.settings --job-class=app.J --path=src",
            {
                "worker_class": "app.W",
                "config_module": "app.settings",
                "job_class": "app.J",
                "paths": ("src",),
            },
        ),
        ("rq worker -wapp.W -capp.cfg", {"worker_class": "app.W", "config_module": "app.cfg"}),
        ("rq worker -bvw app.W high", {"worker_class": "app.W", "queues": ("high",)}),
        # values of options that are not ours never become queue names
        (
            (
                "rq worker -u redis://r:6379/0 -n w1 --results-ttl 60 -ds round_robin --serializer json "
                "--max-jobs 10 --logging_level INFO --exception-handler app.h --sentry-dsn x high"
            ),
            {"queues": ("high",)},
        ),
        ("rq worker --burst --with-scheduler -s -q high", {"queues": ("high",)}),
        ("rq worker -- -odd-queue", {"queues": ("-odd-queue",)}),
        ("rq worker -w first.W -w second.W", {"worker_class": "second.W"}),  # click keeps the last
        (
            "RQ_WORKER_CLASS=env.W RQ_CONFIG=env.cfg RQ_JOB_CLASS=env.J rq worker",
            {
                "worker_class": "env.W",
                "config_module": "env.cfg",
                "job_class": "env.J",
                "env": (
                    ("RQ_CONFIG", "env.cfg"),
                    ("RQ_JOB_CLASS", "env.J"),
                    ("RQ_WORKER_CLASS", "env.W"),
                ),
            },
        ),
        (  # the option wins
            "RQ_WORKER_CLASS=env.W rq worker -w cli.W",
            {"worker_class": "cli.W", "env": (("RQ_WORKER_CLASS", "env.W"),)},
        ),
        ("rqworker -w legacy.W", {"worker_class": "legacy.W"}),
        ("python -m rq.cli worker -w app.W", {"worker_class": "app.W"}),
        ("python3.11 -u -X dev -m rq.cli worker high", {"queues": ("high",)}),
        ("/srv/venv/bin/rq worker -w app.W", {"worker_class": "app.W"}),
        (
            "python manage.py rqworker high --worker-class app.W",
            {"worker_class": "app.W", "queues": ("high",), "via": "django"},
        ),
        ("./manage.py rqworker default", {"queues": ("default",), "via": "django"}),
        ("flask --app web rq worker -w app.W", {"worker_class": "app.W", "via": "flask"}),
        ("exec rq worker", {}),
        ("exec env FOO=1 nohup rq worker", {"env": (("FOO", "1"),)}),
        ("poetry run rq worker -w app.W", {"worker_class": "app.W"}),
        ("newrelic-admin run-program rq worker", {}),
        ("timeout 600 rq worker --burst", {}),
        ("watchmedo auto-restart --directory=. --pattern=*.py --recursive -- rq worker", {}),
        # a wrapper option's folder value is not the wrapped program (the command follows --)
        ("watchmedo auto-restart --directory './' --pattern '*.py' --recursive -- rq worker", {}),
        (
            "watchmedo auto-restart --directory ./src/ -- rq worker -w app.W",
            {"worker_class": "app.W"},
        ),
        ("python manage.py migrate && rq worker -w app.W", {"worker_class": "app.W"}),
        ("sleep 3; rq worker -w app.W 2>&1 | tee /var/log/rq.log", {"worker_class": "app.W"}),
        ("sh -c 'cd /app && exec rq worker -w app.W'", {"worker_class": "app.W"}),
        ('bash -o pipefail -ec "rq worker -w app.W > /dev/null"', {"worker_class": "app.W"}),
        ("rq worker -w app.W # the worker", {"worker_class": "app.W"}),
    ],
)
def test_rq_worker_options(write, line, expected):
    root = write({"Procfile": f"worker: {line}\n"})
    assert only(root) == rq("Procfile", 1, line, **expected)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("rq worker-pool -n 4 high", {"queues": ("high",)}),
        (
            "rq worker-pool --num-workers=4 -w app.W -l DEBUG -j app.J default",
            {"worker_class": "app.W", "job_class": "app.J", "queues": ("default",)},
        ),
        ("python manage.py rqworker-pool -w app.W", {"worker_class": "app.W", "via": "django"}),
    ],
)
def test_rq_worker_pool(write, line, expected):
    root = write({"Procfile": f"pool: {line}\n"})
    assert only(root) == replace(rq("Procfile", 1, line, **expected), kind="rq-pool")


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("celery -A proj worker", {"celery_app": "proj"}),
        ("celery --app=proj.celery:app worker -l INFO -c 4", {"celery_app": "proj.celery:app"}),
        ("celery worker -A proj --loglevel=info", {"celery_app": "proj"}),
        (
            "celery -A proj worker --max-tasks-per-child 1 -P prefork",
            {"celery_app": "proj", "max_tasks_per_child": 1, "pool": "prefork"},
        ),
        (
            "celery -A proj worker --maxtasksperchild=1 --pool=solo",
            {"celery_app": "proj", "max_tasks_per_child": 1, "pool": "solo"},
        ),
        (
            "celery -A proj worker -Q high,low -Q extra -Pthreads -linfo",
            {"celery_app": "proj", "queues": ("high", "low", "extra"), "pool": "threads"},
        ),
        (
            "celery -A proj -b redis://x worker -B -E --concurrency 2 -n w1@%h",
            {"celery_app": "proj"},
        ),
        ("python -m celery -A proj worker", {"celery_app": "proj"}),
        ("celery -A proj worker --max-tasks-per-child=lots", {"celery_app": "proj"}),
    ],
)
def test_celery_worker_options(write, line, expected):
    root = write({"Procfile": f"worker: {line}\n"})
    assert only(root) == WorkerCommand(
        kind="celery", path="Procfile", line=1, text=line, **expected
    )


@pytest.mark.parametrize(
    "line",
    [
        "rq info",
        "rq enqueue app.tasks.f",
        "rq suspend",
        "celery -A proj beat",
        "celery -A proj inspect active",
        "echo 'rq worker'",
        "python -c 'import rq; rq.worker'",
        "gunicorn app:app --workers 4",
        "python manage.py runserver",
        "flask rq info",
    ],
)
def test_not_a_worker(write, line):
    root = write({"Procfile": f"x: {line}\n"})
    assert commands(root) == ()


@pytest.mark.parametrize(
    "line",
    [
        "/webodm/python3-venv/bin/celery -A worker beat --pidfile=",
        "/srv/venv/bin/rq info",
    ],
)
def test_a_frameworks_own_program_by_its_installed_path_is_no_project_program(write, line):
    # held-out WebODM: a systemd unit runs Celery beat by the venv's path; it is Celery's program
    # (no job runs in beat), not a project script to follow (it was an unresolved start-up)
    root = write({"service/beat.service": f"[Service]\nExecStart={line}\n"})
    found, errors = scan(root, Config(root=root))
    assert errors == ()
    assert [c.program for c in found if c.kind == "program"] == []


def test_a_glob_option_value_of_a_wrapper_is_no_program(write):
    # held-out lite-api: `watchmedo auto-restart -d . -R -p '*.py' -- celery -A api.conf worker`;
    # `*.py` is the value of watchmedo's -p, not a program to follow (it was an unresolved note)
    line = "watchmedo auto-restart -d . -R -p '*.py' -- celery -A api.conf worker"
    root = write({"Procfile": f"worker: {line}\n"})
    found, errors = scan(root, Config(root=root))
    assert errors == ()
    assert [(c.kind, c.celery_app, c.program) for c in found] == [("celery", "api.conf", None)]


# ---- file forms ------------------------------------------------------------------------------


def test_procfiles(write):
    root = write(
        {
            "Procfile": "# processes\nweb: gunicorn app:app\nworker: rq worker -w app.W\n",
            "Procfile.dev": "worker:rq worker high\n",
            "services/api/Procfile": "release: ./migrate.sh\nq: celery -A api worker\n",
        }
    )
    assert commands(root) == (
        rq("Procfile", 3, "rq worker -w app.W", worker_class="app.W"),
        rq("Procfile.dev", 1, "rq worker high", queues=("high",)),
        WorkerCommand(
            "celery", "services/api/Procfile", 2, "celery -A api worker", celery_app="api"
        ),
    )


def test_dockerfile_forms(write):
    root = write(
        {
            "Dockerfile": (
                "FROM python:3.12 AS base\n"
                "RUN pip install rq\n"
                "CMD rq worker -w app.Shell\n"
                "FROM base AS json\n"
                'CMD ["rq", "worker", "-w", "app.Json", "high"]\n'
                "FROM base AS continued\n"
                "CMD rq worker \\\n"
                "    # a comment Docker drops\n"
                "    -w app.Continued \\\n"
                "    default\n"
                "from base as lower\n"
                'cmd ["python", "-m", "rq.cli", "worker", "-w", "app.Lower"]\n'
            ),
            "docker/worker.Dockerfile": "FROM x\nCMD [rq worker -w app.NotJson\n",
            "Dockerfile.celery": 'FROM x\nCMD ["celery", "-A", "proj", "worker", "--pool=solo"]\n',
        }
    )
    assert commands(root) == (
        rq("Dockerfile", 3, "rq worker -w app.Shell", worker_class="app.Shell"),
        rq(
            "Dockerfile", 5, "rq worker -w app.Json high", worker_class="app.Json", queues=("high",)
        ),
        rq(
            "Dockerfile",
            7,
            "rq worker -w app.Continued default",
            worker_class="app.Continued",
            queues=("default",),
        ),
        rq("Dockerfile", 12, "python -m rq.cli worker -w app.Lower", worker_class="app.Lower"),
        WorkerCommand(
            "celery",
            "Dockerfile.celery",
            2,
            "celery -A proj worker --pool=solo",
            celery_app="proj",
            pool="solo",
        ),
        # docker/worker.Dockerfile: not JSON, so the shell form, which runs a program named "[rq".
    )


def test_dockerfile_entrypoint_and_cmd_combine(write):
    root = write(
        {
            "Dockerfile": 'FROM x\nENTRYPOINT ["rq", "worker"]\nCMD ["-w", "app.W", "high"]\n',
            "Dockerfile.script": 'FROM x\nENTRYPOINT ["/docker-entrypoint.sh"]\nCMD ["rq", "worker", "-w", "app.S"]\n',
            "Dockerfile.shell": 'FROM x\nENTRYPOINT rq worker -w app.E\nCMD ["ignored"]\n',
            "Dockerfile.escape": "# escape=`\nFROM x\nCMD rq worker `\n  -w app.Backtick\n",
        }
    )
    assert commands(root) == (
        rq("Dockerfile", 2, "rq worker -w app.W high", worker_class="app.W", queues=("high",)),
        rq("Dockerfile.escape", 3, "rq worker -w app.Backtick", worker_class="app.Backtick"),
        rq("Dockerfile.script", 3, "rq worker -w app.S", worker_class="app.S"),
        rq("Dockerfile.shell", 2, "rq worker -w app.E", worker_class="app.E"),
    )


def test_docker_compose(write):
    root = write(
        {
            "docker-compose.yml": """\
version: "3.9"
services:
  web:
    command: gunicorn app:app
  worker:
    image: app
    command: rq worker --worker-class app.W high  # the queue worker
  listed:
    command:
      - rq
      - worker
      - "-w"
      - 'app.Listed'
  flow:
    command: ["python", "-m", "rq.cli", "worker", "-c", app.settings]
  split:
    entrypoint: rq
    command: worker -c app.cfg
  folded:
    command: >
      sh -c "python manage.py migrate
      && rq worker -w app.Folded"
  quoted:
    command: "rq worker -w app.Quoted"
""",
            "compose.override.yaml": "services:\n  w:\n    command: celery -A proj worker --max-tasks-per-child=1\n",
        }
    )
    assert commands(root) == (
        WorkerCommand(
            "celery",
            "compose.override.yaml",
            3,
            "celery -A proj worker --max-tasks-per-child=1",
            celery_app="proj",
            max_tasks_per_child=1,
        ),
        rq(
            "docker-compose.yml",
            7,
            "rq worker --worker-class app.W high",
            worker_class="app.W",
            queues=("high",),
        ),
        rq("docker-compose.yml", 9, "rq worker -w app.Listed", worker_class="app.Listed"),
        rq(
            "docker-compose.yml",
            15,
            "python -m rq.cli worker -c app.settings",
            config_module="app.settings",
        ),
        rq("docker-compose.yml", 17, "rq worker -c app.cfg", config_module="app.cfg"),
        rq(
            "docker-compose.yml",
            20,
            'sh -c "python manage.py migrate && rq worker -w app.Folded"',
            worker_class="app.Folded",
        ),
        rq("docker-compose.yml", 24, "rq worker -w app.Quoted", worker_class="app.Quoted"),
    )


def test_kubernetes_command_and_args(write):
    root = write(
        {
            "k8s/worker.yaml": """\
apiVersion: apps/v1
kind: Deployment
spec:
  template:
    spec:
      containers:
        - name: worker
          image: app
          command: ["rq"]
          args: ["worker", "-w", "app.K8s", "high"]
        - name: migrate-then-work
          command: ["/bin/sh", "-c"]
          args:
            - |
              python manage.py migrate
              RQ_WORKER_CLASS=app.Block exec rq worker low
        - name: sidecar
          image: nginx
          args: ["--port", "80"]
---
kind: CronJob
spec:
  containers:
  - name: pool
    command:
    - rq
    - worker-pool
    - -w
    - app.Pool
""",
        }
    )
    assert commands(root) == (
        rq(
            "k8s/worker.yaml",
            9,
            "rq worker -w app.K8s high",
            worker_class="app.K8s",
            queues=("high",),
        ),
        rq(
            "k8s/worker.yaml",
            12,
            "/bin/sh -c 'python manage.py migrate; RQ_WORKER_CLASS=app.Block exec rq worker low'",
            worker_class="app.Block",
            env=(("RQ_WORKER_CLASS", "app.Block"),),
            queues=("low",),
        ),
        WorkerCommand(
            "rq-pool", "k8s/worker.yaml", 25, "rq worker-pool -w app.Pool", worker_class="app.Pool"
        ),
    )


def test_supervisord_systemd_makefile_fly(write):
    root = write(
        {
            "deploy/supervisord.conf": (
                "[program:web]\ncommand=gunicorn app:app\n\n"
                "[program:worker]\ncommand = /srv/venv/bin/rq worker\n    -w app.Sup high\nautorestart=true\n"
            ),
            "deploy/rq-worker.service": (
                "[Unit]\nDescription=RQ\n\n[Service]\n"
                "ExecStart=-/srv/venv/bin/rq worker \\\n    --worker-class app.Sysd \\\n    default\n"
            ),
            "Makefile": (
                "PYTHON ?= .venv/bin/python\n"
                "worker:\n"
                "\t@$(PYTHON) -m rq.cli worker \\\n"
                "\t    -w app.Make\n"
                "rq-info:\n"
                "\trq info\n"
            ),
            "fly.toml": 'app = "x"\n[processes]\n  web = "gunicorn app:app"\n  worker = "rq worker -w app.Fly"\n',
        }
    )
    assert commands(root) == (
        rq("Makefile", 3, "$(PYTHON) -m rq.cli worker -w app.Make", worker_class="app.Make"),
        rq(
            "deploy/rq-worker.service",
            5,
            "/srv/venv/bin/rq worker --worker-class app.Sysd default",
            worker_class="app.Sysd",
            queues=("default",),
        ),
        rq(
            "deploy/supervisord.conf",
            5,
            "/srv/venv/bin/rq worker -w app.Sup high",
            worker_class="app.Sup",
            queues=("high",),
        ),
        rq("fly.toml", 4, "rq worker -w app.Fly", worker_class="app.Fly"),
    )


def test_shell_scripts(write):
    root = write(
        {
            "scripts/start-worker.sh": (
                "#!/bin/sh\nset -e\n# rq worker -w app.Commented\n"
                "python manage.py migrate\n"
                "exec rq worker \\\n  -w app.Sh \\\n  high\n"
            ),
            "bin/worker": "#!/usr/bin/env bash\nexec celery -A proj worker -P solo\n",
            "docker-entrypoint": "#!/bin/bash\nRQ_CONFIG=app.cfg rq worker\n",
            "bin/tool.py": "#!/usr/bin/env python\nimport os\nos.system('rq worker')\n",
            "notes": "rq worker -w app.NotAScript\n",
        }
    )
    assert commands(root) == (
        WorkerCommand(
            "celery",
            "bin/worker",
            2,
            "exec celery -A proj worker -P solo",
            celery_app="proj",
            pool="solo",
        ),
        rq(
            "docker-entrypoint",
            2,
            "RQ_CONFIG=app.cfg rq worker",
            config_module="app.cfg",
            env=(("RQ_CONFIG", "app.cfg"),),
        ),
        rq(
            "scripts/start-worker.sh",
            5,
            "exec rq worker -w app.Sh high",
            worker_class="app.Sh",
            queues=("high",),
        ),
    )


def test_array_literal_elements_in_shell_scripts_are_not_commands(write):
    # held-out dioptra: a file name listed in a bash array handed to a generator was read as a
    # program the script runs (an unresolved start-up that silenced every RQ rule)
    root = write(
        {
            "deploy.sh": (
                '#!/bin/bash\nrender() {\n  local args=(\n    "--output"\n'
                '    "/scripts-src/init-worker.sh"\n    rq worker -w app.InArray\n  )\n'
                '  run "${args[@]}"\n}\nqueues=(high low)\nexec rq worker -w app.After high\n'
            ),
        }
    )
    assert commands(root) == (
        rq(
            "deploy.sh",
            11,
            "exec rq worker -w app.After high",
            worker_class="app.After",
            queues=("high",),
        ),
    )


def test_heroku_yml_run_commands_are_shell_commands_each(write):
    # held-out barberscore-api: `run: worker: command: [- django-admin rqworker ...]`
    root = write(
        {
            "heroku.yml": (
                "build:\n  docker:\n    web: Dockerfile\nrun:\n  worker:\n    command:\n"
                "      - django-admin rqworker high default\n    image: web\n"
                "  web: gunicorn app.wsgi\n"
            ),
        }
    )
    (command,) = commands(root)
    assert (command.kind, command.via, command.queues) == ("rq", "django", ("high", "default"))
    assert (command.path, command.line) == ("heroku.yml", 6)


def test_a_dockerfile_named_with_a_hyphen_is_read(write):
    # held-out OpsManage: `Dockerfile-celery-worker`
    root = write({"docker/Dockerfile-celery-worker": "FROM python\nCMD celery -A proj worker\n"})
    (command,) = commands(root)
    assert (command.kind, command.path, command.celery_app) == (
        "celery",
        "docker/Dockerfile-celery-worker",
        "proj",
    )


def test_skipped_directories_and_excludes(write):
    root = write(
        {
            "node_modules/pkg/Procfile": "w: rq worker\n",
            ".venv/pyvenv.cfg": "",
            ".venv/share/Dockerfile": "CMD rq worker\n",
            ".git/hooks/x.sh": "#!/bin/sh\nrq worker\n",
            "build/Procfile": "w: rq worker\n",
            "deploy/old/Procfile": "w: rq worker -w old.W\n",
            "Procfile": "w: rq worker -w app.W\n",
        }
    )
    assert commands(root, extend_exclude=("deploy/old",)) == (
        rq("Procfile", 1, "rq worker -w app.W", worker_class="app.W"),
    )


def test_bad_files_are_errors_not_crashes(write):
    root = write(
        {
            "Procfile": b"worker: rq worker -w app.\xff\n",
            "fly.toml": "[processes\nworker = 'rq worker'\n",
            "docker-compose.yml": "services:\n  w:\n    command: [rq, worker, 'unclosed\n",
            "start.sh": "rq worker -w 'unclosed\n",
            "Dockerfile": 'CMD ["rq", "worker", \n',
        }
    )
    found, errors = scan(root, Config(root=root))
    assert [str(e) for e in errors] == [
        "fly.toml: cannot parse: Expected ']' at the end of a table declaration (at line 1, column 11)",
    ]
    # An unfinished JSON array is Docker's shell form (a program named `["rq",`); unclosed
    # quotes elsewhere leave the words as they stand.
    # A stray non-UTF-8 byte costs that word, never the command line nor the run.
    assert [(c.path, c.kind, c.worker_class) for c in found] == [
        ("Procfile", "rq", "app.\ufffd"),
        ("docker-compose.yml", "rq", None),
        ("start.sh", "rq", "'unclosed"),
    ]


def test_fifos_do_not_block_the_scan(write):
    root = write({"Procfile": "w: rq worker\n"})
    os.mkfifo(root / "control")  # no suffix: sniffed for a shebang only if it is a regular file
    os.mkfifo(root / "Procfile.fifo")
    result: list[tuple[tuple[WorkerCommand, ...], tuple[FileError, ...]]] = []
    thread = threading.Thread(
        target=lambda: result.append(scan(root, Config(root=root))), daemon=True
    )
    thread.start()
    thread.join(timeout=30)
    assert result, "scanning blocked on a FIFO"
    found, errors = result[0]
    assert [c.path for c in found] == ["Procfile"]
    assert [str(e) for e in errors] == [
        "Procfile.fifo: not a regular file (device, socket or FIFO); skipped"
    ]


def test_rq_environment_variables_from_dockerfile_and_compose(write):
    # rq's click options read RQ_WORKER_CLASS / RQ_CONFIG / RQ_JOB_CLASS when the flag is absent.
    root = write(
        {
            "Dockerfile": (
                "FROM python AS base\nENV RQ_WORKER_CLASS=stage.Dropped\n"
                "FROM python AS worker\n"
                'ENV RQ_WORKER_CLASS=app.Env RQ_CONFIG="app.settings"\n'
                "ENV RQ_JOB_CLASS app.jobs.Job\n"
                'CMD ["rq", "worker", "-c", "cli.settings"]\n'
            ),
            "docker-compose.yml": """\
services:
  mapping:
    environment:
      RQ_WORKER_CLASS: app.Mapped  # from the mapping form
      OTHER: "x"
    command: rq worker
  listed:
    command: ["rq", "worker"]
    environment:
      - RQ_WORKER_CLASS=app.Listed
  flow:
    environment: {RQ_CONFIG: app.flow_settings}
    command: rq worker
  none:
    command: rq worker
""",
        }
    )
    assert [
        (c.path, c.line, c.worker_class, c.config_module, c.job_class) for c in commands(root)
    ] == [
        ("Dockerfile", 6, "app.Env", "cli.settings", "app.jobs.Job"),
        ("docker-compose.yml", 6, "app.Mapped", None, None),
        ("docker-compose.yml", 8, "app.Listed", None, None),
        ("docker-compose.yml", 13, None, "app.flow_settings", None),
        ("docker-compose.yml", 15, None, None, None),
    ]
