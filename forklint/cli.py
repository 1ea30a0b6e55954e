"""The `forklint` command line: parse options, call the API, render, choose the exit code."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

import click

from forklint import __version__, baseline, ruledocs
from forklint.config import (
    FORMATS,
    Config,
    ConfigError,
    find_root,
    is_known_code,
    load_config,
)
from forklint.findings import Report
from forklint.fsutil import FileProblem, append, atomic_write
from forklint.pyproject_edit import EditError, render_table, write_prefork
from forklint.report import render, statistics
from forklint.report.common import Painter, encode_output, printable, relative_to
from forklint.report.github import error_annotation, step_summary
from forklint.report.text import render_plan

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
_PATHS = click.Path(exists=True, path_type=Path)
# Files are checked where they are read or written, so that a missing, odd (a directory, a FIFO)
# or unreadable one is one line naming it, not click's usage block.
_FILE = click.Path(path_type=Path)
_CONFIG = click.option(
    "--config",
    "config_file",
    type=_FILE,
    help="Settings from this file: a pyproject.toml, or a TOML file with the keys at top level.",
)


class Failure(click.ClickException):
    """A usage, configuration or I/O problem: one line on stderr, exit 2."""

    exit_code = EXIT_ERROR

    def show(self, file: Any = None) -> None:
        click.echo(f"forklint: {printable(self.format_message())}", err=True)


class _CheckByDefault(click.Group):
    """`forklint src/` means `forklint check src/`; internal errors become one line and exit 2."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args or (
            args[0] not in self.commands and args[0] not in ("-h", "--help", "--version")
        ):
            args = ["check", *args]
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except BrokenPipeError:
            # The reader went away (`forklint | head`); say nothing more on a closed pipe.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            ctx.exit(EXIT_ERROR)
        except Exception as exc:  # noqa: BLE001 - the one place that turns a bug into exit 2
            click.echo(
                f"forklint: internal error: {type(exc).__name__}: {printable(str(exc))}", err=True
            )
            ctx.exit(EXIT_ERROR)


@click.group(cls=_CheckByDefault, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="forklint")
def main() -> None:
    """Find fork-unsafe and fork-wasted initialisation in background-job code.

    `forklint [PATHS]` is `forklint check [PATHS]`.
    """
    for stream in (sys.stdout, sys.stderr):
        # A path or message the terminal cannot encode must not end the run.
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")


