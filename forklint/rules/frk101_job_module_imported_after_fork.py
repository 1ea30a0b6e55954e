"""FRK101 job-module-imported-after-fork: every horse imports a heavy job module the parent did not."""

from __future__ import annotations

from forklint.evidence import Evidence, walked_jobs
from forklint.findings import Prefork
from forklint.fixes import brief, prefork_fix

CODE = "FRK101"


def check(ev: Evidence) -> None:
    for job, parents in walked_jobs(ev):
        if job.rides_in_job_module:
            continue  # the horse imported the module to run the job this callback rides with
        # a parent that imports modules forklint cannot name may have imported it: unknown
        lacking = [p for p in parents if job.module not in p.modules and not p.dynamic_imports]
        found = [(p, ev.heavy_closure(job.module, p.modules, p.warmed)) for p in lacking]
        found = [(p, reasons) for p, reasons in found if reasons]
        if not found:
            continue
        reasons = found[0][1]
        f, fn = ev.index.functions[job.fq]
        shown = [what for what, _ in reasons[:3]] + (["..."] if len(reasons) > 3 else [])
        fix = prefork_fix(
            ev, [p for p, _ in found], Prefork(imports=(job.module,)), f"import {job.module}"
        )
        message = (
            f"{fn.name} makes every work horse import {job.module}, which loads "
            f"{', '.join(shown)}; {brief(fix.summary)}"
        )
        trace = (ev.job_step(job),) + reasons[0][1]
        ev.add(CODE, f, fn.loc, fn.qualname, job.fq, trace, message, fix)
