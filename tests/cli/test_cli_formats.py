"""Golden outputs of every renderer for one synthetic report, and the rules each format must keep."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from cli_samples import CONNECTION, MAPPERS, ROOT, TABLE, make_report

from forklint import __version__
from forklint.findings import FileError, Report
from forklint.report import render, statistics
from forklint.report.github import step_summary

TEXT = """\
app/db.py:3:1: FRK301 the engine's pool connects at import time and is shared by every work horse
  |
3 | with engine.connect() as conn:
  | ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ connection-inherited-across-fork
  |

app/tasks.py:12:5: FRK102 record_event configures SQLAlchemy mappers in every work horse; \
call configure_mappers() in worker.py:main() before Worker.work()
   |
12 | def record_event(data):
   |     ^^^^^^^^^^^^ mappers-configured-after-fork
   |
   = fix (safe): configure the mappers in the worker parent; plan step 1

Fix plan (`forklint check --fix` applies the safe steps):
 1. pyproject.toml: the [tool.forklint.prefork] table [safe]
      @@ -3,0 +4,2 @@
      +[tool.forklint.prefork]
      +calls = ["sqlalchemy.orm:configure_mappers"]
not fixed automatically: worker.py:main() runs app.Custom: pass it to --worker-class

note: no worker start-up found: assumed stock `rq worker`
Found 2 findings; 1 file could not be analysed.
"""

TEXT_TRACE = """\
   = jobs: app.tasks.record_event
   = trace:
       app/tasks.py:12:5  def record_event(data):
       app/tasks.py:13:9  Event.record(data)
   = fix (safe)"""

CONCISE = """\
app/db.py:3:1: FRK301 the engine's pool connects at import time and is shared by every work horse
app/tasks.py:12:5: FRK102 record_event configures SQLAlchemy mappers in every work horse; \
call configure_mappers() in worker.py:main() before Worker.work()
Found 2 findings; 1 file could not be analysed.
"""

GITHUB = """\
::error file=app/db.py,line=3,endLine=5,title=FRK301 connection-inherited-across-fork::\
the engine's pool connects at import time and is shared by every work horse
::warning file=app/tasks.py,line=12,col=5,endLine=12,endColumn=17,\
title=FRK102 mappers-configured-after-fork::record_event configures SQLAlchemy mappers in every \
work horse; call configure_mappers() in worker.py:main() before Worker.work()\
%0AJobs: app.tasks.record_event%0AFix: configure the mappers in the worker parent
"""

GITLAB = [
    {
        "description": "FRK301 the engine's pool connects at import time and is shared by every work horse",
        "check_name": "FRK301",
        "fingerprint": CONNECTION.fingerprint,
        "severity": "critical",
        "location": {"path": "app/db.py", "lines": {"begin": 3, "end": 5}},
    },
    {
        "description": "FRK102 " + MAPPERS.message,
        "check_name": "FRK102",
        "fingerprint": MAPPERS.fingerprint,
        "severity": "major",
        "location": {"path": "app/tasks.py", "lines": {"begin": 12, "end": 12}},
    },
]

JSON = {
    "schema": "forklint/1",
    "tool": {"name": "forklint", "version": __version__},
    "root": ROOT,
    "assumptions": ["no worker start-up found: assumed stock `rq worker`"],
    "findings": [
        {
            "code": "FRK301",
            "name": "connection-inherited-across-fork",
            "severity": "error",
            "path": "app/db.py",
            "line": 3,
            "column": 1,
            "end_line": 5,
            "end_column": 2,
            "message": CONNECTION.message,
            "jobs": [],
            "trace": [],
            "fix": None,
            "fingerprint": CONNECTION.fingerprint,
        },
        {
            "code": "FRK102",
            "name": "mappers-configured-after-fork",
            "severity": "warning",
            "path": "app/tasks.py",
            "line": 12,
            "column": 5,
            "end_line": 12,
            "end_column": 17,
            "message": MAPPERS.message,
            "jobs": ["app.tasks.record_event"],
            "trace": [
                {
                    "path": "app/tasks.py",
                    "line": 12,
                    "column": 5,
                    "text": "def record_event(data):",
                },
                {"path": "app/tasks.py", "line": 13, "column": 9, "text": "Event.record(data)"},
            ],
            "fix": {
                "summary": "configure the mappers in the worker parent",
                "applicability": "safe",
                "edits": [
                    {
                        "path": "pyproject.toml",
                        "start": {"line": 4, "column": 1},
                        "end": {"line": 4, "column": 1},
                        "content": TABLE,
                    }
                ],
            },
            "fingerprint": MAPPERS.fingerprint,
        },
    ],
    "unresolved": [],
    "errors": [{"path": "bad.py", "message": "cannot decode as UTF-8"}],
    "summary": {"files": 7, "jobs": 2, "findings": 2, "seconds": 0.123},
}


def _keys_in_order(value: object) -> object:
    """The document's shape with key order made visible (dict equality ignores order)."""
    if isinstance(value, dict):
        return [(key, _keys_in_order(item)) for key, item in value.items()]
    if isinstance(value, list):
        return [_keys_in_order(item) for item in value]
    return value


def test_text(report: Report) -> None:
    assert render(report, "text") == TEXT


def test_text_quiet_has_findings_only(report: Report) -> None:
    out = render(report, "text", quiet=True)
    assert out == TEXT.split("\nFix plan")[0]


