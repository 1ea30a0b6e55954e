"""Fixtures for the project tests: write a small project as files; run code as an unprivileged user."""

from __future__ import annotations

import os
import pickle
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

Write = Callable[[dict[str, "str | bytes"]], Path]
NOBODY = 65534


@pytest.fixture
def write(tmp_path: Path) -> Write:
    """Write {relpath: content} under tmp_path/"proj" and return that root."""
    root = tmp_path / "proj"
    root.mkdir(exist_ok=True)

    def _write(files: dict[str, str | bytes]) -> Path:
        for relpath, content in files.items():
            path = root / relpath
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content, encoding="utf-8")
        return root

    return _write


class Unprivileged:
    """A world-readable scratch folder, and a way to run code where file permissions bite.

    Tests here often run as root, which reads a chmod 000 file anyway; then the code runs in a
    forked child that has dropped to the `nobody` user, so the permission error is the real one.
    """

    def __init__(self, root: Path) -> None:
        self.root = root

    def call(self, function: Callable[[], Any]) -> Any:
        if os.geteuid() != 0:
            return function()
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child reports through the pipe
            try:
                os.setgid(NOBODY)
                os.setuid(NOBODY)
                payload = pickle.dumps(("ok", function()))
            except BaseException as exc:  # noqa: BLE001 - handed to the parent as a value
                payload = pickle.dumps(("error", f"{type(exc).__name__}: {exc}"))
            os.write(write_end, payload)
            os._exit(0)
        os.close(write_end)
        with os.fdopen(read_end, "rb") as pipe:
            data = pipe.read()
        os.waitpid(pid, 0)
        status, value = pickle.loads(data)
        assert status == "ok", value
        return value


@pytest.fixture
def unprivileged() -> Iterator[Unprivileged]:
    root = Path(tempfile.mkdtemp(prefix="forklint-perm-"))
    root.chmod(0o755)
    try:
        yield Unprivileged(root)
    finally:
        for directory, dirs, files in os.walk(root):
            for name in dirs + files:
                os.chmod(os.path.join(directory, name), 0o755, follow_symlinks=False)
        shutil.rmtree(root)
