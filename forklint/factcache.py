"""A per-user cache of per-file facts, keyed by file content, so warm runs parse only changed files."""

from __future__ import annotations

import hashlib
import os
import pickle
from functools import lru_cache
from pathlib import Path

from forklint import __version__
from forklint.facts import FileFacts


@lru_cache(maxsize=1)
def _schema() -> str:
    """Facts change shape with forklint's extractor: its own source is part of every key."""
    source = Path(__file__).with_name("facts.py").read_bytes()
    return hashlib.sha256(__version__.encode() + source).hexdigest()[:16]


def cache_dir() -> Path:
    """$FORKLINT_CACHE_DIR, else the user's cache folder; never inside the analysed project.

    The entries are pickles: kept where only this user writes, so a repository cannot ship one.
    """
    explicit = os.environ.get("FORKLINT_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "forklint" / f"facts-{_schema()}"


class FactCache:
    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory or cache_dir()

    def _path(self, text: str, module: str, relpath: str, is_package: bool) -> Path:
        digest = hashlib.sha256(
            f"{module}\0{relpath}\0{is_package}\0".encode() + text.encode("utf-8", "surrogatepass")
        ).hexdigest()
        return self.directory / digest[:2] / digest

    def get(self, text: str, module: str, relpath: str, is_package: bool) -> FileFacts | None:
        try:
            data = self._path(text, module, relpath, is_package).read_bytes()
            facts = pickle.loads(data)
        except Exception:  # noqa: BLE001 - a missing, partial or stale entry is a miss
            return None
        return facts if isinstance(facts, FileFacts) else None

    def put(self, text: str, module: str, relpath: str, is_package: bool, facts: FileFacts) -> None:
        path = self._path(text, module, relpath, is_package)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            temporary = path.with_suffix(f".{os.getpid()}.tmp")
            temporary.write_bytes(pickle.dumps(facts, protocol=pickle.HIGHEST_PROTOCOL))
            os.replace(temporary, path)
        except OSError:
            pass  # a read-only or full cache folder only costs speed
