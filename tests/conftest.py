"""The suite's one split: tests marked `redis` need a real redis-server; the rest is the static suite.

A test is marked when it uses a fixture that starts Redis (or a verify run, which starts one), so
`pytest -m "not redis"` runs everything that needs no Redis server, as CI does on other Pythons.
"""

from __future__ import annotations

import pytest

_NEEDS_REDIS = {"redis_server", "redis_conn", "verify", "forklint_horse"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if _NEEDS_REDIS & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.redis)
