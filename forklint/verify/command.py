"""`forklint verify`: the click command; parses options, runs the verification, prints, picks the exit status."""

from __future__ import annotations

import importlib.util
import json
import signal
import sys
from pathlib import Path
from typing import Any, NoReturn

import click

from forklint.report.common import printable

EXIT_JOBS_FAILED = 1  # a job raised, a horse was killed by a signal, or the run timed out
EXIT_CANNOT_VERIFY = 2  # usage, Redis unreachable, job not importable, worker could not start
EXIT_INTERRUPTED = 130  # Ctrl-C: worker, horses and Redis stopped, temp files removed
EXIT_TERMINATED = 143  # SIGTERM (`timeout`, a CI runner cancelling): the same clean-up

HELP = """Run JOB on a real forking RQ worker, as the project runs it and with the pre-fork table, and compare.

JOB is pkg.module:function (or pkg.module.function). It is enqueued by name: verify never imports it
itself (a throw-away process checks that it imports). Two worker subprocesses start from the project
root on the same Redis, each with a queue of its own, and stay up while verify sends them blocks of
jobs in turn:

\b
  baseline  the project's own start-up when forklint resolved one that runs JOB (its worker class
            and what it imports and calls before forking), else the stock rq.Worker
  pre-fork  the same class with forklint.rq.PreforkMixin and the pre-fork table: [tool.forklint.prefork]
            from pyproject.toml, else the table `forklint prefork` suggests

The first --warmup jobs of each worker are discarded. Each figure is a median over the measured jobs,
the job time with a 95 % bootstrap interval; the speed-up is the baseline's median job time over the
pre-fork worker's, with its interval, and "no measurable difference" when the two medians' intervals
overlap. Without --jobs, verify runs until both intervals are within +-5 % or --budget is spent.

Measured for every job: in the parent, the job's whole time and the fork; in the horse, wall and
CPU time, minor page faults and private memory (USS, private dirty) at the job's end, modules
imported after the fork, SQLAlchemy configure_mappers runs, and calls of the catalog's heavy
callables and of the functions the job's findings name. Each static finding for JOB is marked
confirmed or not observed from what the baseline horses did; inconclusive when a job failed; not
applicable for the rules about per-fork work when the worker class does not fork.

\b
Exit status:
  0    every job completed on both workers
  1    a job failed (raised, or its horse was killed by a signal) or a worker made no progress
  2    usage error, Redis unreachable, JOB not importable, a worker could not start
  130  interrupted (Ctrl-C); everything verify started is stopped and removed
  143  terminated (SIGTERM); the same clean-up
"""


