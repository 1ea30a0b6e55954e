"""The one entry point: check(paths, config) -> Report, from files on disk to sorted, filtered findings."""

from __future__ import annotations

import gc
import os
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from forklint import commands as worker_commands
from forklint import ruledocs
from forklint.catalog import CatalogError, load_catalog
from forklint.commands import PREFORK_WORKER, STOCK_WORKERS
from forklint.config import Config, ConfigError, find_root, load_config
from forklint.evidence import Evidence, to_findings
from forklint.factcache import FactCache
from forklint.facts import FileFacts
from forklint.findings import FileError, Finding, FixPlan, Prefork, Report, WorkerParent
from forklint.index import Index
from forklint.jobs import discover as discover_jobs
from forklint.project import Project, discover
from forklint.rules import run as run_rules
from forklint.reportcache import ReportCache
from forklint.sandbox import Budget, Parsed, ParserPool, Work, default_workers, parse_in_process
from forklint.suppress import apply
from forklint.world import FORKING, World, build, set_sources, startup_label

_THRESHOLDS = (100_000, 50, 100)


def check(
    paths: Sequence[Path],
    config: Config | None = None,
    *,
    jobs: int | None = None,
    cache: bool = False,
    missed: ReportCache | None = None,
) -> Report:
    """Analyse the project holding `paths`; findings only in `paths`, analysis over the whole project.

    The analysed code is parsed, never imported or run: each file in a worker process within
    the parse budget of `config` (`jobs` workers; None: as many as the cores when the parse is
    big enough to gain). `cache` reuses the report when no file of the tree changed, and the
    per-file facts of unchanged files otherwise (kept in the user's cache folder); `missed` is
    the caller's cache view when it already looked and found no report (the tree is not scanned again).
    """
    started = time.perf_counter()
    paths = [Path(p) for p in paths]
    if config is None:
        root = find_root(paths[0] if paths else Path.cwd())
        config = load_config(root)
    reports = missed if missed is not None or not cache else ReportCache.prepare(paths, config)
    if reports is not None and missed is None:
        cached = reports.load()
        if cached is not None:
            return replace(cached, seconds=round(time.perf_counter() - started, 3))
    with _fewer_collections(), _facts_frozen():
        report = _check(paths, config, jobs, cache, started)
    if reports is not None:
        reports.save(report)
    return report


def _check(
    paths: list[Path], config: Config, jobs: int | None, cache: bool, started: float
) -> Report:
    project = discover(paths, config)
    try:
        catalog = load_catalog(config)
    except CatalogError as exc:  # e.g. a heavy-calls entry the catalog lists as fork-unsafe
        where = f"{config.source}: " if config.source is not None else ""
        raise ConfigError(f"{where}{exc}") from None
    facts = extract_all(project, jobs, FactCache() if cache else None, parse_budget(config))
    _FREEZE.freeze()
    errors: list[FileError] = [f.error for f in project.files if f.error is not None]
    errors += [ff.error for ff in facts if ff.error is not None]
    syntax: list[Finding] = []
    for ff in facts:
        if ff.syntax_error is not None:
            syntax.append(_syntax_finding(ff, project))

    sources = {
        f.module: f.text.splitlines() for f in project.files if f.text is not None and f.module
    }
    set_sources(sources)
    index = Index(ff for ff in facts if ff.error is None and ff.syntax_error is None)
    found_jobs = discover_jobs(index, catalog, config)
    commands, command_errors = worker_commands.scan(project.root, config)
    errors += command_errors
    errors += _prefork_errors(config, index)
    with _deep_stack():  # import chains and call chains of big projects nest deeply
        world = build(index, catalog, config, found_jobs, commands)
        hits = run_rules(Evidence(index, catalog, config, found_jobs, world))
    findings = [f for f in to_findings(hits, _meta) + syntax if f.path in project.targets]
    findings = sorted(apply(findings, config), key=Finding.sort_key)
    prefork = _prefork_table(findings)
    plan = FixPlan()
    if findings:  # fixes are written with libcst: loaded only when there is something to fix
        from forklint.fixplan import materialise

        findings, plan = materialise(findings, project.root, config)
    return Report(
        root=str(project.root),
        findings=tuple(findings),
        errors=tuple(sorted(errors, key=lambda e: (e.path, e.line or 0))),
        assumptions=tuple(world.assumptions),
        files=len(project.files),
        jobs=len(found_jobs),
        seconds=round(time.perf_counter() - started, 3),
        prefork=prefork,
        startups=_startup_hints(world, index),
        parents=_parents(world),
        unresolved=tuple(world.unresolved),
        plan=plan,
    )


