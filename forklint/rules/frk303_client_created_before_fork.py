"""FRK303 client-created-before-fork: a fork-unsafe client made in the parent is shared by its children."""

from __future__ import annotations

from forklint.evidence import Evidence, callee_name
from forklint.findings import Fix
from forklint.fixes import client_reset_fix
from forklint.resets import PreforkSite, client_reset, report_sites

CODE = "FRK303"


def check(ev: Evidence) -> None:
    report_sites(ev, CODE, answer)


def answer(ev: Evidence, found: PreforkSite) -> tuple[str, Fix, tuple[str, ...]] | None:
    """The message, fix and jobs when this pre-fork site creates a client that children use
    with no reset."""
    resets = ev.resets
    site, effects = found.site, found.effects
    client = ev.catalog.fork_unsafe(site.target)
    if client is None or "*" in effects or found.closed or site.call.managed:
        return None  # closed before the fork (`.close()`, or a `with` block that ends)
    lazy = ev.catalog.lazy_with.get(site.target)
    if lazy is not None and lazy in site.call.kwargs:
        return None  # `MongoClient(url, connect=False)`: nothing opened before the fork
    holder, fn = resets.site_global(site)
    if client_reset(holder, client, effects):
        return None
    jobs = resets.jobs_using(holder, found.jobs) if holder is not None else found.jobs
    if not jobs:
        return None
    message = (
        f"{callee_name(site.call, site.target)}() creates a {client} in the worker parent "
        f"({found.parent.label}) before it forks, and every child shares its sockets; create "
        "it after the fork (in the job or a memoised getter)"
    )
    return message, client_reset_fix(ev, site, holder, fn, client), jobs
