"""Odd file names and text from analysed files: escaped for people, exact for machines, in every format."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hostile_helpers import forklint

# Real files with these names, each a syntax error so that each is a finding (FRK001).
NAMES = [
    b"bad\xff.py",  # not UTF-8
    b"ansi\x1b[31mred.py",  # an escape sequence: click.echo strips it on a pipe
    b"new\nline.py",
    b"cr\rret.py",
    b"pct%2C,:x.py",  # the workflow-command escapes themselves
    b"bell\x07.py",
]
# Text taken from an analysed file: an escape sequence in a string and one in a comment.
TASKS = (
    'from rq.decorators import job\nimport joblib\n\n\n@job("q")\ndef score():\n'
    '    return joblib.load("\x1b[2Jm.pkl")  # \x1b]0;owned\x07\n'
)


def shown(name: bytes) -> str:
    """How text output names the file: control characters and odd bytes as Python escapes."""
    text = name.decode("utf-8", "backslashreplace")
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("odd-names")
    (root / "pyproject.toml").write_text("", encoding="utf-8")
    (root / "app").mkdir()
    (root / "app/__init__.py").write_text("", encoding="utf-8")
    (root / "app/tasks.py").write_text(TASKS, encoding="utf-8")
    for name in NAMES:
        with open(os.path.join(os.fsencode(root), name), "wb") as handle:
            handle.write(b"def f(:\n")
    return root


def check(project: Path, fmt: str, *extra: str, **kwargs: object) -> tuple[bytes, bytes]:
    # The facts cache is not asked: its key for such names is another change's business.
    done = forklint("check", "--no-cache", "--format", fmt, *extra, cwd=project, **kwargs)
    assert done.returncode == 1, done.stderr
    assert b"internal error" not in done.stderr and b"Traceback" not in done.stderr
    return done.stdout, done.stderr


@pytest.mark.parametrize("fmt", ["text", "concise"])
def test_people_see_escapes_never_raw_control_characters(project: Path, fmt: str) -> None:
    out, err = check(project, fmt)
    text = out.decode("utf-8")  # valid UTF-8: the odd byte is shown as \xff
    for char in "\x1b\x07\r":
        assert char not in text + err.decode("utf-8")
    for name in NAMES:
        assert f"{shown(name)}:1:7: FRK001 cannot parse {shown(name)}: invalid syntax" in text
    assert "bad\\xff.py" in text
    if fmt == "text":  # the source line, the trace and the fix quote the file, escaped
        assert '\\x1b[2Jm.pkl")  # \\x1b]0;owned\\x07' in text


def test_json_gitlab_and_sarif_keep_the_exact_names(project: Path) -> None:
    expected = {os.fsdecode(name) for name in NAMES} | {"app/tasks.py"}
    document = json.loads(check(project, "json")[0])
    assert {f["path"] for f in document["findings"]} == expected
    assert len({f["fingerprint"] for f in document["findings"]}) == len(expected)
    gitlab = json.loads(check(project, "gitlab")[0])
    assert {issue["location"]["path"] for issue in gitlab} == expected
    sarif = json.loads(check(project, "sarif")[0])
    uris = {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for r in sarif["runs"][0]["results"]
    }
    assert {"bad%FF.py", "ansi%1B%5B31mred.py", "new%0Aline.py", "pct%252C%2C%3Ax.py"} <= uris


def test_github_writes_the_bytes_as_given_escaped_like_the_toolkit(
    project: Path, tmp_path: Path
) -> None:
    summary = tmp_path / "summary.md"
    out, _ = check(project, "github", env={"GITHUB_STEP_SUMMARY": str(summary)})
    files = [
        line.split(b"file=", 1)[1].split(b",line=", 1)[0] for line in out.split(b"\n") if line
    ]
    # Into a pipe: the escape sequence and the odd byte are there, byte for byte.
    assert set(files) == {
        b"bad\xff.py",
        b"ansi\x1b[31mred.py",
        b"new%0Aline.py",
        b"cr%0Dret.py",
        b"pct%252C%2C%3Ax.py",
        b"bell\x07.py",
        b"app/tasks.py",
    }
    assert b"\r" not in out and out.count(b"\n") == len(files)
    table = summary.read_text(encoding="utf-8")
    for name in NAMES:
        assert f"| {shown(name)}:1:7 |" in table
    assert "\x1b" not in table


def test_output_file_holds_the_same_bytes(project: Path) -> None:
    out, _ = check(project, "github")
    check(project, "github", "--output-file", "annotations.txt")
    assert (project / "annotations.txt").read_bytes() == out
    (project / "annotations.txt").unlink()


def test_prefork_escapes_command_lines_from_the_project(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("", encoding="utf-8")
    (tmp_path / "app").mkdir()
    (tmp_path / "app/__init__.py").write_text("", encoding="utf-8")
    (tmp_path / "app/tasks.py").write_text(
        'import sqlalchemy.orm\nfrom rq.decorators import job\n\n\n@job("q")\ndef t():\n'
        "    return sqlalchemy.orm.Session().query(1)\n",
        encoding="utf-8",
    )
    # the worker reads "q" too: a worker runs only the jobs of the queues it reads
    (tmp_path / "Procfile").write_bytes(b"worker: rq worker \x1b]0;owned\x07high \x1b[2Jlow q\n")
    done = forklint("prefork", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert b"\x1b" not in done.stdout and b"\x07" not in done.stdout
    assert b"rq worker -w forklint.rq.PreforkWorker \\x1b]0;owned\\x07high \\x1b[2Jlow q" in done.stdout
