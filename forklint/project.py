"""Find the project's Python files, decode them and name their modules: the whole-program model's input."""

from __future__ import annotations

import codecs
import errno
import io
import os
import re
import tokenize
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from forklint.config import Config
from forklint.findings import FileError
from forklint.fsutil import FileProblem, link_text, read_head, read_regular, within
from forklint.globs import GlobSet, compile_glob

PYTHON_SUFFIXES = (".py", ".pyi")

# The directories no one wants analysed (ruff's and black's lists, narrowed to Python projects).
# `exclude` replaces them, `extend-exclude` adds to them. Virtualenvs are also recognised by their
# pyvenv.cfg whatever their name, whatever the excludes: their files are never the project's code.
DEFAULT_EXCLUDE = (
    ".bzr",
    ".direnv",
    ".eggs",
    ".git",
    ".hg",
    ".mypy_cache",
    ".nox",
    ".pytest_cache",
    ".ruff_cache",
    ".svn",
    ".tox",
    ".venv",
    "venv",
    "__pycache__",
    "__pypackages__",
    "build",
    "dist",
    "node_modules",
    "site-packages",
    "*.egg-info",
)

# The largest file read. The biggest module of the standard library, the generated
# pydoc_data/topics.py (738 KB), raises peak memory by 130 MB while libcst parses it (libcst 1.9);
# at that rate a 10 MB generated blob costs ~2 GB for nothing forklint can act on.
MAX_FILE_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True)
class SourceFile:
    path: Path  # absolute
    relpath: str  # relative to the project root with "/"; as given for files outside the root
    module: str  # dotted module name: "app.tasks"; "app" for app/__init__.py
    is_package: bool  # True for __init__.py / __init__.pyi
    text: str | None  # decoded source (BOM stripped, PEP 263 cookie honoured); None when error
    error: FileError | None  # one-line problem (undecodable, NUL byte, unreadable, symlink loop...)


@dataclass(frozen=True)
class Project:
    root: Path
    config: Config
    files: tuple[SourceFile, ...]  # every Python file of the project (the whole-program model)
    targets: frozenset[str]  # relpaths where findings are reported (given paths, minus excludes)
    source_roots: tuple[str, ...]  # relpaths of detected/configured source roots ("" = root)


class Excluder:
    """gitignore-style globs relative to the root: `name` matches at any depth, `a/b` is anchored."""

    def __init__(self, patterns: Sequence[str]) -> None:
        self._globs = GlobSet([rule for rule in map(compile_glob, patterns) if rule is not None])

    def excluded(self, relpath: str, is_dir: bool) -> bool:
        """True when `relpath` or one of its parent directories matches a pattern."""
        parts = relpath.split("/")
        return any(
            self.matches("/".join(parts[:end]), is_dir or end < len(parts))
            for end in range(1, len(parts) + 1)
        )

    def matches(self, relpath: str, is_dir: bool) -> bool:
        """True when `relpath` itself matches (the walk has already pruned excluded parents)."""
        return self._globs.matches(relpath, is_dir)


def make_excluder(config: Config) -> Excluder:
    base = config.exclude if config.exclude else DEFAULT_EXCLUDE
    return Excluder((*base, *config.extend_exclude))


@dataclass(frozen=True)
class WalkedFile:
    path: Path  # absolute, not resolved (symlinks kept, so relpaths stay as the user sees them)
    relpath: str
    error: FileError | None = None
    outside: bool = False  # given on the command line from outside the root: relpath as given
    # A symlink whose target lies outside the project: never read, only reported (error says so).
    leaves_project: bool = False
    is_dir: bool = False  # the link (or unreadable entry) stands for a directory


