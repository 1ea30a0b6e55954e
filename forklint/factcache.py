"""Per-file facts cached by file content, so that a warm run parses only the changed files."""

from __future__ import annotations

import pickle
from pathlib import Path

from forklint import cachestore
from forklint.facts import FileFacts
from forklint.sandbox import Budget, Work


class FactCache:
    """Facts keyed by (engine, Python, parse budget, module, path, content).

    The budget is in the key because an entry may record that a file was over it.
    """

    def __init__(self, root: Path | None = None) -> None:
        self.root = root or cachestore.cache_root()
        self.folder = self.root / "facts" / cachestore.engine_fingerprint()
        self.written = 0  # bytes this instance wrote, for the size bound

    def key(self, work: Work, budget: Budget) -> str:
        return cachestore.key_of(
            f"{budget.seconds!r}/{budget.memory_mb!r}",
            work.module,
            work.relpath,
            "package" if work.is_package else "module",
            work.text,
        )

    def has(self, key: str) -> bool:
        return cachestore.entry_path(self.folder, key).is_file()

    def load(self, key: str) -> FileFacts | None:
        """The cached facts, or None for a missing, torn, corrupted or foreign entry (the caller
        parses the file again and the entry is rewritten)."""
        path = cachestore.entry_path(self.folder, key)
        payload = cachestore.read(path)
        if payload is None:
            return None
        try:
            facts = pickle.loads(payload)
        except Exception:  # noqa: BLE001 - an entry from another engine or a damaged one is a miss
            return None
        if not isinstance(facts, FileFacts):
            return None
        cachestore.touch(path)
        return facts

    def store(self, key: str, payload: bytes) -> None:
        """Keep the facts as the parser process pickled them (no second pickling here)."""
        self.written += cachestore.write(cachestore.entry_path(self.folder, key), payload)

    def done(self) -> None:
        cachestore.maybe_sweep(self.root, self.written)
