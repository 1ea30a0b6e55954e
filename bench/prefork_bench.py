"""Time real `rq worker --burst` runs of the example shop: stock, with a pre-fork table (frozen heap or
not), and SimpleWorker; with each job's fork time, page faults and private memory.

    python bench/prefork_bench.py --jobs 100            # the worker runs, side by side
    python bench/prefork_bench.py --parts --repeat 5    # what one stock work horse pays, step by step

Every worker run is a real `rq worker` process (the console script RQ installs) started in
examples/shop, forking a work horse per job, against a private Redis (forklint's
EmbeddedRedis) or `--redis-url`, with the same N jobs enqueued by name before it starts.
Seconds are wall time from starting `rq worker` to its exit, start-up and pre-fork included.
The worker classes are RQ's (and forklint's) with bench/fork_meter.py's mixin, which records per
job the parent's time for it, the fork, and the horse's minor page faults and private memory.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

from redis import Redis
from redis.exceptions import RedisError
from rq import Queue
from rq.job import Job, JobStatus

from forklint.config import ConfigError
from forklint.redis_server import EmbeddedRedis, RedisServerError

BENCH = Path(__file__).resolve().parent
EXAMPLE = BENCH.parent / "examples" / "shop"
QUEUE = "default"
METER_KEY = "fork_meter:jobs"  # bench/fork_meter.py's list


@dataclass(frozen=True)
class JobPreset:
    function: str  # what the jobs are enqueued as (by name, as a web app in another repo would)
    imports_only: dict[str, list[str]]  # the pre-fork table that only imports the job's module
    prefork: dict[str, list[str]]  # the pre-fork table that fixes every finding on the job


JOBS = {
    "record_event": JobPreset(
        function="shop.tasks.record_event",
        imports_only={"imports": ["shop.tasks"]},
        prefork={
            "imports": ["shop.tasks", "shop.models"],
            "calls": ["sqlalchemy.orm:configure_mappers"],
        },
    ),
    "send_notification": JobPreset(
        function="shop.tasks.send_notification",
        imports_only={"imports": ["shop.tasks"]},
        prefork={
            "imports": ["shop.tasks", "shop.notifications"],
            "calls": [
                "sqlalchemy.orm:configure_mappers",
                "shop.notifications:template_environment",
            ],
        },
    ),
}


@dataclass(frozen=True)
class RunSpec:
    name: str
    worker_class: str  # bench/fork_meter.py's class: Stock (rq.Worker), Prefork, Simple
    prefork: dict[str, object] | None  # exported as FORKLINT_PREFORK


@dataclass(frozen=True)
class RunResult:
    name: str
    command: str
    prefork: dict[str, object] | None
    seconds: float
    jobs_per_second: float
    finished: int
    failed: int
    job_ms_median: float  # started_at -> ended_at as RQ records it, inside the horse
    job_ms_p95: float
    # From bench/fork_meter.py, medians over the jobs:
    cycle_ms: float  # the parent's time per job: fork, horse, reaping, bookkeeping
    fork_ms: float | None  # the fork as the parent sees it (None: SimpleWorker)
    minor_faults: float | None  # in the horse since the fork (SimpleWorker: during the job)
    private_mb: float | None  # the horse's USS at the job's end
    private_dirty_mb: float | None


def suggested_table() -> dict[str, list[str]]:
    """The [tool.forklint.prefork] table forklint's static analysis suggests for the example."""
    from forklint.api import check

    return check([EXAMPLE]).prefork.to_dict()


def run_specs(preset: JobPreset, table: dict[str, list[str]]) -> dict[str, RunSpec]:
    return {
        "stock": RunSpec("stock", "fork_meter.Stock", None),
        "imports": RunSpec("imports", "fork_meter.Prefork", preset.imports_only),
        "prefork": RunSpec("prefork", "fork_meter.Prefork", table),
        "prefork-nofreeze": RunSpec(
            "prefork-nofreeze", "fork_meter.Prefork", {**table, "freeze": False}
        ),
        "simple": RunSpec("simple", "fork_meter.Simple", None),
    }


def job_args(job: str, n: int) -> tuple[object, ...]:
    if job == "record_event":
        return ({"kind": "page_view", "path": f"/products/{n}", "n": n},)
    context = {"email": f"customer{n}@example.com", "name": f"Customer {n}", "order": f"SO-{n:06d}"}
    return ("order_confirmation", "de" if n % 2 else "en", context)


