"""Static analysis speed: libcst.parse_module alone vs forklint's full cold check, on one corpus, in one process.

    python bench/static_bench.py PATH [--jobs N] [--json]
    python bench/static_bench.py --stdlib [--keep DIR] [--jobs N]   # CPython's stdlib without its tests

Prints files, lines, seconds (wall and CPU) of (a) parsing every file with libcst, (a0) the
same with the cyclic GC off (the parser alone), and (b) `forklint.api.check` on the same corpus
(nothing is cached between runs: check has no cache); the ratios b/a and b/a0, files/s,
lines/s and peak RSS. (a) runs first, so (b) profits from a warm libcst import: the figure is
the analysis cost, not interpreter start-up. Wall times are only fair on an idle machine; the
load average is printed with them.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import shutil
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

import libcst

from forklint.config import Config
from forklint.project import SourceFile, discover

# Folders of the stdlib that are its own test suites (and lib2to3's deliberately broken data).
STDLIB_SKIP = frozenset({"test", "tests", "idle_test", "site-packages", "__pycache__"})


def build_stdlib_corpus(destination: Path) -> Path:
    """Copy the running interpreter's stdlib .py/.pyi files, minus test suites, to `destination`."""
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    for directory, dirs, files in os.walk(stdlib):
        dirs[:] = sorted(d for d in dirs if d not in STDLIB_SKIP and not d.startswith("config-"))
        for name in files:
            if name.endswith((".py", ".pyi")):
                source = Path(directory, name)
                target = destination / source.relative_to(stdlib)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, target)
    return destination


def peak_rss_mb() -> tuple[float, float]:
    """High-water resident set size of this process and of its finished children, in MB."""
    per_mb = (
        1024 if sys.platform != "darwin" else 1024 * 1024
    )  # ru_maxrss: KB on Linux, bytes on macOS
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / per_mb
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / per_mb
    return round(own, 1), round(children, 1)


