"""Static analysis speed: libcst alone vs forklint cold, parallel, warm and one-changed, one run.

    python bench/static_bench.py --stdlib [--keep DIR]   # CPython's stdlib without its tests
    python bench/static_bench.py PATH                    # any folder of Python files
    python bench/static_bench.py --stdlib --profile      # also: where a one-changed run spends its time

Rows, side by side (the issue's table), each forklint row a separate `forklint check` process
as a user starts it (interpreter start-up included), with its own cache folder:

  parse     libcst.parse_module of every file, in this process
  jobs1     forklint check --no-cache --jobs 1
  jobs2     forklint check --no-cache --jobs 2
  default   forklint check, empty cache (the default --jobs: the cores, when the work is big enough)
  warm      forklint check again: nothing changed
  changed   forklint check after one file changed (a comment appended to a mid-size module)

For each: wall and CPU seconds (the process and its parser workers), and peak RSS of the
largest process (the parent; workers are listed apart). `--busy N` runs N spinning processes
throughout, to see how the parallel rows degrade on a busy machine. Wall times are only fair
on an otherwise idle machine: the load average is printed with them; compare ratios within one run.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import multiprocessing
import os
import pstats
import resource
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

# Folders of the stdlib that are its own test suites (and lib2to3's deliberately broken data).
STDLIB_SKIP = frozenset({"test", "tests", "idle_test", "site-packages", "__pycache__"})
CHANGED_FILE = "json/decoder.py"  # stdlib: a mid-size module others import


def build_stdlib_corpus(destination: Path, *, tests: bool = False) -> Path:
    """Copy the running interpreter's stdlib .py/.pyi files (minus test suites unless `tests`)."""
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    skip = {"site-packages", "__pycache__"} if tests else STDLIB_SKIP
    for directory, dirs, files in os.walk(stdlib):
        dirs[:] = sorted(d for d in dirs if d not in skip and not d.startswith("config-"))
        for name in files:
            if name.endswith((".py", ".pyi")):
                source = Path(directory, name)
                target = destination / source.relative_to(stdlib)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, target)
    return destination


def _corpus_files(corpus: Path) -> list[Path]:
    return sorted(p for p in corpus.rglob("*") if p.suffix in (".py", ".pyi") and p.is_file())


def parse_only(corpus: Path) -> dict[str, float]:
    """libcst.parse_module of every file in one process (the floor the analysis builds on); run in
    a child, so that this process stays small (a child's peak RSS includes what it was forked from)."""
    output = subprocess.run(
        [sys.executable, __file__, "--parse-only", str(corpus)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(output)


def _parse_here(corpus: Path) -> dict[str, float]:
    import libcst

    texts = []
    for path in _corpus_files(corpus):
        try:
            texts.append(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError):
            pass
    started, cpu = time.perf_counter(), time.process_time()
    refused = 0
    for text in texts:
        try:
            libcst.parse_module(text)
        except Exception:  # noqa: BLE001 - a file libcst refuses still counts as parsed work
            refused += 1
    wall = time.perf_counter() - started
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "seconds": round(wall, 2),
        "cpu_seconds": round(time.process_time() - cpu, 2),
        "files": len(texts),
        "refused": refused,
        "peak_rss_mb": round(rss, 1),
    }


def forklint_run(corpus: Path, cache: Path | None, *options: str) -> dict[str, float | str]:
    """One `forklint check` process; wall, CPU of it and its workers, peak RSS (wait4)."""
    env = dict(os.environ)
    if cache is not None:
        env["FORKLINT_CACHE_DIR"] = str(cache)
    # The console script, as a user runs it: `python -m forklint` from inside the corpus would put
    # the corpus first on sys.path, and a copy of the stdlib there shadows the real one.
    script = Path(sys.executable).with_name("forklint")
    program = [str(script)] if script.is_file() else [sys.executable, "-P", "-m", "forklint"]
    command = [*program, "check", "--exit-zero", "-q", *options, "."]
    started = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=corpus, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    assert process.stderr is not None
    errors = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    if process.returncode != 0 or b"internal error" in errors:
        raise SystemExit(f"{' '.join(command)} failed ({process.returncode}): {errors[-2000:]!r}")
    return {
        "seconds": round(wall, 2),
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 2),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),  # the largest process of the run
        "errors": errors.decode("utf-8", "replace").count("\nerror: ")
        + errors.startswith(b"error: "),
    }


