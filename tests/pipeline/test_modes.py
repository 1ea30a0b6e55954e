"""The same findings, errors and notes in every mode: cold, warm, one file changed; one or two
parser processes; cache on or off."""

from __future__ import annotations

import shutil
import sysconfig
from dataclasses import replace
from pathlib import Path

import pytest

from forklint import api
from forklint.config import load_config
from forklint.findings import Report
from tests.pipeline.shapes import SHAPES

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "shop"
STDLIB = Path(sysconfig.get_paths()["stdlib"])


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """The example app, some standard library modules as more code, and files each parser
    outcome comes from: a syntax error, valid Python libcst rejects, a shape CPython refuses."""
    root = tmp_path / "shop"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns("*.db", "__pycache__"))
    vendored = root / "shop" / "vendored"
    vendored.mkdir()
    (vendored / "__init__.py").write_text("")
    for name in ("json/decoder.py", "json/encoder.py", "textwrap.py", "shlex.py", "fnmatch.py"):
        (vendored / name.replace("/", "_")).write_text((STDLIB / name).read_text())
    (root / "shop" / "broken.py").write_text("def f(:\n    pass\n")
    (root / "shop" / "annotated.py").write_text(SHAPES["parenthesised_target.py"])
    (root / "shop" / "deep.py").write_text(SHAPES["continued_unary.py"])
    return root


def run(root: Path, *, jobs: int | None = None, cache: bool = False) -> Report:
    return replace(api.check([root], load_config(root), jobs=jobs, cache=cache), seconds=0.0)


def test_every_mode_gives_the_same_report(tree, tmp_path, monkeypatch):
    reference = run(tree, jobs=1)
    assert {f.code for f in reference.findings} >= {"FRK001", "FRK101", "FRK102"}
    assert {e.path for e in reference.errors} >= {"shop/annotated.py", "shop/deep.py"}
    assert run(tree, jobs=2) == reference

    for jobs in (1, 2):
        monkeypatch.setenv("FORKLINT_CACHE_DIR", str(tmp_path / f"cache-{jobs}"))
        assert run(tree, jobs=jobs, cache=True) == reference  # cold
        assert run(tree, jobs=jobs, cache=True) == reference  # warm: the cached report
        assert run(tree, jobs=3 - jobs, cache=True) == reference

    tasks = tree / "shop" / "tasks.py"
    tasks.write_text("# one more line above everything\n" + tasks.read_text())
    changed = run(tree, jobs=1)
    assert changed != reference  # the findings moved down a line
    for jobs in (1, 2):
        monkeypatch.setenv("FORKLINT_CACHE_DIR", str(tmp_path / f"cache-{jobs}"))
        assert run(tree, jobs=jobs, cache=True) == changed  # one file changed
        assert run(tree, jobs=jobs, cache=True) == changed
