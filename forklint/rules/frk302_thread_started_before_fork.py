"""FRK302 thread-started-before-fork: a thread or thread pool runs in the parent when it forks."""

from __future__ import annotations

from forklint.evidence import Evidence, callee_name
from forklint.findings import Fix
from forklint.fixes import thread_fix
from forklint.resets import PreforkSite, report_sites

CODE = "FRK302"


def check(ev: Evidence) -> None:
    report_sites(ev, CODE, answer)


def answer(ev: Evidence, found: PreforkSite) -> tuple[str, Fix] | None:
    """The message and fix when this pre-fork site starts a thread that still runs at the fork."""
    site = found.site
    thread = ev.catalog.thread_start(site.target)
    if thread is None or site.call.managed or found.closed:
        return None  # a pool in a `with` block (or joined) is shut down before the fork
    message = (
        f"{callee_name(site.call, site.target)}() starts a {thread} in the worker parent "
        f"({found.parent.label}) before it forks; the children do not have it and may "
        "deadlock on its locks; start it after the fork"
    )
    return message, thread_fix()