def _parents(world: World) -> tuple[WorkerParent, ...]:
    out = []
    for parent in world.parents:
        jobs = tuple(fq for fq, ps in world.job_parents.items() if any(p is parent for p in ps))
        out.append(
            WorkerParent(
                label=parent.label,
                framework=parent.framework,
                model=parent.model,
                worker_class=parent.worker_class,
                imports=tuple(dict.fromkeys(parent.import_order)),
                calls=tuple(dict.fromkeys(parent.call_order)),
                configures_mappers=bool(parent.configured),
                jobs=jobs,
            )
        )
    return tuple(out)


def _prefork_errors(config: Config, index: Index) -> list[FileError]:
    """Entries of [tool.forklint.prefork] that name a project module or function that does not
    exist: the worker would refuse to start, so say it now (entries outside the project are the
    installed packages' business and are not checked)."""
    packages = {module.split(".")[0] for module in index.modules}
    where = config.source_label()
    out: list[FileError] = []
    for key, entries in (
        ("imports", config.prefork.imports),
        ("calls", config.prefork.calls),
        ("after-fork", config.prefork.after_fork),
    ):
        for entry in entries:
            module, _, attribute = entry.partition(":")
            if module.split(".")[0] not in packages:
                continue
            if module not in index.modules:
                problem = f"the project has no module {module}"
            elif attribute and attribute.split(".")[0] not in index.module_bindings(module):
                problem = f"{module} defines no {attribute.split('.')[0]}"
            else:
                continue
            line = config.entry_line(entry)
            message = f"[tool.forklint.prefork] {key} entry {entry!r}: {problem}; the worker would not start"
            out.append(FileError(where, message, line=line))
    return out


def _meta(code: str) -> tuple[str, str]:
    rule = ruledocs.get_rule(code)
    return rule.name, rule.severity


def parse_budget(config: Config) -> Budget:
    return Budget(config.parse_timeout, config.parse_memory)


def extract_all(
    project: Project,
    jobs: int | None = None,
    cache: FactCache | None = None,
    budget: Budget | None = None,
) -> list[FileFacts]:
    """Facts for every readable file, in the project's file order: from `cache` where the file is
    unchanged, else parsed in sandboxed worker processes (`jobs` of them; None: by the work).

    Workers start before the cached facts are loaded, so the parse of the changed files and the
    loading of the others overlap; with nothing to parse, no process starts.
    """
    budget = budget or Budget()
    work = [
        Work(f.text, f.module, f.relpath, f.is_package) for f in project.files if f.text is not None
    ]
    keys = [cache.key(w, budget) for w in work] if cache is not None else []
    found: list[FileFacts | None] = [None] * len(work)
    cached = [i for i, key in enumerate(keys) if cache is not None and cache.has(key)]
    missing = sorted(set(range(len(work))) - set(cached), key=lambda i: -len(work[i].text))
    if not hasattr(os, "fork"):  # no sandbox where processes cannot be forked (Windows)
        return [parse_in_process(w) for w in work]

    def keep(results: list[tuple[int, Parsed]]) -> None:
        for i, parsed in results:
            found[i] = parsed.facts
            if cache is not None and parsed.payload is not None:
                cache.store(keys[i], parsed.payload)

    workers = jobs if jobs is not None else default_workers([work[i] for i in missing])
    with ParserPool(workers, budget) as pool, _fewer_collections():
        for i in missing:
            pool.submit(i, work[i])
        for i in cached:
            assert cache is not None
            facts = cache.load(keys[i])
            if facts is None:  # torn, corrupted or evicted since: parse it, and write it again
                pool.submit(i, work[i])
            found[i] = facts
            keep(pool.poll())
        for result in pool.drain():
            keep([result])
    if cache is not None:
        cache.done()
    assert all(facts is not None for facts in found)
    return found  # type: ignore[return-value]


