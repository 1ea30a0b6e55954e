"""A verification as a side-by-side text table or as JSON (schema forklint-verify/1)."""

from __future__ import annotations

import json

from forklint.verify.aggregate import (
    RunFigures,
    inconclusive,
    side_by_side,
    speedup,
    verdict_of,
)
from forklint.verify.session import Verification
from forklint.verify.stats import MIN_BLOCKS, Estimate

SCHEMA = "forklint-verify/1"


def to_json(result: Verification) -> str:
    stock, prefork = side_by_side(result.stock, result.prefork)
    ratio = speedup(result.stock, result.prefork)
    document = {
        "schema": SCHEMA,
        "job": result.job,
        "jobs": result.jobs,
        "warmup": result.plan.warmup,
        "redis": result.redis,
        "baseline": {"kind": result.baseline.kind, "label": result.baseline.label},
        "prefork_source": result.prefork_source,
        "experiment": {
            "plan": result.plan.describe(),
            "stopped": result.stopped,
            "budget_seconds": result.plan.budget if result.plan.jobs is None else None,
            "precision": result.plan.precision if result.plan.jobs is None else None,
            "rounds": len(result.stock.blocks),
            # Whole rounds are resampled for the intervals when there are enough of them.
            "intervals_from": "rounds" if len(result.stock.blocks) >= MIN_BLOCKS else "jobs",
        },
        "notes": list(result.notes),
        "runs": [stock.to_json(), prefork.to_json()],
        "speedup": None if ratio is None else round(ratio.value, 2),
        "speedup_ci95": None if ratio is None else [round(ratio.low, 2), round(ratio.high, 2)],
        "verdict": None if ratio is None else verdict_of(stock, prefork),
        "inconclusive": inconclusive((result.stock, result.prefork)),
        "findings": [status.to_json() for status in result.statuses],
    }
    return json.dumps(document, indent=2)


_STOPPED = {
    "jobs": "the count asked for",
    "stable": "stable",
    "budget": "time budget spent",
    "max": "job limit reached",
    "failed": "jobs failed",
}


