"""FRK201 query-at-import: the database is queried while a module is imported."""

from __future__ import annotations

from forklint.evidence import Evidence, callee_name

CODE = "FRK201"


def check(ev: Evidence) -> None:
    for module, f in ev.index.modules.items():
        for call, target in ev.index.module_calls(module):
            if ev.is_query(target) or ev.is_dbapi_connect(target):
                message = (
                    f"{callee_name(call, target)}() talks to the database while {f.relpath} is "
                    "imported; move it into a function that runs when the value is needed"
                )
                ev.add(CODE, f, call.loc, "", None, (), message, None)
