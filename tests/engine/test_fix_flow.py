"""The fixes forklint offers for the example shop and for worker command lines, as edits."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from forklint.api import check
from forklint.config import load_config
from forklint.findings import Finding, Report

SHOP = Path(__file__).resolve().parents[2] / "examples" / "shop"


def _startup_findings(root: Path) -> tuple[list[Finding], Report]:
    report = check([root], load_config(root))
    return [f for f in report.findings if f.code.startswith("FRK1")], report


def test_the_shop_plan_is_the_table_and_both_start_ups_once(tmp_path: Path) -> None:
    root = tmp_path / "shop"
    shutil.copytree(SHOP, root, ignore=shutil.ignore_patterns("var", "__pycache__"))
    findings, report = _startup_findings(root)
    assert {f.code for f in findings} >= {"FRK101", "FRK102", "FRK104", "FRK105"}
    for finding in findings:  # every fix names both ways the shop starts a worker
        assert finding.fix is not None and finding.fix.applicability == "safe"
        assert "Procfile:1" in finding.fix.summary
        assert "shop/worker.py:main()" in finding.fix.summary
        assert {e.path for e in finding.fix.edits} == {
            "pyproject.toml",
            "Procfile",
            "shop/worker.py",
        }
    titles = [step.title for step in report.plan.steps]
    assert titles == [
        "pyproject.toml: the [tool.forklint.prefork] table",
        "Procfile:1: start the worker with forklint.rq.PreforkWorker",
        "shop/worker.py:main(): build forklint.rq.PreforkWorker instead of Worker",
    ]
    assert report.plan.steps[0].prefork == report.prefork
    assert "+worker: rq worker -w forklint.rq.PreforkWorker default" in report.plan.steps[1].diff


TASKS = """\
import pandas
from rq.decorators import job


@job("default")
def report(day):
    return pandas.DataFrame([day])
"""


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            "rq worker -c app.settings --path backend high default",
            "rq worker -w forklint.rq.PreforkWorker -c app.settings --path backend high default",
        ),
        ("rq worker-pool -n 4 default", "rq worker-pool -w forklint.rq.PreforkWorker -n 4 default"),
        (
            "python manage.py rqworker default low",
            "python manage.py rqworker --worker-class forklint.rq.PreforkWorker default low",
        ),
        (  # RQ's own `rqworker` script (held-out securedrop: `/opt/venvs/app/bin/rqworker -c ...`)
            "/opt/venvs/app/bin/rqworker -c app.settings",
            "/opt/venvs/app/bin/rqworker --worker-class forklint.rq.PreforkWorker -c app.settings",
        ),
        ("rqworker default", "rqworker --worker-class forklint.rq.PreforkWorker default"),
    ],
)
def test_fix_keeps_the_worker_command_flags_and_queues(
    tmp_path: Path, line: str, expected: str
) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "__init__.py").write_text("", encoding="utf-8")
    (tmp_path / "app" / "tasks.py").write_text(TASKS, encoding="utf-8")
    (tmp_path / "Procfile").write_text(f"worker: {line}\n", encoding="utf-8")
    if "manage.py" in line:  # django-rq's rqworker sets Django up from the project's settings
        (tmp_path / "manage.py").write_text(
            'import os\nos.environ.setdefault("DJANGO_SETTINGS_MODULE", "app.settings")\n',
            encoding="utf-8",
        )
        (tmp_path / "app" / "settings.py").write_text("INSTALLED_APPS = []\n", encoding="utf-8")
    report = check([tmp_path], load_config(tmp_path))
    (finding,) = [f for f in report.findings if f.code == "FRK101"]
    assert finding.fix is not None
    assert f"`{expected}` (Procfile:1)" in finding.fix.summary
    (edit,) = [e for e in finding.fix.edits if e.path == "Procfile"]
    text = f"worker: {line}\n"
    start = edit.column - 1
    assert edit.line == edit.end_line == 1
    assert text[:start] + edit.content + text[edit.end_column - 1 :] == f"worker: {expected}\n"
