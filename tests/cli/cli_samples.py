"""Synthetic findings and reports for renderer and CLI tests (no analysis engine involved)."""

from __future__ import annotations

from forklint.findings import (
    Edit,
    FileError,
    Finding,
    Fix,
    FixPlan,
    PlanStep,
    Prefork,
    Report,
    TraceStep,
)

ROOT = "/project"

TABLE = '[tool.forklint.prefork]\ncalls = ["sqlalchemy.orm:configure_mappers"]\n'
TABLE_EDIT = Edit("pyproject.toml", 4, 1, 4, 1, TABLE)
PLAN = FixPlan(
    steps=(
        PlanStep(
            "pyproject.toml: the [tool.forklint.prefork] table",
            "safe",
            (TABLE_EDIT,),
            Prefork(calls=("sqlalchemy.orm:configure_mappers",)),
            1,
            "@@ -3,0 +4,2 @@\n+" + TABLE.replace("\n", "\n+", 1),
        ),
    ),
    notes=("worker.py:main() runs app.Custom: pass it to --worker-class",),
)

MAPPERS = Finding(
    code="FRK102",
    name="mappers-configured-after-fork",
    severity="warning",
    path="app/tasks.py",
    line=12,
    column=5,
    end_line=12,
    end_column=17,
    message="record_event configures SQLAlchemy mappers in every work horse; "
    "call configure_mappers() in worker.py:main() before Worker.work()",
    jobs=("app.tasks.record_event",),
    trace=(
        TraceStep("app/tasks.py", 12, 5, "def record_event(data):"),
        TraceStep("app/tasks.py", 13, 9, "Event.record(data)"),
    ),
    fix=Fix(
        summary="configure the mappers in the worker parent",
        applicability="safe",
        edits=(TABLE_EDIT,),
        prefork=Prefork(calls=("sqlalchemy.orm:configure_mappers",)),
        steps=("pyproject.toml: the [tool.forklint.prefork] table",),
    ),
    context="record_event",
    source_line="def record_event(data):",
)

CONNECTION = Finding(
    code="FRK301",
    name="connection-inherited-across-fork",
    severity="error",
    path="app/db.py",
    line=3,
    column=1,
    end_line=5,
    end_column=2,
    message="the engine's pool connects at import time and is shared by every work horse",
    source_line="with engine.connect() as conn:",
)


def make_report(*findings: Finding, errors: tuple[FileError, ...] = (), **extra: object) -> Report:
    values: dict[str, object] = {
        "root": ROOT,
        "findings": tuple(sorted(findings, key=Finding.sort_key)),
        "errors": errors,
        "assumptions": ("no worker start-up found: assumed stock `rq worker`",),
        "files": 7,
        "jobs": 2,
        "seconds": 0.1234,
    }
    values.update(extra)
    return Report(**values)  # type: ignore[arg-type]