def walk(
    top: Path,
    relpath: str,
    excluder: Excluder,
    *,
    match_prefix: str | None = None,
    boundary: Path | None = None,
) -> Iterator[WalkedFile]:
    """Every file under `top` (a directory), sorted, pruning excluded and virtualenv directories.

    `relpath` names `top` in the results ("" for the root). Exclusion is matched on
    `match_prefix` + the path below `top` (defaults to `relpath`). Symlinked directories are
    followed once; one that leads back to a directory being walked is reported as a loop. A
    symlink (to a file or a directory) whose target is outside `boundary` (default: `top`) is
    never followed: it comes back as an error entry with `leaves_project` set, so no caller
    reads a file that is not the project's.
    """
    prefix = relpath if match_prefix is None else match_prefix
    fence = os.path.realpath(boundary if boundary is not None else top)
    seen: set[tuple[int, int]] = set()
    # Symlinked directories wait until the real tree is walked, so a file reachable both ways
    # keeps its real path (and module name).
    deferred: list[_Pending] = []
    yield from _walk_dir(top, relpath, prefix, excluder, fence, frozenset(), seen, deferred)
    while deferred:
        pending = sorted(deferred, key=lambda item: item[1])
        deferred.clear()
        for directory, rel, match, ancestors in pending:
            yield from _walk_dir(directory, rel, match, excluder, fence, ancestors, seen, deferred)


_Pending = tuple[Path, str, str, frozenset[tuple[int, int]]]


@dataclass
class _Frame:
    """One open directory of the walk: its entries still to visit, and where it sits."""

    entries: Iterator[os.DirEntry[str]]
    directory: Path
    relpath: str
    match: str
    ancestors: frozenset[tuple[int, int]]


def _walk_dir(
    directory: Path,
    relpath: str,
    match: str,
    excluder: Excluder,
    fence: str,
    ancestors: frozenset[tuple[int, int]],
    seen: set[tuple[int, int]],
    deferred: list[_Pending],
) -> Iterator[WalkedFile]:
    # Depth first with a stack of its own, not by recursion: a tree thousands of folders deep
    # (git allows it) would exhaust Python's recursion limit.
    stack: list[_Frame] = []
    opened = _open(directory, relpath, match, ancestors, seen)
    if isinstance(opened, WalkedFile):
        yield opened
    elif opened is not None:
        stack.append(opened)
    while stack:
        frame = stack[-1]
        entry = next(frame.entries, None)
        if entry is None:
            stack.pop()
            continue
        child_rel = f"{frame.relpath}/{entry.name}" if frame.relpath else entry.name
        child_match = f"{frame.match}/{entry.name}" if frame.match else entry.name
        child = frame.directory / entry.name
        try:
            is_dir = entry.is_dir()  # follows symlinks; a dangling or looping link is "not a dir"
        except OSError:
            is_dir = False
        if is_dir:
            if excluder.matches(child_match, True) or os.path.exists(child / "pyvenv.cfg"):
                continue
            if entry.is_symlink():
                if not within(child, fence):
                    yield leaving(child, child_rel, is_dir=True)
                else:
                    deferred.append((child, child_rel, child_match, frame.ancestors))
                continue
            opened = _open(child, child_rel, child_match, frame.ancestors, seen)
            if isinstance(opened, WalkedFile):
                yield opened
            elif opened is not None:
                stack.append(opened)
        elif not excluder.matches(child_match, False):
            if entry.is_symlink() and _symlink_loops(child):
                yield WalkedFile(child, child_rel, FileError(child_rel, "symlink loop; skipped"))
            elif entry.is_symlink() and not within(child, fence):
                yield leaving(child, child_rel, is_dir=False)
            else:
                yield WalkedFile(child, child_rel)


def _open(
    directory: Path,
    relpath: str,
    match: str,
    ancestors: frozenset[tuple[int, int]],
    seen: set[tuple[int, int]],
) -> _Frame | WalkedFile | None:
    """The directory's sorted entries as a frame; an error entry when it cannot be read or loops
    back to a parent; None when it was walked before through another path."""
    try:
        info = directory.stat()
        key = (info.st_dev, info.st_ino)
        if key in ancestors:
            message = "symlink loop: the link leads back to a parent directory; skipped"
            return WalkedFile(directory, relpath, FileError(relpath, message), is_dir=True)
        if key in seen:  # reached before through another path: same files, same modules
            return None
        seen.add(key)
        with os.scandir(directory) as scan:
            entries = sorted(scan, key=lambda e: e.name)
    except OSError as exc:
        error = FileError(relpath or ".", f"cannot read directory: {_reason(exc)}")
        return WalkedFile(directory, relpath, error, is_dir=True)
    return _Frame(iter(entries), directory, relpath, match, ancestors | {key})


