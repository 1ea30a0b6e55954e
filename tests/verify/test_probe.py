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
    assert json.loads(result.stdout) == {"module": module, "attribute": attribute, "shadows": []}


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


def test_project_modules_named_like_the_standard_library_cannot_break_it(make_project):
    # The job imports json and re itself; the project's json.py and re.py would break both the
    # probe's own imports and the job's if the project came first on sys.path.
    broken = "raise ImportError('the project shadowed the standard library')\n"
    root = make_project(
        json=broken, re=broken, app__uses="import json, re\n\n\ndef job():\n    return json.dumps(re.escape('a'))\n"
    )
    result = probe(root, "app.uses:job")
    assert result.returncode == 0, result.stdout
    found = json.loads(result.stdout)
    assert (found["module"], found["attribute"]) == ("app.uses", "job")
    assert [note.split(":")[0] for note in found["shadows"]] == [
        "json.py in project has the name of the standard library's json",
        "re.py in project has the name of the standard library's re",
    ]
    assert found["shadows"][0].endswith(
        "a worker started in the project (project first on sys.path) imports json.py wherever "
        "json is not loaded yet; rename it"
    )


def probe(root, job):
    from forklint.verify.session import _PROBE

    command = [sys.executable, "-c", _PROBE, job, str(root)]
    return subprocess.run(command, cwd=root, capture_output=True, text=True, check=False)
