"""Exclude globs come from pyproject.toml, which a pull request may change: no pattern may hang a run."""

from __future__ import annotations

import time

import pytest

from forklint.globs import GlobError, GlobSet, compile_glob

# Each took seconds per path, or more, as one backtracking regex of the whole pattern.
PATHOLOGICAL = [
    "**/**/**/**/**/**/**/**/**/**/**/**/x",
    "*a*a*a*a*a*a*a*a*a*a*a*a*b",
    "**a**a**a**a**a**a**a**b",
    "a/**/a/**/a/**/a/**/a/**/a/**/b",
    "*?*?*?*?*?*?*?*?*?*?*?*?*?*?/x",
]
PATHS = ["a" * 250, "/".join(["a"] * 2000), "/".join(["a"] * 60) + "/" + "a" * 200]


@pytest.mark.parametrize("pattern", PATHOLOGICAL)
def test_matching_time_stays_linear(pattern: str) -> None:
    glob = compile_glob(pattern)
    assert glob is not None
    started = time.perf_counter()
    for path in PATHS:
        assert not glob.matches(path)
    assert time.perf_counter() - started < 1.0


@pytest.mark.parametrize(
    ("pattern", "matching", "not_matching"),
    [
        ("migrations", ["migrations", "app/migrations"], ["app/migrations_old", "migration"]),
        ("*.egg-info", ["x.egg-info", "a/b/x.egg-info"], ["x.egg-info/y"]),
        ("/tests", ["tests"], ["app/tests"]),
        ("app/*.py", ["app/x.py"], ["app/sub/x.py", "x/app/x.py"]),
        ("**/fixtures", ["fixtures", "a/b/fixtures"], ["fixtures2"]),
        ("app/**", ["app", "app/x", "app/x/y.py"], ["apps/x"]),
        ("a/**/b", ["a/b", "a/x/b", "a/x/y/b"], ["a/x/c", "b"]),
        ("a**b", ["ab", "axxb"], ["a/b", "ax/yb"]),  # `**` inside a name is `*`
        ("m?dels.py", ["models.py"], ["mdels.py", "m/dels.py"]),
        ("[mp]*.py", ["models.py", "proto.py"], ["x.py"]),
        ("[!mp]*.py", ["x.py"], ["models.py"]),
        ("[^mp]*.py", ["x.py"], ["models.py"]),
        ("[]]x", ["]x"], ["x"]),
        ("[a-c]x", ["bx"], ["dx"]),
        ("a[b", ["a[b"], ["ab"]),  # never closed: a literal bracket
        ("./build", ["build"], ["x/build"]),
        ("a.b(c)+", ["a.b(c)+"], ["aXb(c)+", "a.bcc+"]),  # regex syntax is literal
    ],
)
def test_gitignore_semantics(pattern: str, matching: list[str], not_matching: list[str]) -> None:
    glob = compile_glob(pattern)
    assert glob is not None
    for path in matching:
        assert glob.matches(path), path
    for path in not_matching:
        assert not glob.matches(path), path


def test_folder_only_blank_and_comment_patterns() -> None:
    glob = compile_glob("build/")
    assert glob is not None and glob.dir_only
    assert compile_glob("  ") is None and compile_glob("# note") is None and compile_glob("/") is None


@pytest.mark.parametrize("pattern", ["[z-a]", "x[b-a]y", "[!9-0]", "**/[c-a]/x"])
def test_a_reversed_range_is_an_error(pattern: str) -> None:
    with pytest.raises(GlobError, match=r"^bad character range"):
        compile_glob(pattern)


PATTERNS = [
    ".git", "*.egg-info", "build/", "node_modules", "/tests", "app/**", "a/**/b", "**/gen_*.py",
    "docs/*/out", "x[ab]?", "*_pb2.py", "migrations/", "**/fixtures/**", "src/*/vendor/",
]
WALKED = [
    ("app", True), ("app/x.py", False), ("a/b", True), ("a/q/r/b", False), ("lib/gen_x.py", False),
    ("docs/en/out", True), ("xaz", False), ("p/q_pb2.py", False), ("p/migrations", True),
    ("p/migrations", False), ("t/fixtures/f/g.py", False), ("src/m/vendor", True),
    ("src/m/vendor", False), ("tests", True), ("q/tests", True), ("build", True), ("build", False),
    ("ok/fine.py", False), (".git", True), ("x/y/z.egg-info", True),
]


def test_a_glob_set_answers_like_its_globs_one_by_one() -> None:
    globs = [g for g in map(compile_glob, PATTERNS) if g is not None]
    together = GlobSet(globs)
    for path, is_dir in WALKED:
        alone = any((is_dir or not g.dir_only) and g.matches(path) for g in globs)
        assert together.matches(path, is_dir) == alone, path
    assert {p for p, d in WALKED if together.matches(p, d)} >= {"app", "xaz", "build", ".git"}


def test_many_globs_cost_a_little_per_entry() -> None:
    """What `extend-exclude` may hold at most (128), in the slowest form: never a name only."""
    together = GlobSet([compile_glob(f"**/x*/**/*a{i}*b*c") for i in range(128)])  # type: ignore[misc]
    paths = [f"p{i % 50}/q{i % 7}/r/m{i}.py" for i in range(2000)]
    started = time.process_time()
    for path in paths:
        assert not together.matches(path, False)
    assert (time.process_time() - started) / len(paths) < 0.002  # ~0.3 ms here