def leaving(path: Path, relpath: str, *, is_dir: bool) -> WalkedFile:
    """The entry for a symlink that leads out of the project: reported once, never read."""
    what = "a folder" if is_dir else "a file"
    target = link_text(path)
    message = f"symlink to {what} outside the project ({target}); not followed"
    return WalkedFile(
        path, relpath, FileError(relpath, message), leaves_project=True, is_dir=is_dir
    )


def _symlink_loops(path: Path) -> bool:
    try:
        path.stat()
    except OSError as exc:
        return exc.errno == errno.ELOOP
    return False


def _reason(exc: OSError) -> str:
    return (exc.strerror or exc.__class__.__name__).lower()


def discover(paths: Sequence[Path], config: Config) -> Project:
    """The project under `config.root`: all its Python files, and the given paths as targets."""
    root = Path(os.path.abspath(config.root))
    excluder = make_excluder(config)
    found: dict[str, WalkedFile] = {}  # relpath -> file, the whole project
    targets: set[str] = set()

    for walked in walk(root, "", excluder):
        if _is_python(walked.relpath) or _worth_reporting(walked) or _bin_script(walked):
            found.setdefault(walked.relpath, walked)
    if not paths:
        targets.update(found)
    for given in paths:
        for walked in _expand(given, root, excluder):
            found.setdefault(walked.relpath, walked)
            targets.add(walked.relpath)

    read = {rel: _read(walked) for rel, walked in sorted(found.items())}
    source_roots = _source_roots(root, config, found, read)
    files = tuple(_load(found[rel], root, source_roots, *read[rel]) for rel in read)
    return Project(
        root=root,
        config=config,
        files=files,
        targets=frozenset(targets),
        source_roots=source_roots,
    )


def _is_python(relpath: str) -> bool:
    return relpath.endswith(PYTHON_SUFFIXES)


def _worth_reporting(walked: WalkedFile) -> bool:
    """A walk error discovery reports: any, except a link out of the project to a non-Python file
    (a README.md linked from a parent folder is not code forklint would have read)."""
    return walked.error is not None and (not walked.leaves_project or walked.is_dir)


def _expand(given: Path, root: Path, excluder: Excluder) -> Iterator[WalkedFile]:
    """The files one command-line path stands for, excludes applied (also to a file named explicitly)."""
    absolute = Path(os.path.abspath(given))
    inside = _relative_to(absolute, root)
    shown = given.as_posix()
    if inside is not None:
        relpath, match = inside, inside
    else:
        # Outside the root, patterns apply from the given path down, never to its parents.
        relpath, match = shown, absolute.name
    if relpath == "":
        is_dir = True
    else:
        try:
            is_dir = absolute.is_dir()
        except OSError:
            is_dir = False
        if excluder.excluded(match, is_dir):
            return
    outside = inside is None
    if not outside and (link := _link_out(absolute, root)) is not None:
        yield leaving(link, _relative_to(link, root) or link.name, is_dir=os.path.isdir(link))
        return
    if is_dir:
        boundary = absolute if outside else root
        for walked in walk(absolute, relpath, excluder, match_prefix=match, boundary=boundary):
            if _is_python(walked.relpath) or _worth_reporting(walked):
                yield replace(walked, outside=outside)
        return
    error = None
    if not os.path.lexists(absolute):
        error = FileError(relpath, "no such file or directory")
    elif _symlink_loops(absolute):
        error = FileError(relpath, "symlink loop; skipped")
    elif not _is_python(relpath) and not _python_script(absolute):
        return  # README.md, Procfile...: `forklint *` in a project root checks only Python
    # A script named on the command line (`bin/worker`, a python shebang) is analysed too.
    yield WalkedFile(absolute, relpath, error, outside)


