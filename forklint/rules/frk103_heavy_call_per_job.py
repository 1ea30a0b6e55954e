"""FRK103 heavy-call-per-job: a catalog heavy call runs unconditionally on every run of a job."""

from __future__ import annotations

from forklint.evidence import Evidence, callee_name
from forklint.fixes import memo_fix
from forklint.jobs import Job
from forklint.world import PER_JOB, call_text

CODE = "FRK103"
LOADS = "loads a model or data file"


def check(ev: Evidence) -> None:
    for job in ev.jobs:
        writes = _writes_files(ev, job)
        per_job = ev.world.job_models.get(job.fq, "rq") in PER_JOB
        for fq, f, fn, path in ev.walk(job, unconditional=True, into_memo=False):
            for call, target in ev.index.callees(fq):
                if call.conditional:
                    continue
                what = ev.catalog.heavy_call(target)
                if what is None:
                    continue
                if ev.catalog.once_per_process(target) and not per_job:
                    continue  # an import a long-lived child pays once, then finds in sys.modules
                callee = ev.index.call_target(target)
                if callee is not None and ev.reaches_heavy_call(callee):
                    continue  # `create_app()`: reported once, at the heavy call inside it
                # Only waste that can be hoisted: the same work on every run. What the job is
                # given (a parameter, something made of one) may differ per run, and a job that
                # writes files may be loading what it just wrote.
                if ev.varies(f, fn, call, path=path) or (what == LOADS and writes):
                    continue
                name = callee_name(call, target)
                message = (
                    f"{name}() {what} on every run of {{jobs}}; do it once: at module level, "
                    f"or in a memoised loader warmed in the worker parent"
                )
                text = call_text(f, call)
                trace = path.trace() + (ev.step(f, call.loc, text),)
                fix = memo_fix(ev, job, path, f, fn, call)
                ev.add(CODE, f, call.loc, fn.qualname, job.fq, trace, message, fix)


def _writes_files(ev: Evidence, job: Job) -> bool:
    for fq, _f, _fn, _path in ev.walk(job, unconditional=False, into_memo=True):
        for _call, target in ev.index.callees(fq):
            if ev.catalog.writes(target):
                return True
    return False
