"""The command line over the real engine on small projects written as files."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from forklint import cli
from forklint.config import load_config
from tests.projects import write_files

pytestmark = pytest.mark.xfail(
    importlib.util.find_spec("forklint.api") is None,
    reason="forklint.api (the engine) has not landed yet",
    strict=True,
)

TASKS = """\
import joblib
from redis import Redis
from rq.decorators import job


@job("default", connection=Redis())
def score(features):
    model = joblib.load("models/churn.joblib")
    return float(model.predict([features])[0])
"""
WORKER = """\
from redis import Redis
from rq import Worker


def main():
    Worker(["default"], connection=Redis()).work()


if __name__ == "__main__":
    main()
"""
MODELS = """\
from sqlalchemy import ForeignKey
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Account(Base):
    __tablename__ = "account"
    id: Mapped[int] = mapped_column(primary_key=True)
    events: Mapped[list["Event"]] = relationship(back_populates="account")


class Event(Base):
    __tablename__ = "event"
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"))
    kind: Mapped[str]
    account: Mapped[Account] = relationship(back_populates="events")
"""
RECORD = """\
from redis import Redis
from rq.decorators import job
from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

from app.models import Event

Session = sessionmaker(create_engine("sqlite://"))


@job("default", connection=Redis())
def record_event(account_id, kind):
    with Session.begin() as session:
        session.add(Event(account_id=account_id, kind=kind))
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = write_files(
        tmp_path / "proj",
        {
            "pyproject.toml": '[project]\nname = "demo"\n',
            "app/__init__.py": "",
            "app/tasks.py": TASKS,
            "worker.py": WORKER,
        },
    )
    monkeypatch.chdir(root)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    return root


def run(*args: str) -> Result:
    return CliRunner().invoke(cli.main, list(args), catch_exceptions=False)


def findings(*args: str) -> list[dict]:
    result = run(*args, "--format", "json")
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)["findings"]


def test_heavy_call_in_a_job_is_reported(project: Path) -> None:
    result = run("app", "--format", "concise", "--select", "FRK103")
    assert result.exit_code == 1, result.output
    assert result.stdout.splitlines()[0].startswith("app/tasks.py:8:13: FRK103 ")