def change_one_file(corpus: Path) -> Path:
    target = corpus / CHANGED_FILE
    if not target.is_file():
        target = max(_corpus_files(corpus), key=lambda p: abs(p.stat().st_size - 20_000))
    with open(target, "a", encoding="utf-8") as handle:
        handle.write(f"\n# changed by static_bench at {time.time()}\n")
    return target


def _spin() -> None:  # pragma: no cover - a busy neighbour
    while True:
        pass


def bench(corpus: Path, busy: int = 0) -> dict[str, object]:
    corpus = corpus.resolve()
    spinners = [multiprocessing.Process(target=_spin, daemon=True) for _ in range(busy)]
    for spinner in spinners:
        spinner.start()
    scratch = Path(tempfile.mkdtemp(prefix="forklint-bench-cache-"))
    try:
        rows: dict[str, dict[str, float | str]] = {}
        loads: dict[str, float] = {}
        loads["parse"] = os.getloadavg()[0]
        rows["parse"] = parse_only(corpus)  # type: ignore[assignment]
        for name, cache, options in (
            ("jobs1", None, ("--no-cache", "--jobs", "1")),
            ("jobs2", None, ("--no-cache", "--jobs", "2")),
            ("default", scratch / "user", ()),
            ("warm", scratch / "user", ()),
        ):
            loads[name] = os.getloadavg()[0]
            rows[name] = forklint_run(corpus, cache, *options)
        changed = change_one_file(corpus)
        loads["changed"] = os.getloadavg()[0]
        rows["changed"] = forklint_run(corpus, scratch / "user")
        for name, load in loads.items():
            rows[name]["load_average"] = round(load, 2)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        for spinner in spinners:
            spinner.terminate()
    parse = float(rows["parse"]["seconds"])
    jobs1 = float(rows["jobs1"]["seconds"])
    return {
        "corpus": str(corpus),
        "files": rows["parse"]["files"],
        "lines": sum(p.read_bytes().count(b"\n") for p in _corpus_files(corpus)),
        "changed_file": str(changed.relative_to(corpus)),
        "busy_neighbours": busy,
        "cores": len(os.sched_getaffinity(0))
        if hasattr(os, "sched_getaffinity")
        else os.cpu_count(),
        "rows": rows,
        "ratios": {
            "jobs1_over_parse": round(jobs1 / parse, 2),
            "jobs2_over_jobs1": round(float(rows["jobs2"]["seconds"]) / jobs1, 2),
            "default_over_jobs1": round(float(rows["default"]["seconds"]) / jobs1, 2),
        },
        "python": sys.version.split()[0],
        "libcst": _version("libcst"),
    }


