"""The whole-program report, cached under every file the walk sees: no change, no analysis."""

from __future__ import annotations

import hashlib
import os
import pickle
import stat
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from forklint import cachestore
from forklint.config import Config
from forklint.findings import Report
from forklint.project import MAX_FILE_BYTES, WalkedFile, make_excluder, walk

# A file modified this close to the scan (or later) may change again within the same timestamp
# tick without its stat changing, so its stat cannot vouch for its content: it is hashed on every
# run until it is older (git calls such entries "racily clean"). Two seconds covers FAT's
# timestamps; ext4, APFS and NTFS are far finer.
_RACY_NS = 2_000_000_000
_CONFIG = "\0config"  # the entry for a settings file outside the walk (`--config FILE`)

Signature = tuple[int, int, int, int, int, int]  # mode, size, mtime, ctime, inode, device


@dataclass(frozen=True)
class _Seen:
    signature: Signature | None  # None where there is nothing to stat (a walk error)
    identity: str  # the content's hash, or what stands there instead ("special:...", "error:...")
    racy: bool


class ReportCache:
    """One run's view of the tree: its key, and the cached report under it if there is one.

    The analysis reads Python files, deployment files of every kind and the settings; rather than
    list those kinds, the key covers every file the walk sees (path, and content hash — from the
    stat cache while a file's stat is unchanged), the configuration, the paths asked about and the
    engine (forklint's own code, libcst, Python). Any change in the tree is a miss.
    """

    def __init__(
        self, root: Path, paths: Sequence[Path], config: Config, store_root: Path | None = None
    ) -> None:
        self.root = root
        self.paths = paths
        self.config = config
        self.store = store_root or cachestore.cache_root()
        self._stats_path = self.store / "stats" / cachestore.key_of(os.fsencode(root))
        self._known = self._read_stats()
        self.seen = self._scan(self._known)
        self.key = self._key(self.seen)
        self._report_path = cachestore.entry_path(self.store / "reports", self.key)

    @classmethod
    def prepare(
        cls, paths: Sequence[Path], config: Config, store_root: Path | None = None
    ) -> ReportCache | None:
        """None when the run reads files outside the project root (named on the command line):
        their neighbourhood (packages above them) is not part of the key, so such runs are not cached."""
        root = Path(os.path.abspath(config.root))
        for given in paths:
            if not _inside(Path(os.path.abspath(given)), root):
                return None
        return cls(root, paths, config, store_root)

    def load(self) -> Report | None:
        if self._rehashed():
            self._write_stats(self.seen)  # keep what was hashed for the next run, hit or not
        payload = cachestore.read(self._report_path)
        if payload is None:
            return None
        try:
            report = pickle.loads(payload)
        except Exception:  # noqa: BLE001 - a damaged entry is a miss and is written again
            return None
        return report if isinstance(report, Report) else None

    def save(self, report: Report) -> None:
        """Store `report` unless the tree changed while it was computed (then it may mix two
        versions of a file, and a stale report is worse than a slow one)."""
        again = self._scan({relpath: (s.signature, s.identity) for relpath, s in self.seen.items()})
        if self._key(again) != self.key:
            return
        written = cachestore.write(
            self._report_path, pickle.dumps(report, protocol=pickle.HIGHEST_PROTOCOL)
        )
        self._write_stats(again)
        cachestore.maybe_sweep(self.store, written)

    # -- the tree's identity

    def _scan(self, known: dict[str, tuple[Signature | None, str]]) -> dict[str, _Seen]:
        started = time.time_ns()
        excluder = make_excluder(self.config)
        walked: dict[str, WalkedFile] = {}
        for item in walk(self.root, "", excluder):
            walked.setdefault(item.relpath, item)
        for given in self.paths:
            absolute = Path(os.path.abspath(given))
            relpath = _relative(absolute, self.root)
            if not relpath:
                continue
            if absolute.is_dir():  # e.g. a folder the root's walk prunes (a virtualenv)
                for item in walk(absolute, relpath, excluder):
                    walked.setdefault(item.relpath, item)
            else:
                walked.setdefault(relpath, WalkedFile(absolute, relpath))
        source = self.config.source
        if source is not None:
            walked.setdefault(_CONFIG, WalkedFile(Path(os.path.abspath(source)), _CONFIG))
        own = _relative(Path(os.path.abspath(self.store)), self.root)
        if own is not None:  # a cache folder inside the project changes with every run
            walked = {
                relpath: item
                for relpath, item in walked.items()
                if not (own == "" or relpath == own or relpath.startswith(own + "/"))
            }
        return {
            relpath: _identify(item, known.get(relpath), started)
            for relpath, item in walked.items()
        }

    def _key(self, seen: dict[str, _Seen]) -> str:
        parts: list[bytes | str] = [
            cachestore.engine_fingerprint(),
            repr(replace(self.config, format="text")),  # one report serves every output format
            os.fsencode(self.root),
            "src" if (self.root / "src").is_dir() else "",
        ]
        parts += sorted(os.fsencode(os.path.abspath(p)) for p in self.paths)
        for relpath in sorted(seen):
            parts += [os.fsencode(relpath), seen[relpath].identity]
        return cachestore.key_of(*parts)

    def _rehashed(self) -> bool:
        return any(
            not s.racy and self._known.get(relpath, (None, ""))[0] != s.signature
            for relpath, s in self.seen.items()
        )

    # -- the stat cache: relpath -> (stat signature, content hash) of the files last seen

    def _read_stats(self) -> dict[str, tuple[Signature | None, str]]:
        payload = cachestore.read(self._stats_path)
        if payload is None:
            return {}
        try:
            known = pickle.loads(payload)
        except Exception:  # noqa: BLE001 - a damaged stat cache means hashing every file once
            return {}
        return known if isinstance(known, dict) else {}

    def _write_stats(self, seen: dict[str, _Seen]) -> None:
        known = {
            relpath: (s.signature, s.identity)
            for relpath, s in seen.items()
            if not s.racy and s.signature is not None
        }
        cachestore.write(self._stats_path, pickle.dumps(known, protocol=pickle.HIGHEST_PROTOCOL))