def cpu_seconds() -> float:
    """CPU time of this process and its finished children (the --jobs parse pool)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _timing(seconds: float, cpu: float, files: int, lines: int) -> dict[str, float]:
    return {
        "seconds": round(seconds, 2),
        "cpu_seconds": round(cpu, 2),
        "files_per_s": round(files / seconds, 1),
        "lines_per_s": round(lines / seconds),
    }


def _parse_all(sources: list[SourceFile], lines: int) -> tuple[dict[str, float], int]:
    refused = 0
    started, cpu = time.perf_counter(), cpu_seconds()
    for source in sources:
        try:
            libcst.parse_module(source.text)  # type: ignore[arg-type]
        except Exception:  # noqa: BLE001 - a file libcst refuses still counts as parsed work
            refused += 1
    return _timing(time.perf_counter() - started, cpu_seconds() - cpu, len(sources), lines), refused


def bench(corpus: Path, jobs: int) -> dict[str, object]:
    corpus = corpus.resolve()
    config = Config(root=corpus)
    project = discover([corpus], config)
    readable = [f for f in project.files if f.text is not None]
    lines = sum(f.text.count("\n") + (not f.text.endswith("\n")) for f in readable if f.text)

    parse, parse_errors = _parse_all(readable, lines)
    gc.disable()  # the parser alone: no time in the cyclic collector (libcst trees are acyclic)
    try:
        bare, _ = _parse_all(readable, lines)
    finally:
        gc.enable()
    rss_after_parse = peak_rss_mb()

    from forklint.api import check  # imported outside the timing: start-up is not analysis

    started, cpu = time.perf_counter(), cpu_seconds()
    report = check([corpus], config, jobs=jobs)
    full = _timing(time.perf_counter() - started, cpu_seconds() - cpu, len(readable), lines)

    own, children = peak_rss_mb()
    return {
        "corpus": str(corpus),
        "jobs": jobs,
        "files": len(project.files),
        "files_parsed": len(readable),
        "lines": lines,
        "file_errors": len([f for f in project.files if f.error is not None]),
        "a_libcst_parse": {**parse, "parse_errors": parse_errors},
        "a0_libcst_parse_gc_off": bare,
        "b_forklint_check": {
            **full,
            "findings": len(report.findings),
            "errors": len(report.errors),
            "jobs_found": report.jobs,
        },
        "ratio_b_over_a": round(full["seconds"] / parse["seconds"], 2),
        "cpu_ratio_b_over_a": round(full["cpu_seconds"] / parse["cpu_seconds"], 2),
        "cpu_ratio_b_over_a0": round(full["cpu_seconds"] / bare["cpu_seconds"], 2),
        "load_average": round(os.getloadavg()[0], 2),
        "peak_rss_mb": {"after_a": rss_after_parse[0], "after_b": own, "children": children},
        "python": sys.version.split()[0],
        "libcst": _version("libcst"),
    }


def _version(distribution: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(distribution)
    except PackageNotFoundError:
        return "?"


def render(result: dict[str, object]) -> str:
    a = result["a_libcst_parse"]
    a0 = result["a0_libcst_parse_gc_off"]
    b = result["b_forklint_check"]
    rss = result["peak_rss_mb"]
    assert (
        isinstance(a, dict)
        and isinstance(a0, dict)
        and isinstance(b, dict)
        and isinstance(rss, dict)
    )
    rows = [
        f"corpus   {result['corpus']}",
        f"files    {result['files']} ({result['files_parsed']} decoded, {result['file_errors']} file errors)",
        f"lines    {result['lines']}",
        f"python {result['python']}, libcst {result['libcst']}, jobs {result['jobs']}",
        "",
        "                          wall s     CPU s    files/s    lines/s",
        f"(a) libcst.parse_module {a['seconds']:>8.2f}  {a['cpu_seconds']:>8.2f}  "
        + f"{a['files_per_s']:>9.1f}  {a['lines_per_s']:>9}   ({a['parse_errors']} refused)",
        f"(a0) same, cyclic GC off{a0['seconds']:>8.2f}  {a0['cpu_seconds']:>8.2f}  "
        + f"{a0['files_per_s']:>9.1f}  {a0['lines_per_s']:>9}",
        f"(b) forklint check, cold{b['seconds']:>8.2f}  {b['cpu_seconds']:>8.2f}  "
        + f"{b['files_per_s']:>9.1f}  {b['lines_per_s']:>9}   ({b['findings']} findings, "
        + f"{b['errors']} errors, {b['jobs_found']} jobs)",
        f"ratio b/a               {result['ratio_b_over_a']:>8.2f}  {result['cpu_ratio_b_over_a']:>8.2f}",
        f"ratio b/a0 (CPU)                  {result['cpu_ratio_b_over_a0']:>8.2f}",
        f"load average (1 min)    {result['load_average']:>8.2f}   (wall times are only fair when low)",
        f"peak RSS                {rss['after_b']:.1f} MB (after a: {rss['after_a']:.1f} MB; "
        + f"children: {rss['children']:.1f} MB)",
    ]
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", nargs="?", type=Path, help="the corpus: a folder of Python files")
    parser.add_argument(
        "--stdlib", action="store_true", help="use CPython's stdlib without its tests"
    )
    parser.add_argument(
        "--keep", type=Path, help="with --stdlib: build the corpus here and keep it"
    )
    parser.add_argument(
        "--jobs", type=int, default=1, help="processes forklint parses with (default 1)"
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    if (args.path is None) == (not args.stdlib):
        parser.error("give either PATH or --stdlib")

    scratch: str | None = None
    if args.stdlib:
        if args.keep is not None:
            args.keep.mkdir(parents=True, exist_ok=True)
            corpus = build_stdlib_corpus(args.keep)
        else:
            scratch = tempfile.mkdtemp(prefix="forklint-stdlib-")
            corpus = build_stdlib_corpus(Path(scratch))
    else:
        corpus = args.path
        if not corpus.is_dir():
            parser.error(f"{corpus} is not a directory")
    try:
        result = bench(corpus, args.jobs)
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
    print(json.dumps(result, indent=2) if args.json else render(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
