"""`forklint verify`: the click command; parses options, runs the verification, prints, picks the exit status."""

from __future__ import annotations

import importlib.util
import json
import signal
import sys
from pathlib import Path
from typing import Any, NoReturn

import click

EXIT_JOBS_FAILED = 1  # a job raised, a horse was killed by a signal, or the run timed out
EXIT_CANNOT_VERIFY = 2  # usage, Redis unreachable, job not importable, worker could not start
EXIT_INTERRUPTED = 130  # Ctrl-C: worker, horses and Redis stopped, temp files removed
EXIT_TERMINATED = 143  # SIGTERM (`timeout`, a CI runner cancelling): the same clean-up

HELP = """Run JOB N times on a real forking RQ worker, stock and with the pre-fork table, and compare.

JOB is pkg.module:function (or pkg.module.function). It is enqueued by name: verify never imports it
itself (a throw-away process checks that it imports). Both runs use the same Redis, a fresh queue
each and a worker subprocess in burst mode started from the project root; every work horse reports
what it measured between the fork and the end of its job: wall and CPU time (including resolving
the job's function), modules imported after the fork and the time spent importing them, SQLAlchemy
configure_mappers runs, and calls of the catalog's heavy callables (the outermost one of a call
stack), and of the functions the job's FRK103/FRK105 findings name, with the heavy calls made in them.

Each static finding for JOB is marked confirmed or not observed from what the stock horses did;
inconclusive when a job failed (no speed-up is given then either); not applicable for the rules
about per-fork work when the worker class does not fork (rq.SimpleWorker).

The pre-fork table is [tool.forklint.prefork] from the project's pyproject.toml, or, when none is
configured, the table `forklint prefork` suggests.

\b
Exit status:
  0    both runs completed every job
  1    a job failed (raised, or its horse was killed by a signal) or a run timed out
  2    usage error, Redis unreachable, JOB not importable, the worker could not start
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
    default=10,
    show_default=True,
    help="Jobs per run.",
)
@click.option(
    "--redis-url", metavar="URL", help="Use this Redis instead of a private, throw-away one."
)
@click.option(
    "--worker-class",
    metavar="DOTTED",
    default="rq.Worker",
    show_default=True,
    help="The stock worker class (rq worker -w).",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.1),
    default=300.0,
    show_default=True,
    help="Seconds allowed for each run; then the worker and its horses are killed.",
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
def verify_command(
    job: str,
    args_json: list[Any],
    kwargs_json: dict[str, Any],
    jobs: int,
    redis_url: str | None,
    worker_class: str,
    timeout: float,
    fmt: str,
    project: Path | None,
) -> None:  # fmt: skip
    require_runtime()
    from forklint.config import find_root
    from forklint.verify.render import to_json, to_text
    from forklint.verify.runner import VerifyError, VerifyTimeout
    from forklint.verify.session import Options, verify

    root = project if project is not None else find_root(Path.cwd())
    bar = _ProgressBar() if sys.stderr.isatty() else None
    options = Options(
        job=job,
        args=tuple(args_json),
        kwargs=tuple(kwargs_json.items()),
        jobs=jobs,
        redis_url=redis_url,
        worker_class=worker_class,
        timeout=timeout,
        root=root,
        progress=bar.update if bar else None,
    )
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        result = verify(options)
    except VerifyError as exc:
        _fail(f"forklint verify: {exc}", EXIT_CANNOT_VERIFY, bar)
    except VerifyTimeout as exc:
        _fail(
            f"forklint verify: timed out after {timeout:g}s ({exc}); the worker and its horses were killed",
            EXIT_JOBS_FAILED,
            bar,
        )
    except _Terminated:
        _fail(
            "forklint verify: terminated; the worker and Redis were stopped", EXIT_TERMINATED, bar
        )
    except KeyboardInterrupt:
        _fail(
            "forklint verify: interrupted; the worker and Redis were stopped", EXIT_INTERRUPTED, bar
        )
    finally:
        signal.signal(signal.SIGTERM, previous)
    if bar:
        bar.clear()
    click.echo(to_json(result) if fmt == "json" else to_text(result))
    failed = [run for run in (result.stock, result.prefork) if run.failures]
    for run in failed:
        click.echo(
            f"forklint verify: {len(run.failures)} of {run.jobs} jobs failed on {run.worker}; "
            f"first error: {run.failures[0].message}",
            err=True,
        )
    sys.exit(EXIT_JOBS_FAILED if failed else 0)


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


class _Terminated(BaseException):
    """SIGTERM, raised where verify is, so that the same clean-up as for Ctrl-C runs on the way out."""


def _terminate(signum: int, frame: object) -> None:
    raise _Terminated


def _fail(message: str, status: int, bar: _ProgressBar | None) -> NoReturn:
    if bar:
        bar.clear()
    click.echo(message, err=True)
    sys.exit(status)


class _ProgressBar:
    """One line on stderr, redrawn in place; only used when stderr is a terminal."""

    width = 30

    def update(self, worker: str, done: int, *, total: int) -> None:
        filled = self.width * done // max(total, 1)
        bar = "#" * filled + "." * (self.width - filled)
        sys.stderr.write(f"\r\x1b[2K{worker:<28} [{bar}] {done}/{total}")
        sys.stderr.flush()

    def clear(self) -> None:
        sys.stderr.write("\r\x1b[2K")
        sys.stderr.flush()
