"""Fixtures for the CLI tests."""

from __future__ import annotations

import pytest
from cli_samples import CONNECTION, MAPPERS, PLAN, make_report

from forklint.findings import FileError, Report


@pytest.fixture
def report() -> Report:
    return make_report(
        MAPPERS, CONNECTION, errors=(FileError("bad.py", "cannot decode as UTF-8"),), plan=PLAN
    )