def _codes(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> tuple[str, ...]:
    """Comma lists (the option may repeat) of codes or prefixes such as FRK1, checked against the rules."""
    codes = []
    for value in values:
        for code in filter(None, (part.strip().upper() for part in value.split(","))):
            if not is_known_code(code):
                raise click.BadParameter(
                    f"unknown rule code or prefix {code!r}; codes look like FRK102, prefixes like FRK1 "
                    "(`forklint rule --all` lists them)"
                )
            codes.append(code)
    return tuple(codes)


@main.command("check")
@click.argument("paths", nargs=-1, type=_PATHS)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    help="Output format [default: config `format`, else text].",
)
@click.option(
    "-o", "--output-file", type=_FILE, help="Write the output to this file instead of stdout."
)
@click.option(
    "--select", multiple=True, callback=_codes, help="Only these codes/prefixes (comma list)."
)
@click.option(
    "--ignore", multiple=True, callback=_codes, help="Skip these codes/prefixes (comma list)."
)
@click.option(
    "--extend-select", multiple=True, callback=_codes, help="Add codes/prefixes to the selection."
)
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when there are findings.")
@click.option(
    "--statistics",
    "show_statistics",
    is_flag=True,
    help="Count findings per rule instead of listing them.",
)
@click.option(
    "--baseline", "baseline_file", type=_FILE, help="Report only findings beyond this baseline."
)
@click.option(
    "--write-baseline", type=_FILE, help="Record the current findings as the baseline and exit."
)
@click.option(
    "--no-cache",
    is_flag=True,
    help="Analyse from scratch: do not reuse (or write) the cached report and per-file facts "
    "(in $FORKLINT_CACHE_DIR, else ~/.cache/forklint).",
)
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    help="Parse files in N processes [default: the available cores when there is enough to parse].",
)
@click.option(
    "--parse-timeout",
    type=click.FloatRange(min=0, min_open=True),
    metavar="SECONDS",
    help="CPU seconds one file's parse may take before it is reported as not analysed "
    "[default: config `parse-timeout`, else 10].",
)
@click.option(
    "--parse-memory",
    type=click.IntRange(min=32),
    metavar="MB",
    help="Megabytes one file's parse may use before it is reported as not analysed "
    "[default: config `parse-memory`, else 1024].",
)
@_CONFIG
@click.option("--show-config", is_flag=True, help="Print the effective configuration and exit.")
@click.option("-q", "--quiet", is_flag=True, help="Print findings only: no notes, no summary line.")
@click.option(
    "--fix",
    "fix",
    is_flag=True,
    help="Apply the safe fixes (the pre-fork table, start-ups switched to the pre-fork worker, "
    "after-fork resets), then report what is left.",
)
@click.option(
    "--unsafe-fixes",
    is_flag=True,
    help="With --fix or --diff, also apply the code rewrites (memoising a loader).",
)
@click.option(
    "--diff",
    is_flag=True,
    help="Print the changes --fix would make as a unified diff; write nothing.",
)
@click.option(
    "--show-trace", is_flag=True, help="Show each finding's jobs and trace in text output."
)
def check(
    paths: tuple[Path, ...],
    fmt: str | None,
    output_file: Path | None,
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    extend_select: tuple[str, ...],
    exit_zero: bool,
    show_statistics: bool,
    baseline_file: Path | None,
    write_baseline: Path | None,
    no_cache: bool,
    jobs: int | None,
    parse_timeout: float | None,
    parse_memory: int | None,
    config_file: Path | None,
    show_config: bool,
    quiet: bool,
    fix: bool,
    unsafe_fixes: bool,
    diff: bool,
    show_trace: bool,
) -> None:
    """Check PATHS (default: the current directory) for fork-wasted and fork-unsafe initialisation."""

    def configured() -> Config:
        config = _config(paths, config_file)
        return config.with_overrides(
            select=select or config.select,
            ignore=config.ignore + ignore,
            extend_select=config.extend_select + extend_select,
            format=fmt or config.format,
            parse_timeout=parse_timeout or config.parse_timeout,
            parse_memory=parse_memory or config.parse_memory,
        )

    config = configured()
    if show_config:
        click.echo(config_toml(config), nl=False)
        return
    fmt = config.format
    targets = paths or (Path.cwd(),)
    # Read before the analysis: a bad baseline fails in a moment, not after the whole run.
    recorded = _read_baseline(baseline_file, config.root) if baseline_file is not None else None
    report = _analyse(targets, config, jobs, cache=not no_cache)
    allowed = frozenset({"safe", "unsafe"} if unsafe_fixes else {"safe"})
    if diff:
        _print_errors(report, fmt)
        sys.exit(_show_diff(report, allowed, quiet))
    fixed_note = ""
    if fix:
        report, fixed_note = _fix(
            report, lambda: _analyse(targets, configured(), jobs, cache=not no_cache), allowed
        )
    _print_errors(report, fmt)
    if write_baseline is not None:
        try:
            count = baseline.write(write_baseline, report.findings)
        except FileProblem as problem:
            raise Failure(f"cannot write baseline {write_baseline}: {problem}") from None
        if not quiet:
            click.echo(f"forklint: wrote {count} findings to baseline {write_baseline}", err=True)
        return
    if recorded is not None:
        report = _apply_baseline(report, recorded, targets, quiet)
    if fmt in ("text", "concise"):
        report = relative_to(report, Path.cwd().resolve())
    if fmt == "concise" and not quiet and not show_statistics:
        # Notes go to stderr so that stdout stays one `path:line:col: CODE message` per line.
        for assumption in report.assumptions:
            click.echo(f"note: {printable(assumption)}", err=True)
        for unresolved in report.unresolved:
            click.echo(f"note: unresolved start-up {printable(str(unresolved))}", err=True)
    color = _colour(output_file)
    if show_statistics:
        text = statistics.render(report, fmt)
    else:
        text = render(report, fmt, color=color, quiet=quiet, show_trace=show_trace)
    _emit(text, output_file, color)
    if fixed_note and not quiet:
        click.echo(fixed_note, err=fmt != "text" or output_file is not None)
    summary_file = os.environ.get("GITHUB_STEP_SUMMARY")
    if fmt == "github" and summary_file:
        _append(Path(summary_file), step_summary(report))
    failed = bool(report.findings or report.errors)
    sys.exit(EXIT_FINDINGS if failed and not exit_zero else EXIT_CLEAN)