def _link_out(path: Path, root: Path) -> Path | None:
    """The first symlink on the way from `root` down to `path` that leads out of the project."""
    if within(path, root):
        return None
    current = root  # `path` is below `root` as written (else it would be within it resolved)
    for part in path.relative_to(root).parts:
        current = current / part
        if os.path.islink(current) and not within(current, root):
            return current
    return path


def _bin_script(walked: WalkedFile) -> bool:
    """An extension-less Python script in a `bin/` or `scripts/` folder (`bin/worker` with a
    `#!/usr/bin/env python` line, run by a compose command; held-out freight): project code."""
    folder = walked.relpath.rpartition("/")[0].rpartition("/")[2]
    if folder not in ("bin", "scripts") or walked.error is not None or walked.is_dir:
        return False
    if walked.leaves_project:
        return False
    return _python_script(walked.path, unreadable=False)


def _python_script(path: str | Path, unreadable: bool = True) -> bool:
    """An extension-less file whose shebang runs Python. An unreadable one counts when it was
    named on the command line (the reader then says why), not when a walk came across it."""
    if os.path.splitext(str(path))[1]:
        return False
    try:
        first = read_head(path, 200).partition(b"\n")[0]
    except FileProblem:
        return unreadable
    return first.startswith(b"#!") and b"python" in first


def _relative_to(path: Path, root: Path) -> str | None:
    for candidate, base in (
        (path, root),
        (Path(os.path.realpath(path)), Path(os.path.realpath(root))),
    ):
        try:
            rel = candidate.relative_to(base).as_posix()
        except ValueError:
            continue
        return "" if rel == "." else rel
    return None


# ---- module names ---------------------------------------------------------------------------


def _source_roots(
    root: Path,
    config: Config,
    found: dict[str, WalkedFile],
    read: dict[str, tuple[str | None, FileError | None]],
) -> tuple[str, ...]:
    """Configured roots (`src`), else the root, `src/` and every folder that holds a top-level package.

    A folder without `__init__.py` that holds packages is a source root of its own unless the
    project's code names its modules as a namespace package under an outer folder
    (`_namespace_root`).
    """
    package_dirs = frozenset(
        rel.rpartition("/")[0]
        for rel, walked in found.items()
        if rel.rpartition("/")[2] in ("__init__.py", "__init__.pyi") and not walked.outside
    )
    roots: set[str] = {""}
    if config.src:
        roots.update(_normalise(src) for src in config.src)
        return _ordered(roots)
    if os.path.isdir(root / "src") and "src" not in package_dirs:
        roots.add("src")
    holders = set()
    for directory in package_dirs:
        parent = directory.rpartition("/")[0] if "/" in directory else ""
        if parent not in package_dirs:
            holders.add(parent)
    children = _children(found)
    code = _Code([text for text, _ in read.values() if text is not None])
    for holder in holders - roots:
        roots.add(_namespace_root(holder, children, (roots | holders) - {holder}, code))
    roots.update(holders & {"", "src"})
    return _ordered(roots)


def _ordered(roots: set[str]) -> tuple[str, ...]:
    return tuple(sorted(roots, key=lambda r: (r.count("/") if r else -1, r)))


def _namespace_root(
    holder: str, children: dict[str, set[str]], others: set[str], code: _Code
) -> str:
    """The source root for `holder`, a folder without `__init__.py` that holds packages.

    `sortinghat/core/` holding `management/` is a root of its own (modules `management.x`,
    `jobs`) unless the project writes `sortinghat.core.jobs`: then `sortinghat/core/` is a
    namespace package (PEP 420) under the outermost folder whose dotted path the code writes.
    When the code also imports the holder's modules by their short names, the project runs from
    inside the holder and the holder stays the root. No evidence either way: the holder.
    """
    names = children.get(holder, set())
    parts = holder.split("/")
    for cut in range(len(parts)):  # the outermost folder first
        if not names or not all(part.isidentifier() for part in parts[cut:]):
            continue
        if not code.writes(".".join(parts[cut:]), names):
            continue
        # Short names another root also holds (`config`, `utils`) prove nothing, and an import
        # proves something only when it names what the holder has below the name
        # (`from api.tasks import`, `from api import tasks`): `import rq` in dioptra is the RQ
        # library, not `src/dioptra/rq/`.
        short = names.difference(*(children.get(other, ()) for other in others))
        if any(
            head in short and second in children.get(f"{holder}/{head}", ())
            for head, second in code.short_imports()
        ):
            return holder
        return "/".join(parts[:cut])
    return holder


