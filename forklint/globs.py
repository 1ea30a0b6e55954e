"""gitignore-style exclude globs, matched in time linear in the path, and the error a non-glob gives."""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field

# A pattern comes from the project's pyproject.toml, which a pull request may change: matching
# must not backtrack. One regex per path segment, from fnmatch (whose translation keeps `*`
# from backtracking), and the segments matched by a small automaton where `**` spans folders;
# a single regex of the whole pattern took seconds per path for `**/**/**/**/**/**/**/**/x`.

_ANY = "**"  # a whole segment: zero or more folders


class GlobError(ValueError):
    """A pattern that is not a glob; the message says why in a few words."""


@dataclass(frozen=True)
class Glob:
    """One exclude pattern: `name` matches at any depth, `a/b` is anchored to the root (a slash
    anywhere but at the end anchors, as in gitignore), `*`, `?` and `[a-z]`/`[!a-z]` stay within a
    segment, a `**` segment spans any number of folders, a trailing `/` matches folders only."""

    segments: tuple[str | re.Pattern[str], ...]  # a literal name, a segment regex, or _ANY
    dir_only: bool
    _closures: dict[frozenset[int], frozenset[int]] = field(
        default_factory=dict, compare=False, repr=False
    )

    def matches(self, relpath: str) -> bool:
        states = self.start()
        for part in relpath.split("/"):
            states = self.step(states, part)
            if not states:
                return False
        return self.accepts(states)

    def start(self) -> frozenset[int]:
        """Where matching stands before the first segment (positions in `segments`)."""
        return self._closure(frozenset({0}))

    def step(self, states: frozenset[int], part: str) -> frozenset[int]:
        """Where matching stands after one more path segment; empty: it can no longer match."""
        following = []
        segments = self.segments
        for state in states:
            if state < len(segments):
                segment = segments[state]
                if segment is _ANY:
                    following.append(state)
                elif segment == part if isinstance(segment, str) else segment.match(part):
                    following.append(state + 1)
        return self._closure(frozenset(following))

    def accepts(self, states: frozenset[int]) -> bool:
        return len(self.segments) in states

    def _closure(self, states: frozenset[int]) -> frozenset[int]:
        """`**` also matches no folder at all (a walk meets the same few state sets again and
        again: they are kept)."""
        known = self._closures.get(states)
        if known is None:
            out = set(states)
            for state in states:
                while state < len(self.segments) and self.segments[state] is _ANY:
                    state += 1
                    out.add(state)
            known = self._closures[states] = frozenset(out)
        return known


class GlobSet:
    """Many globs asked about the entries of a walk, folder by folder.

    `name` patterns (most of them: `.git`, `*.egg-info`) are one set and one combined regex
    over the entry's name; every other glob keeps where it stands after each folder's path,
    so an entry costs one segment per glob still alive, not its whole path per glob.
    """

    def __init__(self, globs: list[Glob]) -> None:
        names: list[Glob] = []
        self._rules: list[Glob] = []
        for glob in globs:
            is_name = len(glob.segments) == 2 and glob.segments[0] == _ANY
            (names if is_name else self._rules).append(glob)
        self._literal: dict[bool, frozenset[str]] = {}
        self._wild: dict[bool, re.Pattern[str] | None] = {}
        for dir_only in (False, True):
            chosen = [g.segments[1] for g in names if g.dir_only == dir_only]
            self._literal[dir_only] = frozenset(s for s in chosen if isinstance(s, str))
            wild = [f"(?:{s.pattern})" for s in chosen if not isinstance(s, str)]
            self._wild[dir_only] = re.compile("|".join(wild)) if wild else None
        self._states: dict[str, tuple[frozenset[int], ...]] = {}

    def matches(self, relpath: str, is_dir: bool) -> bool:
        """True when `relpath` itself matches (a walk has already pruned excluded folders)."""
        parent, _, name = relpath.rpartition("/")
        for dir_only in (False, True) if is_dir else (False,):
            wild = self._wild[dir_only]
            if name in self._literal[dir_only] or (wild is not None and wild.match(name)):
                return True
        if not self._rules:
            return False
        return any(
            states and (is_dir or not glob.dir_only) and glob.accepts(glob.step(states, name))
            for glob, states in zip(self._rules, self._after(parent), strict=True)
        )

    def _after(self, folder: str) -> tuple[frozenset[int], ...]:
        """Each glob's states after the segments of `folder` ("" for the root)."""
        known = self._states.get(folder)
        if known is not None:
            return known
        # Up to the nearest folder already known (a walk goes top-down: usually the parent),
        # then down again one segment at a time; a loop, as trees can be thousands deep.
        missing: list[str] = []
        above = folder
        while above and above not in self._states:
            above, _, name = above.rpartition("/")
            missing.append(name)
        known = self._states[above] if above else tuple(glob.start() for glob in self._rules)
        if len(self._states) > 10_000:  # a walk needs its current folders only
            self._states.clear()
        for name in reversed(missing):
            above = f"{above}/{name}" if above else name
            known = tuple(
                glob.step(states, name) if states else states
                for glob, states in zip(self._rules, known, strict=True)
            )
            self._states[above] = known
        return known


def compile_glob(pattern: str) -> Glob | None:
    """The Glob for `pattern`; None for a blank pattern or a `#` comment; GlobError when it is no glob."""
    pattern = pattern.strip().replace("\\", "/")
    if not pattern or pattern.startswith("#"):
        return None
    dir_only = pattern.endswith("/")
    pattern = pattern.rstrip("/")
    anchored = "/" in pattern
    pattern = pattern.lstrip("/")
    while pattern.startswith("./"):
        pattern = pattern[2:]
    if not pattern:
        return None
    segments: list[str | re.Pattern[str]] = [] if anchored else [_ANY]
    for part in pattern.split("/"):
        if not part or part == ".":
            continue
        if part == _ANY:
            if segments[-1:] != [_ANY]:  # `**/**` is `**`
                segments.append(_ANY)
            continue
        segments.append(_segment(part))
    return Glob(tuple(segments), dir_only)


def _segment(part: str) -> str | re.Pattern[str]:
    """A literal name, or the regex of one segment; `**` inside a name is a plain `*` (gitignore)."""
    part = re.sub(r"\*{2,}", "*", part)
    if not any(c in part for c in "*?["):
        return part
    out = []
    i = 0
    while i < len(part):
        if part[i] == "[" and (end := _class_end(part, i)) is not None:
            out.append(_character_class(part[i + 1 : end]))
            i = end + 1
        elif part[i] == "[":
            out.append("[[]")  # an unclosed bracket is itself (fnmatch would agree)
            i += 1
        else:
            out.append(part[i])
            i += 1
    return re.compile(fnmatch.translate("".join(out)))


def _class_end(pattern: str, start: int) -> int | None:
    """The index of the `]` closing the class opened at `start` (a `]` right after `[` or `[!` is
    part of the class), or None when it is never closed (then `[` is a literal)."""
    i = start + 1
    if i < len(pattern) and pattern[i] in "!^":
        i += 1
    if i < len(pattern) and pattern[i] == "]":
        i += 1
    end = pattern.find("]", i)
    return end if end >= 0 else None


def _character_class(body: str) -> str:
    """The class in fnmatch's syntax (`!` negates; `^` is taken as `!`, as gitignore does)."""
    negate = body[:1] in ("!", "^")
    if negate:
        body = body[1:]
    for match in re.finditer(r"(.)-(.)", body[1:] if body.startswith("]") else body):
        low, high = match.groups()
        if low > high:
            raise GlobError(f"bad character range {low}-{high}")
    return "[" + ("!" if negate else "") + body + "]"
