"""Every malformed configuration or baseline is one line naming the file and the key, exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from forklint import cli

DEEP = "[" * 100_000 + "]" * 100_000

# (case id, pyproject.toml text, what the one line must say besides the file's path)
CONFIGS: list[tuple[str, str | bytes, str]] = [
    ("tool-int", "tool = 1\n", "`tool` must be a table"),
    ("tool-string", 'tool = "x"\n', "`tool` must be a table"),
    ("forklint-int", "[tool]\nforklint = 3\n", "`tool.forklint` must be a table"),
    ("forklint-array", "[[tool.forklint]]\nsrc = []\n", "`tool.forklint` must be a table"),
    ("bad-glob", '[tool.forklint]\nextend-exclude = ["[z-a]"]\n', "`tool.forklint.extend-exclude` entry '[z-a]' is not a valid glob (bad character range z-a)"),
    ("bad-glob-exclude", '[tool.forklint]\nexclude = ["ok", "x[b-a]y"]\n', "`tool.forklint.exclude` entry 'x[b-a]y' is not a valid glob"),
    ("bad-glob-per-file", '[tool.forklint.per-file-ignores]\n"[z-a]" = ["FRK101"]\n', "`tool.forklint.per-file-ignores` entry '[z-a]' is not a valid glob"),
    ("exclude-int", "[tool.forklint]\nexclude = [1]\n", "`tool.forklint.exclude` must be a list of strings"),
    ("empty-import", '[tool.forklint.prefork]\nimports = [""]\n', "`tool.forklint.prefork.imports` entry '' must look like \"pkg.module\""),
    ("import-with-colon", '[tool.forklint.prefork]\nimports = ["a:b"]\n', "`tool.forklint.prefork.imports` entry 'a:b'"),
    ("colon-call", '[tool.forklint.prefork]\ncalls = [":"]\n', "`tool.forklint.prefork.calls` entry ':' must look like \"pkg.module:function\""),
    ("call-no-function", '[tool.forklint.prefork]\ncalls = ["app.db:"]\n', "`tool.forklint.prefork.calls` entry 'app.db:'"),
    ("after-fork-no-colon", '[tool.forklint.prefork]\nafter-fork = ["app.db.reset"]\n', "`tool.forklint.prefork.after-fork` entry 'app.db.reset'"),
    ("after-fork-spaces", '[tool.forklint.prefork]\nafter-fork = ["app db:reset"]\n', "`tool.forklint.prefork.after-fork` entry 'app db:reset'"),
    ("prefork-int", "[tool.forklint]\nprefork = 1\n", "`tool.forklint.prefork` must be a table"),
    ("prefork-string-list", '[tool.forklint.prefork]\nimports = "app"\n', "`tool.forklint.prefork.imports` must be a list of strings"),
    ("prefork-unknown", "[tool.forklint.prefork]\nfreeze-all = []\n", "unknown key `tool.forklint.prefork.freeze-all`"),
    ("worker-colon", '[tool.forklint]\nworker = ":"\n', "`tool.forklint.worker` must look like \"pkg.module:name\""),
    ("worker-class-dot", '[tool.forklint]\nworker-class = "app.:W"\n', "`tool.forklint.worker-class` must look like"),
    ("worker-int", "[tool.forklint]\nworker = 1\n", "`tool.forklint.worker` must be a string"),
    ("src-int", "[tool.forklint]\nsrc = [1]\n", "`tool.forklint.src` must be a list of strings"),
    ("select-string", '[tool.forklint]\nselect = "FRK1"\n', "`tool.forklint.select` must be a list of strings"),
    ("select-unknown", '[tool.forklint]\nselect = ["E501"]\n', "`tool.forklint.select` has unknown rule code or prefix 'E501'"),
    ("pfi-array", '[tool.forklint]\nper-file-ignores = ["x"]\n', "`tool.forklint.per-file-ignores` must be a table"),
    ("pfi-string", '[tool.forklint.per-file-ignores]\n"a.py" = "FRK1"\n', '`tool.forklint.per-file-ignores."a.py"` must be a list of strings'),
    ("pfi-unknown", '[tool.forklint.per-file-ignores]\n"a.py" = ["X1"]\n', "has unknown rule code or prefix 'X1'"),
    ("format", '[tool.forklint]\nformat = "xml"\n', "`tool.forklint.format` must be one of"),
    ("fork-model-int", "[tool.forklint]\nfork-model = 3\n", "`tool.forklint.fork-model` must be a string"),
    ("unknown-key", "[tool.forklint]\nworkers = 2\n", "unknown key `tool.forklint.workers`"),
    ("heavy-call-empty", '[tool.forklint]\nheavy-calls = [""]\n', "`tool.forklint.heavy-calls` entry ''"),
    ("heavy-call-spaces", '[tool.forklint]\nheavy-calls = ["load model"]\n', "`tool.forklint.heavy-calls` entry 'load model'"),
    ("heavy-module-keyword", '[tool.forklint]\nheavy-modules = ["app.import"]\n', "`tool.forklint.heavy-modules` entry 'app.import'"),
    ("job-dots", '[tool.forklint]\njobs = ["app..tasks:f"]\n', "`tool.forklint.jobs` entry 'app..tasks:f'"),
    ("job-decorator-int", "[tool.forklint]\njob-decorators = [1]\n", "`tool.forklint.job-decorators` must be a list of strings"),
    ("fork-unsafe-empty", '[tool.forklint]\nfork-unsafe-calls = [":"]\n', "`tool.forklint.fork-unsafe-calls` entry ':'"),
    ("heavy-and-unsafe", '[tool.forklint]\nheavy-calls = ["pymongo.MongoClient"]\n', "'pymongo.MongoClient' is listed as both heavy and fork-unsafe"),
    ("not-toml", "[tool.forklint\n", "invalid TOML"),
    ("deep-toml", f"x = {DEEP}\n", "invalid TOML (arrays or tables nested too deeply)"),
    ("deep-inline-table", "x = " + "{a = " * 5000 + "1" + "}" * 5000 + "\n", "invalid TOML"),
    ("huge-int", "x = " + "7" * 5000 + "\n", "invalid TOML"),
    ("not-utf8", b"[tool.forklint]\nsrc = ['\xff']\n", "cannot read config file"),
    ("long-key", "[tool.forklint]\n" + "k" * 1_000_000 + " = 1\n", "characters)`; valid keys are"),
    ("control-key", '[tool.forklint]\n"a\\u001b[31m\\nb" = 1\n', "unknown key `tool.forklint.a\\x1b[31m\\nb`"),
    ("too-many-globs", "[tool.forklint]\nextend-exclude = [" + ", ".join(f'"g{i}"' for i in range(129)) + "]\n", "`tool.forklint.extend-exclude` has 129 globs; forklint takes at most 128"),
    ("too-many-pfi", "[tool.forklint.per-file-ignores]\n" + "".join(f'"g{i}" = ["FRK1"]\n' for i in range(129)), "`tool.forklint.per-file-ignores` has 129 globs"),
    ("long-entry", '[tool.forklint.prefork]\nimports = ["' + "x y" * 100_000 + '"]\n', "characters) must look like"),
]


def _invoke(root: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli.main, ["check", *args], catch_exceptions=False)
    return result.exit_code, result.stderr


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "app").mkdir()
    (tmp_path / "app/tasks.py").write_text("x = 1\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FORKLINT_CACHE_DIR", str(tmp_path / ".cache"))
    return tmp_path


def assert_one_line(code: int, stderr: str) -> str:
    assert code == 2, stderr
    assert "Traceback" not in stderr and "internal error" not in stderr, stderr
    lines = stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("forklint: "), stderr[:2000]
    assert len(lines[0]) < 600, lines[0][:2000]  # one readable line, however big the input
    return lines[0]


@pytest.mark.parametrize(("text", "expected"), [c[1:] for c in CONFIGS], ids=[c[0] for c in CONFIGS])
def test_bad_pyproject_is_one_line(project: Path, text: str | bytes, expected: str) -> None:
    path = project / "pyproject.toml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    line = assert_one_line(*_invoke(project))
    assert line.startswith(f"forklint: {path}: ") and expected in line, line


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("forklint.toml", "exclude = 1\n", "`exclude` must be a list of strings"),
        ("forklint.toml", "tool = 1\n", "no [tool.forklint] table"),
        ("forklint.toml", "[prefork]\ncalls = ['x']\n", "`prefork.calls` entry 'x'"),
        ("alt.toml", "[tool.forklint]\nworker = 'x'\n", "`tool.forklint.worker` must look like"),
        ("missing.toml", None, "config file not found"),
        ("folder", "", "cannot read config file (is a directory, not a file)"),
    ],
)
def test_bad_config_option_is_one_line(
    project: Path, name: str, text: str | None, expected: str
) -> None:
    path = project / name
    if name == "folder":
        path.mkdir()
    elif text is not None:
        path.write_text(text, encoding="utf-8")
    line = assert_one_line(*_invoke(project, "--config", name))
    assert line.startswith(f"forklint: {name}: ") and expected in line, line


def _baseline(findings: object, schema: str = "forklint-baseline/1") -> str:
    return json.dumps({"schema": schema, "findings": findings})


GOOD = {"fingerprint": "0123456789abcdef", "code": "FRK103", "path": "app/tasks.py", "count": 1}

BASELINES: list[tuple[str, str | bytes, str]] = [
    ("empty", "", "cannot read baseline (Expecting value"),
    ("not-json", "{", "cannot read baseline"),
    ("deep", DEEP, "not a forklint baseline (nested too deeply)"),
    ("deep-objects", '{"a":' * 100_000 + "1" + "}" * 100_000, "nested too deeply"),
    ("array", "[]", "not a forklint baseline (expected schema"),
    ("wrong-schema", _baseline([], schema="forklint-baseline/9"), "expected schema"),
    ("findings-object", _baseline({}), "expected schema"),
    ("entry-array", _baseline([[GOOD]]), "findings[0] must be an object, not an array"),
    ("count-true", _baseline([{**GOOD, "count": True}]), "findings[0] `count` must be a positive integer, not true"),
    ("count-zero", _baseline([GOOD, {**GOOD, "count": 0}]), "findings[1] `count` must be a positive integer, not 0"),
    ("count-negative", _baseline([{**GOOD, "count": -3}]), "not -3"),
    ("count-float", _baseline([{**GOOD, "count": 1.5}]), "not a number"),
    ("count-string", _baseline([{**GOOD, "count": "1"}]), "not a string"),
    ("count-missing", _baseline([{k: v for k, v in GOOD.items() if k != "count"}]), "not missing"),
    ("count-huge", '{"schema": "forklint-baseline/1", "findings": [{"count": ' + "9" * 5000 + "}]}", "cannot read baseline"),
    ("fingerprint-int", _baseline([{**GOOD, "fingerprint": 7}]), "findings[0] `fingerprint` must be a string"),
    ("path-null", _baseline([{**GOOD, "path": None}]), "findings[0] `path` must be a string, not missing"),
    ("huge-entry", _baseline([{**GOOD, "count": "x" * 1_000_000}]), "not a string"),
    ("not-utf8", b'{"schema": "\xff"}', "cannot read baseline"),
    ("nan", _baseline([{**GOOD, "count": float("nan")}]), "not a number"),
]


@pytest.mark.parametrize(("text", "expected"), [c[1:] for c in BASELINES], ids=[c[0] for c in BASELINES])
def test_bad_baseline_is_one_line(project: Path, text: str | bytes, expected: str) -> None:
    path = project / "base.json"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    line = assert_one_line(*_invoke(project, "--baseline", "base.json"))
    assert line.startswith("forklint: base.json: ") and expected in line, line


def test_baseline_that_is_a_folder_or_missing(project: Path) -> None:
    (project / "folder").mkdir()
    line = assert_one_line(*_invoke(project, "--baseline", "folder"))
    assert line == "forklint: folder: cannot read baseline (is a directory, not a file)"
    line = assert_one_line(*_invoke(project, "--baseline", "nope.json"))
    assert line == (
        "forklint: nope.json: baseline file not found; create it with --write-baseline nope.json"
    )


def test_a_good_baseline_still_reads(project: Path) -> None:
    (project / "base.json").write_text(_baseline([GOOD]), encoding="utf-8")
    code, stderr = _invoke(project, "--baseline", "base.json")
    assert code == 0, stderr
