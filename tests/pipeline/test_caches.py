"""The report and facts caches: reused only while nothing changed, robust to damage, bounded, shared
safely by concurrent runs."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from forklint import api, cachestore
from forklint.config import load_config
from forklint.findings import Report
from tests.projects import write_files

TASKS = """\
import pandas
from rq.decorators import job


@job("q")
def record(data):
    return pandas.DataFrame(data)
"""
PROJECT = {
    "pyproject.toml": "[project]\nname = 'p'\n",
    "app/__init__.py": "",
    "app/tasks.py": TASKS,
    "app/util.py": "def helper():\n    return 1\n",
    "Procfile": "worker: rq worker q\n",
}


def settle(root: Path) -> None:
    """Back-date every file past the racy window, as files are between two commits."""
    past = time.time() - 60
    for path in root.rglob("*"):
        os.utime(path, (past, past), follow_symlinks=False)


def check(root: Path) -> Report:
    return api.check([root], load_config(root), cache=True)


def codes(report: Report) -> list[tuple[str, str, int]]:
    return [(f.code, f.path, f.line) for f in report.findings]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = write_files(tmp_path / "proj", PROJECT)
    settle(root)
    return root


def test_warm_run_reuses_the_report_and_a_change_parses_only_the_changed_file(
    project, cache_dir, runs
):
    first = check(project)
    assert codes(first) == [("FRK101", "app/tasks.py", 6)]
    assert sorted(runs.parsed) == ["app/__init__.py", "app/tasks.py", "app/util.py"]

    runs.reset()
    again = check(project)
    assert (runs.analysed, runs.parsed) == (0, [])  # no analysis, no parse, no process
    assert replace(again, seconds=0) == replace(first, seconds=0)

    runs.reset()
    (project / "app" / "util.py").write_text("def helper():\n    return 2\n")
    changed = check(project)
    assert (runs.analysed, runs.parsed) == (1, ["app/util.py"])
    assert codes(changed) == codes(first)

    runs.reset()
    (project / "app" / "tasks.py").write_text(TASKS.replace("pandas", "json"))
    fixed = check(project)
    assert runs.parsed == ["app/tasks.py"] and codes(fixed) == []
    assert not list(project.rglob("*cache*"))  # never inside the project


@pytest.mark.parametrize(
    ("change", "still_found"),
    [
        # what the worker runs, in a kind of file the analysis reads
        (
            lambda root: (root / "Procfile").write_text("worker: rq worker -w rq.SimpleWorker q\n"),
            False,
        ),
        (lambda root: _move_worker_to_compose(root), False),
        (lambda root: (root / "Procfile").unlink(), True),
        # the settings
        (
            lambda root: (root / "pyproject.toml").write_text(
                "[project]\nname = 'p'\n[tool.forklint]\nfork-model = 'rq-simple'\n"
            ),
            False,
        ),
        # kinds no list of deployment files names: any file the walk sees is in the key
        (lambda root: (root / "deploy.conf.template").write_text("[program:w]\n"), True),
        (lambda root: (root / "notes.txt").write_text("x"), True),
        (lambda root: (root / "app" / "util.py").rename(root / "app" / "helpers.py"), True),
        (lambda root: (root / "app" / "util.py").unlink(), True),
    ],
)
def test_any_change_in_the_tree_is_a_miss(project, cache_dir, runs, change, still_found):
    check(project)
    runs.reset()
    change(project)
    report = check(project)
    assert runs.analysed == 1
    assert bool(report.findings) == still_found
    assert report == replace(api.check([project], load_config(project)), seconds=report.seconds)


def test_one_report_serves_every_output_format(project, cache_dir, runs):
    check(project)
    runs.reset()
    config = load_config(project)
    api.check([project], replace(config, format="sarif"), cache=True)
    assert runs.analysed == 0
    api.check([project], replace(config, select=("FRK3",)), cache=True)
    assert runs.analysed == 1  # the selection changes the findings


def test_a_touched_file_with_the_same_content_is_a_hit(project, cache_dir, runs):
    check(project)
    (project / "app" / "util.py").touch()
    (project / "app" / "tasks.py").chmod(0o600)
    runs.reset()
    check(project)
    assert (runs.analysed, runs.parsed) == (0, [])


def _move_worker_to_compose(root: Path) -> None:
    (root / "Procfile").unlink()
    compose = "services:\n  w:\n    command: rq worker -w rq.SimpleWorker q\n"
    write_files(root, {"deploy/compose.yml": compose})


def test_an_edit_that_keeps_size_and_mtime_is_seen(project, cache_dir, runs):
    """The stat cache trusts a stat only for files older than the racy window, and ctime (which
    no one can set back) is part of the stat: a same-size edit with the old mtime restored is seen."""
    check(project)
    tasks = project / "app" / "tasks.py"
    before = tasks.stat()
    tasks.write_text(TASKS.replace("pandas", "numpy "))  # same length: "numpy " and "pandas"
    os.utime(tasks, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert tasks.stat().st_size == before.st_size and tasks.stat().st_mtime_ns == before.st_mtime_ns
    runs.reset()
    report = check(project)
    assert runs.parsed == ["app/tasks.py"]
    assert "numpy" in report.findings[0].message


def test_a_file_edited_during_the_run_is_not_cached_under_the_old_key(
    project, cache_dir, runs, monkeypatch
):
    util = project / "app" / "util.py"
    analyse = api._check

    def edit_meanwhile(*args, **kwargs):
        report = analyse(*args, **kwargs)
        util.write_text("def helper():\n    return 3\n")  # after the analysis read it
        return report

    monkeypatch.setattr(api, "_check", edit_meanwhile)
    check(project)
    monkeypatch.setattr(api, "_check", analyse)
    runs.reset()
    check(project)
    assert runs.analysed == 1  # the first report was not stored: it may mix two versions


def test_engine_and_python_are_in_the_key(project, cache_dir, runs, monkeypatch):
    real = cachestore.engine_fingerprint
    check(project)
    runs.reset()
    monkeypatch.setattr(cachestore, "engine_fingerprint", lambda: "another-engine")
    check(project)
    assert runs.analysed == 1 and len(runs.parsed) == 3  # the facts too: another namespace

    monkeypatch.setattr(sys, "version", sys.version + " (another build)")
    assert real.__wrapped__() != real()


def test_damaged_entries_are_misses_and_are_written_again(project, cache_dir, runs):
    first = check(project)
    entries = [p for p in cache_dir.rglob("*") if p.is_file() and p.name != ".swept"]
    assert {p.relative_to(cache_dir / cachestore.LAYOUT).parts[0] for p in entries} == {
        "facts",
        "reports",
        "stats",
    }
    for i, path in enumerate(sorted(entries)):
        data = path.read_bytes()
        damage = [
            data[: len(data) // 2],  # torn
            data[:-1] + bytes([data[-1] ^ 0xFF]),  # flipped
            b"",  # empty
            b"garbage",
        ][i % 4]
        path.write_bytes(damage)
    runs.reset()
    again = check(project)
    assert runs.analysed == 1 and len(runs.parsed) == 3
    assert replace(again, seconds=0) == replace(first, seconds=0)
    for path in entries:
        assert cachestore.read(path) is not None, path  # rewritten whole

    # A well-formed entry holding something else is a miss too.
    report_entry = next(p for p in entries if "reports" in p.parts)
    cachestore.write(report_entry, pickle.dumps(["not", "a", "report"]))
    runs.reset()
    check(project)
    assert runs.analysed == 1 and runs.parsed == []


def test_a_cache_folder_inside_the_project_is_not_part_of_the_key(project, monkeypatch, runs):
    monkeypatch.setenv("FORKLINT_CACHE_DIR", str(project / ".cache"))
    check(project)
    runs.reset()
    check(project)
    assert runs.analysed == 0


def test_no_cache_neither_reads_nor_writes(project, cache_dir):
    done = _cli(project, "--no-cache")
    assert done.returncode == 1, done.stderr
    assert not cache_dir.exists()


def test_the_size_bound_is_kept(project, cache_dir, monkeypatch):
    monkeypatch.setenv("FORKLINT_CACHE_MAX_MB", "0.01")  # 10 KB: smaller than one run writes
    for i in range(3):
        (project / "app" / f"extra{i}.py").write_text(f"X = {i}\n" * 200)
        check(project)
        size = sum(p.stat().st_size for p in cache_dir.rglob("*") if p.is_file())
        assert size <= 10 * 1024


def test_concurrent_runs_share_the_cache(project, cache_dir):
    for _ in range(3):
        for path in cache_dir.rglob("*"):
            if path.is_file():
                path.unlink()
        both = [_popen(project) for _ in range(2)]
        outputs = [process.communicate(timeout=300) for process in both]
        assert [p.returncode for p in both] == [1, 1], outputs
        assert outputs[0] == outputs[1]
    assert not [p for p in cache_dir.rglob("*.tmp")]
    third = _cli(project, "--format", "concise")
    assert (third.stdout, third.stderr) == outputs[0]


def test_non_utf8_file_names_in_the_cache_keys(tmp_path, cache_dir):
    root = write_files(tmp_path / "proj", PROJECT)
    name = os.fsdecode(b"bad\xff.py")
    (root / "app" / name).write_text("import os\n")
    settle(root)
    for _ in range(2):  # cold, then from the report cache
        done = _cli(root, "--format", "concise")
        assert done.returncode == 1, done.stderr
        assert "internal error" not in done.stderr
        assert done.stdout.startswith("app/tasks.py:6:5: FRK101")


def _cli(root: Path, *options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "forklint", "check", *options, "."],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
        env=os.environ.copy(),
    )


def _popen(root: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "forklint", "check", "--format", "concise", "."],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )
