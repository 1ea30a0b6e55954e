"""bench/fuzz.py's bounded sample for CI: no internal error, and the parse contract holds."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from bench.fuzz import hostile_names, hypothesmith_programs, mutants
from forklint import api
from forklint.config import load_config
from forklint.findings import Report

SEED = 12


def analyse(root: Path, files: dict[str, bytes]) -> Report:
    root.mkdir()
    (root / "pyproject.toml").write_text("[project]\nname = 'fuzz'\n")
    for name, data in files.items():
        (root / name).write_bytes(data)
    return api.check([root], load_config(root), jobs=2)


def compiles(data: bytes) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(data, "<fuzz>", "exec", dont_inherit=True)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


def assert_contract(report: Report, files: dict[str, bytes]) -> None:
    syntax = {f.path for f in report.findings if f.code == "FRK001"}
    for path in syntax:
        assert not compiles(files[path]), f"{path}: FRK001 on a file CPython compiles"
    for error in report.errors:
        assert "\n" not in str(error) and "Traceback" not in str(error), error
    for finding in report.findings:
        assert "\n" not in finding.message


def test_generated_programs(tmp_path):
    programs = hypothesmith_programs(6, SEED)
    files = {f"p{i:03}.py": p.encode("utf-8", "surrogatepass") for i, p in enumerate(programs)}
    report = analyse(tmp_path / "programs", files)
    assert report.files == len(files)
    assert_contract(report, files)


def test_mutated_standard_library_files(tmp_path):
    files = mutants(30, SEED)
    report = analyse(tmp_path / "mutants", files)
    assert report.files == len(files)
    assert_contract(report, files)


@pytest.mark.parametrize("fmt", ["text", "concise", "github"])
def test_hostile_file_names_cold_and_warm(tmp_path, fmt):
    root = tmp_path / "names"
    (root / "pkg").mkdir(parents=True)
    (root / "pyproject.toml").write_text("[project]\nname = 'names'\n")
    job = b"import pandas\nfrom rq.decorators import job\n\n\n@job('q')\ndef f():\n    return 1\n"
    for name in hostile_names():
        (root / os.fsdecode(b"pkg/" + name)).write_bytes(job)
    env = {**os.environ, "FORKLINT_CACHE_DIR": str(tmp_path / "cache")}
    outputs = []
    for _ in range(2):  # cold, then from the report cache: the cache keys take every name
        done = subprocess.run(
            [sys.executable, "-m", "forklint", "check", "--format", fmt, "--", "."],
            cwd=root,
            env=env,
            capture_output=True,
            check=False,
            timeout=300,
        )
        assert done.returncode == 1, done.stderr
        assert b"internal error" not in done.stderr and b"Traceback" not in done.stderr
        outputs.append((done.stdout, done.stderr))
    assert outputs[0] == outputs[1]
    assert outputs[0][0].count(b"FRK101") >= len(hostile_names())
