"""Per-run figures from the horses' measurements, and the status of each static finding for the job."""

from __future__ import annotations

import ast
import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from forklint.findings import Finding
from forklint.verify.horse import Measurement
from forklint.verify.runner import RunResult
from forklint.verify.stats import (
    Estimate,
    blocks_median_ci,
    median_ci,
    ratio_ci,
    rounds_ratio_ci,
    verdict,
)
from forklint.verify.targets import Target, catalog_names, target_of

# The rules a verify run can observe, and what in the stock run confirms each.
OBSERVABLE = ("FRK101", "FRK102", "FRK103", "FRK104", "FRK105")
# The rules about work repeated in every forked horse: a worker that does not fork cannot show it.
PER_FORK = ("FRK101", "FRK102", "FRK104", "FRK105")


@dataclass(frozen=True)
class RunFigures:
    worker: str
    label: str  # "stock rq.Worker", "project start-up Procfile:1", "pre-fork"
    prefork: dict[str, list[str]]
    freeze: bool | None
    seconds: float
    startup_seconds: float
    prefork_seconds: float | None
    warmup: int
    jobs_measured: int
    jobs_completed: int
    jobs_failed: int
    job_ms: Estimate | None  # the parent's time per job: fork, horse, reaping, bookkeeping
    job_p95: float | None
    wall: Estimate | None  # inside the horse: fork moment to the job's return
    wall_p95: float | None
    fork_ms: Estimate | None
    minor_faults: Estimate | None
    private_kb: Estimate | None
    private_dirty_kb: float | None
    cpu_median: float | None
    imports_median: float | None
    imports_max: int | None
    import_ms_median: float | None
    mappers_configured: int
    mapper_ms_median: float | None
    heavy_calls: dict[str, int]
    first_error: str | None

    @property
    def wall_median(self) -> float | None:
        return self.wall.value if self.wall else None

    @property
    def jobs_per_second(self) -> float:
        return self.jobs_measured / self.seconds if self.seconds > 0 else 0.0

    @property
    def heavy_total(self) -> int:
        return sum(self.heavy_calls.values())

    def to_json(self) -> dict[str, object]:
        return {
            "worker": self.worker,
            # The spec's kind of baseline ("stock" | "project") for runs[0]; None for the pre-fork run.
            "baseline": None if self.label == "pre-fork" else self.label.partition(" ")[0],
            "label": self.label,
            "prefork": self.prefork,
            "freeze": self.freeze,
            "seconds": self.seconds,
            "startup_seconds": _round(self.startup_seconds, 3),
            "prefork_seconds": _round(self.prefork_seconds, 3),
            "warmup": self.warmup,
            "jobs_measured": self.jobs_measured,
            "jobs_completed": self.jobs_completed,
            "jobs_failed": self.jobs_failed,
            "jobs_per_second": _round(self.jobs_per_second, 2),
            "first_error": self.first_error,
            "per_job": {
                "job_ms": {**_estimate(self.job_ms), "p95": _round(self.job_p95)},
                "wall_ms": {**_estimate(self.wall), "p95": _round(self.wall_p95)},
                "fork_ms": _estimate(self.fork_ms, 2),
                "minor_faults": _estimate(self.minor_faults, 0),
                "private_kb": _estimate(self.private_kb, 0),
                "private_dirty_kb": {"median": _round(self.private_dirty_kb, 0)},
                "cpu_ms": {"median": _round(self.cpu_median)},
                "imports_after_fork": {"median": self.imports_median, "max": self.imports_max},
                "import_ms": {"median": _round(self.import_ms_median)},
                "mappers_configured": self.mappers_configured,
                "mapper_ms": {"median": _round(self.mapper_ms_median)},
                "heavy_calls": dict(sorted(self.heavy_calls.items())),
            },
        }


@dataclass(frozen=True)
class FindingStatus:
    finding: Finding
    status: str  # "confirmed" | "not observed" | "inconclusive" | "not applicable"
    evidence: str  # what the stock run showed, one clause

    def to_json(self) -> dict[str, object]:
        f = self.finding
        return {
            "code": f.code,
            "name": f.name,
            "path": f.path,
            "line": f.line,
            "column": f.column,
            "status": self.status,
            "evidence": self.evidence,
        }


