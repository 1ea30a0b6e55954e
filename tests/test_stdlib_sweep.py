"""Robustness sweep: forklint over a deterministic sample of the standard library, plus hostile files."""

from __future__ import annotations

import os
import shutil
import sysconfig
from pathlib import Path

import pytest

from forklint.api import check
from forklint.config import Config

STDLIB = Path(sysconfig.get_paths()["stdlib"])
SKIP_DIRS = frozenset({"test", "tests", "idle_test", "site-packages", "__pycache__"})
SAMPLE_SIZE = 150
# Always in the sample: the largest generated module (a dict of strings made of thousands of
# implicitly concatenated parts, which once exhausted the recursion limit) and the biggest
# hand-written ones.
MUST_HAVE = (
    "pydoc_data/topics.py",
    "_pydecimal.py",
    "typing.py",
    "inspect.py",
    "argparse.py",
    "tkinter/__init__.py",
)

HOSTILE: dict[str, bytes] = {
    "hostile/undecodable.py": b"x = 1\ny = '\xff'\n",
    "hostile/nul.py": b"x = 1\x00\n",
    "hostile/bad_cookie.py": b"# coding: no-such-codec\nx = 1\n",
    "hostile/deep.py": b"x = " + b"(" * 10_000 + b"1" + b")" * 10_000 + b"\n",
    "hostile/python2.py": b"import os\nprint 'hello'\n",
    "hostile/bom_latin1.py": b"# -*- coding: latin-1 -*-\ns = '\xe9'\n",
    "hostile/empty.py": b"",
    "hostile/only_comment.py": b"# nothing here",
}
HOSTILE_ERRORS = {
    "hostile/undecodable.py": "hostile/undecodable.py:2:6: cannot decode as utf-8 at byte 11",
    "hostile/nul.py": "hostile/nul.py:1:6: contains a NUL byte at byte 5; not Python source",
    "hostile/bad_cookie.py": "hostile/bad_cookie.py:1: bad coding declaration (unknown encoding: no-such-codec)",
}


def stdlib_files() -> list[str]:
    found = []
    for directory, dirs, files in os.walk(STDLIB):
        dirs[:] = [d for d in dirs if d not in SKIP_DIRS and not d.startswith("config-")]
        found += [
            Path(directory, name).relative_to(STDLIB).as_posix()
            for name in files
            if name.endswith(".py")
        ]
    return sorted(found)


def sample(files: list[str]) -> list[str]:
    files = sorted(files)
    evenly = {files[i * len(files) // SAMPLE_SIZE] for i in range(min(SAMPLE_SIZE, len(files)))}
    chosen = evenly | {f for f in MUST_HAVE if f in files}
    return sorted(chosen)


@pytest.fixture
def corpus(tmp_path: Path) -> tuple[Path, list[str]]:
    root = tmp_path / "stdlib-sweep"
    chosen = sample(stdlib_files())
    for relpath in chosen:
        (root / relpath).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(STDLIB / relpath, root / relpath)
    for relpath, data in HOSTILE.items():
        (root / relpath).parent.mkdir(parents=True, exist_ok=True)
        (root / relpath).write_bytes(data)
    return root, chosen


def test_sample_is_large_and_stable():
    files = stdlib_files()
    chosen = sample(files)
    assert len(files) > 500
    assert SAMPLE_SIZE <= len(chosen) <= SAMPLE_SIZE + len(MUST_HAVE)
    assert set(MUST_HAVE) <= set(chosen)
    assert chosen == sample(sorted(files, reverse=True))  # deterministic whatever the walk order


def test_every_file_is_analysed_or_one_line_error(corpus):
    root, chosen = corpus
    # The stdlib has packages named like folders skipped by default (venv, ...): analyse them all.
    config = Config(root=root, exclude=("__pycache__",))
    report = check([root], config)

    assert report.files == len(chosen) + len(HOSTILE)
    errors = {error.path: str(error) for error in report.errors}
    assert errors == HOSTILE_ERRORS
    syntax = [(f.path, f.line) for f in report.findings if f.code == "FRK001"]
    # Every stdlib file parses, as CPython says; 10,000 brackets are CPython's SyntaxError too.
    assert syntax == [("hostile/deep.py", 1), ("hostile/python2.py", 2)]
    for text in [*errors.values(), *(f.message for f in report.findings)]:
        assert "\n" not in text and "Traceback" not in text, text
    for finding in report.findings:
        assert finding.path in chosen or finding.path in HOSTILE
        assert 1 <= finding.line and 1 <= finding.column

    # One test, not two: pytest-xdist would run a shared fixture once per worker.
    parallel = check([root], config, jobs=2)
    assert (parallel.files, parallel.errors, parallel.findings, parallel.jobs) == (
        report.files,
        report.errors,
        report.findings,
        report.jobs,
    )
