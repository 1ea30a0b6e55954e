"""Resolving what a finding names through its file's imports: the call to count, the function to watch, the modules."""

from __future__ import annotations

import textwrap
from pathlib import Path

from forklint.findings import Finding, TraceStep
from forklint.verify.aggregate import finding_statuses
from forklint.verify.horse import Measurement
from forklint.verify.runner import RunResult
from forklint.verify.targets import Target, target_of

TASKS = """
from pickle import load
import joblib as jl

from .loaders import settings


def job(path):
    from . import (
        heavy,
        models,
    )
    jl.load(path)
    load(path)
    return settings(), Model().predict(1)


class Model:
    def predict(self, x):
        return x
"""


def finding(code: str, line: int, step: str) -> Finding:
    return Finding(
        code=code, name="x", severity="warning", path="src/app/tasks.py", line=line, column=5,
        end_line=line, end_column=9, message="m", jobs=("app.tasks.job",), source_line="",
        trace=(TraceStep("src/app/tasks.py", line, 5, step),),
    )  # fmt: skip


def project(tmp_path: Path) -> Path:
    (tmp_path / "src" / "app").mkdir(parents=True)
    (tmp_path / "src" / "app" / "tasks.py").write_text(textwrap.dedent(TASKS).lstrip())
    return tmp_path


def test_calls_resolved_through_the_files_imports(tmp_path):
    root = project(tmp_path)
    assert target_of(finding("FRK103", 12, "jl.load(path)"), root) == Target(
        "joblib.load", "joblib:load"
    )
    assert target_of(finding("FRK103", 13, "load(path)"), root).dotted == "pickle.load"
    assert target_of(finding("FRK105", 14, "settings()"), root) == Target(
        "app.loaders.settings", "app.loaders:settings"
    )
    assert target_of(finding("FRK103", 14, "Model().predict(1)"), root) == Target(
        "app.tasks.Model.predict", "app.tasks:Model.predict"
    )
    # Without the file only the text is known: nothing to watch.
    assert target_of(finding("FRK103", 13, "load(path)")) == Target("load")


def test_frk104_reads_the_whole_import_statement(tmp_path):
    root = project(tmp_path)
    found = finding("FRK104", 9, "heavy,")  # inside the statement
    target = target_of(found, root)
    assert target.modules == ("app", "app.heavy", "app.models")
    stock = RunResult(
        worker="rq.Worker", prefork=None, jobs=1, seconds=1.0, prefork_seconds=None,
        measurements=(Measurement("j", 1, 1.0, 1.0, 1, 1.0, ("app.heavy",), 0, 0.0),), failures=(),
    )  # fmt: skip
    (status,) = finding_statuses([found], stock, "app.tasks", {found: target})
    assert (status.status, status.evidence) == (
        "confirmed",
        "app.heavy imported after the fork in 1 of 1 horses",
    )
