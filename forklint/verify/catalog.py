"""The dotted callables a verify run counts in horses: the catalog's heavy calls plus the project's own."""

from __future__ import annotations

from forklint.config import Config


def heavy_callables(config: Config) -> tuple[str, ...]:
    return tuple(dict.fromkeys(config.heavy_calls))
