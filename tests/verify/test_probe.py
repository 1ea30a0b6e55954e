"""The import probe resolves JOB as RQ would, in a process of its own, and says in one line why it cannot."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

JOBS = """
class Report:
    @staticmethod
    def build():
        return 1


def ok():
    return 1
"""


@pytest.mark.parametrize(
    ("job", "module", "attribute"),
    [
        ("app.more.ok", "app.more", "ok"),
        ("app.more:ok", "app.more", "ok"),
        ("app.more.Report.build", "app.more", "Report.build"),
        ("app.more:Report.build", "app.more", "Report.build"),
        ("app.more:Report", "app.more", "Report"),  # a class is callable: RQ would run it
    ],
)
def test_resolves(make_project, job, module, attribute):
    result = probe(make_project(app__more=JOBS), job)
    assert result.returncode == 0, result.stdout
    assert json.loads(result.stdout) == {"module": module, "attribute": attribute}


@pytest.mark.parametrize(
    ("job", "message"),
    [
        ("app.more.nope", "cannot import app.more.nope: module 'app.more' has no attribute 'nope'"),
        ("nothere.mod:f", "cannot import nothere.mod:f: no module named 'nothere'"),
        ("app.needs.f", "cannot import app.needs.f: ModuleNotFoundError: No module named 'numpyy'"),
    ],
)
def test_explains(make_project, job, message):
    result = probe(make_project(app__more=JOBS, app__needs="import numpyy\n"), job)
    assert result.returncode == 1
    assert result.stdout.strip() == message


def probe(root, job):
    command = [sys.executable, "-m", "forklint.verify.probe", job]
    return subprocess.run(command, cwd=root, capture_output=True, text=True, check=False)
