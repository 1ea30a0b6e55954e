"""Every rule is documented in ruff's sections, with examples, and renders without test annotations."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from forklint import ruledocs
from forklint.config import load_config
from forklint.findings import SEVERITIES
from forklint.ruledocs import RuleDocError, all_rules, get_rule, render_markdown, render_text

RULES = all_rules()
EXPECTATION = re.compile(r"#\s*FRK\d{3}:\d+")

# The contract's rule table: code -> (name, default severity).
SPEC = {
    "FRK001": ("syntax-error", "error"),
    "FRK101": ("job-module-imported-after-fork", "warning"),
    "FRK102": ("mappers-configured-after-fork", "warning"),
    "FRK103": ("heavy-call-per-job", "warning"),
    "FRK104": ("heavy-import-after-fork", "warning"),
    "FRK105": ("cache-filled-after-fork", "warning"),
    "FRK201": ("query-at-import", "warning"),
    "FRK202": ("premature-configure-mappers", "warning"),
    "FRK301": ("connection-inherited-across-fork", "error"),
    "FRK302": ("thread-started-before-fork", "warning"),
    "FRK303": ("client-created-before-fork", "warning"),
}


def test_the_rule_table_of_the_spec():
    assert list(RULES) == sorted(SPEC)
    assert {code: (rule.name, rule.severity) for code, rule in RULES.items()} == SPEC


def test_get_rule():
    assert get_rule("FRK102") is RULES["FRK102"]
    with pytest.raises(KeyError):
        get_rule("FRK999")


@pytest.mark.parametrize("code", sorted(SPEC))
def test_every_section_and_example(code):
    rule = RULES[code]
    assert rule.severity in SEVERITIES
    assert rule.summary and "\n" not in rule.summary
    for _, attribute in ruledocs.SECTIONS:
        assert getattr(rule, attribute), f"{code}: empty {attribute}"
    assert any(example.valid for example in rule.examples)
    assert any(not example.valid for example in rule.examples)
    for example in rule.examples:
        own = {e for e in example.expected if e[0] == code}
        assert bool(own) is (not example.valid), f"{code}: {example.title}"
    assert all(ref.startswith("https://") for ref in rule.references)


@pytest.mark.parametrize("code", sorted(SPEC))
def test_example_and_use_instead_are_derived_from_the_first_examples(code):
    rule = RULES[code]
    first_invalid = next(e for e in rule.examples if not e.valid)
    first_valid = next(e for e in rule.examples if e.valid)
    assert first_invalid.title in rule.example
    assert first_valid.title in rule.use_instead
    for relpath, content in first_invalid.files:
        assert (relpath in rule.example) is bool(content.strip())
    for relpath, _ in first_valid.files:
        # "Use instead" prints what differs from "Example" and names what does not.
        assert relpath in rule.use_instead or not dict(first_valid.files)[relpath].strip()


@pytest.mark.parametrize("code", sorted(SPEC))
@pytest.mark.parametrize("render", [render_text, render_markdown])
def test_rendering(code, render):
    rule = RULES[code]
    out = render(rule)
    for heading, _ in ruledocs.SECTIONS:
        assert heading in out
    assert code in out and rule.name in out and rule.summary in out
    assert not EXPECTATION.search(out)
    for reference in rule.references:
        assert reference in out
    # The code of the examples survives the stripping of its annotations.
    first_invalid = next(e for e in rule.examples if not e.valid)
    content = next(c for _, c in first_invalid.files if EXPECTATION.search(c))
    anchor = next(line for line in content.splitlines() if EXPECTATION.search(line))
    assert EXPECTATION.split(anchor)[0].rstrip() in out


def test_markdown_fences_examples_by_language():
    out = render_markdown(RULES["FRK102"])
    assert "## Example" in out and "## Use instead" in out
    assert "```python\n" in out and "```toml\n" in out and "`app/tasks.py`" in out


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("def record_event(data):  # FRK101:5", {("FRK101", 5)}),
        ("def record_event(data):  # FRK101:5 FRK102:5", {("FRK101", 5), ("FRK102", 5)}),
        ("def record_event(data):#FRK102:12", {("FRK102", 12)}),
        ("x = joblib.load(p)  # noqa: FRK103", set()),
        ("x = joblib.load(p)  # forklint: ignore[FRK103]", set()),
        ('x = "# FRK103:5" + y', set()),
        ("x = 1  # see FRK103:5", set()),
    ],
)
def test_expectation_comments(line, expected):
    found = ruledocs.expectations("app/tasks.py", f"import os\n{line}\n")
    assert found == {(code, "app/tasks.py", 2, column) for code, column in expected}


def test_strip_expectations_keeps_the_code_and_other_comments():
    source = "a = 1  # FRK101:5 FRK102:5\nb = 2  # noqa: FRK103\nc = 3\n"
    assert ruledocs.strip_expectations(source) == "a = 1\nb = 2  # noqa: FRK103\nc = 3\n"


@pytest.mark.parametrize("code", sorted(SPEC))
def test_example_python_files_parse_unless_they_expect_frk001(code):
    for example in RULES[code].examples:
        broken = {path for c, path, *_ in example.expected if c == "FRK001"}
        for relpath, content in example.files:
            if relpath.endswith(".py") and relpath not in broken:
                compile(content, relpath, "exec")


# What the anchored text must look like at an expectation's column, per the spec's rule table.
_DEF_NAME = re.compile(r"(?:async\s+)?def\s+$")


def _check_anchor(code: str, line: str, column: int) -> str | None:
    before, at = line[: column - 1], line[column - 1 :]
    if code in ("FRK101", "FRK102"):
        return (
            None
            if _DEF_NAME.search(before) and re.match(r"\w+\s*\(", at)
            else "not a job function's name"
        )
    if code == "FRK104":
        return (
            None
            if re.match(r"(import|from)\s", at) and not before.strip()
            else "not an import statement"
        )
    if code == "FRK001":
        return None
    # Calls: the column where the call expression begins (`joblib.load(p)` -> `joblib`).
    if not re.match(r"[A-Za-z_][\w.]*(\(\))?[\w.]*\(", at) or (before and before[-1] in "._"):
        return "not the start of a call expression"
    # The spec anchors FRK302 at `.start()` or the executor's construction; a
    # ThreadPoolExecutor starts its threads at its first submit()/map(), so it is anchored there.
    if code == "FRK302" and not re.match(
        r"[\w.]*ThreadPool\(|.*\.start\(\)|[\w.]*\.(submit|map)\(", at
    ):
        return "neither .start(), a pool's first submit()/map() nor a ThreadPool construction"
    return None


@pytest.mark.parametrize("code", sorted(SPEC))
def test_expectations_sit_where_the_spec_anchors_each_rule(code):
    for example in RULES[code].examples:
        files = dict(example.files)
        for expected_code, relpath, line, column in example.expected:
            text = files[relpath].splitlines()[line - 1]
            problem = _check_anchor(expected_code, text, column)
            assert problem is None, (
                f"{code} {example.title!r}: {relpath}:{line}:{column} {problem}: {text}"
            )


def _write_rule(folder: Path, name: str, text: str) -> None:
    (folder / name).write_text(textwrap.dedent(text), encoding="utf-8")


_GOOD = """
code = "FRK901"
name = "test-rule"
severity = "warning"
summary = "One line."
what-it-does = "Does."
why-bad = "Bad."
fix = "Fix."
references = ["https://example.org"]