def _fix(
    report: Report, analyse: Callable[[], Report], allowed: frozenset[str]
) -> tuple[Report, str]:
    """Apply the plan's allowed steps, analyse again, and repeat while a round still changes
    something (a step held back by an overlap, a finding the first round's changes revealed)."""
    from forklint import applier

    root = Path(report.root)
    before = {f.fingerprint for f in report.findings}
    changed: set[str] = set()
    problems: list[str] = []
    for _round in range(4):
        composed = applier.compose(report.plan, root, allowed)
        problems += composed.held
        if not composed.files:
            break
        problems += applier.write(root, composed)
        changed |= {c.path for c in composed.files}
        report = analyse()  # the configuration too: the table may be new
    for problem in dict.fromkeys(problems):
        click.echo(f"forklint: not fixed: {printable(problem)}", err=True)
    after = {f.fingerprint for f in report.findings}
    if not before and not changed:
        return report, ""
    fixed = len(before - after)
    note = (
        f"forklint: fixed {fixed} of {len(before)} findings, changing "
        + (", ".join(sorted(changed)) if changed else "no file")
        + f"; {len(after)} remaining."
    )
    if (
        len(after)
        and any(f.fix is not None and f.fix.applicability == "unsafe" for f in report.findings)
        and "unsafe" not in allowed
    ):
        note += " Code rewrites (unsafe fixes) are applied with --fix --unsafe-fixes."
    return report, note


def _show_diff(report: Report, allowed: frozenset[str], quiet: bool) -> int:
    """Print what --fix would change; exit 1 when it would change something."""
    from forklint import applier

    composed = applier.compose(report.plan, Path(report.root), allowed)
    click.echo(applier.unified_diff(composed), nl=False)
    for problem in dict.fromkeys(composed.held):
        click.echo(f"forklint: not fixed: {printable(problem)}", err=True)
    if not quiet:
        count = len(composed.steps)
        noun = "step" if count == 1 else "steps"
        click.echo(
            f"forklint: --fix would apply {count} fix {noun} to {len(composed.files)} files",
            err=True,
        )
    return EXIT_FINDINGS if composed.files else EXIT_CLEAN


@main.command("rule")
@click.argument("code", required=False)
@click.option("--all", "show_all", is_flag=True, help="Print every rule.")
def rule(code: str | None, show_all: bool) -> None:
    """Print the documentation of rule CODE (e.g. FRK102), or of every rule with --all."""
    rules = ruledocs.all_rules()
    if show_all == (code is not None):
        raise click.UsageError("give either a rule CODE or --all")
    if show_all:
        click.echo("\n\n".join(ruledocs.render_text(doc).rstrip("\n") for doc in rules.values()))
        return
    assert code is not None
    doc = rules.get(code.upper())
    if doc is None:
        raise Failure(f"unknown rule {code!r}; `forklint rule --all` lists every rule")
    click.echo(ruledocs.render_text(doc).rstrip("\n"))


@main.command("prefork")
@click.argument("paths", nargs=-1, type=_PATHS)
@click.option(
    "--write", is_flag=True, help="Add or update the table in the project's pyproject.toml."
)
@_CONFIG
def prefork(paths: tuple[Path, ...], write: bool, config_file: Path | None) -> None:
    """Print the fix plan and the [tool.forklint.prefork] table that fixes the project's
    FRK101/102/104/105 findings (`--write` puts the table in pyproject.toml)."""
    config = _config(paths, config_file)
    report = _analyse(paths or (config.root,), config)
    _print_errors(report, "text")
    table = config.prefork.merge(report.prefork)
    if not table:
        click.echo("# forklint: nothing to run before the fork; no pre-fork table needed.")
        return
    shown = relative_to(report, Path.cwd().resolve())
    plan = render_plan(shown.plan, Painter(False), table_diff=False)
    click.echo(
        "# forklint: the pre-fork table for this project (imports and calls for the worker\n"
        "# parent, below) and the rest of the fix plan; `forklint check --fix` applies it all."
    )
    for line in plan.splitlines() or ["(nothing else to change)"]:
        click.echo(f"#   {printable(line)}")
    click.echo(render_table(table), nl=False)
    if write:
        target = config.root / "pyproject.toml"
        try:
            write_prefork(target, table)
        except EditError as exc:
            raise Failure(str(exc)) from None
        click.echo(
            f"forklint: updated [tool.forklint.prefork] in {printable(str(target))}", err=True
        )


try:
    from forklint.verify.command import verify_command
except ModuleNotFoundError as exc:
    # Only a missing verify package is tolerated (during development); any other error surfaces.
    if exc.name not in ("forklint.verify", "forklint.verify.command"):
        raise
else:
    main.add_command(verify_command, "verify")


def _config(paths: Sequence[Path], config_file: Path | None) -> Config:
    root = find_root(paths[0] if paths else Path.cwd())
    try:
        return load_config(root, config_file, check_codes=True)
    except ConfigError as exc:
        raise Failure(str(exc)) from None


