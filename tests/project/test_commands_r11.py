"""Worker command lines, held-out round 11: what a deployment line runs (and what it only writes
or installs), and which supervisord programs start at all."""

from __future__ import annotations

from pathlib import Path

import pytest

from forklint.commands import WorkerCommand, console_scripts, scan
from forklint.config import Config


def scanned(root: Path) -> tuple[WorkerCommand, ...]:
    found, errors = scan(root, Config(root=root))
    assert errors == ()
    return found


def one_line(tmp_path: Path, line: str) -> list[tuple[str, str | None, tuple[str, ...]]]:
    (tmp_path / "run.sh").write_text(f"#!/bin/sh\n{line}\n", encoding="utf-8")
    return [(c.kind, c.program or c.celery_app, c.queues or c.argv) for c in scanned(tmp_path)]


# held-out round 11, taranis-ai: `uv sync --upgrade --all-extras --directory src/worker` in a
# dependency-bump script was read as a worker start-up that "runs src/worker"
@pytest.mark.parametrize(
    "line",
    [
        "uv sync --upgrade --all-extras --directory src/worker",
        "uv lock --directory src/worker",
        "uv pip install -e src/worker",
        "poetry install --directory src/worker",
        "poetry -C src/worker install",
        "pipenv install ./worker",
        "uv tool install src/worker",
    ],
)
def test_a_project_managers_commands_other_than_run_run_nothing(tmp_path: Path, line: str) -> None:
    assert one_line(tmp_path, line) == []


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("uv run --no-sync --frozen celery -A shop worker -Q a", ("celery", "shop", ("a",))),
        ("uv --directory src/worker run rq worker high", ("rq", None, ("high",))),
        ("uv run --directory src/worker rq worker high", ("rq", None, ("high",))),
        ("uv run -m celery -A shop worker", ("celery", "shop", ())),
        ("uv run --with redis -- rq worker low", ("rq", None, ("low",))),
        ("poetry -C backend run rq worker default", ("rq", None, ("default",))),
        ("pipenv run python -m celery -A shop worker", ("celery", "shop", ())),
        ("pdm run ./bin/worker.py", ("program", "./bin/worker.py", ())),
        ("uv tool run rq worker default", ("rq", None, ("default",))),
    ],
)
def test_a_project_managers_run_runs_the_command_after_its_options(
    tmp_path: Path, line: str, expected: tuple[str, str | None, tuple[str, ...]]
) -> None:
    assert one_line(tmp_path, line) == [expected]


# held-out round 11, cupcake: `sudo tee /etc/systemd/system/cupcake-worker.service << EOF` writes
# a unit file; the unit's ExecStart in the here-document is the start-up
def test_a_file_a_wrapped_tool_writes_is_no_program(tmp_path: Path) -> None:
    (tmp_path / "install.sh").write_text(
        "#!/bin/bash\n"
        "sudo tee /etc/systemd/system/shop-worker.service > /dev/null << EOF\n"
        "[Service]\n"
        "ExecStart=/srv/shop/venv/bin/python manage.py rqworker default\n"
        "EOF\n"
        "sudo -u shop cp ./deploy/worker.conf /etc/supervisor/conf.d/shop-worker.conf\n"
        "sudo install -m 644 unit /etc/systemd/system/other-worker.service\n",
        encoding="utf-8",
    )
    assert [(c.kind, c.line, c.queues) for c in scanned(tmp_path)] == [("rq", 4, ("default",))]


# held-out round 11, pychunkedgraph: supervisord programs with numprocs=0, kept to start by hand
def test_a_supervisord_program_with_no_processes_starts_no_worker(tmp_path: Path) -> None:
    (tmp_path / "supervisord.conf").write_text(
        "[program:debug_worker]\n"
        "command=rq worker -c settings.debug debug\n"
        "numprocs=0 ; started by hand\n"
        "\n"
        "[program:mesh_worker]\n"
        "numprocs = 0\n"
        "command=rq worker mesh\n"
        "\n"
        "[program:worker]\n"
        "command=rq worker default\n"
        "numprocs=2\n"
        "process_name=%(program_name)s_%(process_num)02d\n",
        encoding="utf-8",
    )
    assert [(c.line, c.queues) for c in scanned(tmp_path)] == [(10, ("default",))]


# held-out round 11, taranis-ai: the worker image runs `taranis-worker`, a console script of the
# monorepo's src/worker/pyproject.toml
def test_console_scripts_of_a_distribution_two_folders_down_are_known(tmp_path: Path) -> None:
    (tmp_path / "src/worker").mkdir(parents=True)
    (tmp_path / "src/worker/pyproject.toml").write_text(
        '[project]\nname = "w"\n\n[project.scripts]\nshop-worker = "worker:start"\n',
        encoding="utf-8",
    )
    (tmp_path / "tests/fixture").mkdir(parents=True)
    (tmp_path / "tests/fixture/pyproject.toml").write_text(
        '[project]\nname = "t"\n\n[project.scripts]\nfixture-worker = "fixture:start"\n',
        encoding="utf-8",
    )
    assert console_scripts(tmp_path) == {"shop-worker": "worker:start"}
