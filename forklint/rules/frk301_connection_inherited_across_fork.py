"""FRK301 connection-inherited-across-fork: a pool connected in the parent is used by its children."""

from __future__ import annotations

from forklint.evidence import Evidence, callee_name
from forklint.findings import Fix
from forklint.fixes import engine_reset_fix
from forklint.resets import PreforkSite

CODE = "FRK301"


def check(ev: Evidence) -> None:
    for found in ev.resets.sites():
        answered = answer(ev, found)
        if answered is None:
            continue
        message, fix = answered
        f = ev.index.modules[found.site.module]
        context = ev.context_of(f, found.site.call)
        for job in found.jobs:
            ev.add(CODE, f, found.site.call.loc, context, job, found.site.trace, message, fix)


def answer(ev: Evidence, found: PreforkSite) -> tuple[str, Fix] | None:
    """The message and fix when this pre-fork site connects a pool no child resets."""
    resets = ev.resets
    site, effects = found.site, found.effects
    if not ev.is_query(site.target) or "*" in effects or resets.engine_reset(site, effects):
        return None
    if "django:*" in effects and ev.is_django_query(site.target):
        return None  # django-rq and Celery's fix-up close Django's connections
    held = resets.engines.connected_engine(site)
    engine = held.rpartition(".")[2] if held else "engine"
    message = (
        f"{callee_name(site.call, site.target)}() connects a pool in the worker parent "
        f"({found.parent.label}) before it forks, and every child inherits its open sockets; "
        f"reset it in each child with {engine}.dispose(close=False)"
    )
    return message, engine_reset_fix(ev, site)
