"""Sources that crash, stall or bloat libcst's parser cost one line each, within the parse budget,
and the rest of the run goes on — also with --jobs 2 over more than 64 files."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from forklint.facts import screen
from tests.pipeline.shapes import FINE, SHAPES, SIZES

TOO_DEEP = "nested too deeply for Python's own parser"
NOT_LIBCST = "valid Python that libcst cannot parse"
CPYTHON_313_COMPILES = ("plus_4000.py", "subscripts.py", "chain.py", "attributes.py")
# The kernel stops the parse at 3 s of CPU; on a machine so busy that 3 s of CPU take more than
# 14 s of wall time (three budgets and a grace), the parent's clock stops it first.
OVER_TIME = (
    r"parsing took more than 3 s of CPU \(parse-timeout\)|parsing did not finish within 14 s"
)


@pytest.mark.parametrize(
    "name", sorted(n for n in SHAPES if n not in ("parenthesised_target.py", "parens.py"))
)
def test_cpython_refuses_the_deep_shapes_at_once(name):
    verdict = screen(SHAPES[name])
    if name == "implicit_concatenation.py":
        assert verdict is None  # valid: only libcst refuses it
    elif sys.version_info >= (3, 13) and name in CPYTHON_313_COMPILES:
        assert verdict is None  # the time budget stops libcst instead
    else:
        assert isinstance(verdict, str) and verdict.startswith(TOO_DEEP)


def test_cpython_is_the_authority_on_syntax():
    assert screen("(x): int = 1\n") is None
    line, _, message = screen(SHAPES["parens.py"])  # type: ignore[misc]
    assert (line, message) == (1, "too many nested parentheses")
    assert screen("def f(:\n    pass\n") == (1, 7, "invalid syntax")
    for source in FINE.values():
        assert screen(source) is None


def test_check_survives_them(tmp_path: Path):
    root = tmp_path / "proj"
    (root / "app").mkdir(parents=True)
    (root / "pyproject.toml").write_text(
        "[project]\nname = 'x'\n[tool.forklint]\nparse-timeout = 3\nparse-memory = 400\n"
    )
    for i in range(64):  # enough files for two workers, as in the report of BrokenProcessPool
        (root / "app" / f"m{i}.py").write_text(f"import os\n\n\ndef f{i}():\n    return os.sep\n")
    (root / "app" / "tasks.py").write_text(
        "import joblib\nfrom rq.decorators import job\n\n\n@job('q')\ndef f():\n    joblib.load('m')\n"
    )
    hostile = {**SHAPES, **SIZES, **FINE, "crash_me.py": "import os\n"}
    for name, text in hostile.items():
        (root / "hostile" / name).parent.mkdir(exist_ok=True)
        (root / "hostile" / name).write_text(text)
    env = {**os.environ, "FORKLINT_TEST_PARSER_FAULT": "segv:hostile/crash_me.py"}
    env["FORKLINT_CACHE_DIR"] = str(tmp_path / "cache")
    done = subprocess.run(
        [sys.executable, "-m", "forklint", "check", "--jobs", "2", "--format", "concise", "."],
        cwd=root,
        env=env,
        check=False,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 1, done.stderr[-3000:]
    assert "internal error" not in done.stderr and "Traceback" not in done.stderr
    errors = {}
    for line in done.stderr.splitlines():
        if line.startswith("error: "):
            path = line[len("error: ") :].split(":")[0]
            assert path not in errors, f"two lines for {path}"
            errors[path] = line
    findings = done.stdout.splitlines()
    for name in hostile:
        path = f"hostile/{name}"
        said = errors.get(path, "") + "".join(f for f in findings if f.startswith(path))
        if name in FINE:
            assert said == "", said
        elif name == "parens.py":
            assert re.fullmatch(
                r"hostile/parens.py:1:\d+: FRK001 cannot parse hostile/parens.py: too many nested "
                "parentheses; the rest of the project was analysed without it",
                said,
            ), said
        elif name in ("parenthesised_target.py", "implicit_concatenation.py"):
            assert re.fullmatch(rf"error: {path}:\d+:1: not analysed: {NOT_LIBCST}", said), said
        elif name == "crash_me.py":
            assert said == f"error: {path}: not analysed: the parser crashed (SIGSEGV)"
        elif name in SIZES:
            reason = rf"parsing needs more than 400 MB of memory \(parse-memory\)|{OVER_TIME}"
            assert re.fullmatch(rf"error: {path}: not analysed: ({reason})", said), said
        else:
            reason = rf"{re.escape(TOO_DEEP)}.*|{OVER_TIME}"
            assert re.fullmatch(rf"error: {path}: not analysed: ({reason})", said), said
    # The run went on: the job module two workers away from the crashes is analysed.
    assert any(f.startswith("app/tasks.py:7:5: FRK103") for f in findings), findings
