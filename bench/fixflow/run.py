"""The fix flow on a project shaped like the ones issue 9 was about, run end to end.

`acme/` has a Flask app factory (create_app() registers a blueprint on the app an inner
get_app() makes), two SQLAlchemy engines (the app's and a warehouse the start-up health-checks
before Worker.work(), with a disposer for the warehouse only), and a model loader with a
parameter. This script copies it to a temporary directory, then:

1. `forklint .` and counts the findings and the output lines;
2. `forklint check --fix` (safe fixes), then `--fix --unsafe-fixes` (the memoised getters);
3. checks that a second `--fix --unsafe-fixes` changes nothing and every file compiles;
4. trains a tiny model, starts a private Redis, enqueues the jobs and runs the worker exactly
   as the fixed Procfile says (`rq worker -w forklint.rq.PreforkWorker high default`, in burst
   mode), then the fixed `worker.py:main()` the same way; every job must finish.

Needs flask, joblib and scikit-learn besides forklint's test dependencies:

    .venv/bin/pip install flask joblib scikit-learn
    .venv/bin/python bench/fixflow/run.py
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent


def forklint(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "forklint", "check", ".", "--no-cache", *args]
    return subprocess.run(command, cwd=root, capture_output=True, text=True, check=False)


def files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def main() -> int:
    import joblib
    from redis import Redis
    from rq import Queue
    from sklearn.linear_model import LogisticRegression

    from forklint.redis_server import EmbeddedRedis

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "acme"
        shutil.copytree(HERE / "acme", root)
        (root / ".git").mkdir()  # the project root for forklint

        first = forklint(root)
        found = [line for line in first.stdout.splitlines() if ": FRK" in line]
        print(f"1. forklint .: {len(found)} findings, {len(first.stdout.splitlines())} lines")
        for line in found:
            print("   " + line[:110])
        safe = forklint(root, "--fix")
        print(f"2. --fix: {safe.stdout.strip().splitlines()[-1]}")
        unsafe = forklint(root, "--fix", "--unsafe-fixes")
        print(f"   --fix --unsafe-fixes: {unsafe.stdout.strip().splitlines()[-1]}")
        after = files(root)
        again = forklint(root, "--fix", "--unsafe-fixes")
        assert files(root) == after, "a second --fix changed something"
        for path in after:
            if path.endswith(".py"):
                compile(after[path], path, "exec")
        print(f"3. second --fix: no change; {again.stdout.strip().splitlines()[-1]}")

        (root / "models").mkdir()
        model = LogisticRegression().fit([[0, 0], [1, 1], [0, 1], [1, 0]], [0, 1, 0, 1])
        joblib.dump(model, root / "models" / "churn.joblib")
        with EmbeddedRedis() as server:
            env = dict(
                os.environ,
                REDIS_URL=server.url,
                APP_DB=f"sqlite:///{root}/app.sqlite",
                WAREHOUSE_DB=f"sqlite:///{root}/warehouse.sqlite",
            )
            env.pop("FORKLINT_PREFORK", None)
            connection = Redis.from_url(server.url)
            default, high = (Queue(q, connection=connection) for q in ("default", "high"))
            jobs = [default.enqueue("acme.tasks.churn", [1, 1]) for _ in range(5)]
            jobs += [high.enqueue("acme.tasks.send_report", n) for n in range(5)]
            (line,) = [
                x for x in (root / "Procfile").read_text().splitlines() if x.startswith("worker:")
            ]
            command = shlex.split(line.partition(":")[2])
            worker = subprocess.run(
                [sys.executable, "-m", "rq.cli", *command[1:], "--burst", "--url", server.url],
                cwd=root, env=env, capture_output=True, text=True, timeout=600, check=False,
            )  # fmt: skip
            print(f"4. Procfile `{' '.join(command)}`: exit {worker.returncode}")
            jobs += [default.enqueue("acme.tasks.churn", [0, 0]) for _ in range(2)]
            burst = (
                "import worker, forklint.rq as f; work = f.PreforkWorker.work; "
                "f.PreforkWorker.work = lambda self, **k: work(self, burst=True); worker.main()"
            )
            start_up = subprocess.run(
                [sys.executable, "-c", burst],
                cwd=root, env=env, capture_output=True, text=True, timeout=600, check=False,
            )  # fmt: skip
            print(f"   worker.py:main(): exit {start_up.returncode}")
            statuses = []
            for job in jobs:
                job.refresh()
                statuses.append(str(job.get_status()))
            finished = statuses.count("JobStatus.FINISHED")
            print(f"   jobs finished: {finished} of {len(jobs)}")
            ok = worker.returncode == 0 and start_up.returncode == 0 and finished == len(jobs)
            if not ok:
                print(worker.stderr[-2000:], start_up.stderr[-2000:])
            return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
