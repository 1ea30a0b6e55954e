"""FRK104 heavy-import-after-fork: a function-level import of a heavy module on a job's path."""

from __future__ import annotations

from forklint.evidence import Evidence, walked_jobs
from forklint.facts import CallFact, FileFacts, FunctionFact, ImportFact
from forklint.findings import Prefork
from forklint.fixes import brief, prefork_fix
from forklint.index import Step
from forklint.jobs import Job
from forklint.world import Parent

CODE = "FRK104"


def check(ev: Evidence) -> None:
    for job, all_parents in walked_jobs(ev):
        # a parent that imports modules forklint cannot name may have imported it: unknown
        parents = [p for p in all_parents if not p.dynamic_imports]
        if not parents:
            continue
        for _fq, f, fn, path in ev.walk(job, unconditional=False, into_memo=False):
            for imp in fn.imports:
                found = [(p, heavy_import(ev, job, p, imp)) for p in parents]
                lacking = [(p, heavy) for p, heavy in found if heavy is not None]
                if not lacking:
                    continue
                module, shown, via = lacking[0][1]  # type: ignore[misc]
                earlier = _loaded_earlier(ev, fn, imp, path.hops())
                if "*" in earlier or _loaded_with(module, earlier):
                    # an import made before it on this path has loaded it already, or has run
                    # code that imports modules forklint cannot name (held-out lifelike)
                    continue
                fix = prefork_fix(
                    ev, [p for p, _ in lacking], Prefork(imports=(module,)), f"import {module}"
                )
                message = (
                    f"`{imp.text}` loads {shown} in every work horse of {{jobs}}; "
                    f"{brief(fix.summary)}"
                )
                trace = path.trace() + (ev.step(f, imp.loc, imp.text),) + via
                ev.add(CODE, f, imp.loc, fn.qualname, job.fq, trace, message, fix)


def heavy_import(
    ev: Evidence, job: Job, parent: Parent, imp: ImportFact
) -> tuple[str, str, tuple[Step, ...]] | None:
    """(module to preload, what makes it heavy, trace past the import) for a heavy function-level import."""
    heavy = ev.catalog.heavy_module(imp.module)
    if heavy is not None:
        # `from matplotlib import pyplot`: pyplot is the heavy part when the catalog says so
        sub = f"{imp.module}.{imp.name}" if imp.name else ""
        module = sub if sub in ev.catalog.heavy_module_names else imp.module
        if module in parent.modules or _loaded_with(module, ev.module_closure(job.module)):
            # RQ imports the job's module in the horse before it calls the job: a library that
            # module imports is loaded by then (its cost is FRK101's)
            return None
        return module, heavy, ()
    project = [m for m in ev.index.imported_modules(imp) if m in ev.index.modules]
    if not project or project[-1] in parent.modules:
        return None
    module = project[-1]
    # what the horse has loaded anyway: the parent's modules and the job's own module closure
    loaded = parent.modules | ev.module_closure(job.module)
    if module in loaded:
        return None
    reasons = ev.heavy_closure(module, loaded, parent.warmed)
    if not reasons:
        return None
    shown = [what for what, _ in reasons[:3]] + (["..."] if len(reasons) > 3 else [])
    return module, ", ".join(shown), reasons[0][1]


def _loaded_with(module: str, closure: frozenset[str]) -> bool:
    """Whether importing `closure` loads `module` (itself, or a submodule of it)."""
    prefix = module + "."
    return module in closure or any(m.startswith(prefix) for m in closure)


def _loaded_earlier(
    ev: Evidence,
    fn: FunctionFact,
    imp: ImportFact,
    hops: list[tuple[FileFacts, FunctionFact | None, CallFact]],
) -> frozenset[str]:
    """What the job's run has surely imported before `imp`: the closures of the unconditional
    function-level imports above it in its function, and above each call that led there
    (held-out lifelike: `from app import app` first, then a helper's import of what app.py
    already loaded)."""
    before: list[ImportFact] = [
        i for i in fn.imports if i.loc.line < imp.loc.line and not i.conditional
    ]
    for _f, caller, call in hops:
        if caller is not None:
            before += [
                i for i in caller.imports if i.loc.line < call.loc.line and not i.conditional
            ]
    loaded: set[str] = set()
    for earlier in before:
        for module in ev.index.imported_modules(earlier):
            loaded.add(module)
            if module in ev.index.modules:
                loaded |= ev.import_run(module)
    return frozenset(loaded)
