"""Helpers for the hostile-input tests: run the real `forklint` command in a subprocess."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

Runner = Callable[..., subprocess.CompletedProcess[bytes]]


def forklint(
    *args: str | bytes | os.PathLike[str],
    cwd: Path,
    timeout: float = 60,
    env: dict[str, str] | None = None,
    **popen: Any,
) -> subprocess.CompletedProcess[bytes]:
    """`python -m forklint ARGS` in `cwd`, output as bytes (file names need not be UTF-8).

    The facts cache goes to a folder of the run's own (a run must not depend on, or write to,
    the user's cache) and the GitHub variables of the machine running the tests are dropped.
    """
    environment = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")}
    cache = tempfile.mkdtemp(prefix="forklint-test-cache-")
    environment.update(
        {"NO_COLOR": "1", "PYTHONDONTWRITEBYTECODE": "1", "FORKLINT_CACHE_DIR": cache}
    )
    environment.update(env or {})
    command: Sequence[str | bytes | os.PathLike[str]] = [sys.executable, "-m", "forklint", *args]
    try:
        return subprocess.run(
            command,
            cwd=cwd,
            env=environment,
            capture_output=True,
            timeout=timeout,
            check=False,
            **popen,
        )
    finally:
        shutil.rmtree(cache, ignore_errors=True)


def forklint_as(uid: int, *args: str, cwd: Path) -> subprocess.CompletedProcess[bytes]:
    """The command line run in a child process that has dropped to `uid` (when run as root).

    Not a fresh interpreter: this machine's Python lives where `nobody` cannot read, so the child
    is forked from the test process with the engine already imported, then calls the entry point.
    """
    import forklint.api  # noqa: F401 - loaded before the fork, while files are still readable
    from forklint import cli

    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        pid = os.fork()
        if pid == 0:  # pragma: no cover - reports through its exit status and the files
            code = 70
            try:
                os.dup2(out.fileno(), 1)
                os.dup2(err.fileno(), 2)
                # pytest has replaced the streams with its capture: write to the real descriptors.
                sys.stdout = open(1, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
                sys.stderr = open(2, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
                os.chdir(cwd)
                if os.geteuid() == 0:
                    os.setgroups([])
                    os.setgid(uid)
                    os.setuid(uid)
                os.environ["FORKLINT_CACHE_DIR"] = "/nonexistent/forklint-cache"
                cli.main([*args], prog_name="forklint")
                code = 0
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 1
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        out.seek(0)
        err.seek(0)
        return subprocess.CompletedProcess(
            ["forklint", *args], os.waitstatus_to_exitcode(status), out.read(), err.read()
        )


def one_error_line(done: subprocess.CompletedProcess[bytes]) -> str:
    """The single `forklint: ...` line a refused input gives, checked to be exactly that."""
    stderr = done.stderr.decode("utf-8", "backslashreplace")
    assert done.returncode == 2, (done.returncode, stderr)
    assert "Traceback" not in stderr and "internal error" not in stderr, stderr
    lines = stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("forklint: "), stderr
    return lines[0]
