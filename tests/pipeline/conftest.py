"""Fixtures for the pipeline tests: a private cache folder, and a record of what each run did."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from forklint import api
from forklint.sandbox import ParserPool


@dataclass
class Runs:
    """What the runs since the last reset did: analyses (report-cache misses) and files parsed."""

    analysed: int = 0
    parsed: list[str] = field(default_factory=list)

    def reset(self) -> None:
        self.analysed, self.parsed = 0, []


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("FORKLINT_CACHE_DIR", str(folder))
    return folder


@pytest.fixture
def runs(monkeypatch: pytest.MonkeyPatch) -> Iterator[Runs]:
    record = Runs()
    check, submit = api._check, ParserPool.submit

    def counting_check(*args, **kwargs):
        record.analysed += 1
        return check(*args, **kwargs)

    def recording_submit(self, key, work):
        record.parsed.append(work.relpath)
        return submit(self, key, work)

    monkeypatch.setattr(api, "_check", counting_check)
    monkeypatch.setattr(ParserPool, "submit", recording_submit)
    yield record