def _analyse(
    paths: Sequence[Path], config: Config, jobs: int | None = None, cache: bool = True
) -> Report:
    # A run where nothing changed needs none of the engine: it is imported only on a miss
    # (libcst alone takes a third of a second to import), and neither `forklint rule` nor
    # `--help` loads it.
    started = time.perf_counter()
    reports = None
    if cache:
        from forklint.reportcache import ReportCache

        reports = ReportCache.prepare(list(paths), config)
        cached = reports.load() if reports is not None else None
        if cached is not None:
            return replace(cached, seconds=round(time.perf_counter() - started, 3))
    from forklint import api

    try:
        return api.check(list(paths), config, jobs=jobs, cache=cache, missed=reports)
    except ConfigError as exc:  # e.g. a catalog extension in [tool.forklint] that does not parse
        raise Failure(str(exc)) from None


def _print_errors(report: Report, fmt: str) -> None:
    if fmt == "github":  # annotations name files relative to the repository, as GitHub needs
        _write(
            "".join(error_annotation(report.root, error) + "\n" for error in report.errors),
            sys.stderr,
        )
        return
    for error in relative_to(report, Path.cwd().resolve()).errors:
        click.echo(f"error: {printable(str(error))}", err=True)


def _read_baseline(path: Path, root: Path) -> baseline.Baseline:
    try:
        return baseline.read(path, root)
    except baseline.BaselineError as exc:
        raise Failure(str(exc)) from None


def _apply_baseline(
    report: Report, recorded: baseline.Baseline, paths: Sequence[Path], quiet: bool
) -> Report:
    root = Path(report.root)
    checked = [
        p.resolve().relative_to(root).as_posix() for p in paths if p.resolve().is_relative_to(root)
    ]

    def was_checked(relpath: str) -> bool:
        return any(c == "." or relpath == c or relpath.startswith(c + "/") for c in checked)

    result = baseline.apply(report, recorded, was_checked)
    if result.gone and not quiet:
        noun = "finding no longer occurs" if result.gone == 1 else "findings no longer occur"
        click.echo(
            f"forklint: {result.gone} baselined {noun}; refresh with --write-baseline", err=True
        )
    return result.report


def _colour(output_file: Path | None) -> bool:
    """ANSI colour for a terminal, unless NO_COLOR (https://no-color.org) is set."""
    return output_file is None and sys.stdout.isatty() and not os.environ.get("NO_COLOR")


def _emit(text: str, output_file: Path | None, color: bool) -> None:
    if output_file is None:
        if color:
            click.echo(text, nl=False, color=True)
        else:
            _write(text, sys.stdout)
        return
    try:
        atomic_write(output_file, encode_output(text))
    except FileProblem as problem:
        # /dev/stdout is a symlink, /dev/null a device: neither can be replaced by a rename.
        hint = ""
        if problem.kind in ("link", "special"):
            hint = "; leave out --output-file to write to stdout"
        raise Failure(f"cannot write --output-file {output_file}: {problem}{hint}") from None


def _write(text: str, stream: Any) -> None:
    """`text` as bytes, not through click.echo: echo drops ANSI sequences when the stream is not a
    terminal, so `--format github` into a pipe would name `ansi\x1b[31mred.py` as `ansired.py`, a
    file that does not exist. Renderers have already escaped what a terminal must not see."""
    if not text:
        return
    buffer = getattr(stream, "buffer", None)
    if buffer is None:  # a text-only stream (a test's StringIO)
        stream.write(encode_output(text).decode("utf-8", "backslashreplace"))
        stream.flush()
        return
    stream.flush()
    buffer.write(encode_output(text))
    buffer.flush()


def _append(path: Path, text: str) -> None:
    try:
        append(path, encode_output(text))
    except FileProblem as problem:
        raise Failure(f"cannot write GITHUB_STEP_SUMMARY {path}: {problem}") from None


def config_toml(config: Config) -> str:
    """The effective configuration as a `[tool.forklint]` table (unset keys as comments)."""
    source = str(config.source) if config.source else "defaults (no [tool.forklint] found)"
    # printable: a folder name holding a line break must not end the comment (and the TOML).
    lines = [
        f"# root: {printable(str(config.root))}",
        f"# settings from: {printable(source)}",
        "[tool.forklint]",
    ]
    tables = []
    for item in fields(config):
        if item.name in ("root", "source", "prefork_lines"):
            continue
        key = item.name.replace("_", "-")
        value = getattr(config, item.name)
        if item.name == "per_file_ignores":
            tables += ["", "[tool.forklint.per-file-ignores]"]
            tables += [f"{json.dumps(glob)} = {_toml(codes)}" for glob, codes in value]
        elif item.name == "prefork":
            tables += ["", *render_table(value).splitlines()]
        elif value is None:
            lines.append(f"# {key} is not set")
        else:
            lines.append(f"{key} = {_toml(value)}")
    return "\n".join(lines + tables) + "\n"


def _toml(value: Any) -> str:
    if isinstance(value, tuple):
        return "[" + ", ".join(json.dumps(v, ensure_ascii=False) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)