class _Code:
    """The project's source texts, searched for how it names its own modules."""

    _FROM = re.compile(
        r"^[ \t]*from[ \t]+(\w+)(?:\.(\w+))?(?:\.\w+)*[ \t]+import[ \t]+(?:\(([^)]*)\)|([^\n]*))", re.M
    )
    _IMPORT = re.compile(r"^[ \t]*import[ \t]+(\w+)\.(\w+)", re.MULTILINE)

    def __init__(self, texts: list[str]) -> None:
        self.texts = texts
        self._pairs: set[tuple[str, str]] | None = None

    def writes(self, prefix: str, names: Iterable[str]) -> bool:
        """Whether some text names `prefix.<one of names>` (`sortinghat.core.jobs`, in code or a string)."""
        needle = prefix + "."
        dotted = re.compile(
            re.escape(needle) + "(?:" + "|".join(map(re.escape, sorted(names))) + r")\b"
        )
        for text in self.texts:
            if needle not in text:
                continue
            for match in dotted.finditer(text):  # the literal first keeps the search fast
                start = match.start()
                before = text[start - 1] if start else " "
                if before.isalnum() or before in "_.":
                    continue
                if "#" not in text[text.rfind("\n", 0, start) + 1 : start]:  # not a comment
                    return True
        return False

    def short_imports(self) -> set[tuple[str, str]]:
        """(first, second) names of the project's absolute imports that name two levels:
        `from a.b import x` and `import a.b` give (a, b); `from a import x, y` gives (a, x), (a, y)."""
        if self._pairs is None:
            pairs: set[tuple[str, str]] = set()
            for text in self.texts:
                for match in self._IMPORT.finditer(text):
                    pairs.add((match[1], match[2]))
                for match in self._FROM.finditer(text):
                    if match[2]:
                        pairs.add((match[1], match[2]))
                        continue
                    names = re.sub(r"#[^\n]*", "", match[3] or match[4] or "")
                    for item in names.split(","):
                        words = item.split()
                        if words and words[0].isidentifier():
                            pairs.add((match[1], words[0]))
            self._pairs = pairs
        return self._pairs


def _children(found: dict[str, WalkedFile]) -> dict[str, set[str]]:
    """Folder -> the names importable right below it: its modules and its (namespace) packages."""
    out: dict[str, set[str]] = {}
    for rel in found:
        if not _is_python(rel):
            continue
        parts = rel.split("/")
        stem = parts[-1].split(".")[0]
        if stem != "__init__" and stem.isidentifier():
            out.setdefault("/".join(parts[:-1]), set()).add(stem)
        for depth in range(1, len(parts) - 1):
            if parts[depth].isidentifier():
                out.setdefault("/".join(parts[:depth]), set()).add(parts[depth])
        if len(parts) > 1 and parts[0].isidentifier():
            out.setdefault("", set()).add(parts[0])
    return out


def _normalise(relpath: str) -> str:
    rel = Path(relpath).as_posix().strip("/")
    return "" if rel in (".", "") else rel


def module_name(relpath: str, source_roots: Sequence[str]) -> tuple[str, bool]:
    """Dotted name of the file from its innermost source root, and whether it is a package."""
    directory, _, filename = relpath.rpartition("/")
    stem = filename
    for suffix in PYTHON_SUFFIXES:
        if stem.endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    is_package = stem == "__init__" and filename != stem
    best = ""
    for candidate in source_roots:
        inside = directory == candidate or directory.startswith(candidate + "/")
        if candidate and inside and len(candidate) > len(best):
            best = candidate
    below = directory[len(best) :].strip("/") if best else directory
    parts = [p for p in below.split("/") if p]
    if not is_package:
        parts.append(stem)
    return ".".join(parts), is_package


