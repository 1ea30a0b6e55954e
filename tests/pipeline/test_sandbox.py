"""The parser sandbox: real worker processes, signals and kernel limits; one file lost, not the run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from forklint.facts import FileFacts
from forklint import sandbox
from forklint.sandbox import Budget, ParserPool, Work, default_workers
from tests.pipeline.shapes import GENERATED_1MB

OK = "import os\n\n\ndef f():\n    return os.sep\n"
# Valid for CPython, and some 2 s of libcst's time on an idle machine (199 nested calls, ten times).
SLOW = ("x = " + "f(" * 199 + "1" + ")" * 199 + "\n") * 10


@pytest.fixture(autouse=True)
def cpu_decides(monkeypatch):
    """The kernel's CPU limit, not the wall clock, ends a runaway here, however busy the machine."""
    monkeypatch.setattr(sandbox, "_WALL_FACTOR", 1000.0)


def parse(
    files: dict[str, str], budget: Budget | None = None, workers: int = 1
) -> dict[str, FileFacts]:
    names = list(files)
    with ParserPool(workers, budget or Budget()) as pool:
        for i, name in enumerate(names):
            pool.submit(i, Work(files[name], name.removesuffix(".py"), name, False))
        return {names[i]: parsed.facts for i, parsed in pool.drain()}


def error_of(facts: FileFacts) -> str | None:
    return str(facts.error) if facts.error is not None else None


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        ("segv", "the parser crashed (SIGSEGV)"),
        ("abort", "the parser crashed (SIGABRT)"),
        ("exit", "the parser process exited with status 3"),
    ],
)
def test_a_dead_worker_costs_its_file_only(monkeypatch, fault, message):
    monkeypatch.setenv("FORKLINT_TEST_PARSER_FAULT", f"{fault}:bad.py")
    files = {"a.py": OK, "bad.py": OK, "b.py": OK, "c.py": OK}
    result = parse(files, workers=2)
    assert error_of(result["bad.py"]) == f"bad.py: not analysed: {message}"
    for name in ("a.py", "b.py", "c.py"):  # parsed before and after, by a replacement worker
        assert result[name].error is None and result[name].functions[0].name == "f"


def test_every_file_crashing_still_ends(monkeypatch):
    monkeypatch.setenv("FORKLINT_TEST_PARSER_FAULT", "segv:.py")
    result = parse({f"m{i}.py": OK for i in range(6)}, workers=2)
    assert sorted(map(error_of, result.values())) == [
        f"m{i}.py: not analysed: the parser crashed (SIGSEGV)" for i in range(6)
    ]


def test_cpu_budget_stops_a_runaway_parse_of_valid_python():
    result = parse({"slow.py": SLOW, "ok.py": OK}, Budget(seconds=0.5))
    assert error_of(result["slow.py"]) == (
        "slow.py: not analysed: parsing took more than 0.5 s of CPU (parse-timeout)"
    )
    assert result["ok.py"].error is None


def test_cpu_budget_stops_a_busy_loop(monkeypatch):
    monkeypatch.setenv("FORKLINT_TEST_PARSER_FAULT", "hang:spin.py")
    result = parse({"spin.py": OK, "ok.py": OK}, Budget(seconds=0.5))
    assert error_of(result["spin.py"]) == (
        "spin.py: not analysed: parsing took more than 0.5 s of CPU (parse-timeout)"
    )
    assert result["ok.py"].error is None


def test_memory_budget_stops_libcst():
    # libcst needs some 2 GB for this megabyte of generated code.
    result = parse({"big.py": GENERATED_1MB, "ok.py": OK}, Budget(seconds=60, memory_mb=200))
    assert error_of(result["big.py"]) == (
        "big.py: not analysed: parsing needs more than 200 MB of memory (parse-memory)"
    )
    assert result["ok.py"].error is None


def test_memory_budget_in_python_code(monkeypatch):
    monkeypatch.setenv("FORKLINT_TEST_PARSER_FAULT", "memory:hog.py")
    result = parse({"ok.py": OK, "hog.py": OK, "after.py": OK}, Budget(memory_mb=128))
    assert error_of(result["hog.py"]) == (
        "hog.py: not analysed: parsing needs more than 128 MB of memory (parse-memory)"
    )
    assert result["after.py"].error is None


def test_a_worker_that_neither_works_nor_dies_is_stopped_by_the_clock(monkeypatch):
    # SIGSTOP: no CPU used, so only the parent's wall-clock backstop ends it.
    monkeypatch.setenv("FORKLINT_TEST_PARSER_FAULT", "stop:frozen.py")
    monkeypatch.setattr(sandbox, "_WALL_FACTOR", 3.0)
    monkeypatch.setattr(sandbox, "_WALL_GRACE", 1.0)
    result = parse({"frozen.py": OK, "ok.py": OK}, Budget(seconds=0.5), workers=1)
    assert error_of(result["frozen.py"]) == (
        "frozen.py: not analysed: parsing did not finish within 2.5 s"
    )
    assert result["ok.py"].error is None


def test_workers_are_gone_after_the_pool(monkeypatch):
    with ParserPool(2, Budget()) as pool:
        for i in range(4):
            pool.submit(i, Work(OK, f"m{i}", f"m{i}.py", False))
        pids = [w.pid for w in pool._idle + list(pool._busy.values())]
        list(pool.drain())
    assert pids
    for pid in pids:
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)


def test_an_interrupted_run_kills_its_busy_workers():
    pool = ParserPool(1, Budget(seconds=60))
    pool.submit(0, Work(SLOW * 20, "slow", "slow.py", False))
    (worker,) = pool._busy.values()
    pool.close()  # what the `with` block does when Ctrl-C lands mid-parse
    assert not _alive(worker.pid)


def test_workers_die_with_a_killed_parent(tmp_path):
    script = textwrap.dedent(
        f"""
        import sys
        from forklint.sandbox import Budget, ParserPool, Work
        pool = ParserPool(1, Budget(seconds=60))
        pool.submit(0, Work({SLOW * 20!r}, "slow", "slow.py", False))
        (worker,) = pool._busy.values()
        print(worker.pid, flush=True)
        sys.stdin.read()
        """
    )
    parent = subprocess.Popen(
        [sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert parent.stdout is not None
    worker = int(parent.stdout.readline())
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    for _ in range(200):
        if not _alive(worker):
            break
        time.sleep(0.05)
    else:
        os.kill(worker, signal.SIGKILL)
        pytest.fail("the worker outlived its parent")


def _alive(pid: int) -> bool:
    """Running or runnable; a zombie (dead, not yet reaped by whoever adopted it) is not."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            return handle.read().rpartition(")")[2].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_syntax_errors_survive_a_libcst_crash(monkeypatch):
    # CPython's verdict is sent before libcst runs: a crash afterwards still gives FRK001.
    monkeypatch.setenv("FORKLINT_TEST_PARSER_FAULT", "segv-after-screen:broken.py")
    result = parse({"broken.py": "def f(:\n    pass\n"})
    assert result["broken.py"].syntax_error == (1, 7, "invalid syntax")


def test_default_workers_follow_the_work():
    small = [Work(OK, "m", "m.py", False)] * 200
    assert default_workers(small) == 1  # 7 KB: not worth a second process
    big = [Work("x = 1\n" * 50_000, "m", "m.py", False)] * 8
    assert 1 <= default_workers(big) <= (os.cpu_count() or 1)
