"""`forklint prefork [--write]`: the table printed, and pyproject.toml edited without touching other bytes."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import pytest
from cli_samples import make_report
from click.testing import CliRunner

from forklint import cli
from forklint.config import Config, load_config
from forklint.findings import Prefork, Report
from forklint.pyproject_edit import EditError, set_prefork

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

TABLE = Prefork(
    imports=("app.tasks", "app.models"),
    calls=("sqlalchemy.orm:configure_mappers",),
    after_fork=("app.db:dispose_pool",),
)
NEW = (
    "[tool.forklint.prefork]\n"
    'imports = ["app.tasks", "app.models"]\n'
    'calls = ["sqlalchemy.orm:configure_mappers"]\n'
    'after-fork = ["app.db:dispose_pool"]\n'
)

HEAD = """\
# The project file.  Comments, odd spacing and key order must survive.
[project]
name    = "demo"   # aligned on purpose
dependencies = [
  "rq>=1.16",  # [tool.forklint.prefork] in a comment is not a header
]
description = '''
[tool.forklint.prefork]
not a header either
'''
"""
TAIL = """
# ruff settings
[tool.ruff]
line-length = 100

[[tool.mypy.overrides]]
module = "x"
"""


def test_appends_a_table_when_there_is_none() -> None:
    text = HEAD + TAIL
    assert set_prefork(text, TABLE) == text + "\n" + NEW


def test_inserted_after_an_existing_tool_forklint_table() -> None:
    ours = '\n[tool.forklint]\nselect = ["FRK1"]   # keep me\nexclude = [\n  "tests/fixtures",\n]\n'
    text = HEAD + ours + TAIL
    assert set_prefork(text, TABLE) == HEAD + ours + "\n" + NEW + TAIL


def test_replaces_values_in_an_existing_table_keeping_comments_and_other_lines() -> None:
    before = (
        HEAD
        + '\n[tool.forklint.prefork]\n# chosen by hand\nimports = [\n  "app.tasks",  # first\n]\n'
    )
    after_key = '\n\n[tool.forklint]\nselect = ["FRK1"]\n' + TAIL
    out = set_prefork(before + after_key, TABLE)
    assert out == (
        HEAD
        + '\n[tool.forklint.prefork]\n# chosen by hand\nimports = ["app.tasks", "app.models"]\n'
        + 'calls = ["sqlalchemy.orm:configure_mappers"]\nafter-fork = ["app.db:dispose_pool"]\n'
        + after_key
    )


def test_existing_entries_stay_first() -> None:
    text = '[tool.forklint.prefork]\nimports = ["legacy.jobs"]\n"after-fork" = ["x.y:z"]\n'
    data = tomllib.loads(set_prefork(text, TABLE))["tool"]["forklint"]["prefork"]
    assert data == {
        "imports": ["legacy.jobs", "app.tasks", "app.models"],
        "after-fork": ["x.y:z", "app.db:dispose_pool"],
        "calls": ["sqlalchemy.orm:configure_mappers"],
    }


def test_nothing_new_leaves_the_file_as_it_is() -> None:
    text = "[tool.forklint.prefork]\nimports=[ 'app.tasks','app.models' ]\ncalls = ['sqlalchemy.orm:configure_mappers']\n"
    text += "after-fork = ['app.db:dispose_pool']  # x\n"
    assert set_prefork(text, TABLE) == text


def test_crlf_file_stays_crlf() -> None:
    text = (HEAD + TAIL).replace("\n", "\r\n")
    out = set_prefork(text, TABLE)
    assert out == text + "\r\n" + NEW.replace("\n", "\r\n")
    assert "\n" not in out.replace("\r\n", "")


def test_file_without_final_newline() -> None:
    assert set_prefork('[tool.forklint]\nselect = ["FRK1"]', TABLE) == (
        '[tool.forklint]\nselect = ["FRK1"]\n\n' + NEW
    )
    assert set_prefork('[tool.forklint.prefork]\nimports = ["q"]', Prefork(calls=("a:b",))) == (
        '[tool.forklint.prefork]\nimports = ["q"]\ncalls = ["a:b"]\n'
    )


def test_inline_and_dotted_forms() -> None:
    inline = '[tool.forklint]\nprefork = { imports = ["q"] }  # inline\nselect = []\n'
    assert set_prefork(inline, Prefork(calls=("a:b",))) == (
        '[tool.forklint]\nprefork = { imports = ["q"], calls = ["a:b"] }  # inline\nselect = []\n'
    )
    dotted = '[tool.forklint]\nprefork.imports = ["q"]\nselect = []\n'
    assert set_prefork(dotted, Prefork(calls=("a:b",))) == (
        '[tool.forklint]\nprefork.imports = ["q"]\nprefork.calls = ["a:b"]\nselect = []\n'
    )


def test_long_lists_go_one_entry_per_line() -> None:
    many = Prefork(imports=tuple(f"app.module_{n}" for n in range(8)))
    out = set_prefork("", many)
    assert out.startswith('[tool.forklint.prefork]\nimports = [\n    "app.module_0",\n')
    assert tomllib.loads(out)["tool"]["forklint"]["prefork"]["imports"] == list(many.imports)


def test_layouts_it_cannot_edit_are_refused() -> None:
    with pytest.raises(EditError, match="by hand"):
        set_prefork("[tool]\nforklint = { select = [] }\n", TABLE)
    with pytest.raises(EditError, match="invalid TOML"):
        set_prefork("[tool.forklint\n", TABLE)


def _install(monkeypatch: pytest.MonkeyPatch, table: Prefork) -> None:
    def fake(paths: object, config: Config, jobs: int | None = None, cache: bool = True) -> Report:
        return replace(make_report(), root=str(config.root), prefork=table)

    monkeypatch.setattr(cli, "_analyse", fake)


def test_prefork_prints_the_table_and_the_worker_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "pyproject.toml").write_text(
        "[tool.forklint.prefork]\nimports = ['legacy']\n", encoding="utf-8"
    )
    monkeypatch.chdir(tmp_path)
    _install(monkeypatch, TABLE)
    result = CliRunner().invoke(cli.main, ["prefork"])
    assert result.exit_code == 0
    assert result.stdout.startswith("# forklint: the pre-fork table")
    assert result.stdout.endswith(
        NEW.replace('imports = ["app.tasks"', 'imports = ["legacy", "app.tasks"')
    )
    assert (tmp_path / "pyproject.toml").read_text(
        encoding="utf-8"
    ) == "[tool.forklint.prefork]\nimports = ['legacy']\n"


def test_prefork_write_preserves_every_other_byte(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = (
        (HEAD + '\n[tool.forklint]\nselect = ["FRK1"]\n' + TAIL)
        .replace("\n", "\r\n")
        .encode("utf-8")
    )
    (tmp_path / "pyproject.toml").write_bytes(original)
    monkeypatch.chdir(tmp_path)
    _install(monkeypatch, TABLE)
    result = CliRunner().invoke(cli.main, ["prefork", "--write"])
    assert result.exit_code == 0, result.output
    after = (tmp_path / "pyproject.toml").read_bytes()
    insert = ("\n" + NEW).replace("\n", "\r\n").encode("utf-8")
    cut = original.index(b"\r\n# ruff settings")  # right after the [tool.forklint] table
    assert after == original[:cut] + insert + original[cut:]
    assert load_config(tmp_path).prefork == TABLE
    # A second run finds nothing to add and leaves the file alone.
    CliRunner().invoke(cli.main, ["prefork", "--write"])
    assert (tmp_path / "pyproject.toml").read_bytes() == after


def test_prefork_write_creates_pyproject(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path)
    _install(monkeypatch, TABLE)
    assert CliRunner().invoke(cli.main, ["prefork", "--write"]).exit_code == 0
    assert (tmp_path / "pyproject.toml").read_text(encoding="utf-8") == NEW


def test_prefork_with_nothing_to_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path)
    _install(monkeypatch, Prefork())
    result = CliRunner().invoke(cli.main, ["prefork", "--write"])
    assert result.exit_code == 0
    assert "no pre-fork table needed" in result.stdout
    assert not (tmp_path / "pyproject.toml").exists()


def test_prefork_write_refusal_is_exit_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = "[tool]\nforklint = { select = [] }\n"
    (tmp_path / "pyproject.toml").write_text(text, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    _install(monkeypatch, TABLE)
    result = CliRunner().invoke(cli.main, ["prefork", "--write"])
    assert result.exit_code == 2
    assert "by hand" in result.stderr
    assert (tmp_path / "pyproject.toml").read_text(encoding="utf-8") == text


@pytest.mark.parametrize(
    "header", ["[ tool . forklint . prefork ]  # spaced", "[tool.\"forklint\".'prefork']"]
)
def test_headers_written_differently(header: str) -> None:
    text = f'x = """a ""quoted"" [b]\n[tool.forklint.prefork]"""\n{header}\nimports = ["q"]\n[tool.other]\ny = 1\n'
    out = set_prefork(text, Prefork(calls=("a:b",)))
    assert out == text.replace('imports = ["q"]\n', 'imports = ["q"]\ncalls = ["a:b"]\n')