def _outside_module_name(path: Path) -> tuple[str, bool]:
    """Name of a file outside the root: its package chain (folders holding __init__.py) upward."""
    stem = path.name.split(".")[0] if path.name.endswith(PYTHON_SUFFIXES) else path.name
    is_package = stem == "__init__"
    parts = [] if is_package else [stem]
    directory = path.parent
    while os.path.isfile(directory / "__init__.py") or os.path.isfile(directory / "__init__.pyi"):
        parts.insert(0, directory.name)
        if directory.parent == directory:
            break
        directory = directory.parent
    return ".".join(parts), is_package


def _read(walked: WalkedFile) -> tuple[str | None, FileError | None]:
    if walked.error is not None:
        return None, walked.error
    return read_source(walked.path, walked.relpath)


def _load(
    walked: WalkedFile,
    root: Path,
    source_roots: Sequence[str],
    text: str | None,
    error: FileError | None,
) -> SourceFile:
    if walked.outside:
        module, is_package = _outside_module_name(walked.path)
    else:
        module, is_package = module_name(walked.relpath, source_roots)
        if not module:  # an __init__.py at the root itself: the package is the root folder
            module = root.name
    if walked.error is not None:
        if not _is_python(walked.relpath):  # a directory that could not be walked names no module
            module, is_package = "", False
        return SourceFile(walked.path, walked.relpath, module, is_package, None, walked.error)
    return SourceFile(walked.path, walked.relpath, module, is_package, text, error)


# ---- decoding -------------------------------------------------------------------------------


def read_source(path: Path, relpath: str) -> tuple[str | None, FileError | None]:
    """Decode a Python file as the interpreter would; every failure is a one-line FileError."""
    data, error = read_bytes(path, relpath)
    if error is not None or data is None:
        return None, error
    return decode_source(data, relpath)


def read_bytes(
    path: Path, relpath: str, limit: int = MAX_FILE_BYTES
) -> tuple[bytes | None, FileError | None]:
    """The file's bytes; refuses what is not a regular file (a FIFO would block the run forever)."""
    try:
        return read_regular(path, limit), None
    except FileProblem as problem:
        if problem.kind in ("special", "size"):
            return None, FileError(relpath, f"{problem}; skipped")
        if problem.kind == "loop":
            return None, FileError(relpath, "symlink loop; skipped")
        if problem.kind == "directory":
            return None, FileError(relpath, str(problem))
        return None, FileError(relpath, f"cannot read file: {problem}")


def decode_source(data: bytes, relpath: str) -> tuple[str | None, FileError | None]:
    nul = data.find(b"\0")
    if nul >= 0:
        return None, _byte_error(
            relpath, data, nul, f"contains a NUL byte at byte {nul}; not Python source"
        )
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as exc:
        reason = str(exc.msg)
        if not reason.startswith("invalid or missing"):
            return None, FileError(relpath, f"bad coding declaration ({reason})", 1)
        # A first line that is not UTF-8 and declares nothing: decoding below names the byte.
        encoding = "utf-8"
    offset = 0
    if encoding == "utf-8-sig":
        encoding = "utf-8"
        if data.startswith(codecs.BOM_UTF8):
            offset = len(codecs.BOM_UTF8)
    try:
        text = data[offset:].decode(encoding)
    except UnicodeDecodeError as exc:
        at = offset + exc.start
        message = f"cannot decode as {encoding} at byte {at}"
        return None, _byte_error(relpath, data, at, message, encoding)
    except LookupError:
        return None, FileError(
            relpath, f"unknown encoding {encoding!r} in the coding declaration", 1
        )
    return text, None


def _byte_error(
    relpath: str, data: bytes, offset: int, message: str, encoding: str = "utf-8"
) -> FileError:
    """An error at a byte offset, placed at its 1-based line and character column (BOM not counted)."""
    line_start = data.rfind(b"\n", 0, offset) + 1
    if line_start == 0 and data.startswith(codecs.BOM_UTF8):
        line_start = len(codecs.BOM_UTF8)
    before = data[line_start:offset].decode(encoding, errors="replace")
    return FileError(relpath, message, data.count(b"\n", 0, offset) + 1, len(before) + 1)