def _version(distribution: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(distribution)
    except PackageNotFoundError:
        return "?"


LABELS = {
    "parse": "libcst parse_module of every file, one process",
    "jobs1": "forklint check --no-cache --jobs 1",
    "jobs2": "forklint check --no-cache --jobs 2",
    "default": "forklint check, empty cache (default --jobs)",
    "warm": "forklint check, cache warm, nothing changed",
    "changed": "forklint check, cache warm, one file changed",
}


def render(result: dict[str, object]) -> str:
    rows = result["rows"]
    ratios = result["ratios"]
    assert isinstance(rows, dict) and isinstance(ratios, dict)
    lines = [
        f"corpus   {result['corpus']} ({result['files']} files, {result['lines']} lines)",
        f"python {result['python']}, libcst {result['libcst']}, {result['cores']} cores, "
        f"{result['busy_neighbours']} busy neighbours; changed: {result['changed_file']}",
        "",
        "| | wall s | CPU s | peak RSS MB | load |",
        "|---|---|---|---|---|",
    ]
    for name, label in LABELS.items():
        row = rows[name]
        lines.append(
            f"| {label} | {row['seconds']:.2f} | {row['cpu_seconds']:.2f} | "
            f"{row['peak_rss_mb']:.0f} | {row['load_average']:.1f} |"
        )
    lines += [
        "",
        f"jobs 1 / parse-only: {ratios['jobs1_over_parse']:.2f}   "
        f"jobs 2 / jobs 1: {ratios['jobs2_over_jobs1']:.2f}   "
        f"default cold / jobs 1: {ratios['default_over_jobs1']:.2f}",
    ]
    return "\n".join(lines)


# Phases of a run as the profile names them: (label, function name, file suffix).
PHASES = (
    ("report cache: walk + stat + key", "__init__", "forklint/reportcache.py"),
    ("discover: walk + read + decode", "discover", "forklint/project.py"),
    ("facts: cache load + parse of the changed file", "extract_all", "forklint/api.py"),
    ("index", "__init__", "forklint/index.py"),
    ("jobs", "discover", "forklint/jobs.py"),
    ("commands: deployment files", "scan", "forklint/commands.py"),
    ("world", "build", "forklint/world.py"),
    ("rules", "run", "forklint/analysis.py"),
    ("report cache: re-check + store", "save", "forklint/reportcache.py"),
)


def profile_changed_run(corpus: Path) -> str:
    """One one-file-changed run in this process under cProfile: cumulative seconds per phase."""
    from forklint.api import check
    from forklint.config import load_config

    scratch = Path(tempfile.mkdtemp(prefix="forklint-bench-profile-"))
    os.environ["FORKLINT_CACHE_DIR"] = str(scratch)
    try:
        corpus = corpus.resolve()
        check([corpus], load_config(corpus), cache=True)  # fill the caches
        change_one_file(corpus)
        profiler = cProfile.Profile()
        started = time.perf_counter()
        profiler.enable()
        check([corpus], load_config(corpus), cache=True)
        profiler.disable()
        wall = time.perf_counter() - started
        change_one_file(corpus)
        started = time.perf_counter()
        check([corpus], load_config(corpus), cache=True)
        plain = time.perf_counter() - started
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        del os.environ["FORKLINT_CACHE_DIR"]
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    lines = [
        f"one file changed, in-process: {plain:.2f} s without the profiler, {wall:.2f} s with it",
        "",
        "| phase | cumulative s (profiled) | share |",
        "|---|---|---|",
    ]
    for label, function, suffix in PHASES:
        seconds = sum(
            value[3]
            for (filename, _, name), value in stats.items()
            if name == function and filename.endswith(suffix)
        )
        lines.append(f"| {label} | {seconds:.2f} | {seconds / wall:.0%} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("path", nargs="?", type=Path, help="the corpus: a folder of Python files")
    parser.add_argument("--stdlib", action="store_true", help="CPython's stdlib without its tests")
    parser.add_argument("--keep", type=Path, help="with --stdlib: build the corpus here, keep it")
    parser.add_argument("--busy", type=int, default=0, help="spinning processes during the run")
    parser.add_argument("--profile", action="store_true", help="also profile a one-changed run")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--parse-only", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.parse_only is not None:
        print(json.dumps(_parse_here(args.parse_only)))
        return 0
    if (args.path is None) == (not args.stdlib):
        parser.error("give either PATH or --stdlib")
    scratch: str | None = None
    if args.stdlib:
        if args.keep is not None:
            shutil.rmtree(args.keep, ignore_errors=True)
            args.keep.mkdir(parents=True)
            corpus = build_stdlib_corpus(args.keep)
        else:
            scratch = tempfile.mkdtemp(prefix="forklint-stdlib-")
            corpus = build_stdlib_corpus(Path(scratch))
        time.sleep(2.5)  # past the racy window: as files are between two commits
    else:
        corpus = args.path
        if not corpus.is_dir():
            parser.error(f"{corpus} is not a directory")
    try:
        result = bench(corpus, args.busy)
        print(json.dumps(result, indent=2) if args.json else render(result))
        if args.profile:
            print()
            print(profile_changed_run(corpus))
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