[[examples]]
title = "bad"
valid = false
[examples.files]
"app.py" = "x = load()  # FRK901:5\\n"

[[examples]]
title = "good"
valid = true
[examples.files]
"app.py" = "x = 1\\n"
"""


@pytest.fixture
def rules_folder(tmp_path, monkeypatch):
    monkeypatch.setattr(ruledocs, "rules_dir", lambda: tmp_path)
    return tmp_path


def test_a_well_formed_rule_file_loads(rules_folder):
    _write_rule(rules_folder, "FRK901.toml", _GOOD)
    rule = get_rule("FRK901")
    assert rule.examples[0].expected == {("FRK901", "app.py", 1, 5)}
    assert rule.examples[0].files == (("app.py", "x = load()  # FRK901:5\n"),)


@pytest.mark.parametrize(
    ("name", "change", "message"),
    [
        ("FRK901.toml", ('fix = "Fix."\n', ""), "missing section(s) fix"),
        ("FRK901.toml", ('why-bad = "Bad."', 'why-bad = ""'), "why-bad must be non-empty"),
        ("FRK902.toml", ("", ""), "file name must be FRK901.toml"),
        ("FRK901.toml", ('name = "test-rule"', 'name = "TestRule"'), "must be kebab-case"),
        ("FRK901.toml", ('severity = "warning"', 'severity = "fatal"'), "severity 'fatal'"),
        ("FRK901.toml", ('code = "FRK901"', 'code = "X1"'), "must look like FRK123"),
        (
            "FRK901.toml",
            (
                'valid = true\n[examples.files]\n"app.py" = "x = 1\\n"',
                'valid = false\n[examples.files]\n"app.py" = "x = f()  # FRK901:5\\n"',
            ),
            "needs at least one valid example",
        ),
        ("FRK901.toml", ("# FRK901:5", ""), "needs a '# FRK901:COLUMN' comment"),
        ("FRK901.toml", ('"x = 1\\n"', '"x = 1  # FRK901:1\\n"'), "cannot expect FRK901"),
        ("FRK901.toml", ('title = "good"', 'titel = "good"'), "missing key(s) title"),
        ("FRK901.toml", ('title = "good"', 'title = "good"\nnote = "x"'), "unknown key(s) note"),
        ("FRK901.toml", ("references = [", "references = [] + ["), "cannot read rule file"),
    ],
)
def test_a_malformed_rule_file_names_itself(rules_folder, name, change, message):
    _write_rule(rules_folder, name, _GOOD.replace(*change) if change[0] else _GOOD)
    with pytest.raises(RuleDocError) as raised:
        all_rules()
    assert str(raised.value).startswith(str(rules_folder / name))
    assert message in str(raised.value)


@pytest.mark.parametrize("code", sorted(SPEC))
def test_example_configurations_load(code, tmp_path):
    for number, example in enumerate(RULES[code].examples):
        files = dict(example.files)
        if "pyproject.toml" in files:
            root = tmp_path / str(number)
            root.mkdir()
            (root / "pyproject.toml").write_text(files["pyproject.toml"], encoding="utf-8")
            assert load_config(root).prefork, example.title
