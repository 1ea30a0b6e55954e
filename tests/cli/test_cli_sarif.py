"""SARIF 2.1.0 output holds every field GitHub code scanning needs, with rule help from the rule docs."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from typing import Any

from cli_samples import CONNECTION, MAPPERS, make_report

from forklint import __version__, ruledocs
from forklint.findings import FileError
from forklint.report import render


def _sarif(*findings: Any, **extra: Any) -> dict[str, Any]:
    return json.loads(render(make_report(*findings, **extra), "sarif"))


def test_top_level_and_driver() -> None:
    doc = _sarif(MAPPERS)
    assert doc["version"] == "2.1.0"
    assert doc["$schema"].endswith("sarif-2.1.0.json")
    assert len(doc["runs"]) == 1
    driver = doc["runs"][0]["tool"]["driver"]
    assert driver["name"] == "forklint"
    assert driver["version"] == __version__
    assert driver["informationUri"].startswith("https://")
    assert doc["runs"][0]["columnKind"] == "unicodeCodePoints"


def test_every_documented_rule_with_descriptions_and_help() -> None:
    rules = _sarif(MAPPERS)["runs"][0]["tool"]["driver"]["rules"]
    documented = ruledocs.all_rules()
    assert documented, "the rule docs ship with forklint"
    assert [rule["id"] for rule in rules] == list(documented)
    for rule in rules:
        doc = documented[rule["id"]]
        assert rule["name"] == doc.name
        assert rule["shortDescription"]["text"] == doc.summary
        assert rule["fullDescription"]["text"].strip()
        assert rule["help"]["text"] == ruledocs.render_text(doc)
        assert rule["help"]["markdown"] == ruledocs.render_markdown(doc)
        assert rule["defaultConfiguration"]["level"] in ("error", "warning", "note")


def test_results_point_at_their_rule_and_location() -> None:
    doc = _sarif(MAPPERS, CONNECTION)
    run = doc["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert len(run["results"]) == 2
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["level"] in ("error", "warning", "note")
        assert result["message"]["text"]
        assert re.fullmatch(r"[0-9a-f]{16}", result["partialFingerprints"]["forklint/v1"])
        (location,) = result["locations"]
        artifact = location["physicalLocation"]["artifactLocation"]
        assert artifact["uriBaseId"] == "%SRCROOT%"
        assert not artifact["uri"].startswith("/") and "\\" not in artifact["uri"]
        region = location["physicalLocation"]["region"]
        assert region["startLine"] >= 1 and region["startColumn"] >= 1
        assert (region["endLine"], region["endColumn"]) > (
            region["startLine"],
            region["startColumn"],
        )
    connection, mappers = run["results"]
    assert connection["level"] == "error"
    assert mappers["locations"][0]["physicalLocation"]["region"] == {
        "startLine": 12,
        "startColumn": 5,
        "endLine": 12,
        "endColumn": 17,  # exclusive, as in SARIF
        "snippet": {"text": "def record_event(data):"},
    }
    assert mappers["partialFingerprints"] == {"forklint/v1": MAPPERS.fingerprint}


def test_trace_becomes_related_locations() -> None:
    (result,) = _sarif(MAPPERS)["runs"][0]["results"]
    related = result["relatedLocations"]
    assert [r["id"] for r in related] == [1, 2]
    assert related[1]["message"]["text"] == "Event.record(data)"
    assert related[1]["physicalLocation"]["region"] == {"startLine": 13, "startColumn": 9}
    assert related[1]["physicalLocation"]["artifactLocation"]["uri"] == "app/tasks.py"


def test_uris_are_percent_encoded() -> None:
    spaced = replace(MAPPERS, path="my app/tâsks#1.py")
    (result,) = _sarif(spaced)["runs"][0]["results"]
    uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "my%20app/t%C3%A2sks%231.py"


def test_undocumented_code_still_gets_a_rule() -> None:
    odd = replace(MAPPERS, code="FRK999", name="future-rule")
    run = _sarif(odd)["runs"][0]
    (result,) = run["results"]
    rule = run["tool"]["driver"]["rules"][result["ruleIndex"]]
    assert rule["id"] == "FRK999" and rule["shortDescription"]["text"]


def test_file_errors_are_tool_notifications() -> None:
    run = _sarif(errors=(FileError("bad.py", "cannot decode"),))["runs"][0]
    (note,) = run["invocations"][0]["toolExecutionNotifications"]
    assert note["level"] == "error" and note["message"]["text"] == "bad.py: cannot decode"
    assert run["invocations"][0]["executionSuccessful"] is True
    assert run["results"] == []