def _identify(item: WalkedFile, known: tuple[Signature | None, str] | None, started: int) -> _Seen:
    if item.error is not None:
        return _Seen(None, f"error:{item.error}", False)
    try:
        info = os.stat(item.path)
    except OSError as exc:
        return _Seen(None, f"missing:{exc.errno}", False)
    signature: Signature = (
        info.st_mode,
        info.st_size,
        info.st_mtime_ns,
        info.st_ctime_ns,
        info.st_ino,
        info.st_dev,
    )
    if not stat.S_ISREG(info.st_mode):  # never opened: a FIFO would block the run
        return _Seen(signature, f"special:{stat.S_IFMT(info.st_mode)}", False)
    if info.st_size > MAX_FILE_BYTES:  # never read by the analysis either: its size is all it sees
        return _Seen(signature, f"large:{info.st_size}", False)
    racy = max(info.st_mtime_ns, info.st_ctime_ns) >= started - _RACY_NS
    if known is not None and known[0] == signature and not racy:
        return _Seen(signature, known[1], False)
    try:
        with open(item.path, "rb") as handle:
            identity = hashlib.blake2b(handle.read(MAX_FILE_BYTES + 1), digest_size=20).hexdigest()
    except OSError as exc:
        identity = f"unreadable:{exc.errno}"
    return _Seen(signature, identity, racy)


def _inside(path: Path, root: Path) -> bool:
    return _relative(path, root) is not None


def _relative(path: Path, root: Path) -> str | None:
    try:
        relpath = path.relative_to(root).as_posix()
    except ValueError:
        return None
    return "" if relpath == "." else relpath
