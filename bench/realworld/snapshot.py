"""Unpack one pinned commit of a fetched (bare) repository into a folder, skipping absent blobs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def unpack(git_dir: Path, commit: str, dest: Path) -> int:
    """Write every file of `commit` under `dest`; blobs the snapshot lacks (large files) are
    skipped. Returns the number of files written. Symlinks are written as symlinks only when
    they stay inside `dest`."""
    listing = subprocess.run(
        ["git", "--git-dir", str(git_dir), "ls-tree", "-r", "-z", "--full-tree", commit],
        check=True,
        capture_output=True,
    ).stdout
    entries = []
    for record in listing.split(b"\0"):
        if not record:
            continue
        meta, _, path = record.partition(b"\t")
        mode, kind, sha = meta.split()
        if kind == b"blob":
            entries.append((mode.decode(), sha.decode(), os.fsdecode(path)))
    tmp = dest.with_name(dest.name + ".partial")
    tmp.mkdir(parents=True, exist_ok=True)
    batch = subprocess.Popen(
        ["git", "--git-dir", str(git_dir), "cat-file", "--batch"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    assert batch.stdin is not None and batch.stdout is not None
    written = 0
    for mode, sha, path in entries:
        batch.stdin.write(sha.encode() + b"\n")
        batch.stdin.flush()
        header = batch.stdout.readline().split()
        if len(header) < 3 or header[1] == b"missing":
            continue
        size = int(header[2])
        data = batch.stdout.read(size)
        batch.stdout.read(1)
        target = tmp / path
        target.parent.mkdir(parents=True, exist_ok=True)
        if mode == "120000":
            link = os.fsdecode(data)
            resolved = (target.parent / link).resolve()
            if str(resolved).startswith(str(tmp.resolve())):
                try:
                    target.symlink_to(link)
                    written += 1
                except OSError:
                    pass
            continue
        target.write_bytes(data)
        if mode == "100755":
            target.chmod(0o755)
        written += 1
    batch.stdin.close()
    batch.wait()
    tmp.rename(dest)
    return written


if __name__ == "__main__":
    print(unpack(Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3])))
