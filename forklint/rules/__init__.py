"""The rules, one module per code: each asks the evidence its questions and records what it finds."""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType

from forklint.evidence import Evidence, Hit
from forklint.rules import (
    frk101_job_module_imported_after_fork,
    frk102_mappers_configured_after_fork,
    frk103_heavy_call_per_job,
    frk104_heavy_import_after_fork,
    frk105_cache_filled_after_fork,
    frk201_query_at_import,
    frk202_premature_configure_mappers,
    frk301_connection_inherited_across_fork,
    frk302_thread_started_before_fork,
    frk303_client_created_before_fork,
)

# FRK001 (syntax-error) is not here: a file that does not parse has no facts to ask about.
MODULES: tuple[ModuleType, ...] = (
    frk101_job_module_imported_after_fork,
    frk102_mappers_configured_after_fork,
    frk103_heavy_call_per_job,
    frk104_heavy_import_after_fork,
    frk105_cache_filled_after_fork,
    frk201_query_at_import,
    frk202_premature_configure_mappers,
    frk301_connection_inherited_across_fork,
    frk302_thread_started_before_fork,
    frk303_client_created_before_fork,
)
CHECKS: dict[str, Callable[[Evidence], None]] = {m.CODE: m.check for m in MODULES}


def run(ev: Evidence) -> list[Hit]:
    for check in CHECKS.values():
        check(ev)
    return list(ev.hits.values())