def rq_command() -> list[str]:
    """The `rq` console script of this interpreter's environment (what a Procfile runs)."""
    script = Path(sys.executable).parent / "rq"
    if script.is_file():
        return [str(script)]
    return [sys.executable, "-c", "import sys; from rq.cli import main; sys.exit(main())"]


@contextmanager
def redis_url(given: str | None) -> Iterator[str]:
    if given:
        yield given
        return
    with EmbeddedRedis() as server:
        yield server.url


def example_env(database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("FORKLINT_PREFORK", "PYTHONPATH")}
    env["SHOP_DATABASE_URL"] = database_url
    env["PYTHONPATH"] = str(BENCH)  # fork_meter, the worker classes
    return env


def count_events(database: Path) -> int:
    with closing(sqlite3.connect(database)) as connection:
        return int(connection.execute("SELECT count(*) FROM events").fetchone()[0])


def log_text_tail(text: str, lines: int = 3) -> str:
    return " | ".join(text.strip().splitlines()[-lines:]) or "(no output)"


def log_tail(log: Path, lines: int = 3) -> str:
    return log_text_tail(log.read_text(errors="replace"), lines)


def worker_run(
    spec: RunSpec, url: str, job: str, count: int, env: dict[str, str], log: Path
) -> RunResult:
    """Enqueue `count` jobs, run one burst worker over them, and read back what RQ recorded."""
    redis = Redis.from_url(url)
    redis.flushdb()
    queue = Queue(QUEUE, connection=redis)
    preset = JOBS[job]
    ids = [
        queue.enqueue(preset.function, *job_args(job, n), result_ttl=3600).id for n in range(count)
    ]
    command = [*rq_command(), "worker", "--burst", "--url", url, "-w", spec.worker_class, QUEUE]
    run_env = dict(env)
    if spec.prefork is not None:
        run_env["FORKLINT_PREFORK"] = json.dumps(spec.prefork)
    with log.open("w") as output:
        started = time.perf_counter()
        process = subprocess.run(
            command, check=False, cwd=EXAMPLE, env=run_env, stdout=output, stderr=subprocess.STDOUT
        )
        seconds = time.perf_counter() - started
    jobs = [j for j in Job.fetch_many(ids, connection=redis) if j is not None]
    finished = [j for j in jobs if j.get_status(refresh=False) == JobStatus.FINISHED]
    failed = len(jobs) - len(finished)
    if process.returncode != 0 or failed:
        print(
            f"  {spec.name}: rq worker exited {process.returncode}, {failed} jobs not finished: {log_tail(log)}"
        )
    if spec.prefork and "forklint prefork:" not in log.read_text(errors="replace"):
        # A run that silently preloaded nothing would pass for "no effect".
        print(f"  {spec.name}: the worker log shows no pre-fork step: {log_tail(log)}")
    durations = sorted(
        (j.ended_at - j.started_at).total_seconds() * 1000
        for j in finished
        if j.started_at and j.ended_at
    )
    shown = "rq " + " ".join(command[len(rq_command()) :])
    meter = [json.loads(raw) for raw in redis.lrange(METER_KEY, 0, -1)]
    return RunResult(
        name=spec.name,
        command=shown.replace(url, "$REDIS_URL"),
        prefork=spec.prefork,
        seconds=round(seconds, 2),
        jobs_per_second=round(len(finished) / seconds, 2),
        finished=len(finished),
        failed=failed,
        job_ms_median=round(statistics.median(durations), 1) if durations else float("nan"),
        job_ms_p95=round(durations[int(0.95 * (len(durations) - 1))], 1)
        if durations
        else float("nan"),
        cycle_ms=_median(meter, "job_ms") or float("nan"),
        fork_ms=_median(meter, "fork_ms"),
        minor_faults=_median(meter, "minor_faults"),
        private_mb=_mb(_median(meter, "private_kb")),
        private_dirty_mb=_mb(_median(meter, "private_dirty_kb")),
    )


def _median(records: Sequence[dict[str, float | None]], key: str) -> float | None:
    values = [r[key] for r in records if r.get(key) is not None]
    return round(float(statistics.median(values)), 2) if values else None  # type: ignore[arg-type]


