"""Robustness sweep: forklint over a deterministic sample of the standard library and of its test
suites (bench/fuzz.py runs all of it), plus hostile files."""

from __future__ import annotations

import os
import shutil
import sysconfig
import warnings
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

# The test suites hold deliberately broken files, Python 2 sources and valid syntax libcst does
# not take: a sample of them, with the known hard cases always in.
TEST_DIRS = frozenset({"test", "tests", "idle_test"})
TEST_SAMPLE_SIZE = 30
TEST_MUST_HAVE = (
    "test/test_grammar.py",
    "test/typinganndata/ann_module.py",
    "test/test_fstring.py",
    "test/tokenizedata/badsyntax_3131.py",
    "test/badsyntax_3131.py",
    "lib2to3/tests/data/py2_test_grammar.py",
    "lib2to3/tests/data/bom.py",
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


def stdlib_files(tests: bool = False) -> list[str]:
    """The stdlib's modules, or (`tests`) the files of its test suites."""
    found = []
    for directory, dirs, files in os.walk(STDLIB):
        inside = bool(TEST_DIRS & set(Path(directory).relative_to(STDLIB).parts))
        dirs[:] = [
            d
            for d in dirs
            if d not in ("site-packages", "__pycache__")
            and not d.startswith("config-")
            and (tests or d not in SKIP_DIRS)
        ]
        if inside != tests:
            continue
        found += [
            Path(directory, name).relative_to(STDLIB).as_posix()
            for name in files
            if name.endswith(".py")
        ]
    return sorted(found)


def sample(
    files: list[str], size: int = SAMPLE_SIZE, must: tuple[str, ...] = MUST_HAVE
) -> list[str]:
    files = sorted(files)
    evenly = {files[i * len(files) // size] for i in range(min(size, len(files)))}
    chosen = evenly | {f for f in must if f in files}
    return sorted(chosen)


def suite_sample() -> list[str]:
    return sample(stdlib_files(tests=True), TEST_SAMPLE_SIZE, TEST_MUST_HAVE)


@pytest.fixture
def corpus(tmp_path: Path) -> tuple[Path, list[str]]:
    root = tmp_path / "stdlib-sweep"
    chosen = sample(stdlib_files())
    for relpath in chosen + suite_sample():
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

    suites = suite_sample()
    assert report.files == len(chosen) + len(suites) + len(HOSTILE)
    errors = {error.path: str(error) for error in report.errors}
    assert {p: e for p, e in errors.items() if p in HOSTILE} == HOSTILE_ERRORS
    for path, error in errors.items():  # the suites' files that are not meant to be read
        if path not in HOSTILE:
            assert path in suites, error
            assert any(
                reason in error
                for reason in (
                    "not analysed: valid Python that libcst cannot parse",
                    "coding",
                    "decode",
                )
            ), error
    syntax = {f.path: f.line for f in report.findings if f.code == "FRK001"}
    # Every stdlib module parses; 10,000 brackets are CPython's SyntaxError too; in the test
    # suites FRK001 only where CPython itself refuses the file (a file only its compiler refuses,
    # such as an unknown __future__ feature, is analysed when libcst parses it).
    assert {p: line for p, line in syntax.items() if p in HOSTILE} == {
        "hostile/deep.py": 1,
        "hostile/python2.py": 2,
    }
    refused = {p for p in suites if p not in errors and not _compiles(root / p)}
    assert {p for p in syntax if p not in HOSTILE} <= refused
    python2 = {p for p in suites if p.startswith("lib2to3/tests/data/")} & refused
    assert python2 <= set(syntax)
    for text in [*errors.values(), *(f.message for f in report.findings)]:
        assert "\n" not in text and "Traceback" not in text, text
    for finding in report.findings:
        assert finding.path in chosen or finding.path in suites or finding.path in HOSTILE
        assert 1 <= finding.line and 1 <= finding.column

    # One test, not two: pytest-xdist would run a shared fixture once per worker.
    parallel = check([root], config, jobs=2)
    assert (parallel.files, parallel.errors, parallel.findings, parallel.jobs) == (
        report.files,
        report.errors,
        report.findings,
        report.jobs,
    )


def _compiles(path: Path) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(path.read_bytes(), str(path), "exec", dont_inherit=True)
    except (SyntaxError, ValueError):
        return False
    return True
