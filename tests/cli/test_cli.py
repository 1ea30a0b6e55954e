"""The command line over synthetic reports: routing, options, formats, exit codes, errors, baselines."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

import pytest
from cli_samples import CONNECTION, MAPPERS, make_report
from click.testing import CliRunner, Result

from forklint import cli
from forklint.config import Config, load_config
from forklint.findings import FileError, Report


class FakeEngine:
    """Stands in for forklint.api.check: records the call, returns a prepared report."""

    def __init__(self, report: Report) -> None:
        self.report = report
        self.calls: list[tuple[list[Path], Config]] = []
        self.jobs: list[int | None] = []

    def __call__(
        self, paths: Sequence[Path], config: Config, jobs: int | None = None, cache: bool = True
    ) -> Report:
        self.cache = cache
        self.calls.append((list(paths), config))
        self.jobs.append(jobs)
        return replace(self.report, root=str(config.root))


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "demo"\n', encoding="utf-8")
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "tasks.py").write_text("x = 1\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    return tmp_path


@pytest.fixture
def engine(monkeypatch: pytest.MonkeyPatch) -> Callable[[Report], FakeEngine]:
    def install(report: Report) -> FakeEngine:
        fake = FakeEngine(report)
        monkeypatch.setattr(cli, "_analyse", fake)
        return fake

    return install


def run(*args: str) -> Result:
    return CliRunner().invoke(cli.main, list(args), catch_exceptions=False)


def test_paths_alone_mean_check(project: Path, engine: Callable[[Report], FakeEngine]) -> None:
    fake = engine(make_report(MAPPERS))
    implicit = run("app", "--format", "concise")
    explicit = run("check", "app", "--format", "concise")
    assert implicit.stdout == explicit.stdout
    assert implicit.stdout.startswith("app/tasks.py:12:5: FRK102 ")
    assert [call[0] for call in fake.calls] == [[Path("app")], [Path("app")]]
    assert fake.calls[0][1].root == project


def test_no_arguments_checks_the_current_directory(
    project: Path, engine: Callable[[Report], FakeEngine]
) -> None:
    fake = engine(make_report())
    assert run().exit_code == 0
    assert fake.calls[0][0] == [project]


def test_exit_codes(project: Path, engine: Callable[[Report], FakeEngine]) -> None:
    engine(make_report())
    assert run("app").exit_code == 0
    engine(make_report(MAPPERS))
    assert run("app").exit_code == 1
    assert run("app", "--exit-zero").exit_code == 0
    engine(make_report(errors=(FileError("app/bad.py", "cannot decode as UTF-8"),)))
    result = run("app")
    assert result.exit_code == 1
    assert "error: app/bad.py: cannot decode as UTF-8\n" in result.stderr


def test_missing_path_is_a_usage_error(
    project: Path, engine: Callable[[Report], FakeEngine]
) -> None:
    engine(make_report())
    result = run("nowhere/")
    assert result.exit_code == 2
    assert "does not exist" in result.stderr


def test_config_error_names_the_key(project: Path, engine: Callable[[Report], FakeEngine]) -> None:
    engine(make_report())
    (project / "pyproject.toml").write_text(
        "[tool.forklint]\nselekt = ['FRK1']\n", encoding="utf-8"
    )
    result = run("app")
    assert result.exit_code == 2
    assert "tool.forklint.selekt" in result.stderr
    assert "Traceback" not in result.stdout
    assert len(result.stderr.splitlines()) == 1


def test_invalid_toml_is_a_config_error(
    project: Path, engine: Callable[[Report], FakeEngine]
) -> None:
    engine(make_report())
    (project / "pyproject.toml").write_text("[tool.forklint\n", encoding="utf-8")
    result = run("app")
    assert result.exit_code == 2
    assert "invalid TOML" in result.stderr


def test_internal_error_is_one_line_exit_2(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(
        paths: Sequence[Path], config: Config, jobs: int | None = None, cache: bool = True
    ) -> Report:
        raise ValueError("engine exploded")

    monkeypatch.setattr(cli, "_analyse", broken)
    result = run("app")
    assert result.exit_code == 2
    assert result.stderr == "forklint: internal error: ValueError: engine exploded\n"


def test_select_ignore_extend_select_reach_the_engine(
    project: Path, engine: Callable[[Report], FakeEngine]
) -> None:
    fake = engine(make_report())
    (project / "pyproject.toml").write_text(
        '[tool.forklint]\nselect = ["FRK3"]\nignore = ["FRK303"]\n', encoding="utf-8"
    )
    run(
        "app",
        "--select",
        "frk1,FRK201",
        "--ignore",
        "FRK104",
        "--ignore",
        "FRK105",
        "--extend-select",
        "FRK301",
    )
    config = fake.calls[0][1]
    assert config.select == ("FRK1", "FRK201")
    assert config.ignore == ("FRK303", "FRK104", "FRK105")
    assert config.extend_select == ("FRK301",)


@pytest.mark.parametrize("code", ["XYZ", "FRK9", "FRK1234", "E501"])
def test_unknown_codes_are_usage_errors(
    project: Path, engine: Callable[[Report], FakeEngine], code: str
) -> None:
    engine(make_report())
    result = run("app", "--select", code)
    assert result.exit_code == 2
    assert "unknown rule code" in result.stderr


def test_jobs_reach_the_engine(project: Path, engine: Callable[[Report], FakeEngine]) -> None:
    fake = engine(make_report())
    run("app", "--jobs", "3", "--no-cache")
    assert fake.jobs == [3]
    assert fake.cache is False
    run("app")
    assert fake.cache is True
    assert run("app", "--jobs", "0").exit_code == 2


def test_format_default_comes_from_config(
    project: Path, engine: Callable[[Report], FakeEngine]
) -> None:
    engine(make_report(MAPPERS))
    (project / "pyproject.toml").write_text('[tool.forklint]\nformat = "json"\n', encoding="utf-8")
    assert json.loads(run("app").stdout)["schema"] == "forklint/1"
    assert run("app", "--format", "concise").stdout.startswith("app/tasks.py:12:5:")


@pytest.mark.parametrize("fmt", ["text", "concise", "json", "sarif", "github", "gitlab"])
def test_every_format_through_the_cli(
    project: Path, engine: Callable[[Report], FakeEngine], fmt: str
) -> None:
    engine(make_report(MAPPERS, CONNECTION))
    result = run("app", "--format", fmt)
    assert result.exit_code == 1
    assert "FRK102" in result.stdout and "FRK301" in result.stdout


def test_output_file(project: Path, engine: Callable[[Report], FakeEngine]) -> None:
    engine(make_report(MAPPERS))
    result = run("app", "--format", "json", "--output-file", "out.json")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert (
        json.loads((project / "out.json").read_text(encoding="utf-8"))["findings"][0]["code"]
        == "FRK102"
    )


def test_output_file_in_missing_folder_is_exit_2(
    project: Path, engine: Callable[[Report], FakeEngine]
) -> None:
    engine(make_report(MAPPERS))
    result = run("app", "--output-file", "no/such/dir/out.txt")
    assert result.exit_code == 2
    assert result.stderr.startswith("forklint: cannot write --output-file")


def test_statistics(project: Path, engine: Callable[[Report], FakeEngine]) -> None:
    engine(make_report(MAPPERS, replace(MAPPERS, line=20), CONNECTION))
    result = run("app", "--statistics")
    assert (
        result.stdout
        == "2\tFRK102\tmappers-configured-after-fork\n1\tFRK301\tconnection-inherited-across-fork\n"
    )
    assert result.exit_code == 1


def test_quiet(project: Path, engine: Callable[[Report], FakeEngine]) -> None:
    engine(make_report(MAPPERS))
    out = run("app", "-q").stdout
    assert "Found" not in out and "note:" not in out and "FRK102" in out


def test_show_config(project: Path, engine: Callable[[Report], FakeEngine]) -> None:
    fake = engine(make_report())
    (project / "pyproject.toml").write_text(
        '[tool.forklint]\nworker = "app.worker:main"\n[tool.forklint.prefork]\nimports = ["app.tasks"]\n',
        encoding="utf-8",
    )
    result = run("--show-config", "--select", "FRK1")
    assert result.exit_code == 0
    assert fake.calls == []
    assert 'worker = "app.worker:main"\n' in result.stdout
    assert 'select = ["FRK1"]\n' in result.stdout
    assert '[tool.forklint.prefork]\nimports = ["app.tasks"]\n' in result.stdout
    assert "# worker-class is not set\n" in result.stdout
    # What it prints is a configuration forklint accepts back.
    shown = project / "shown.toml"
    shown.write_text(result.stdout, encoding="utf-8")
    assert load_config(project, shown).prefork.imports == ("app.tasks",)


def test_github_step_summary_is_appended(
    project: Path, engine: Callable[[Report], FakeEngine], monkeypatch: pytest.MonkeyPatch
) -> None:
    summary = project / "summary.md"
    summary.write_text("earlier step\n", encoding="utf-8")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    engine(make_report(MAPPERS, CONNECTION))
    run("app", "--format", "github")
    text = summary.read_text(encoding="utf-8")
    assert text.startswith("earlier step\n## forklint\n")
    assert "| :x: | FRK301 connection-inherited-across-fork | app/db.py:3:1 |" in text
    run("app", "--format", "text")
    assert summary.read_text(encoding="utf-8") == text


def test_github_format_reports_file_errors_as_annotations(
    project: Path, engine: Callable[[Report], FakeEngine]
) -> None:
    engine(make_report(errors=(FileError("app/bad,x.py", "undecodable"),)))
    result = run("app", "--format", "github")
    assert (
        result.stderr
        == "::error file=app/bad%2Cx.py,title=forklint could not analyse this file::undecodable\n"
    )


def test_colour_only_on_a_terminal_without_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    class Terminal:
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr("sys.stdout", Terminal())
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert cli._colour(None) is True
    assert cli._colour(Path("out.txt")) is False
    monkeypatch.setenv("NO_COLOR", "1")
    assert cli._colour(None) is False


def test_baseline_round_trip(project: Path, engine: Callable[[Report], FakeEngine]) -> None:
    engine(make_report(MAPPERS, replace(MAPPERS, line=30), CONNECTION))
    written = run("app", "--write-baseline", "baseline.json")
    assert written.exit_code == 0
    assert "wrote 3 findings to baseline baseline.json" in written.stderr
    data = json.loads((project / "baseline.json").read_text(encoding="utf-8"))
    assert data["schema"] == "forklint-baseline/1"
    assert [(e["path"], e["code"], e["count"]) for e in data["findings"]] == [
        ("app/db.py", "FRK301", 1),
        ("app/tasks.py", "FRK102", 2),
    ]

    assert run("app", "--baseline", "baseline.json").exit_code == 0

    new = replace(MAPPERS, context="other_job", source_line="def other_job(data):", line=50)
    engine(make_report(MAPPERS, replace(MAPPERS, line=31), replace(MAPPERS, line=32), new))
    result = run("app", "--baseline", "baseline.json", "--format", "concise")
    assert result.exit_code == 1
    # One more FRK102 than baselined on the same line text, plus one in a new function.
    assert [line.split(":")[1] for line in result.stdout.splitlines()[:-1]] == ["32", "50"]
    assert "1 baselined finding no longer occurs; refresh with --write-baseline" in result.stderr


def test_baseline_gone_counts_only_checked_files(
    project: Path, engine: Callable[[Report], FakeEngine]
) -> None:
    (project / "app" / "db.py").write_text("x = 1\n", encoding="utf-8")
    engine(make_report(MAPPERS, CONNECTION))
    run("app", "--write-baseline", "baseline.json")
    engine(make_report(MAPPERS))
    result = run("app/tasks.py", "--baseline", "baseline.json")
    assert result.exit_code == 0
    assert "no longer occur" not in result.stderr
    assert "no longer occurs" in run("app", "--baseline", "baseline.json").stderr


@pytest.mark.parametrize(
    "content, complaint",
    [
        (None, "baseline file not found"),
        ("{", "cannot read baseline"),
        ('{"schema": "x"}', "not a forklint baseline"),
    ],
)
def test_bad_baseline_is_exit_2(
    project: Path, engine: Callable[[Report], FakeEngine], content: str | None, complaint: str
) -> None:
    engine(make_report(MAPPERS))
    if content is not None:
        (project / "baseline.json").write_text(content, encoding="utf-8")
    result = run("app", "--baseline", "baseline.json")
    assert result.exit_code == 2
    assert complaint in result.stderr


def test_rule_docs() -> None:
    one = run("rule", "frk102")
    assert one.exit_code == 0
    assert one.stdout.startswith("FRK102 (mappers-configured-after-fork)")
    for heading in ("What it does", "Why is this bad?", "Example", "Use instead"):
        assert heading in one.stdout
    every = run("rule", "--all")
    assert every.exit_code == 0
    assert "FRK001" in every.stdout and "FRK303" in every.stdout


def test_rule_usage_errors() -> None:
    assert run("rule").exit_code == 2
    assert run("rule", "FRK102", "--all").exit_code == 2
    unknown = run("rule", "FRK999")
    assert unknown.exit_code == 2
    assert "unknown rule 'FRK999'" in unknown.stderr


def test_verify_is_registered() -> None:
    assert "verify" in cli.main.commands
    assert run("verify", "--help").exit_code == 0


def test_version() -> None:
    assert run("--version").stdout.startswith("forklint, version ")


def test_action_is_composite_and_keeps_inputs_out_of_scripts() -> None:
    import yaml

    action = yaml.safe_load(
        (Path(cli.__file__).parents[1] / "action.yml").read_text(encoding="utf-8")
    )
    assert action["runs"]["using"] == "composite"
    steps = action["runs"]["steps"]
    assert steps[0]["uses"].startswith("actions/setup-python@")
    scripts = [step["run"] for step in steps if "run" in step]
    # Inputs reach the shell through env only: `${{ }}` inside a script is a script-injection hole.
    assert scripts and not any("${{" in script for script in scripts)
    assert any('"$GITHUB_ACTION_PATH"' in script for script in scripts)
    assert any("--format github" in script for script in scripts)
    assert set(action["inputs"]) >= {"args", "version", "sarif-file"}


def test_pre_commit_manifest() -> None:
    import yaml

    (hook,) = yaml.safe_load(
        (Path(cli.__file__).parents[1] / ".pre-commit-hooks.yaml").read_text(encoding="utf-8")
    )
    assert (
        hook["id"] == "forklint"
        and hook["entry"] == "forklint check --"
        and hook["language"] == "python"
    )
    assert hook["types_or"] == ["python", "pyi"] and hook["require_serial"] is True
