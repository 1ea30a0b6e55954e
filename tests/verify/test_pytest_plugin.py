"""The `forklint_horse` fixture, used the way a project's own tests would, through pytester."""

from __future__ import annotations

pytest_plugins = ["pytester"]

TESTS = """
import pytest

from app.tasks import record_event
from forklint.pytest_plugin import HorseKilled

TABLE = {"imports": ["app.tasks"], "calls": ["sqlalchemy.orm:configure_mappers"]}


def test_stock_horse_imports_and_configures(forklint_horse):
    report = forklint_horse(record_event, {"action": "create"})
    assert report.result == "create"
    assert report.exception is None
    assert report.mappers_configured == 1
    assert {"app.tasks", "app.models", "sqlalchemy.orm"} <= set(report.modules_imported)
    assert report.imports_after_fork == len(report.modules_imported) > 10
    assert report.wall_ms >= report.import_ms > 0


def test_prefork_table_removes_both(forklint_horse):
    report = forklint_horse(record_event, {"action": "create"}, prefork=TABLE)
    assert report.result == "create"
    assert report.mappers_configured == 0
    assert report.imports_after_fork == 0


def test_dotted_name_and_kwargs(forklint_horse):
    assert forklint_horse("app.tasks:record_event", data={"action": "kw"}).result == "kw"


def test_exception_is_reported(forklint_horse):
    report = forklint_horse("app.jobs:boom", 3)
    assert report.exception == "ValueError: boom 3"
    assert report.result is None


def test_killed_horse_raises(forklint_horse):
    with pytest.raises(HorseKilled, match="signal 9"):
        forklint_horse("app.jobs:die")
"""


def test_forklint_horse_fixture(pytester, make_project, verify, monkeypatch):
    make_project(root=pytester.path)
    pytester.makepyfile(test_app=TESTS)
    # Whatever the inner session starts (Redis, workers, horses) carries the marker.
    for name, value in verify.env().items():
        monkeypatch.setenv(name, value)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=5)
    assert verify.leftovers() == []