def _json_option(kind: type, what: str) -> Any:
    def convert(ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
        if value is None:
            return kind()
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError as exc:
            raise click.BadParameter(f"not valid JSON ({exc.msg} at column {exc.colno})") from None
        if not isinstance(parsed, kind):
            raise click.BadParameter(f"must be a JSON {what}")
        return parsed

    return convert


@click.command("verify", help=HELP)
@click.argument("job")
@click.option(
    "--args",
    "args_json",
    metavar="JSON",
    callback=_json_option(list, "array"),
    help="Positional arguments, a JSON array.",
)
@click.option(
    "--kwargs",
    "kwargs_json",
    metavar="JSON",
    callback=_json_option(dict, "object"),
    help="Keyword arguments, a JSON object.",
)
@click.option(
    "--jobs",
    "-n",
    type=click.IntRange(1, 100_000),
    default=None,
    help="Measured jobs per worker (default: until the figures are stable or --budget is spent).",
)
@click.option(
    "--warmup",
    type=click.IntRange(0, 1000),
    default=2,
    show_default=True,
    help="Jobs run first on each worker and discarded.",
)
@click.option(
    "--budget",
    type=click.FloatRange(min=1.0),
    default=60.0,
    show_default=True,
    help="Seconds of measuring without --jobs, after start-up and warm-up.",
)
@click.option(
    "--baseline",
    type=click.Choice(["project", "stock"]),
    default=None,
    help="What the pre-fork worker is compared with (default: project when forklint resolved a "
    "start-up that runs JOB, else stock).",
)
@click.option(
    "--redis-url", metavar="URL", help="Use this Redis instead of a private, throw-away one."
)
@click.option(
    "--worker-class",
    metavar="DOTTED",
    default=None,
    help="The baseline's worker class (rq worker -w); default: the project's, else rq.Worker.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.1),
    default=300.0,
    show_default=True,
    help="Seconds a worker may take to start or to finish a job; then it is killed with its horses.",
)
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.option(
    "--project",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="The project root (default: found upward from the current directory).",
)
def verify_command(**options: Any) -> None:
    from forklint.verify import processes
    from forklint.verify.secrets import scrub, secrets_of

    secrets = secrets_of(options["redis_url"])

    def say(text: str, *, err: bool = False) -> None:
        # Control characters from job errors or project files are escaped; passwords masked.
        lines = (printable(scrub(line, secrets)) for line in text.split("\n"))
        click.echo("\n".join(lines), err=err)

    bar = _ProgressBar(secrets) if sys.stderr.isatty() else None
    # Then: from here on Ctrl-C and SIGTERM end verify through its clean-up, never a traceback
    # (what runs before its `try` is ready before the handlers are: a signal that lands while
    # verify still imports or sets up ends it the default way, held-out timing on a busy machine)
    with processes.handling_signals():
        _verify(processes, say, bar, **options)


def _verify(
    processes: Any,
    say: Any,
    bar: _ProgressBar | None,
    job: str,
    args_json: list[Any],
    kwargs_json: dict[str, Any],
    jobs: int | None,
    warmup: int,
    budget: float,
    baseline: str | None,
    redis_url: str | None,
    worker_class: str | None,
    timeout: float,
    fmt: str,
    project: Path | None,
) -> None:
    failure: tuple[str, int] | None = None
    result = None
    # One place catches the first signal, wherever it lands (the handler raises it only once); then
    # everything still registered is stopped, with further signals blocked.
    try:
        try:
            require_runtime()
            from forklint.config import find_root
            from forklint.verify.experiment import Plan
            from forklint.verify.session import Options, verify

            options = Options(
                job=job,
                args=tuple(args_json),
                kwargs=tuple(kwargs_json.items()),
                plan=Plan(warmup=warmup, jobs=jobs, budget=budget),
                redis_url=redis_url,
                worker_class=worker_class,
                baseline=baseline or "auto",
                timeout=timeout,
                root=project if project is not None else find_root(Path.cwd()),
                progress=bar.update if bar else None,
            )
            result = verify(options)
        except Exception as exc:  # noqa: BLE001 - sorted below; anything else is re-raised
            failure = _failure_of(exc, timeout)
    except processes.Interrupted as exc:
        failure = _interrupted(exc.signum)
    while True:
        try:
            survivors = processes.stop_all()[1]
            break
        except processes.Interrupted as exc:  # the first signal, landing just now
            failure = _interrupted(exc.signum)
    processes.settle()  # from here on a signal is only remembered
    if failure is None and processes.first_signal() is not None:
        failure = _interrupted(processes.first_signal() or signal.SIGINT)
    if survivors:
        message, status = failure or ("forklint verify", EXIT_CANNOT_VERIFY)
        failure = (f"{message}; could not stop: {', '.join(survivors)}", status)
    if bar:
        bar.clear()
    if failure is not None or result is None:
        message, status = failure or ("forklint verify: no result", EXIT_CANNOT_VERIFY)
        say(message, err=True)
        sys.exit(status)
    from forklint.verify.render import to_json, to_text

    say(to_json(result) if fmt == "json" else to_text(result))
    failed = [run for run in (result.stock, result.prefork) if run.failures]
    for run in failed:
        total = run.jobs + run.warmup
        say(
            f"forklint verify: {len(run.failures)} of {total} jobs failed on {run.worker}; "
            f"first error: {run.failures[0].message}",
            err=True,
        )
    sys.exit(EXIT_JOBS_FAILED if failed else 0)


def _failure_of(exc: Exception, timeout: float) -> tuple[str, int]:
    from forklint.verify.runner import VerifyError, VerifyTimeout

    if isinstance(exc, VerifyError):
        return f"forklint verify: {exc}", EXIT_CANNOT_VERIFY
    if isinstance(exc, VerifyTimeout):
        return (
            f"forklint verify: timed out after {timeout:g}s ({exc}); "
            "the worker and its horses were killed",
            EXIT_JOBS_FAILED,
        )
    raise exc


def _interrupted(signum: int) -> tuple[str, int]:
    if signum == signal.SIGTERM:
        return "forklint verify: terminated; stopped everything it had started", EXIT_TERMINATED
    return "forklint verify: interrupted; stopped everything it had started", EXIT_INTERRUPTED


def require_runtime() -> None:
    """verify runs RQ and talks to Redis: both come with the `verify` extra, not the linter."""
    for name in ("rq", "redis"):
        if importlib.util.find_spec(name) is None:
            _fail(
                f"forklint verify: needs rq and redis ({name} is not installed): "
                "pip install 'forklint[verify]'",
                EXIT_CANNOT_VERIFY,
                None,
            )


def _fail(message: str, status: int, bar: _ProgressBar | None) -> NoReturn:
    if bar:
        bar.clear()
    click.echo(message, err=True)
    sys.exit(status)


class _ProgressBar:
    """One line on stderr, redrawn in place; only used when stderr is a terminal."""

    def __init__(self, secrets: tuple[str, ...]) -> None:
        self.secrets = secrets

    def update(self, text: str) -> None:
        from forklint.verify.secrets import scrub

        sys.stderr.write(f"\r\x1b[2K{printable(scrub(text, self.secrets))[:100]}")
        sys.stderr.flush()

    def clear(self) -> None:
        sys.stderr.write("\r\x1b[2K")
        sys.stderr.flush()
