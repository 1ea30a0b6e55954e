"""FRK302 thread-started-before-fork: a thread or thread pool runs in the parent when it forks."""

from __future__ import annotations

from forklint.evidence import Evidence, callee_name
from forklint.fixes import thread_fix

CODE = "FRK302"


def check(ev: Evidence) -> None:
    for found in ev.resets.sites():
        site = found.site
        thread = ev.catalog.thread_start(site.target)
        if thread is None or site.call.managed or found.closed:
            continue  # a pool in a `with` block (or joined) is shut down before the fork
        f = ev.index.modules[site.module]
        message = (
            f"{callee_name(site.call, site.target)}() starts a {thread} in the worker parent "
            f"({found.parent.label}) before it forks; the children do not have it and may "
            "deadlock on its locks; start it after the fork"
        )
        fix = thread_fix()
        context = ev.context_of(f, site.call)
        for job in found.jobs:
            ev.add(CODE, f, site.call.loc, context, job, site.trace, message, fix)