def test_real_executable_and_exit_codes(project: Path) -> None:
    found = subprocess.run(
        [sys.executable, "-m", "forklint", "--format", "json", "--select", "FRK103"],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert found.returncode == 1, found.stderr
    document = json.loads(found.stdout)
    assert document["root"] == str(project)
    assert [(f["code"], f["path"], f["line"], f["column"]) for f in document["findings"]] == [
        ("FRK103", "app/tasks.py", 8, 13)
    ]
    assert document["findings"][0]["jobs"] and document["findings"][0]["trace"]
    clean = subprocess.run(
        [sys.executable, "-m", "forklint", "worker.py"],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert clean.returncode == 0, clean.stdout + clean.stderr


def test_findings_only_in_the_given_files(project: Path) -> None:
    assert findings("worker.py") == []
    assert {f["path"] for f in findings("app/tasks.py")} == {"app/tasks.py"}


def test_whole_project_analysed_but_only_given_files_reported(project: Path) -> None:
    """What pre-commit relies on: the job is in a file it did not pass, the heavy call in one it did."""
    write_files(
        project,
        {
            "app/ml.py": 'import joblib\n\n\ndef load():\n    return joblib.load("m.joblib")\n',
            "app/batch.py": (
                "from rq.decorators import job\n\nfrom app.ml import load\n\n\n"
                '@job("default")\ndef rescore():\n    return load()\n'
            ),
        },
    )
    reported = findings("app/ml.py", "--select", "FRK103")
    assert [(f["path"], f["line"], f["column"]) for f in reported] == [("app/ml.py", 5, 12)]
    assert reported[0]["jobs"] == ["app.batch.rescore"]


def test_syntax_error_does_not_stop_the_run(project: Path) -> None:
    (project / "app" / "broken.py").write_text("def (:\n", encoding="utf-8")
    codes = {(f["code"], f["path"]) for f in findings()}
    assert ("FRK001", "app/broken.py") in codes
    assert ("FRK103", "app/tasks.py") in codes


def test_undecodable_file_is_one_line_on_stderr(project: Path) -> None:
    (project / "app" / "latin.py").write_bytes(b"x = '\xff\xfe\xfa'\n")
    result = run("app", "--select", "FRK103")
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert any("latin.py" in line for line in result.stderr.splitlines())


def _fingerprint(project: Path) -> tuple[int, str]:
    (finding,) = findings("app/tasks.py", "--select", "FRK103")
    return finding["line"], finding["fingerprint"]


def test_fingerprint_survives_unrelated_edits_and_changes_with_the_function(project: Path) -> None:
    line, before = _fingerprint(project)
    tasks = project / "app" / "tasks.py"
    tasks.write_text(
        "# a comment\n\nVERSION = 2\n" + TASKS.replace("    model =", "\n    model  ="),
        encoding="utf-8",
    )
    moved_line, after = _fingerprint(project)
    assert (moved_line, after) == (line + 4, before)
    tasks.write_text(TASKS.replace("def score(", "def score_batch("), encoding="utf-8")
    assert _fingerprint(project)[1] != before


def test_baseline_end_to_end(project: Path) -> None:
    assert run("--write-baseline", "forklint-baseline.json", "--select", "FRK103").exit_code == 0
    assert run("--baseline", "forklint-baseline.json", "--select", "FRK103").exit_code == 0
    (project / "app" / "tasks.py").write_text(
        TASKS + "\n\n" + TASKS.split("\n\n\n")[1].replace("score", "rescore"), encoding="utf-8"
    )
    result = run(
        "--baseline", "forklint-baseline.json", "--select", "FRK103", "--format", "concise"
    )
    assert result.exit_code == 1
    assert [line.split(": ")[0] for line in result.stdout.splitlines()[:-1]] == [
        "app/tasks.py:14:13"
    ]


def test_prefork_write_end_to_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    original = (
        '[project]\nname = "shop"\n\n# linting\n[tool.forklint]\nexclude = ["tests/fixtures"]\n'
    )
    root = write_files(
        tmp_path / "shop",
        {
            "pyproject.toml": original,
            "app/__init__.py": "",
            "app/models.py": MODELS,
            "app/tasks.py": RECORD,
            "Procfile": "worker: rq worker default\n",
        },
    )
    monkeypatch.chdir(root)
    shown = run("prefork")
    assert shown.exit_code == 0, shown.output
    assert "[tool.forklint.prefork]" in shown.stdout
    assert run("prefork", "--write").exit_code == 0
    text = (root / "pyproject.toml").read_text(encoding="utf-8")
    assert text.startswith(original + "\n[tool.forklint.prefork]\n")
    table = load_config(root).prefork
    assert "sqlalchemy.orm:configure_mappers" in table.calls
    assert text[len(original) :] in shown.stdout


def test_github_and_sarif_on_a_real_report(project: Path) -> None:
    github = run("--format", "github", "--select", "FRK103")
    assert github.stdout.startswith("::warning file=app/tasks.py,line=8,col=13,")
    sarif = json.loads(run("--format", "sarif", "--select", "FRK103").stdout)
    (result,) = sarif["runs"][0]["results"]
    assert result["ruleId"] == "FRK103"
    assert result["locations"][0]["physicalLocation"]["region"]["startLine"] == 8


def test_action_runs_forklint_steps(project: Path, tmp_path: Path) -> None:
    """The action's shell steps, run by bash as the runner would, with forklint on PATH."""
    import yaml

    action = yaml.safe_load(
        (Path(cli.__file__).parents[1] / "action.yml").read_text(encoding="utf-8")
    )
    steps = {step.get("name"): step for step in action["runs"]["steps"]}
    output, summary = tmp_path / "github_output", tmp_path / "summary.md"
    env = {
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
        "FORKLINT_ARGS": "app --select FRK103",
        "SARIF_FILE": "forklint.sarif",
        "GITHUB_OUTPUT": str(output),
        "GITHUB_STEP_SUMMARY": str(summary),
    }
    sarif_step = subprocess.run(
        ["bash", "-ec", steps["forklint (SARIF)"]["run"]],
        env=env,
        check=False,
        capture_output=True,
        text=True,
    )
    assert sarif_step.returncode == 0, sarif_step.stderr
    assert json.loads((project / "forklint.sarif").read_text(encoding="utf-8"))["runs"][0][
        "results"
    ]
    assert output.read_text(encoding="utf-8") == "path=forklint.sarif\n"
    check_step = subprocess.run(
        ["bash", "-ec", steps["forklint"]["run"]],
        env=env,
        check=False,
        capture_output=True,
        text=True,
    )
    assert check_step.returncode == 1
    assert check_step.stdout.startswith("::warning file=app/tasks.py,line=8,col=13,")
    assert "FRK103" in summary.read_text(encoding="utf-8")
