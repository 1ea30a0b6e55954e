"""Workflow commands: hostile paths and messages stay inside one command and round-trip exactly."""

from __future__ import annotations

from dataclasses import replace

import pytest
from cli_samples import MAPPERS, make_report

from forklint.findings import FileError
from forklint.report import render
from forklint.report.github import error_annotation, escape_data, escape_property

HOSTILE = [
    "plain.py",
    "we%ird,na:me.py",
    "a\r\n::error file=evil.py::pwned.py",
    "a\n::warning::x",
    "%0A%25%3A%2C.py",
    "tail\r",
]


def _unescape(text: str, *, prop: bool) -> str:
    # The runner's order: the escapes are undone in reverse, %25 last.
    pairs = [("%0D", "\r"), ("%0A", "\n")]
    if prop:
        pairs += [("%3A", ":"), ("%2C", ",")]
    for escaped, raw in pairs:
        text = text.replace(escaped, raw)
    return text.replace("%25", "%")


def _parse(line: str) -> tuple[str, dict[str, str], str]:
    """A workflow command as the Actions runner reads it."""
    assert line.startswith("::")
    head, separator, data = line[2:].partition("::")
    assert separator
    name, _, props = head.partition(" ")
    properties = {}
    for pair in filter(None, props.split(",")):
        key, equals, value = pair.partition("=")
        assert equals, pair
        properties[key] = _unescape(value, prop=True)
    return name, properties, _unescape(data, prop=False)


@pytest.mark.parametrize("path", HOSTILE)
@pytest.mark.parametrize("message", ["fine", "100% sure,\r\n::error::injected", "a::b,c:d\n\n%0A"])
def test_one_command_per_finding_and_exact_round_trip(path: str, message: str) -> None:
    finding = replace(MAPPERS, path=path, message=message, jobs=("j,1:x",), fix=None)
    out = render(make_report(finding), "github")
    lines = out.split("\n")
    assert lines[-1] == "" and len(lines) == 2
    assert "\r" not in out
    name, properties, data = _parse(lines[0])
    assert name == "warning"
    assert properties["file"] == path
    assert (properties["line"], properties["col"], properties["endColumn"]) == ("12", "5", "17")
    assert data == f"{message}\nJobs: j,1:x"


@pytest.mark.parametrize("path", HOSTILE)
def test_file_errors_are_escaped_too(path: str) -> None:
    line = error_annotation("/project", FileError(path, "bad\n::error::x", line=2, column=3))
    assert "\n" not in line and "\r" not in line
    name, properties, data = _parse(line)
    assert (name, properties["file"], properties["line"], properties["col"]) == (
        "error",
        path,
        "2",
        "3",
    )
    assert data == "bad\n::error::x"


def test_escaping_matches_the_actions_toolkit() -> None:
    assert escape_data("a%b\rc\nd:e,f") == "a%25b%0Dc%0Ad:e,f"
    assert escape_property("a%b\rc\nd:e,f") == "a%25b%0Dc%0Ad%3Ae%2Cf"


def test_no_column_when_the_range_spans_lines() -> None:
    spanning = replace(MAPPERS, end_line=14, end_column=3)
    _, properties, _ = _parse(render(make_report(spanning), "github").rstrip("\n"))
    assert properties == {
        "file": "app/tasks.py",
        "line": "12",
        "endLine": "14",
        "title": "FRK102 mappers-configured-after-fork",
    }


def test_info_findings_are_notices() -> None:
    info = replace(MAPPERS, severity="info")
    assert render(make_report(info), "github").startswith("::notice ")


def test_fix_summary_not_repeated_when_the_message_says_it() -> None:
    said = replace(MAPPERS, message="slow; " + MAPPERS.fix.summary)  # type: ignore[union-attr]
    assert "Fix:" not in render(make_report(said), "github")
    assert "%0AFix: configure the mappers" in render(make_report(MAPPERS), "github")
