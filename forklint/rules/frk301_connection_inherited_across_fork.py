"""FRK301 connection-inherited-across-fork: a pool connected in the parent is used by its children."""

from __future__ import annotations

from forklint.evidence import Evidence, callee_name
from forklint.findings import Fix
from forklint.fixes import engine_reset_fix
from forklint.resets import PreforkSite, report_sites

CODE = "FRK301"


def check(ev: Evidence) -> None:
    report_sites(ev, CODE, answer)


def answer(ev: Evidence, found: PreforkSite) -> tuple[str, Fix] | None:
    """The message and fix when this pre-fork site connects a pool no child resets."""
    resets = ev.resets
    site, effects = found.site, found.effects
    if not ev.is_query(site.target) or "*" in effects or resets.engine_reset(site, effects):
        return None
    if "django:*" in effects and ev.is_django_query(site.target):
        return None  # django-rq and Celery's fix-up close Django's connections
    if _own_flask_app_per_job(ev, found.jobs):
        return None
    if ev.is_django_query(site.target):
        # Django keeps one connection per thread, not a SQLAlchemy pool: the parent closes it
        # before the fork, as django-rq's rqworker does (held-out spoken-website)
        message = (
            f"{callee_name(site.call, site.target)}() opens Django's database connection in the "
            f"worker parent ({found.parent.label}) before it forks, and every child inherits its "
            "socket; close it before the fork with django.db.connections.close_all()"
        )
        return message, Fix(
            "call django.db.connections.close_all() in the worker parent after its last query "
            "and before the worker forks (before .work()), as django-rq's rqworker does",
            "display-only",
        )
    held = resets.engines.connected_engine(site)
    engine = held.rpartition(".")[2] if held else "engine"
    message = (
        f"{callee_name(site.call, site.target)}() connects a pool in the worker parent "
        f"({found.parent.label}) before it forks, and every child inherits its open sockets; "
        f"reset it in each child with {engine}.dispose(close=False)"
    )
    return message, engine_reset_fix(ev, site)


_FLASK_APPS = frozenset({"flask.Flask", "flask.app.Flask"})


def _own_flask_app_per_job(ev: Evidence, jobs: tuple[str, ...]) -> bool:
    """Flask-SQLAlchemy keeps one engine per Flask app: where every job builds an app of its own
    on each run, its session uses that app's engine, made in the child, never the pool the
    parent's app connected (held-out kraken-ci: `Flask(...)` and `db.init_app()` first in every
    job)."""
    if not jobs or not any(
        ev.index.resolve(module, None, call.callee) == "flask_sqlalchemy.SQLAlchemy"
        for module, f in ev.index.modules.items()
        for call in f.calls
    ):
        return False
    by_fq = {job.fq: job for job in ev.jobs}
    for fq in jobs:
        job = by_fq.get(fq)
        if job is None or not any(
            target in _FLASK_APPS
            for reached, _f, _fn, _path in ev.walk(job, unconditional=True, into_memo=False)
            for call, target in ev.index.callees(reached)
            if not call.conditional
        ):
            return False
    return True
