"""Fixes from the first QA round: config codes checked, cwd-relative paths, error summary, notes,
--config files holding [tool.forklint], and worker command lines that keep the user's flags."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

import pytest
from cli_samples import CONNECTION, MAPPERS, make_report
from click.testing import CliRunner, Result

from forklint import cli
from forklint.commands import with_prefork_worker
from forklint.config import ConfigError, load_config
from forklint.findings import FileError, Report, TraceStep


def run(*args: str) -> Result:
    return CliRunner().invoke(cli.main, list(args), catch_exceptions=False)


@pytest.fixture
def analyse(monkeypatch: pytest.MonkeyPatch) -> Callable[[Report], list[Path]]:
    """Replace the engine by a prepared report (rooted at the loaded config's root)."""

    def install(report: Report) -> list[Path]:
        roots: list[Path] = []

        def fake(
            paths: Sequence[Path], config: object, jobs: int | None = None, cache: bool = True
        ) -> Report:
            roots.append(config.root)  # type: ignore[attr-defined]
            return replace(report, root=str(config.root))  # type: ignore[attr-defined]

        monkeypatch.setattr(cli, "_analyse", fake)
        return roots

    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    return install


# ---- QA #9: rule codes in the configuration are checked like --select ----------------------


@pytest.mark.parametrize(
    ("table", "key"),
    [
        ('select = ["FRK9"]', "`tool.forklint.select`"),
        ('ignore = ["FRK1", "FRK9"]', "`tool.forklint.ignore`"),
        ('extend-select = ["FRK1999"]', "`tool.forklint.extend-select`"),
        ('per-file-ignores = {"tests/*" = ["FRK9"]}', '`tool.forklint.per-file-ignores."tests/*"`'),
        ('select = ["frk1"]', "`tool.forklint.select`"),
    ],
)
def test_unknown_codes_in_the_config_are_exit_2_naming_key_and_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, analyse: Callable, table: str, key: str
) -> None:
    analyse(make_report())
    (tmp_path / "pyproject.toml").write_text(f"[tool.forklint]\n{table}\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = run()
    assert result.exit_code == 2
    assert len(result.stderr.splitlines()) == 1
    assert key in result.stderr
    bad = "frk1" if "frk1" in table else ("FRK1999" if "FRK1999" in table else "FRK9")
    assert f"'{bad}'" in result.stderr


def test_known_codes_and_prefixes_in_the_config_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, analyse: Callable
) -> None:
    analyse(make_report(assumptions=()))
    (tmp_path / "pyproject.toml").write_text(
        '[tool.forklint]\nselect = ["FRK1", "FRK301"]\nignore = ["FRK2"]\n'
        'per-file-ignores = {"tests/*" = ["FRK"]}\n',
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    result = run()
    assert (result.exit_code, result.stdout) == (0, "Found 0 findings.\n")


def test_a_worker_reading_the_config_neither_checks_codes_nor_loads_the_rule_docs(
    tmp_path: Path,
) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.forklint]\nselect = ["FRK9"]\n[tool.forklint.prefork]\nimports = ["app"]\n',
        encoding="utf-8",
    )
    assert load_config(tmp_path).select == ("FRK9",)
    with pytest.raises(ConfigError, match="FRK9"):
        load_config(tmp_path, check_codes=True)
    probe = (
        "import sys; from pathlib import Path; from forklint.config import load_config; "
        f"load_config(Path({str(tmp_path)!r})); print('forklint.ruledocs' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout == "False\n"


# ---- QA #12: text and concise paths from where the user stands --------------------------------


@pytest.fixture
def monorepo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A git checkout whose project root is the sub-folder svc/; the shell stands in svc/app."""
    (tmp_path / ".git").mkdir()
    project = tmp_path / "svc"
    (project / "app").mkdir(parents=True)
    (project / "pyproject.toml").write_text('[project]\nname = "svc"\n', encoding="utf-8")
    monkeypatch.chdir(project / "app")
    return project


TRACED = replace(MAPPERS, trace=(TraceStep("worker.py", 3, 1, "main()"), *MAPPERS.trace))


def test_text_and_concise_paths_are_relative_to_the_cwd(monorepo: Path, analyse: Callable) -> None:
    analyse(make_report(TRACED, CONNECTION, errors=(FileError("bad.py", "cannot decode"),)))
    concise = run("--format", "concise")
    assert concise.stdout.splitlines()[:2] == [
        f"db.py:3:1: FRK301 {CONNECTION.message}",
        f"tasks.py:12:5: FRK102 {MAPPERS.message}",
    ]
    assert "error: ../bad.py: cannot decode" in concise.stderr
    text = run("--show-trace").stdout
    assert text.startswith("db.py:3:1: FRK301")
    assert "    ../worker.py:3:1  main()\n" in text
    assert "    tasks.py:13:9     Event.record(data)\n" in text


def test_machine_formats_stay_root_and_repository_relative(
    monorepo: Path, analyse: Callable
) -> None:
    analyse(make_report(MAPPERS, errors=(FileError("bad.py", "cannot decode"),)))
    document = json.loads(run("--format", "json").stdout)
    assert [f["path"] for f in document["findings"]] == ["app/tasks.py"]
    gitlab = json.loads(run("--format", "gitlab").stdout)
    assert gitlab[0]["location"]["path"] == "svc/app/tasks.py"
    sarif = json.loads(run("--format", "sarif").stdout)
    location = sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "svc/app/tasks.py"
    github = run("--format", "github")
    # GitHub resolves annotation paths against the checkout, whatever the working directory.
    assert github.stdout.startswith("::warning file=svc/app/tasks.py,line=12,")
    assert github.stderr.startswith("::error file=svc/bad.py,")


def test_paths_open_from_the_root_above_it_or_elsewhere(
    monorepo: Path, analyse: Callable, monkeypatch: pytest.MonkeyPatch, tmp_path_factory
) -> None:
    analyse(make_report(MAPPERS))
    monkeypatch.chdir(monorepo)
    assert run("--format", "concise").stdout.startswith("app/tasks.py:12:5:")
    monkeypatch.chdir(monorepo.parent)
    assert run("svc", "--format", "concise").stdout.startswith("svc/app/tasks.py:12:5:")
    monkeypatch.chdir(tmp_path_factory.mktemp("elsewhere"))
    absolute = (monorepo / "app" / "tasks.py").as_posix()
    assert run(str(monorepo), "--format", "concise").stdout.startswith(f"{absolute}:12:5:")


# ---- QA #14: files that could not be analysed, concise notes, --config with [tool.forklint] -----


def test_summary_says_how_many_files_could_not_be_analysed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, analyse: Callable
) -> None:
    monkeypatch.chdir(tmp_path)
    errors = (
        FileError("a.py", "cannot decode"),
        FileError("a.py", "second problem", line=2),
        FileError("b.py", "unreadable"),
    )
    analyse(make_report(errors=errors[:1], assumptions=()))
    result = run()
    assert (result.exit_code, result.stdout) == (
        1,
        "Found 0 findings; 1 file could not be analysed.\n",
    )
    analyse(make_report(MAPPERS, errors=errors, assumptions=()))
    result = run("--format", "concise")
    assert result.exit_code == 1
    assert result.stdout.endswith("Found 1 finding; 2 files could not be analysed.\n")


def test_concise_prints_the_assumptions_on_stderr(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, analyse: Callable
) -> None:
    monkeypatch.chdir(tmp_path)
    analyse(make_report(MAPPERS))
    result = run("--format", "concise")
    assert result.stderr == "note: no worker start-up found: assumed stock `rq worker`\n"
    assert "note" not in result.stdout
    quiet = run("--format", "concise", "-q")
    assert quiet.stderr == ""


@pytest.mark.parametrize(
    "text",
    [
        '[tool.forklint]\nformat = "concise"\nselect = ["FRK1"]\n',
        'format = "concise"\nselect = ["FRK1"]\n',
        '[project]\nname = "x"\n[tool.forklint]\nformat = "concise"\nselect = ["FRK1"]\n',
    ],
    ids=["tool-table", "top-level", "pyproject-shaped"],
)
def test_config_file_holds_a_tool_forklint_table_or_top_level_keys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, analyse: Callable, text: str
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "alt.toml").write_text(text, encoding="utf-8")
    analyse(make_report(MAPPERS, assumptions=()))
    result = run("--config", "alt.toml")
    assert result.exit_code == 1
    assert result.stdout.startswith("app/tasks.py:12:5: FRK102 ")  # concise, from the file
    shown = run("--config", "alt.toml", "--show-config").stdout
    assert 'select = ["FRK1"]' in shown


def test_config_file_with_other_tool_tables_only_is_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, analyse: Callable
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "alt.toml").write_text('[tool.forklnt]\nselect = ["FRK1"]\n', encoding="utf-8")
    analyse(make_report())
    result = run("--config", "alt.toml")
    assert result.exit_code == 2
    assert "no [tool.forklint] table" in result.stderr
    (tmp_path / "alt.toml").write_text('[tool.forklint]\nselect = ["FRK7"]\n', encoding="utf-8")
    result = run("--config", "alt.toml")
    assert result.exit_code == 2
    assert "`tool.forklint.select`" in result.stderr and "'FRK7'" in result.stderr


# ---- QA #6: the suggested worker command lines keep the user's flags ---------------------------


@pytest.mark.parametrize(
    ("written", "suggested"),
    [
        (
            "rq worker -c app.settings default",
            "rq worker -w forklint.rq.PreforkWorker -c app.settings default",
        ),
        (
            "rq worker --path backend -c api.settings -u redis://r:6379/1 default low",
            "rq worker -w forklint.rq.PreforkWorker --path backend -c api.settings "
            "-u redis://r:6379/1 default low",
        ),
        ("rq worker-pool -n 4 default", "rq worker-pool -w forklint.rq.PreforkWorker -n 4 default"),
        (
            "python manage.py rqworker default low",
            "python manage.py rqworker --worker-class forklint.rq.PreforkWorker default low",
        ),
        ("rq worker -w rq.Worker high", "rq worker -w forklint.rq.PreforkWorker high"),
        (
            "rq worker --worker-class=rq.worker.Worker high",
            "rq worker --worker-class=forklint.rq.PreforkWorker high",
        ),
        (
            "RQ_WORKER_CLASS=rq.Worker rq worker high",
            "RQ_WORKER_CLASS=forklint.rq.PreforkWorker rq worker high",
        ),
        (
            "sh -c 'exec python -m rq.cli worker --with-scheduler high'",
            "sh -c 'exec python -m rq.cli worker -w forklint.rq.PreforkWorker --with-scheduler high'",
        ),
    ],
)
def test_worker_command_keeps_every_flag(written: str, suggested: str) -> None:
    assert with_prefork_worker(written) == suggested


def test_config_file_keeps_the_projects_prefork_table(tmp_path: Path) -> None:
    from forklint.config import load_config

    (tmp_path / "pyproject.toml").write_text(
        '[tool.forklint.prefork]\nimports = ["app.tasks"]\n', encoding="utf-8"
    )
    alt = tmp_path / "alt.toml"
    alt.write_text('select = ["FRK1"]\n', encoding="utf-8")
    config = load_config(tmp_path, alt)
    assert config.select == ("FRK1",)
    assert config.prefork.imports == ("app.tasks",)
    alt.write_text('[prefork]\nimports = ["other"]\n', encoding="utf-8")
    assert load_config(tmp_path, alt).prefork.imports == ("other",)
