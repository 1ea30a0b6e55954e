"""gitignore-style exclude globs, matched in time linear in the path, and the error a non-glob gives."""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass

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

    def matches(self, relpath: str) -> bool:
        if len(self.segments) == 2 and self.segments[0] == _ANY:  # the common `name` pattern
            return _segment_matches(self.segments[1], relpath.rpartition("/")[2])
        parts = relpath.split("/")
        states = self._closure({0})
        for part in parts:
            following = set()
            for state in states:
                if state == len(self.segments):
                    continue
                segment = self.segments[state]
                if segment == _ANY:
                    following.add(state)
                elif _segment_matches(segment, part):
                    following.add(state + 1)
            if not following:
                return False
            states = self._closure(following)
        return len(self.segments) in states

    def _closure(self, states: set[int]) -> set[int]:
        """`**` also matches no folder at all."""
        out = set(states)
        for state in sorted(states):
            while state < len(self.segments) and self.segments[state] == _ANY:
                state += 1
                out.add(state)
        return out


def _segment_matches(segment: str | re.Pattern[str], part: str) -> bool:
    if isinstance(segment, str):
        return segment == part
    return segment.match(part) is not None


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
