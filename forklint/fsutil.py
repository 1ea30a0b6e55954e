"""Touch the file system safely: read regular files only, keep inside the project, write atomically."""

from __future__ import annotations

import errno
import os
import stat
import tempfile


class FileProblem(Exception):
    """A file that cannot be read or written as asked; the message is a short lower-case reason.

    `kind` says which: "os" (the system refused: permission, missing...), "loop" (a symlink
    loop), "directory", "special" (FIFO, device, socket), "size" (over the limit) or "link" (a
    symlink where forklint will not follow one).
    """

    def __init__(self, message: str, kind: str = "os") -> None:
        super().__init__(message)
        self.kind = kind


def _os_problem(exc: OSError) -> FileProblem:
    if exc.errno == errno.ENXIO:  # opening a unix socket, or a FIFO without a reader
        return FileProblem("not a regular file (device, socket or FIFO)", "special")
    return FileProblem(reason(exc), "loop" if exc.errno == errno.ELOOP else "os")


def reason(exc: OSError) -> str:
    """`permission denied`, `no such file or directory`: the OS's words, as a message fragment."""
    if exc.errno == errno.ELOOP:
        return "symlink loop"
    return (exc.strerror or exc.__class__.__name__).lower()


def read_regular(path: str | os.PathLike[str], limit: int) -> bytes:
    """The bytes of the regular file at `path`, at most `limit` of them; never blocks.

    The file is opened without blocking and checked on the open descriptor, so a FIFO or a
    device (which would block the run forever, or never end) is refused whatever the path
    pointed at when it was looked up.
    """
    return _read(path, limit, cut=False)


def read_head(path: str | os.PathLike[str], size: int) -> bytes:
    """The first `size` bytes of the regular file at `path` (a shebang line); never blocks."""
    return _read(path, size, cut=True)


def _read(path: str | os.PathLike[str], limit: int, *, cut: bool) -> bytes:
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise _os_problem(exc) from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise FileProblem("is a directory, not a file", "directory")
        if not stat.S_ISREG(info.st_mode):
            raise FileProblem("not a regular file (device, socket or FIFO)", "special")
        if info.st_size > limit and not cut:
            too_big = f"file is larger than {_size(limit)} ({info.st_size} bytes)"
            raise FileProblem(too_big, "size")
        chunks = []
        size = 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        data = b"".join(chunks)
        if size > limit:
            if cut:
                return data[:limit]
            raise FileProblem(f"file is larger than {_size(limit)} (it grew while read)", "size")
        return data
    except OSError as exc:
        raise _os_problem(exc) from None
    finally:
        os.close(fd)


def _size(limit: int) -> str:
    return f"{limit // (1024 * 1024)} MB" if limit >= 1024 * 1024 else f"{limit} bytes"


def within(path: str | os.PathLike[str], directory: str | os.PathLike[str]) -> bool:
    """True when `path`, every symlink resolved, is `directory` or lies below it (also resolved)."""
    real = os.path.realpath(path)
    base = os.path.realpath(directory)
    return real == base or real.startswith(base.rstrip(os.sep) + os.sep)


def leads_out(path: str | os.PathLike[str], root: str | os.PathLike[str]) -> bool:
    """True when `path` is inside `root` as written but a symlink on the way takes it outside:
    a file the project only pretends to hold (`baseline.json -> ~/.docker/config.json`)."""
    written = os.path.abspath(path)
    base = os.path.abspath(root)
    inside = written == base or written.startswith(base.rstrip(os.sep) + os.sep)
    return inside and not within(written, base)


def link_text(path: str | os.PathLike[str]) -> str:
    """What the symlink at `path` says it points to (as committed), for messages."""
    try:
        return os.readlink(path)
    except OSError:
        return "?"


def atomic_write(path: str | os.PathLike[str], data: bytes) -> None:
    """Replace the file at `path` with `data` all at once, or leave it as it was.

    The bytes go to a temporary file in the same directory, are flushed to disk, and the file is
    renamed over the target, so a full disk, a file-size limit or a crash never leaves a cut-off
    file. A symlink (even a dangling one) is refused rather than written through: the target
    could be anywhere, and a dangling link would make forklint create a file outside the
    project. A target that is not a regular file (a FIFO, a device) is refused too. An existing
    file keeps its permission bits.

    Raises FileProblem with a one-line reason.
    """
    target = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(target))
    try:
        info: os.stat_result | None = os.lstat(target)
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise FileProblem(reason(exc)) from None
    if info is not None:
        if stat.S_ISLNK(info.st_mode):
            where = link_text(target)
            if not os.path.exists(target):
                raise FileProblem(
                    f"is a dangling symlink (to {where}); refusing to create its target", "link"
                )
            raise FileProblem(f"is a symlink (to {where}); refusing to write through it", "link")
        if stat.S_ISDIR(info.st_mode):
            raise FileProblem("is a directory, not a file", "directory")
        if not stat.S_ISREG(info.st_mode):
            raise FileProblem(
                "not a regular file (device, socket or FIFO); refusing to write to it", "special"
            )
        if not os.access(target, os.W_OK):
            # A rename would replace it anyway (the folder is writable): respect the read-only bit.
            raise FileProblem("permission denied (the file is read-only)")
    if not os.path.isdir(directory):
        raise FileProblem(f"no such directory {directory}")
    name = os.path.basename(target)
    try:
        fd, temporary = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise FileProblem(f"cannot create a file in {directory}: {reason(exc)}") from None
    try:
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(temporary, stat.S_IMODE(info.st_mode) if info is not None else _default_mode())
            if info is not None and os.geteuid() == 0:
                # root editing someone's pyproject.toml must not hand the file to root
                os.chown(temporary, info.st_uid, info.st_gid)
            os.replace(temporary, target)
        except OSError as exc:
            raise FileProblem(reason(exc)) from None
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise
    _sync_directory(directory)


def append(path: str | os.PathLike[str], data: bytes) -> None:
    """Add `data` at the end of the regular file at `path` (created when missing); never blocks.

    For files another program hands over to be appended to, such as $GITHUB_STEP_SUMMARY: a
    FIFO there would block the run until something reads it, so it is refused.
    """
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NONBLOCK | os.O_NOCTTY
    try:
        fd = os.open(path, flags | getattr(os, "O_CLOEXEC", 0), 0o666)
    except OSError as exc:
        raise _os_problem(exc) from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise FileProblem("not a regular file (device, socket or FIFO)", "special")
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    except OSError as exc:
        raise _os_problem(exc) from None
    finally:
        os.close(fd)


def _default_mode() -> int:
    """What `open(path, "w")` would give a new file: 0o666 minus the umask."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def _sync_directory(directory: str) -> None:
    """Make the rename itself durable; a file system that cannot sync a directory only loses that."""
    try:
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
