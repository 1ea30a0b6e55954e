"""FRK105 cache-filled-after-fork: a memoised heavy loader is first filled in every work horse."""

from __future__ import annotations

from forklint.evidence import Evidence, spanning, walked_jobs
from forklint.facts import CallFact, FileFacts, FunctionFact
from forklint.findings import Prefork
from forklint.fixes import brief, loader_fix, prefork_fix
from forklint.world import call_text

CODE = "FRK105"


def check(ev: Evidence) -> None:
    for job, parents in walked_jobs(ev):
        for fq, f, fn, path in ev.walk(job, unconditional=False, into_memo=False):
            fills = [
                (call, ev.index.call_target(target), True) for call, target in ev.index.callees(fq)
            ]
            reads = list(fn.reads)
            # `SCORER.model.predict(x)` reads SCORER.model on the way to the call
            reads += [
                CallFact(c.callee.rpartition(".")[0], c.loc, (), (), c.conditional)
                for c in fn.calls
                if c.callee.count(".") >= 2 and "(" not in c.callee and "[" not in c.callee
            ]
            fills += [(read, ev.index.resolve(f.module, fn, read.callee), False) for read in reads]
            for site, callee, called in fills:
                if callee is None or callee not in ev.index.functions:
                    continue
                if not (ev.is_memoised(callee) if called else ev.is_cached_property(callee)):
                    continue
                if not ev.does_heavy_work(callee):
                    continue
                mf, mfn = ev.index.functions[callee]
                # What the parent could fill: a module-level loader, or the cache of an object
                # that outlives the job (a module global). An object the job builds, and a key
                # made of the job's input, are new in every horse whatever the parent does.
                instance = mfn.cls is not None and not _static(ev, callee)
                if instance and not _shared(ev, f, fn, site.callee.rpartition(".")[0]):
                    continue
                if called and ev.varies(f, fn, site, path=path):
                    continue
                lacking = [p for p in parents if callee not in p.warmed]
                if not lacking:
                    continue
                required = [p for p, _ in mfn.params if p not in ("self", "cls")]
                if called and not required and not mfn.cls:
                    table = Prefork(imports=(mf.module,), calls=(f"{mf.module}:{mfn.qualname}",))
                    fix = prefork_fix(ev, lacking, table, f"call {mfn.name}()")
                else:
                    what = f"{site.callee}()" if called else site.callee
                    fix = loader_fix(what, mfn.name, required)
                kind = "memoised" if called else "a cached_property"
                message = (
                    f"{mfn.name} is {kind}, but the cache is filled in every work horse, so every run "
                    f"of {{jobs}} pays for it; {brief(fix.summary)}"
                )
                text = call_text(f, site) if called else site.callee
                loc = spanning(site.loc, text) if called else site.loc
                trace = path.trace() + (ev.step(f, site.loc, text),)
                ev.add(CODE, f, loc, fn.qualname, job.fq, trace, message, fix)


def _static(ev: Evidence, fq: str) -> bool:
    return any(d in ("staticmethod", "classmethod") for d in ev.decorators(fq))


def _shared(ev: Evidence, f: FileFacts, fn: FunctionFact, receiver: str) -> bool:
    """Whether `receiver` (as written in `fn`) is a module-level object: the same in every job."""
    if not receiver or receiver.split(".")[0] in ("self", "cls"):
        return False
    name = ev.resets.global_of(f.module, fn, receiver)
    if name is None:
        return False
    module, _, attribute = name.rpartition(".")
    binding = ev.index.module_bindings(module).get(attribute)
    return binding is not None and binding.kind == "value"