@contextmanager
def _deep_stack() -> Iterator[None]:
    """Python 3.11+ runs Python-to-Python calls without growing the C stack, so a higher limit is safe."""
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old, 20_000 if sys.version_info >= (3, 11) else 4_000))
    try:
        yield
    finally:
        sys.setrecursionlimit(old)


class _Freezer:
    """The facts live until the report is made and hold no cycles: out of the cyclic collector's
    sight they cost it nothing (a warm run loads a million of them, and every full collection
    would walk them all). Only while no one else has frozen objects (PreforkWorker does, in a
    worker parent), and thawed when the check ends."""

    def __init__(self) -> None:
        self.active = False
        self.froze = False

    def freeze(self) -> None:
        if self.active and not self.froze:
            gc.freeze()
            self.froze = True


_FREEZE = _Freezer()


@contextmanager
def _facts_frozen() -> Iterator[None]:
    mine = gc.get_freeze_count() == 0 and not _FREEZE.active
    _FREEZE.active, _FREEZE.froze = mine, False
    try:
        yield
    finally:
        if mine and _FREEZE.froze:
            gc.unfreeze()
        if mine:
            _FREEZE.active = _FREEZE.froze = False


@contextmanager
def _fewer_collections() -> Iterator[None]:
    """libcst allocates millions of short-lived, acyclic nodes per large file, and a warm run
    unpickles millions of long-lived fact objects; with the default thresholds the cyclic
    collector re-scans the growing heap over and over (a quarter of a cold run on the standard
    library, and more than doubling the analysis of a warm one). Reference counting frees the
    trees anyway."""
    old = gc.get_threshold()
    gc.set_threshold(*_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*old)


def _syntax_finding(ff: FileFacts, project: Project) -> Finding:
    assert ff.syntax_error is not None
    line, column, message = ff.syntax_error
    text = _line_of(project, ff.relpath, line)
    name, severity = _meta("FRK001")
    return Finding(
        code="FRK001",
        name=name,
        severity=severity,
        path=ff.relpath,
        line=line,
        column=column,
        end_line=line,
        end_column=column + 1,
        message=f"cannot parse {ff.relpath}: {message}; the rest of the project was analysed without it",
        source_line=text,
    )


def _line_of(project: Project, relpath: str, line: int) -> str:
    for f in project.files:
        if f.relpath == relpath and f.text is not None:
            lines = f.text.splitlines()
            return lines[line - 1] if 0 < line <= len(lines) else ""
    return ""


def _prefork_table(findings: list[Finding]) -> Prefork:
    """The table that fixes the FRK101/102/104/105 findings (imports first, configure_mappers before
    warm-ups), plus the after-fork resets the FRK3xx findings name."""
    table = Prefork()
    for finding in findings:
        if finding.fix is not None and finding.fix.prefork is not None:
            table = table.merge(finding.fix.prefork)
    from forklint.fixplan import ordered_table

    return ordered_table(table)


def _startup_hints(world: World, index: Index) -> tuple[str, ...]:
    """How each Python start-up that forks a stock-behaving RQ worker would run the pre-fork table.

    SimpleWorker/SpawnWorker start-ups do not fork from a warm parent, PreforkWorker ones already
    read the table, and pools choose their worker class elsewhere: none of those is listed.
    """
    hints = []
    for parent in world.parents:
        startup = parent.startup
        if startup is None or parent.model not in FORKING or parent.worker_kind != "forking":
            continue
        where = startup_label(startup)
        cls = parent.worker_class
        name = startup.work_text.partition(".")[0]
        if startup.cli:
            hints.append(
                f"{where}: add `-w {PREFORK_WORKER}` to the arguments {startup.work_text} reads "
                f"(it reads [tool.forklint.prefork])"
            )
        elif cls is None or cls in STOCK_WORKERS or (cls not in index.classes and name == "Worker"):
            hints.append(
                f"{where}: use {PREFORK_WORKER} instead of {name} (it reads [tool.forklint.prefork])"
            )
        else:
            where_defined = f" ({index.classes[cls][0].relpath})" if cls in index.classes else ""
            hints.append(
                f"{where}: put forklint.rq.PreforkMixin first in the bases of {name}{where_defined} "
                f"(it reads [tool.forklint.prefork])"
            )
    return tuple(dict.fromkeys(hints))


__all__ = ["check", "extract_all"]
