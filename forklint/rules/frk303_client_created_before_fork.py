"""FRK303 client-created-before-fork: a fork-unsafe client made in the parent is shared by its children."""

from __future__ import annotations

from forklint.evidence import Evidence, callee_name
from forklint.fixes import client_reset_fix
from forklint.resets import client_reset

CODE = "FRK303"


def check(ev: Evidence) -> None:
    resets = ev.resets
    for found in resets.sites():
        site, effects = found.site, found.effects
        client = ev.catalog.fork_unsafe(site.target)
        if client is None or "*" in effects or found.closed or site.call.managed:
            continue  # closed before the fork (`.close()`, or a `with` block that ends)
        lazy = ev.catalog.lazy_with.get(site.target)
        if lazy is not None and lazy in site.call.kwargs:
            continue  # `MongoClient(url, connect=False)`: nothing opened before the fork
        holder, _fn = resets.site_global(site)
        if client_reset(holder, client, effects):
            continue
        jobs = resets.jobs_using(holder, found.jobs) if holder is not None else found.jobs
        f = ev.index.modules[site.module]
        message = (
            f"{callee_name(site.call, site.target)}() creates a {client} in the worker parent "
            f"({found.parent.label}) before it forks, and every child shares its sockets; create "
            "it after the fork (in the job or a memoised getter)"
        )
        fix = client_reset_fix(ev, site, holder, _fn, client)
        context = ev.context_of(f, site.call)
        for job in jobs:
            ev.add(CODE, f, site.call.loc, context, job, site.trace, message, fix)
