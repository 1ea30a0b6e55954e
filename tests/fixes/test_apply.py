"""Applying fixes: --diff writes nothing, --fix writes atomically and never over a file that changed
since it was read; JSON edits and SARIF artifactChanges say the same change as --fix makes."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from fix_helpers import analyse, make_project, run, snapshot

from forklint import applier
from forklint.fsutil import FileProblem, atomic_write
from forklint.findings import Edit

SHOP = Path(__file__).resolve().parents[2] / "examples" / "shop"


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    root = tmp_path / "shop"
    shutil.copytree(SHOP, root, ignore=shutil.ignore_patterns("var", "__pycache__"))
    return root


def test_diff_prints_the_change_and_writes_nothing(shop: Path) -> None:
    before = snapshot(shop)
    result = run(shop, "--diff")
    assert result.exit_code == 1
    assert snapshot(shop) == before
    assert "--- a/Procfile\n+++ b/Procfile\n" in result.stdout
    assert "+worker: rq worker -w forklint.rq.PreforkWorker default\n" in result.stdout
    assert "+[tool.forklint.prefork]\n" in result.stdout
    run(shop, "--fix")
    clean = run(shop, "--diff")
    assert clean.exit_code == 0 and clean.stdout == ""


def test_text_output_is_short_and_names_each_change_once(shop: Path) -> None:
    out = run(shop).stdout
    assert len(out.splitlines()) < 70  # 139 lines before the fix plan, for the same 6 findings
    assert out.count("rq worker -w forklint.rq.PreforkWorker default") == 1
    assert out.count("[tool.forklint.prefork]\n") == 1


def test_a_file_changed_after_it_was_read_is_not_overwritten(shop: Path) -> None:
    report = analyse(shop)
    composed = applier.compose(report.plan, shop, frozenset({"safe"}))
    assert {c.path for c in composed.files} == {"pyproject.toml", "Procfile", "shop/worker.py"}
    procfile = shop / "Procfile"
    procfile.write_text("worker: rq worker high default\n", encoding="utf-8")
    problems = applier.write(shop, composed)
    assert problems == ["Procfile changed since forklint read it; not changed (run again)"]
    assert procfile.read_text(encoding="utf-8") == "worker: rq worker high default\n"
    assert "PreforkWorker" in (shop / "shop/worker.py").read_text(encoding="utf-8")
    # and a plan computed before the change is refused as a whole for that file
    held = applier.compose(report.plan, shop, frozenset({"safe"})).held
    assert "Procfile changed since forklint read it; run again" in held


def test_a_symbolic_link_is_not_written_through(shop: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside-Procfile"
    shutil.move(shop / "Procfile", outside)
    os.symlink(outside, shop / "Procfile")
    report = analyse(shop)  # a link out of the project is never read, nor written through
    assert not any(step.title.startswith("Procfile") for step in report.plan.steps)
    run(shop, "--fix")
    assert outside.read_text(encoding="utf-8") == "worker: rq worker default\n"
    with pytest.raises(FileProblem, match="symlink"):
        atomic_write(shop / "Procfile", b"x")


def test_atomic_write_keeps_the_mode_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "run.sh"
    target.write_text("old\n", encoding="utf-8")
    target.chmod(0o750)
    atomic_write(target, b"new\n")
    assert target.read_bytes() == b"new\n"
    assert target.stat().st_mode & 0o777 == 0o750
    assert [p.name for p in tmp_path.iterdir()] == ["run.sh"]


def _apply_edits(root: Path, edits: list[Edit]) -> dict[str, str]:
    """Apply JSON-style edits the way another tool would: by line and column, last first."""
    out: dict[str, str] = {}
    for path in {e.path for e in edits}:
        file = root / path
        text = file.read_text(encoding="utf-8") if file.exists() else ""
        starts = [0]
        for line_text in text.splitlines(keepends=True):
            starts.append(starts[-1] + len(line_text))

        def offset(line: int, column: int, starts: list[int] = starts) -> int:
            return starts[line - 1] + column - 1

        mine = sorted((e for e in edits if e.path == path), key=lambda e: (e.line, e.column))
        for e in reversed(mine):
            start, end = offset(e.line, e.column), offset(e.end_line, e.end_column)
            text = text[:start] + e.content + text[end:]
        out[path] = text
    return out


def test_json_edits_of_a_finding_apply_by_line_and_column(shop: Path) -> None:
    result = run(shop, "--format", "json")
    document = json.loads(result.stdout)
    finding = next(f for f in document["findings"] if f["code"] == "FRK102")
    fix = finding["fix"]
    assert fix["applicability"] == "safe"
    edits = [
        Edit(
            e["path"],
            e["start"]["line"],
            e["start"]["column"],
            e["end"]["line"],
            e["end"]["column"],
            e["content"],
        )
        for e in fix["edits"]
    ]
    files = _apply_edits(shop, edits)
    assert files["Procfile"] == "worker: rq worker -w forklint.rq.PreforkWorker default\n"
    compile(files["shop/worker.py"], "worker.py", "exec")
    assert "PreforkWorker([Queue(" in files["shop/worker.py"]
    assert '"sqlalchemy.orm:configure_mappers"' in files["pyproject.toml"]


def test_sarif_results_carry_the_same_edits_as_artifact_changes(shop: Path) -> None:
    document = json.loads(run(shop, "--format", "sarif").stdout)
    results = document["runs"][0]["results"]
    fixes = [r["fixes"][0] for r in results if r["ruleId"] == "FRK102"]
    (fix,) = fixes
    changes = {c["artifactLocation"]["uri"]: c["replacements"] for c in fix["artifactChanges"]}
    assert set(changes) == {"pyproject.toml", "Procfile", "shop/worker.py"}
    (procfile,) = changes["Procfile"]
    assert procfile["deletedRegion"]["startLine"] == 1
    assert "forklint.rq.PreforkWorker" in procfile["insertedContent"]["text"]


def test_overlapping_steps_are_held_back_for_the_next_round(tmp_path: Path) -> None:
    root = make_project(tmp_path, {"a.py": "x = 1\n"})
    from forklint.findings import FixPlan, PlanStep
    from forklint.fixplan import digest

    one = PlanStep("a.py: one", "safe", (Edit("a.py", 1, 5, 1, 6, "2"),))
    two = PlanStep("a.py: two", "safe", (Edit("a.py", 1, 1, 1, 6, "y = 3"),))
    plan = FixPlan((one, two), (), (("a.py", digest("x = 1\n")),))
    composed = applier.compose(plan, root, frozenset({"safe"}))
    assert [c.after for c in composed.files] == ["x = 2\n"]
    assert composed.held == ["a.py: two: overlaps another change; run --fix again"]


def test_unsafe_steps_wait_for_unsafe_fixes(tmp_path: Path) -> None:
    root = make_project(
        tmp_path,
        {
            "app/__init__.py": "",
            "app/tasks.py": """
                import joblib
                from rq.decorators import job


                @job("default")
                def score(features):
                    return joblib.load("m.joblib").predict([features])
            """,
        },
    )
    before = snapshot(root)
    safe = run(root, "--fix")
    assert snapshot(root) == before
    assert "--fix --unsafe-fixes" in safe.output
    run(root, "--fix", "--unsafe-fixes")
    assert "return get_load().predict([features])" in (root / "app/tasks.py").read_text(
        encoding="utf-8"
    )


def test_the_readme_shows_the_plan_forklint_prints_for_the_example() -> None:
    readme = (SHOP.parents[1] / "README.md").read_text(encoding="utf-8")
    shown = readme[readme.index("Fix plan (`forklint check --fix`") :]
    shown = shown[: shown.index("Found 6 findings.")]
    out = run(SHOP).stdout
    assert shown in out.replace(str(SHOP) + "/", "examples/shop/")


def test_locations_messages_fixes_and_plan_name_files_from_one_base(
    shop: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(shop.parent)
    from click.testing import CliRunner

    from forklint import cli

    out = CliRunner().invoke(cli.main, ["shop", "--no-cache", "--show-trace"]).stdout
    assert "shop/shop/tasks.py:13:5: FRK102" in out  # a location
    assert " 2. shop/Procfile:1: start the worker with forklint.rq.PreforkWorker" in out
    assert " 3. shop/shop/worker.py:main(): build forklint.rq.PreforkWorker" in out
    assert "# job (enqueue at shop/shop/producer.py:19)" in out  # a trace's own words
    assert "at import of shop/shop/db.py" in out  # a message
    assert " shop/worker.py" not in out and "(Procfile" not in out
