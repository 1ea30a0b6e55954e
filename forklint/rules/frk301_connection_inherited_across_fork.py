"""FRK301 connection-inherited-across-fork: a pool connected in the parent is used by its children."""

from __future__ import annotations

from forklint.evidence import Evidence, callee_name
from forklint.fixes import engine_reset_fix

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
        held = resets.engines.connected_engine(site)
        engine = held.rpartition(".")[2] if held else "engine"
        message = (
            f"{callee_name(site.call, site.target)}() connects a pool in the worker parent "
            f"({found.parent.label}) before it forks, and every child inherits its open sockets; "
            f"reset it in each child with {engine}.dispose(close=False)"
        )
        fix = engine_reset_fix(ev, site)
        context = ev.context_of(f, site.call)
        for job in found.jobs:
            ev.add(CODE, f, site.call.loc, context, job, site.trace, message, fix)
