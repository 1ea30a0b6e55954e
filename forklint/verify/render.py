"""A verification as a side-by-side text table or as JSON (schema forklint-verify/1)."""

from __future__ import annotations

import json

from forklint.verify.aggregate import inconclusive, side_by_side, speedup
from forklint.verify.session import Verification

SCHEMA = "forklint-verify/1"


def to_json(result: Verification) -> str:
    stock, prefork = side_by_side(result.stock, result.prefork)
    ratio = speedup(stock, prefork)
    document = {
        "schema": SCHEMA,
        "job": result.job,
        "jobs": result.jobs,
        "redis": result.redis,
        "prefork_source": result.prefork_source,
        "notes": list(result.notes),
        "runs": [stock.to_json(), prefork.to_json()],
        "speedup": None if ratio is None else round(ratio, 2),
        "inconclusive": inconclusive((result.stock, result.prefork)),
        "findings": [status.to_json() for status in result.statuses],
    }
    return json.dumps(document, indent=2)


def to_text(result: Verification) -> str:
    stock, prefork = side_by_side(result.stock, result.prefork)
    lines = [
        f"forklint verify {result.job}: {result.jobs} jobs on each worker, {result.redis} Redis",
        f"pre-fork table: {_table(prefork.prefork)} (from {result.prefork_source})",
        *(f"note: {note}" for note in result.notes),
        "",
    ]
    # A worker that does not fork runs jobs in itself: "after the fork" would claim one happened.
    imports = "imports after fork" if result.stock.forks else "imports during the job"
    rows = [
        ("", stock.worker, prefork.worker),
        ("wall ms per job, median / p95", _pair(stock.wall_median, stock.wall_p95), _pair(prefork.wall_median, prefork.wall_p95)),
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
        ("jobs/s", f"{stock.jobs_per_second:.2f}", f"{prefork.jobs_per_second:.2f}"),
        ("seconds", f"{stock.seconds:.2f}", f"{prefork.seconds:.2f}"),
    ]  # fmt: skip
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines += [
        f"  {a:<{widths[0]}}   {b:>{widths[1]}}   {c:>{widths[2]}}".rstrip() for a, b, c in rows
    ]
    ratio = speedup(stock, prefork)
    once = (
        f" (pre-fork work in the parent, once: {prefork.prefork_seconds * 1000:.0f} ms)"
        if prefork.prefork_seconds
        else ""
    )
    # Failed jobs make the timings meaningless: the first failing run says why, then the other.
    failing = [run for run in (result.stock, result.prefork) if run.failures]
    if failing:
        lines += ["", f"speed-up: inconclusive: {inconclusive(failing[:1])}"]
        lines += [f"also {inconclusive([run])}" for run in failing[1:]]
    else:
        lines += ["", f"speed-up: {ratio:.2f}x{once}" if ratio is not None else "speed-up: n/a"]
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


def _table(prefork: dict[str, list[str]]) -> str:
    if not prefork:
        return "empty"
    return "; ".join(f"{key} = {json.dumps(values)}" for key, values in prefork.items())


def _num(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _pair(a: float | None, b: float | None, digits: int = 1) -> str:
    return f"{_num(a, digits)} / {_num(b, digits)}"