def figures(run: RunResult) -> RunFigures:
    horses = [m for m in run.measurements if m.exception is None]
    wall = sorted(m.wall_ms for m in horses)
    jobs = sorted(p.job_ms for p in run.parents)
    imports = [m.imports_after_fork for m in horses]
    heavy: dict[str, int] = {}
    for m in run.measurements:
        for name, count in m.heavy_calls.items():
            heavy[name] = heavy.get(name, 0) + count
    forks = [p.fork_ms for p in run.parents if p.fork_ms is not None]
    private = [m.private_kb for m in horses if m.private_kb is not None]
    dirty = [m.private_dirty_kb for m in horses if m.private_dirty_kb is not None]
    return RunFigures(
        worker=run.worker,
        label=run.label,
        prefork=run.prefork or {},
        freeze=run.freeze,
        # Rounded once here, so that jobs/s follows from the figures shown.
        seconds=round(run.seconds, 3),
        startup_seconds=run.startup_seconds,
        prefork_seconds=run.prefork_seconds,
        warmup=run.warmup,
        jobs_measured=run.jobs,
        jobs_completed=run.jobs + run.warmup - len(run.failures),
        jobs_failed=len(run.failures),
        job_ms=blocks_median_ci(run.blocks) if run.blocks else median_ci(jobs),
        job_p95=_p95(jobs),
        wall=median_ci(wall),
        wall_p95=_p95(wall),
        fork_ms=median_ci(forks),
        minor_faults=median_ci([float(m.minor_faults) for m in horses]),
        private_kb=median_ci([float(v) for v in private]),
        private_dirty_kb=_median([float(v) for v in dirty]),
        cpu_median=_median([m.cpu_ms for m in horses]),
        imports_median=_median(imports),
        imports_max=max(imports) if imports else None,
        import_ms_median=_median([m.import_ms for m in horses]),
        mappers_configured=sum(m.mappers_configured for m in run.measurements),
        mapper_ms_median=_median([m.mapper_ms for m in horses]),
        heavy_calls=heavy,
        first_error=run.failures[0].message if run.failures else None,
    )


def _p95(ordered: Sequence[float]) -> float | None:
    """Nearest rank."""
    return ordered[max(math.ceil(0.95 * len(ordered)) - 1, 0)] if ordered else None


def finding_statuses(
    findings: Sequence[Finding],
    stock: RunResult,
    job_module: str,
    targets: Mapping[Finding, Target] | None = None,
) -> tuple[FindingStatus, ...]:
    """Mark each observable finding confirmed when the stock run did what the finding says it does.

    `targets`: what each FRK103/FRK104/FRK105 finding names, resolved through its file's imports
    (session.py); a finding without one is resolved from its text alone.
    """
    horses = stock.measurements
    n = len(horses)
    failed = inconclusive([stock])
    imported: dict[str, int] = {}
    for m in horses:
        for module in m.modules:
            imported[module] = imported.get(module, 0) + 1
    statuses = []
    for f in findings:
        if f.code not in OBSERVABLE:
            continue
        if failed:
            statuses.append(FindingStatus(f, "inconclusive", failed))
            continue
        if not stock.forks and f.code in PER_FORK:
            evidence = f"{stock.worker} runs every job in the worker itself, without a fork"
            statuses.append(FindingStatus(f, "not applicable", evidence))
            continue
        if f.code == "FRK101":
            seen = imported.get(job_module, 0)
            evidence = f"{job_module} imported after the fork in {seen} of {n} horses"
        elif f.code == "FRK102":
            seen = sum(1 for m in horses if m.mappers_configured)
            evidence = f"configure_mappers ran in {seen} of {n} horses"
        elif f.code == "FRK104":
            target = (targets or {}).get(f)
            modules = (
                set(target.modules) if target and target.modules else _imported_by(f.source_line)
            )
            hits = sorted(m for m in modules if imported.get(m))
            seen = max((imported[m] for m in hits), default=0)
            shown = ", ".join(hits or sorted(modules)) or "the module"
            evidence = f"{shown} imported after the fork in {seen} of {n} horses"
        else:
            target = (targets or {}).get(f) or target_of(f)
            seen, evidence = _heavy(target, horses, "horses" if stock.forks else "jobs")
        statuses.append(FindingStatus(f, "confirmed" if seen else "not observed", evidence))
    return tuple(statuses)


