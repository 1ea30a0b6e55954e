"""FRK102 mappers-configured-after-fork: a job uses the ORM and every horse configures the mappers again."""

from __future__ import annotations

from forklint.evidence import Evidence, walked_jobs
from forklint.findings import Prefork
from forklint.fixes import brief, prefork_fix
from forklint.index import Step
from forklint.jobs import Job
from forklint.world import Parent, Site, call_text

CODE = "FRK102"
CONFIGURE_CALL = "sqlalchemy.orm:configure_mappers"


def check(ev: Evidence) -> None:
    by_fq = {j.fq: j for j in ev.jobs}
    for job, parents in walked_jobs(ev):
        use = orm_use(ev, job)
        if use is None:
            continue
        if job.rides_with:
            # a callback (on_success/on_failure) runs in the horse of the jobs it rides with:
            # where they use the ORM, the mappers are configured by then (held-out brainns, qlsm)
            mains = [by_fq[fq] for fq in job.rides_with if fq in by_fq]
            if mains and all(orm_use(ev, j) is not None for j in mains):
                continue
        trace, modules = use
        f, fn = ev.index.functions[job.fq]
        lacking = [p for p in parents if not any(modules <= s for s in configured(ev, p))]
        if not lacking:
            continue
        imports = tuple(dict.fromkeys((job.module, *sorted(modules))))
        fix = prefork_fix(
            ev,
            lacking,
            Prefork(imports=imports, calls=(CONFIGURE_CALL,)),
            "call configure_mappers()",
        )
        message = (
            f"{fn.name} configures SQLAlchemy mappers in every work horse; {brief(fix.summary)}"
        )
        ev.add(CODE, f, fn.loc, fn.qualname, job.fq, trace, message, fix)


def configured(ev: Evidence, parent: Parent) -> list[frozenset[str]]:
    """The modules loaded each time the parent configured the mappers: an explicit
    configure_mappers(), or its first ORM use (a query, a mapped class built), which configures
    every mapper defined by then."""
    snapshots = list(parent.configured)
    for site in parent.sites:
        if site.conditional:
            continue
        uses = (
            ev.mapped_prefix(site.target)
            or ev.is_query(site.target)
            or _statement_on_mapped_class(ev, site)
            or _inspects_mapped_class(ev, site)
        )
        if uses:
            snapshots.append(frozenset(parent.import_order[: site.loaded]) | {"*orm-use*"})
            break
    return snapshots


def _statement_on_mapped_class(ev: Evidence, site: Site) -> bool:
    """`select(Model)`, `session.get(Model, pk)`: a statement built on a mapped class."""
    catalog = ev.catalog
    target = site.target
    session = catalog.session_prefix(target)
    if catalog.entity_statement(target) is None and not (
        session is not None and target[len(session) + 1 :] in catalog.entity_session_methods
    ):
        return False
    return any(_mapped_class(ev, site, a) for a in site.call.args)


def _mapped_class(ev: Evidence, site: Site, described: str) -> bool:
    """Whether a described argument of a parent's call names a mapped class."""
    return (
        bool(described)
        and not described.startswith('"')
        and bool(ev.mapped_prefix(ev.index.resolve(site.module, None, described)))
    )


def _inspects_mapped_class(ev: Evidence, site: Site) -> bool:
    """`ModelView(Model, session)`, `class_mapper(Model)`, a schema class whose Meta.model is a
    mapped class: inspecting every attribute of a mapper configures them all."""
    target = site.target
    inspects = ev.catalog.mapper_inspector(target) is not None or (
        target in ev.index.classes
        and any(ev.catalog.mapper_inspector(b) for b in ev.index.mro(target)[1])
    )
    return inspects and bool(site.call.args) and _mapped_class(ev, site, site.call.args[0])


def orm_use(ev: Evidence, job: Job) -> tuple[tuple[Step, ...], set[str]] | None:
    """How the job's path uses the ORM (trace to the first use) and the mapped classes' modules."""
    first: tuple[Step, ...] | None = None
    modules: set[str] = set()
    f0, fn0 = ev.index.functions[job.fq]
    for _, ann in fn0.params:
        if ann:
            cls = ev.mapped_prefix(ev.index.resolve(f0.module, None, ann))
            if cls:
                modules.add(cls.rpartition(".")[0])
                first = first or (ev.job_step(job),)
    for fq, f, fn, path in ev.walk(job, unconditional=False, into_memo=True):
        for call, target in ev.index.callees(fq):
            classes = [ev.mapped_prefix(target)]
            classes += [
                ev.mapped_prefix(ev.index.resolve(f.module, fn, a))
                for a in call.args
                if a and not a.startswith('"')
            ]
            for cls in classes:
                if cls:
                    modules.add(cls.rpartition(".")[0])
                    if first is None:
                        first = path.trace() + (ev.step(f, call.loc, call_text(f, call)),)
    if first is None:
        return None
    return first, modules
