"""The cache folder: checksummed entries, written atomically, keyed by the engine, bounded."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
import time
from functools import lru_cache
from pathlib import Path

from forklint import __version__
from forklint.resources import rules_dir

LAYOUT = "v1"  # the folder layout and entry format below; a new one starts a new folder
_MAGIC = b"forklint-cache-v1\n"
# Bytes of blake2b over the payload: a torn or corrupted entry is a miss, never a crash.
_DIGEST = 16
DEFAULT_MAX_MB = 512
# How often a run that wrote entries checks the folder's size (a run that wrote more than a tenth
# of the bound checks at once): the bound may be exceeded by what runs write in that time.
_SWEEP_EVERY = 600.0
_STALE_TEMPORARY = 3600.0


def cache_root() -> Path:
    """$FORKLINT_CACHE_DIR, else the user's cache folder; never inside the analysed project.

    The entries are pickles: kept where only this user writes, so a repository cannot ship one.
    """
    explicit = os.environ.get("FORKLINT_CACHE_DIR")
    if explicit:
        return Path(explicit) / LAYOUT
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "forklint" / LAYOUT


def max_bytes() -> int:
    """The size the folder is kept under: $FORKLINT_CACHE_MAX_MB, else 512 MB."""
    try:
        megabytes = float(os.environ.get("FORKLINT_CACHE_MAX_MB", DEFAULT_MAX_MB))
    except ValueError:
        megabytes = DEFAULT_MAX_MB
    return max(0, int(megabytes * 1024 * 1024))


@lru_cache(maxsize=1)
def engine_fingerprint() -> str:
    """forklint's version, its package sources and shipped rules, libcst's version and the Python
    running it: any change (an edited rule during development, another interpreter) is a new key."""
    digest = hashlib.sha256()
    for part in (__version__, sys.version, sys.implementation.cache_tag or ""):
        digest.update(part.encode("utf-8", "surrogatepass") + b"\0")
    package = Path(__file__).resolve().parent
    rules = rules_dir().resolve()
    sources = sorted(package.rglob("*.py")) + sorted(p for p in rules.rglob("*") if p.is_file())
    # libcst's version file, found without importing libcst (a third of a second) on a cache hit
    spec = importlib.util.find_spec("libcst")
    if spec is not None and spec.origin is not None:
        sources.append(Path(spec.origin).with_name("_version.py"))
    for path in sources:
        digest.update(os.fsencode(path.name) + b"\0")
        try:
            digest.update(path.read_bytes())
        except OSError:
            digest.update(b"\1unreadable")
    return digest.hexdigest()[:20]


def key_of(*parts: bytes | str) -> str:
    """A hex key over parts kept apart (no two different part lists give the same bytes)."""
    digest = hashlib.sha256()
    for part in parts:
        data = part if isinstance(part, bytes) else part.encode("utf-8", "surrogatepass")
        digest.update(len(data).to_bytes(8, "little") + data)
    return digest.hexdigest()


def entry_path(folder: Path, key: str) -> Path:
    return folder / key[:2] / key


def read(path: Path) -> bytes | None:
    """The payload of an entry, or None when it is missing, torn or corrupted."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError:
        return None
    head = len(_MAGIC) + _DIGEST
    if not data.startswith(_MAGIC) or len(data) < head:
        return None
    payload = data[head:]
    if hashlib.blake2b(payload, digest_size=_DIGEST).digest() != data[len(_MAGIC) : head]:
        return None
    return payload


def write(path: Path, payload: bytes) -> int:
    """Write an entry atomically (temp file in the same folder, then rename): concurrent runs see
    the old entry or the new one, never half of one. Returns the bytes written (0 on failure:
    a read-only or full cache folder only costs speed)."""
    data = _MAGIC + hashlib.blake2b(payload, digest_size=_DIGEST).digest() + payload
    temporary = path.with_name(f"{path.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(temporary, "wb") as handle:
            handle.write(data)
        os.replace(temporary, path)
    except OSError:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        return 0
    return len(data)


def touch(path: Path) -> None:
    """Mark an entry as used, so the size bound evicts the ones no run has needed for longest."""
    try:
        if time.time() - path.stat().st_mtime > 86400:  # at most once a day per entry
            os.utime(path)
    except OSError:
        pass


def maybe_sweep(root: Path, written: int) -> None:
    """Keep the folder under max_bytes(): after a run that wrote entries, now and then, remove the
    least recently written entries (and temporary files left by killed runs)."""
    if written <= 0:
        return
    limit = max_bytes()
    stamp = root / ".swept"
    try:
        recent = time.time() - stamp.stat().st_mtime < _SWEEP_EVERY
    except OSError:
        recent = False
    if recent and written < limit // 10:
        return
    try:
        root.mkdir(parents=True, exist_ok=True)
        stamp.touch()
    except OSError:
        return
    sweep(root, limit)


def sweep(root: Path, limit: int) -> None:
    entries: list[tuple[float, int, str]] = []
    now = time.time()
    for directory, _, files in os.walk(root):
        for name in files:
            path = os.path.join(directory, name)
            try:
                info = os.stat(path)
            except OSError:
                continue
            if name.endswith(".tmp"):
                if now - info.st_mtime > _STALE_TEMPORARY:
                    _remove(path)
                continue
            if name != ".swept":
                entries.append((info.st_mtime, info.st_size, path))
    total = sum(size for _, size, _ in entries)
    if total <= limit:
        return
    target = limit * 8 // 10  # room for a while, so that not every run sweeps
    for _, size, path in sorted(entries):
        if total <= target:
            break
        _remove(path)
        total -= size


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass
