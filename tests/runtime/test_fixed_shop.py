"""The example shop after `forklint check --fix`: its fixed Procfile command runs the jobs on a real
forking RQ worker, with the parent doing the imports and configure_mappers() once."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner
from redis import Redis
from rq import Queue

from forklint import cli

SHOP = Path(__file__).resolve().parents[2] / "examples" / "shop"


def test_the_fixed_shop_runs_its_jobs_on_a_forking_worker(tmp_path: Path, redis_server) -> None:
    root = tmp_path / "shop"
    shutil.copytree(SHOP, root, ignore=shutil.ignore_patterns("var", "__pycache__"))
    fixed = CliRunner().invoke(cli.main, ["check", str(root), "--no-cache", "--fix"])
    assert fixed.exit_code == 0, fixed.output

    env = {k: v for k, v in os.environ.items() if k not in ("FORKLINT_PREFORK", "PYTHONPATH")}
    env.update(
        SHOP_DATABASE_URL=f"sqlite:///{tmp_path / 'shop.sqlite'}", REDIS_URL=redis_server.url
    )

    def python(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, *args], cwd=root, env=env, capture_output=True, text=True,
            timeout=timeout, check=False,
        )  # fmt: skip

    produced = python("-m", "shop.producer", "--jobs", "3", "--notifications", "2")
    assert produced.returncode == 0, produced.stderr

    (line,) = (root / "Procfile").read_text(encoding="utf-8").splitlines()
    command = shlex.split(line.partition(":")[2])
    assert command[:4] == ["rq", "worker", "-w", "forklint.rq.PreforkWorker"]
    worker = python(
        "-m", "rq.cli", *command[1:], "--burst", "--url", redis_server.url, "-P", str(root)
    )
    assert worker.returncode == 0, worker.stderr

    queue = Queue("default", connection=Redis.from_url(redis_server.url))
    assert queue.failed_job_registry.count == 0
    assert queue.finished_job_registry.count == 5
    assert queue.count == 0
    assert "forklint prefork: imported shop.tasks" in worker.stdout
    assert "forklint prefork: called sqlalchemy.orm:configure_mappers" in worker.stdout
    assert "forklint prefork: called shop.notifications:template_environment" in worker.stdout

    # the edited start-up, shop/worker.py:main(), builds the pre-fork worker and runs the jobs
    more = python("-m", "shop.producer", "--jobs", "2")
    assert more.returncode == 0, more.stderr
    burst = (
        "import forklint.rq as f, shop.worker; work = f.PreforkWorker.work; "
        "f.PreforkWorker.work = lambda self, **kw: work(self, burst=True); shop.worker.main()"
    )
    main = python("-c", burst)
    assert main.returncode == 0, main.stderr
    assert "forklint prefork: imported shop.tasks" in main.stdout + main.stderr
    assert queue.finished_job_registry.count == 7
    assert queue.failed_job_registry.count == 0