def _mb(kb: float | None) -> float | None:
    return None if kb is None else round(kb / 1024, 1)


def print_runs(results: Sequence[RunResult], job: str, count: int) -> None:
    base = next((r.seconds for r in results if r.name == "stock"), None)
    simple = next((r for r in results if r.name == "simple"), None)
    print(f"\n{count} x {JOBS[job].function}, one `rq worker --burst` per row, all in this run:")
    print(
        f"{'run':<17} {'seconds':>8} {'jobs/s':>7} {'vs stock':>8} {'job ms':>8} {'vs simple':>9} "
        f"{'fork ms':>7} {'faults':>7} {'USS MB':>7} {'dirty MB':>8} {'horse p50':>9}  ok/failed"
    )
    for r in results:
        ratio = f"{base / r.seconds:.1f}x" if base else "-"
        versus = f"{r.cycle_ms / simple.cycle_ms:.2f}x" if simple else "-"
        print(
            f"{r.name:<17} {r.seconds:>8.2f} {r.jobs_per_second:>7.2f} {ratio:>8} "
            f"{r.cycle_ms:>8.1f} {versus:>9} {_cell(r.fork_ms, 2):>7} {_cell(r.minor_faults, 0):>7} "
            f"{_cell(r.private_mb, 1):>7} {_cell(r.private_dirty_mb, 1):>8} {r.job_ms_median:>9.1f}"
            f"  {r.finished:>3}/{r.failed:<5}"
        )
    print("job ms: the parent's time per job (median; fork, horse, reaping, RQ's bookkeeping);")
    print("horse p50: started_at -> ended_at as RQ records it; faults: minor page faults per horse;")
    print("USS / dirty: the horse's private memory at the job's end. Commands:")
    for r in results:
        table = f"  FORKLINT_PREFORK={json.dumps(r.prefork)}" if r.prefork is not None else ""
        print(f"  {r.name}: {r.command}{table}")


def _cell(value: float | None, digits: int) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


# Runs in a fresh interpreter in examples/shop: the steps a stock work horse goes through for
# its first record_event, each timed, plus a second call to show what a warm process pays.
PARTS_SNIPPET = """
import json, time
t = [time.perf_counter()]
import sqlalchemy.orm
t.append(time.perf_counter())
import shop.models
t.append(time.perf_counter())
sqlalchemy.orm.configure_mappers()
t.append(time.perf_counter())
import shop.tasks
t.append(time.perf_counter())
shop.tasks.record_event({"kind": "bench"})
t.append(time.perf_counter())
shop.tasks.record_event({"kind": "bench"})
t.append(time.perf_counter())
import shop.notifications
t.append(time.perf_counter())
shop.notifications.template_environment()
t.append(time.perf_counter())
names = ["import sqlalchemy.orm", "import shop.models", "configure_mappers()",
         "import shop.tasks (the engine)", "record_event, first (connect, insert, commit)",
         "record_event, second", "import shop.notifications (PyYAML, Jinja2)",
         "template_environment() (parse the YAML templates)"]
mapper = shop.models.Base.registry.mappers
print(json.dumps({"steps": {n: (b - a) * 1000 for n, a, b in zip(names, t, t[1:])},
                  "mappers": len(mapper),
                  "relationships": sum(len(m.relationships) for m in mapper),
                  "tables": len(shop.models.Base.metadata.tables)}))
"""


def parts(repeat: int, env: dict[str, str]) -> dict[str, object]:
    samples: list[dict[str, float]] = []
    shape: dict[str, int] = {}
    for _ in range(repeat):
        out = subprocess.run(
            [sys.executable, "-c", PARTS_SNIPPET],
            check=False,
            cwd=EXAMPLE,
            env=env,
            capture_output=True,
            text=True,
        )
        if out.returncode != 0:
            raise SystemExit(f"parts: the example failed: {log_text_tail(out.stderr)}")
        data = json.loads(out.stdout)
        samples.append(data.pop("steps"))
        shape = data
    steps = {name: {"median": round(statistics.median(s[name] for s in samples), 1),
                    "min": round(min(s[name] for s in samples), 1)} for name in samples[0]}  # fmt: skip
    return {"repeat": repeat, **shape, "steps_ms": steps}