def to_text(result: Verification) -> str:
    stock, prefork = side_by_side(result.stock, result.prefork)
    measured = (
        f"{result.jobs} jobs measured on each worker in {len(result.stock.blocks)} rounds after "
        f"{result.plan.warmup} warm-up ({_STOPPED.get(result.stopped, result.stopped)})"
    )
    lines = [
        f"forklint verify {result.job}: {measured}, {result.redis} Redis",
        f"baseline: {_baseline(result)}",
        f"pre-fork table: {_table(prefork.prefork, prefork.freeze)} (from {result.prefork_source})",
        *(f"note: {note}" for note in result.notes),
        "",
    ]
    # A worker that does not fork runs jobs in itself: "after the fork" would claim one happened.
    imports = "imports after fork" if result.stock.forks else "imports during the job"
    rows = [
        ("", stock.worker, prefork.worker),
        ("job ms (parent), median [95% CI]", _ci(stock.job_ms), _ci(prefork.job_ms)),
        ("wall ms in the horse, median / p95", _pair(stock.wall_median, stock.wall_p95), _pair(prefork.wall_median, prefork.wall_p95)),
        ("fork ms, median [95% CI]", _ci(stock.fork_ms, 2), _ci(prefork.fork_ms, 2)),
        ("minor page faults, median [95% CI]", _ci(stock.minor_faults, 0), _ci(prefork.minor_faults, 0)),
        ("private kB at job end (USS), median", _ci(stock.private_kb, 0), _ci(prefork.private_kb, 0)),
        ("private dirty kB, median", _num(stock.private_dirty_kb, 0), _num(prefork.private_dirty_kb, 0)),
        ("cpu ms per job, median", _num(stock.cpu_median), _num(prefork.cpu_median)),
        (f"{imports}, median / max", _pair(stock.imports_median, stock.imports_max, 0), _pair(prefork.imports_median, prefork.imports_max, 0)),
        ("import ms per job, median", _num(stock.import_ms_median), _num(prefork.import_ms_median)),
        ("mapper configurations (all jobs)", str(stock.mappers_configured), str(prefork.mappers_configured)),
        ("mapper ms per job, median", _num(stock.mapper_ms_median), _num(prefork.mapper_ms_median)),
        ("heavy calls (all jobs)", str(stock.heavy_total), str(prefork.heavy_total)),
        *(
            (f"  {name}", str(stock.heavy_calls.get(name, 0)), str(prefork.heavy_calls.get(name, 0)))
            for name in stock.heavy_calls
            if stock.heavy_calls[name] or prefork.heavy_calls[name]
        ),
        ("jobs completed / failed", f"{stock.jobs_completed} / {stock.jobs_failed}", f"{prefork.jobs_completed} / {prefork.jobs_failed}"),
        ("jobs/s (measured jobs)", f"{stock.jobs_per_second:.2f}", f"{prefork.jobs_per_second:.2f}"),
        ("start-up s (pre-fork work)", _startup(stock), _startup(prefork)),
    ]  # fmt: skip
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines += [
        f"  {a:<{widths[0]}}   {b:>{widths[1]}}   {c:>{widths[2]}}".rstrip() for a, b, c in rows
    ]
    # Failed jobs make the timings meaningless: the first failing run says why, then the other.
    failing = [run for run in (result.stock, result.prefork) if run.failures]
    if failing:
        lines += ["", f"speed-up: inconclusive: {inconclusive(failing[:1])}"]
        lines += [f"also {inconclusive([run])}" for run in failing[1:]]
    else:
        lines += ["", _speedup_line(result)]
    if result.statuses:
        lines += ["", f"static findings for {result.job}:"]
        for status in result.statuses:
            f = status.finding
            lines.append(
                f"  {f.path}:{f.line}:{f.column}: {f.code} {f.name}: {status.status} ({status.evidence})"
            )
    elif not result.notes:
        lines += ["", f"static findings for {result.job}: none"]
    return "\n".join(lines)


def _speedup_line(result: Verification) -> str:
    ratio = speedup(result.stock, result.prefork)
    stock, prefork = side_by_side(result.stock, result.prefork)
    if ratio is None:
        return "speed-up: n/a"
    shown = f"{ratio.value:.2f}x [95% CI {ratio.low:.2f}-{ratio.high:.2f}]"
    found = verdict_of(stock, prefork)
    if found == "no measurable difference":
        return (
            f"speed-up: no measurable difference ({shown}; the two median job times' 95% "
            "intervals overlap)"
        )
    return f"speed-up: {shown}, pre-fork {found} (median job time, baseline over pre-fork)"


def _baseline(result: Verification) -> str:
    baseline = result.baseline
    if baseline.kind == "stock":
        return (
            f"{baseline.label} (--baseline project runs the project's own start-up, when resolved)"
        )
    what = _table(baseline.preload.to_dict(), None) if baseline.preload else "nothing preloaded"
    return (
        f"{baseline.label}: {baseline.worker_class}, {what} (--baseline stock for the stock worker)"
    )


def _startup(run: RunFigures) -> str:
    if run.prefork_seconds is None:
        return f"{run.startup_seconds:.2f}"
    return f"{run.startup_seconds:.2f} ({run.prefork_seconds:.2f})"


def _table(prefork: dict[str, list[str]], freeze: bool | None) -> str:
    parts = [f"{key} = {json.dumps(values)}" for key, values in prefork.items()]
    if freeze is not None:
        parts.append(f"freeze = {'true' if freeze else 'false'}")
    return "; ".join(parts) if prefork else "empty"


def _ci(estimate: Estimate | None, digits: int = 1) -> str:
    if estimate is None:
        return "-"
    return f"{estimate.value:.{digits}f} [{estimate.low:.{digits}f}-{estimate.high:.{digits}f}]"


def _num(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _pair(a: float | None, b: float | None, digits: int = 1) -> str:
    return f"{_num(a, digits)} / {_num(b, digits)}"
