"""Fixtures for the engine tests: small projects written as files, findings compared as exact sets."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from forklint.api import check
from forklint.config import load_config
from forklint.findings import Report
from forklint.ruledocs import expectations
from tests.projects import write_files


def expected_findings(files: dict[str, str]) -> set[tuple[str, str, int, int]]:
    out: set[tuple[str, str, int, int]] = set()
    for relpath, content in files.items():
        out |= expectations(relpath, textwrap.dedent(content).lstrip("\n"))
    return out


class ProjectRunner:
    def __init__(self, root: Path) -> None:
        self.root = root

    def __call__(self, files: dict[str, str], paths: list[Path] | None = None) -> Report:
        write_files(self.root, files)
        return check(paths or [self.root], load_config(self.root))

    def found(
        self, files: dict[str, str], codes: set[str] | None = None
    ) -> set[tuple[str, str, int, int]]:
        report = self(files)
        return {
            (f.code, f.path, f.line, f.column)
            for f in report.findings
            if codes is None or f.code in codes
        }

    def assert_expected(self, files: dict[str, str], codes: set[str] | None = None) -> Report:
        """The findings (optionally only `codes`) are exactly the inline `# FRKxxx:col` comments."""
        report = self(files)
        found = {
            (f.code, f.path, f.line, f.column)
            for f in report.findings
            if codes is None or f.code in codes
        }
        expected = {e for e in expected_findings(files) if codes is None or e[0] in codes}
        assert found == expected
        return report


@pytest.fixture
def project(tmp_path: Path) -> ProjectRunner:
    return ProjectRunner(tmp_path)


class Model:
    """The engine's intermediate results for a project: index, jobs and the pre-fork world."""

    def __init__(self, root: Path) -> None:
        from forklint import commands
        from forklint.api import extract_all
        from forklint.catalog import load_catalog
        from forklint.index import Index
        from forklint.jobs import discover as discover_jobs
        from forklint.project import discover
        from forklint.world import build, set_sources

        config = load_config(root)
        project = discover([root], config)
        set_sources({f.module: f.text.splitlines() for f in project.files if f.text is not None})
        catalog = load_catalog(config)
        self.index = Index(extract_all(project))
        self.jobs = discover_jobs(self.index, catalog, config)
        self.world = build(self.index, catalog, config, self.jobs, commands.scan(root, config)[0])

    @property
    def job_names(self) -> set[tuple[str, str]]:
        return {(j.fq, j.framework) for j in self.jobs}


@pytest.fixture
def model(tmp_path: Path):
    def build(files: dict[str, str]) -> Model:
        write_files(tmp_path, files)
        return Model(tmp_path)

    return build