def _heavy(target: Target, horses: Sequence[Measurement], unit: str) -> tuple[int, str]:
    """FRK103/FRK105: the catalog heavy call the finding names, counted (outermost calls only);
    or the project function it names (a memoised loader...), called in the horses and making
    catalog heavy calls while it ran: a cache hit makes none, so those calls filled the cache."""
    n = len(horses)
    names = catalog_names(target.dotted, sorted({k for m in horses for k in m.heavy_calls}))
    if names or target.function is None:
        if not names:
            shown = f"{target.dotted}()" if target.dotted else "the finding's call"
            return 0, f"no catalog heavy call matching {shown} counted in the {n} {unit}"
        per_horse = [sum(m.heavy_calls.get(name, 0) for name in names) for m in horses]
        seen = sum(per_horse)
        times = "once" if seen == 1 else f"{seen} times"
        return (
            seen,
            f"{', '.join(names)} called {times}, in {sum(map(bool, per_horse))} of {n} {unit}",
        )
    function = target.function
    called = sum(1 for m in horses if m.watched_calls.get(function))
    inside: dict[str, int] = {}
    filled = 0
    for m in horses:
        calls = m.watched_heavy.get(function, {})
        filled += any(calls.values())
        for name, count in calls.items():
            inside[name] = inside.get(name, 0) + count
    made = ", ".join(f"{name} x{count}" for name, count in sorted(inside.items()) if count)
    if not any(function in m.watched_calls for m in horses):
        return 0, f"{function} could not be found in the horses to count its calls"
    if not made:
        return 0, f"{function} called in {called} of {n} {unit}, making no catalog heavy call"
    return filled, (
        f"{function} called in {called} of {n} {unit}, making catalog heavy calls in "
        f"{filled} of them ({made})"
    )


def _imported_by(source_line: str) -> set[str]:
    """The modules an `import` line loads: "from a.b import c" -> {"a.b", "a.b.c"} (c may be a module)."""
    try:
        tree = ast.parse(source_line.strip())
    except SyntaxError:
        return set()
    modules: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            modules.add(node.module)
            modules.update(f"{node.module}.{alias.name}" for alias in node.names)
    return modules


def side_by_side(stock: RunResult, prefork: RunResult) -> tuple[RunFigures, RunFigures]:
    """Both runs' figures with the same heavy-call names (zeros included), so that rows line up:
    a callable is only wrapped once its module loads, which may happen in one run only."""
    a, b = figures(stock), figures(prefork)
    names = sorted(set(a.heavy_calls) | set(b.heavy_calls))
    return (
        replace(a, heavy_calls={name: a.heavy_calls.get(name, 0) for name in names}),
        replace(b, heavy_calls={name: b.heavy_calls.get(name, 0) for name in names}),
    )


def inconclusive(runs: Sequence[RunResult]) -> str | None:
    """Why the runs cannot be compared, when a job failed in either: timings of failed jobs mean nothing."""
    for run in runs:
        if run.failures:
            return (
                f"{len(run.failures)} of {run.jobs + run.warmup} jobs failed on {run.worker}; "
                f"first error: {run.failures[0].message}"
            )
    return None


def speedup(stock: RunResult, prefork: RunResult) -> Estimate | None:
    """The baseline's median time per job over the pre-fork worker's, with its 95 % interval; None
    when jobs failed (their times mean nothing)."""
    if stock.failures or prefork.failures:
        return None
    if stock.blocks and prefork.blocks:
        return rounds_ratio_ci(stock.blocks, prefork.blocks)
    return ratio_ci([p.job_ms for p in stock.parents], [p.job_ms for p in prefork.parents])


def verdict_of(stock: RunFigures, prefork: RunFigures) -> str:
    return verdict(stock.job_ms, prefork.job_ms)


def _median(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


def _round(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


def _estimate(estimate: Estimate | None, digits: int = 1) -> dict[str, object]:
    if estimate is None:
        return {"median": None, "ci95": None}
    if digits == 0:
        return {
            "median": round(estimate.value),
            "ci95": [round(estimate.low), round(estimate.high)],
        }
    return estimate.to_json(digits)
