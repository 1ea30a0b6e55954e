"""Following forklint's printed fix once clears the findings: the example shop, edited as told."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from forklint.api import check
from forklint.config import load_config
from forklint.findings import Finding, Report
from forklint.pyproject_edit import write_prefork

SHOP = Path(__file__).resolve().parents[2] / "examples" / "shop"


def _startup_findings(root: Path) -> tuple[list[Finding], Report]:
    report = check([root], load_config(root))
    return [f for f in report.findings if f.code.startswith("FRK1")], report


def test_applying_the_printed_fix_to_the_shop_clears_the_frk1xx_findings(tmp_path: Path) -> None:
    root = tmp_path / "shop"
    shutil.copytree(SHOP, root, ignore=shutil.ignore_patterns("var", "__pycache__"))
    findings, report = _startup_findings(root)
    assert {f.code for f in findings} >= {"FRK101", "FRK102", "FRK104", "FRK105"}
    for finding in findings:  # every fix names both ways the shop starts a worker
        assert finding.fix is not None
        assert "Procfile:1" in finding.fix.summary
        assert "shop/worker.py:main()" in finding.fix.summary

    # 1. the pre-fork table, into pyproject.toml
    write_prefork(root / "pyproject.toml", report.prefork)
    # 2. the Procfile's command line, as the fix prints it
    code = findings[0].fix.code.splitlines()
    command = code[code.index("# Procfile:1") + 1]
    assert command == "rq worker -w forklint.rq.PreforkWorker default"
    procfile = root / "Procfile"
    procfile.write_text(
        procfile.read_text(encoding="utf-8").replace("rq worker default", command),
        encoding="utf-8",
    )
    # 3. shop/worker.py:main(): PreforkWorker instead of Worker, as the fix offers
    assert "# from forklint.rq import PreforkWorker" in findings[0].fix.code
    worker = root / "shop" / "worker.py"
    source = worker.read_text(encoding="utf-8")
    source = source.replace(
        "from rq import Queue, Worker\n",
        "from rq import Queue\n\nfrom forklint.rq import PreforkWorker\n",
    ).replace("    Worker([", "    PreforkWorker([")
    worker.write_text(source, encoding="utf-8")

    after, _ = _startup_findings(root)
    assert after == []


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
    assert f"# Procfile:1\n{expected}" in finding.fix.code
