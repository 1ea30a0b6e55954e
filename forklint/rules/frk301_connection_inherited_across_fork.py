"""FRK301 connection-inherited-across-fork: a pool connected in the parent is used by its children."""

from __future__ import annotations

from forklint.evidence import Evidence, callee_name
from forklint.findings import Fix, Prefork
from forklint.resets import receiver_name

CODE = "FRK301"


def check(ev: Evidence) -> None:
    resets = ev.resets
    for found in resets.sites():
        site, effects = found.site, found.effects
        if not ev.is_query(site.target) or "*" in effects or resets.engine_reset(site, effects):
            continue
        if "django:*" in effects and ev.is_django_query(site.target):
            continue  # django-rq and Celery's fix-up close Django's connections
        f = ev.index.modules[site.module]
        engine = receiver_name(site.call.callee) or "engine"
        message = (
            f"{callee_name(site.call, site.target)}() connects a pool in the worker parent "
            f"({found.parent.label}) before it forks, and every child inherits its open sockets; "
            f"reset it in each child with {engine}.dispose(close=False)"
        )
        disposers = resets.dispose_functions()
        if disposers:
            fix = Fix(
                f"call {disposers[0].partition(':')[2]}() in every work horse: "
                f'[tool.forklint.prefork] after-fork = ["{disposers[0]}"]',
                f'[tool.forklint.prefork]\nafter-fork = ["{disposers[0]}"]',
                prefork=Prefork(after_fork=(disposers[0],)),
            )
        else:
            fix = Fix(
                "drop the inherited pool in every child (close=False leaves the parent's "
                "connections alone)",
                f"import os\n\nos.register_at_fork(after_in_child=lambda: {engine}.dispose(close=False))",
            )
        context = ev.context_of(f, site.call)
        for job in found.jobs:
            ev.add(CODE, f, site.call.loc, context, job, site.trace, message, fix)