def test_text_shows_the_trace_when_asked(report: Report) -> None:
    assert TEXT_TRACE in render(report, "text", show_trace=True)
    assert "= trace:" not in render(report, "text")


def test_text_colour_only_when_asked(report: Report) -> None:
    assert "\x1b[" not in render(report, "text")
    coloured = render(report, "text", color=True)
    assert "\x1b[" in coloured
    assert _strip_ansi(coloured) == TEXT


def test_text_clean_run() -> None:
    clean = make_report(assumptions=())
    assert render(clean, "text") == "Found 0 findings.\n"
    assert render(make_report(MAPPERS, assumptions=()), "concise").endswith("Found 1 finding.\n")


def test_text_carets_follow_tabs_and_stop_at_line_end() -> None:
    tabbed = replace(
        MAPPERS, source_line="\tdef record_event(data):", column=6, end_column=18, trace=(), jobs=()
    )
    out = render(make_report(tabbed), "text")
    assert "12 | \tdef record_event(data):\n   | \t    ^^^^^^^^^^^^ mappers" in out
    spanning = replace(CONNECTION, source_line="x = (", column=5, end_line=9, end_column=2)
    assert "  |     ^ connection" in render(make_report(spanning), "text")


def test_text_control_characters_cannot_break_lines_or_paint_the_terminal() -> None:
    nasty = replace(
        MAPPERS, path="app/a\nb.py", message="boom\x1b[31m\rred", source_line="x = '\x1b[2J'"
    )
    out = render(make_report(nasty, assumptions=()), "text")
    assert "\x1b" not in out and "\r" not in out
    assert out.splitlines()[0] == "app/a\\nb.py:12:5: FRK102 boom\\x1b[31m\\rred"


def test_concise(report: Report) -> None:
    assert render(report, "concise") == CONCISE


def test_json_document_in_spec_order(report: Report) -> None:
    out = render(report, "json")
    assert _keys_in_order(json.loads(out)) == _keys_in_order(JSON)


def test_json_error_with_position_keeps_it_in_the_message() -> None:
    report = make_report(errors=(FileError("x.py", "NUL byte", line=3, column=7),))
    assert json.loads(render(report, "json"))["errors"] == [
        {"path": "x.py", "message": "line 3, column 7: NUL byte"}
    ]


def test_github(report: Report) -> None:
    assert render(report, "github") == GITHUB


def test_github_orders_errors_then_rule_importance() -> None:
    import_time = replace(MAPPERS, code="FRK201", name="query-at-import", path="a.py", line=1)
    heavy_call = replace(MAPPERS, code="FRK103", name="heavy-call-per-job", path="a.py", line=2)
    out = render(make_report(import_time, heavy_call, MAPPERS, CONNECTION), "github")
    titles = [line.split("title=")[1].split(" ")[0] for line in out.splitlines()]
    assert titles == ["FRK301", "FRK102", "FRK103", "FRK201"]


def test_github_step_summary_lists_every_finding() -> None:
    many = [replace(MAPPERS, line=n, message=f"finding | {n}") for n in range(1, 26)]
    summary = step_summary(make_report(*many))
    rows = [line for line in summary.splitlines() if line.startswith("| :warning:")]
    assert len(rows) == 25
    assert "finding \\| 25 |" in rows[-1]


def test_gitlab(report: Report) -> None:
    assert json.loads(render(report, "gitlab")) == GITLAB


def test_gitlab_fingerprints_unique_for_identical_lines() -> None:
    twice = make_report(MAPPERS, replace(MAPPERS, line=40))
    issues = json.loads(render(twice, "gitlab"))
    assert len({issue["fingerprint"] for issue in issues}) == 2


def test_paths_are_repository_relative_for_a_project_in_a_subfolder(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    project = tmp_path / "services" / "worker"
    project.mkdir(parents=True)
    report = make_report(MAPPERS, root=str(project))
    assert "file=services/worker/app/tasks.py," in render(report, "github")
    assert (
        json.loads(render(report, "gitlab"))[0]["location"]["path"]
        == "services/worker/app/tasks.py"
    )
    sarif = json.loads(render(report, "sarif"))
    location = sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"][
        "artifactLocation"
    ]
    assert location["uri"] == "services/worker/app/tasks.py"
    assert sarif["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"] == tmp_path.as_uri() + "/"
    # The JSON format keeps paths relative to its own "root".
    assert json.loads(render(report, "json"))["findings"][0]["path"] == "app/tasks.py"


def test_statistics(report: Report) -> None:
    doubled = make_report(MAPPERS, replace(MAPPERS, line=30), CONNECTION)
    assert statistics.render(doubled, "text") == (
        "2\tFRK102\tmappers-configured-after-fork\n1\tFRK301\tconnection-inherited-across-fork\n"
    )
    assert json.loads(statistics.render(doubled, "json"))[0] == {
        "code": "FRK102",
        "name": "mappers-configured-after-fork",
        "count": 2,
    }


def _strip_ansi(text: str) -> str:
    import re

    return re.sub(r"\x1b\[[0-9;]*m", "", text)


def test_github_step_summary_stays_under_the_size_limit() -> None:
    long = "x" * 2000
    many = [replace(MAPPERS, line=n, message=long) for n in range(1, 1001)]
    summary = step_summary(make_report(*many))
    assert len(summary.encode("utf-8")) <= 1024 * 1024
    rows = [line for line in summary.splitlines() if line.startswith("| :warning:")]
    assert 400 < len(rows) < 1000
    assert f"{1000 - len(rows)} more findings not shown" in summary