def print_parts(result: dict[str, object]) -> None:
    print(
        f"\nexample: {result['mappers']} mapped classes, {result['relationships']} relationships, "
        f"{result['tables']} tables; each step in a fresh interpreter, {result['repeat']} times (ms):"
    )
    steps = result["steps_ms"]
    assert isinstance(steps, dict)
    for name, figures in steps.items():
        print(f"  {name:<50} median {figures['median']:>8.1f}   min {figures['min']:>8.1f}")
    horse = sum(steps[n]["median"] for n in list(steps)[:5])
    print(f"  {'a stock horse, first five steps together':<50} median {horse:>8.1f}")


def worker_runs(
    args: argparse.Namespace, env: dict[str, str], database: Path
) -> list[RunResult] | None:
    """The runs named by --runs, in order, on one Redis; None when they cannot start."""
    preset = JOBS[args.job]
    table = preset.prefork
    if args.table == "forklint":
        try:
            table = suggested_table()
        except ConfigError as exc:
            print(f"forklint cannot analyse the example: {exc}", file=sys.stderr)
            return None
    specs = run_specs(preset, table)
    names = [n.strip() for n in args.runs.split(",") if n.strip()]
    unknown = [n for n in names if n not in specs]
    if unknown:
        print(f"unknown run {', '.join(unknown)}: choose from {', '.join(specs)}", file=sys.stderr)
        return None
    results = []
    with redis_url(args.redis_url) as url:
        for name in names:
            print(f"running {name} ...", flush=True)
            before = count_events(database)
            result = worker_run(
                specs[name], url, args.job, args.jobs, env, database.parent / f"{name}.log"
            )
            grown = count_events(database) - before
            if args.job == "record_event" and grown != result.finished:
                print(
                    f"  {name}: {result.finished} jobs finished but {grown} events were stored",
                    file=sys.stderr,
                )
            results.append(result)
    print_runs(results, args.job, args.jobs)
    return results


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--jobs", type=int, default=100, help="jobs per worker run (default 100)")
    parser.add_argument("--job", choices=sorted(JOBS), default="record_event")
    parser.add_argument(
        "--runs",
        default="stock,imports,prefork,prefork-nofreeze,simple",
        help="comma-separated, in order, from: stock, imports, prefork, prefork-nofreeze, simple "
        "(default: all five)",
    )
    parser.add_argument(
        "--table",
        choices=["fixed", "forklint"],
        default="fixed",
        help="the prefork run's table: the one this script keeps for --job (default) or the one "
        "`forklint prefork examples/shop` suggests, computed now by forklint's static analysis",
    )
    parser.add_argument(
        "--parts", action="store_true", help="time a stock horse's steps instead of worker runs"
    )
    parser.add_argument(
        "--repeat", type=int, default=5, help="fresh interpreters for --parts (default 5)"
    )
    parser.add_argument(
        "--redis-url", help="use this Redis (its database is FLUSHED) instead of a private one"
    )
    parser.add_argument("--json", type=Path, help="also write every figure to this file")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="forklint-bench-") as tmp:
        database = Path(tmp) / "shop.sqlite"
        env = example_env(f"sqlite:///{database}")
        init = subprocess.run(
            [sys.executable, "-m", "shop.db", "init"],
            check=False,
            cwd=EXAMPLE,
            env=env,
            capture_output=True,
            text=True,
        )
        if init.returncode != 0:
            print(
                f"cannot create the example's database: {log_text_tail(init.stderr)}",
                file=sys.stderr,
            )
            return 2
        report: dict[str, object] = {"python": sys.version.split()[0], "cpus": os.cpu_count()}
        if args.parts:
            report["parts"] = parts(args.repeat, env)
            print_parts(report["parts"])  # type: ignore[arg-type]
        else:
            try:
                runs = worker_runs(args, env, database)
            except (RedisServerError, RedisError) as exc:
                print(f"cannot use Redis: {exc}", file=sys.stderr)
                return 2
            if runs is None:
                return 2
            report.update(
                job=JOBS[args.job].function, jobs=args.jobs, runs=[asdict(r) for r in runs]
            )
            if any(r.failed or r.finished != args.jobs for r in runs):
                return 1
        if args.json:
            args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
