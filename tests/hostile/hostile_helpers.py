"""Helpers for the hostile-input tests: run the real `forklint` command in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
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

    The cache stays off (a run must not depend on, or write to, the user's cache) and the
    GitHub variables of the machine running the tests are dropped.
    """
    environment = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")}
    environment.update({"NO_COLOR": "1", "PYTHONDONTWRITEBYTECODE": "1"})
    environment.update(env or {})
    command: Sequence[str | bytes | os.PathLike[str]] = [sys.executable, "-m", "forklint", *args]
    return subprocess.run(
        command,
        cwd=cwd,
        env=environment,
        capture_output=True,
        timeout=timeout,
        check=False,
        **popen,
    )


def one_error_line(done: subprocess.CompletedProcess[bytes]) -> str:
    """The single `forklint: ...` line a refused input gives, checked to be exactly that."""
    stderr = done.stderr.decode("utf-8", "backslashreplace")
    assert done.returncode == 2, (done.returncode, stderr)
    assert "Traceback" not in stderr and "internal error" not in stderr, stderr
    lines = stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("forklint: "), stderr
    return lines[0]
