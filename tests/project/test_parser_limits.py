"""Sources that crash or stall libcst's parser are refused with one line before it sees them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from forklint.project import beyond_parser_limits

# Each of these kills the process (stack overflow) or keeps libcst 1.x busy for minutes;
# CPython's own parser refuses every one of them, so no importable module is lost.
NASTY = {
    "parens.py": "x = " + "(" * 10_000 + "1" + ")" * 10_000 + "\n",
    "unary.py": "x = " + "-" * 100_000 + "1\n",
    "lambdas.py": "x = " + "lambda: " * 5_000 + "1\n",
    "chain.py": "x = " + " + ".join(["1"] * 5_000) + "\n",
    "attributes.py": "x = a" + ".b" * 5_000 + "\n",
}
FINE = {
    "deep_but_valid.py": "x = " + "(" * 150 + "1" + ")" * 150 + "\n",
    "long_but_flat.py": "x = [" + ", ".join(["1"] * 3_000) + "]\n",
    "brackets_in_strings.py": "x = '" + "(" * 300 + "'\n",
}


@pytest.mark.parametrize("name", sorted(NASTY))
def test_refused(name):
    assert beyond_parser_limits(NASTY[name]) is not None


@pytest.mark.parametrize("name", sorted(FINE))
def test_accepted(name):
    assert beyond_parser_limits(FINE[name]) is None


def test_check_survives_them(tmp_path: Path):
    root = tmp_path / "proj"
    root.mkdir()
    (root / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    for name, text in {**NASTY, **FINE, "ok.py": "import os\n"}.items():
        (root / name).write_text(text)
    # A subprocess, so that a parser crash fails this test instead of killing the test runner.
    script = (
        "import json, sys; from pathlib import Path; from forklint.api import check; "
        "r = check([Path(sys.argv[1])]); "
        "print(json.dumps({'files': r.files, 'errors': [str(e) for e in r.errors], "
        "'findings': [f.code + ' ' + f.path for f in r.findings]}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(root)],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout)
    assert report["files"] == len(NASTY) + len(FINE) + 1
    assert sorted(report["errors"]) == [
        "attributes.py: nested too deeply for Python's own parser (it could never be imported); skipped",
        "chain.py: nested too deeply for Python's own parser (it could never be imported); skipped",
        "lambdas.py: nested too deeply for Python's own parser (it could never be imported); skipped",
        "parens.py: too many nested parentheses (Python refuses more than 200); skipped",
        "unary.py: nested too deeply for Python's own parser (it could never be imported); skipped",
    ]
    assert not [f for f in report["findings"] if f.startswith("FRK001")]
