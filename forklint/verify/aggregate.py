"""Per-run figures from the horses' measurements, and the status of each static finding for the job."""

from __future__ import annotations

import ast
import math
import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from forklint.findings import Finding
from forklint.verify.runner import RunResult

# The rules a verify run can observe, and what in the stock run confirms each.
OBSERVABLE = ("FRK101", "FRK102", "FRK103", "FRK104", "FRK105")


@dataclass(frozen=True)
class RunFigures:
    worker: str
    prefork: dict[str, list[str]]
    seconds: float
    prefork_seconds: float | None
    jobs_completed: int
    jobs_failed: int
    wall_median: float | None
    wall_p95: float | None
    cpu_median: float | None
    imports_median: float | None
    imports_max: int | None
    import_ms_median: float | None
    mappers_configured: int
    mapper_ms_median: float | None
    heavy_calls: dict[str, int]
    first_error: str | None

    @property
    def jobs_per_second(self) -> float:
        return self.jobs_completed / self.seconds if self.seconds > 0 else 0.0

    @property
    def heavy_total(self) -> int:
        return sum(self.heavy_calls.values())

    def to_json(self) -> dict[str, object]:
        return {
            "worker": self.worker,
            "prefork": self.prefork,
            "seconds": self.seconds,
            "prefork_seconds": _round(self.prefork_seconds, 3),
            "jobs_completed": self.jobs_completed,
            "jobs_failed": self.jobs_failed,
            "jobs_per_second": _round(self.jobs_per_second, 2),
            "first_error": self.first_error,
            "per_job": {
                "wall_ms": {"median": _round(self.wall_median), "p95": _round(self.wall_p95)},
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
    status: str  # "confirmed" | "not observed"
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
    imports = [m.imports_after_fork for m in horses]
    heavy: dict[str, int] = {}
    for m in run.measurements:
        for name, count in m.heavy_calls.items():
            heavy[name] = heavy.get(name, 0) + count
    return RunFigures(
        worker=run.worker,
        prefork=run.prefork or {},
        # Rounded once here, so that jobs/s and the speed-up follow from the figures shown.
        seconds=round(run.seconds, 3),
        prefork_seconds=run.prefork_seconds,
        jobs_completed=run.jobs - len(run.failures),
        jobs_failed=len(run.failures),
        wall_median=_median(wall),
        wall_p95=wall[max(math.ceil(0.95 * len(wall)) - 1, 0)] if wall else None,
        cpu_median=_median([m.cpu_ms for m in horses]),
        imports_median=_median(imports),
        imports_max=max(imports) if imports else None,
        import_ms_median=_median([m.import_ms for m in horses]),
        mappers_configured=sum(m.mappers_configured for m in run.measurements),
        mapper_ms_median=_median([m.mapper_ms for m in horses]),
        heavy_calls=heavy,
        first_error=run.failures[0].message if run.failures else None,
    )


def finding_statuses(
    findings: Sequence[Finding], stock: RunResult, job_module: str
) -> tuple[FindingStatus, ...]:
    """Mark each observable finding confirmed when the stock run did what the finding says it does."""
    horses = stock.measurements
    n = len(horses)
    imported: dict[str, int] = {}
    for m in horses:
        for module in m.modules:
            imported[module] = imported.get(module, 0) + 1
    statuses = []
    for f in findings:
        if f.code not in OBSERVABLE:
            continue
        if f.code == "FRK101":
            seen = imported.get(job_module, 0)
            evidence = f"{job_module} imported after the fork in {seen} of {n} horses"
        elif f.code == "FRK102":
            seen = sum(1 for m in horses if m.mappers_configured)
            evidence = f"configure_mappers ran in {seen} of {n} horses"
        elif f.code == "FRK104":
            modules = _imported_by(f.source_line)
            hits = sorted(m for m in modules if imported.get(m))
            seen = max((imported[m] for m in hits), default=0)
            shown = ", ".join(hits or sorted(modules)) or "the module"
            evidence = f"{shown} imported after the fork in {seen} of {n} horses"
        else:
            texts = [f.source_line, *(step.text for step in f.trace)]
            called = {
                name: sum(m.heavy_calls.get(name, 0) for m in horses)
                for name in {name for m in horses for name in m.heavy_calls}
                if any(_mentions(text, name) for text in texts)
            }
            seen = sum(called.values())
            shown = ", ".join(sorted(called)) or "no catalog heavy call of this finding"
            evidence = f"{shown} called {seen} times in {n} horses"
        statuses.append(FindingStatus(f, "confirmed" if seen else "not observed", evidence))
    return tuple(statuses)


def _mentions(text: str, dotted: str) -> bool:
    """Does the source text call `dotted`: bare ("load(" after `from pickle import load`) or through
    an attribute of its package ("sqlalchemy.create_engine(" for sqlalchemy.engine.create_engine)?"""
    package, last = dotted.split(".")[0], re.escape(dotted.rsplit(".", 1)[-1])
    if re.search(rf"(?<![\w.]){last}\s*\(", text):
        return True
    return bool(
        re.search(rf"\.{last}\s*\(", text) and re.search(rf"\b{re.escape(package)}\b", text)
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


def speedup(stock: RunFigures, prefork: RunFigures) -> float | None:
    return stock.seconds / prefork.seconds if prefork.seconds > 0 else None


def _median(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


def _round(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)
