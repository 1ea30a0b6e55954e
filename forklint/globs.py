"""gitignore-style exclude globs -> regular expressions, and the error a pattern that is no glob gives."""

from __future__ import annotations

import re


class GlobError(ValueError):
    """A pattern that is not a glob; the message says why in a few words."""


def compile_glob(pattern: str) -> tuple[re.Pattern[str], bool] | None:
    """The regex matching root-relative paths for `pattern`, and whether it matches directories only.

    `name` matches at any depth, `a/b` is anchored to the root (a slash anywhere but at the end
    anchors, as in gitignore), `*` and `?` stay within one path segment, `**` crosses them and
    `[a-z]`/`[!a-z]` are character classes. Blank patterns and `#` comments give None.
    """
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
    regex = "" if anchored else "(?:.*/)?"
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            regex += "(?:.*/)?"
            i += 3
        elif pattern.startswith("/**", i) and i + 3 == len(pattern):
            regex += "(?:/.*)?"
            i += 3
        elif pattern.startswith("**", i):
            regex += ".*"
            i += 2
        elif pattern[i] == "*":
            regex += "[^/]*"
            i += 1
        elif pattern[i] == "?":
            regex += "[^/]"
            i += 1
        elif pattern[i] == "[" and (end := _class_end(pattern, i)) is not None:
            regex += _character_class(pattern[i + 1 : end])
            i = end + 1
        else:
            regex += re.escape(pattern[i])
            i += 1
    try:
        return re.compile(regex), dir_only
    except re.error as exc:  # e.g. a reversed range, [z-a]
        raise GlobError(str(exc.msg)) from None


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
    negate = body[:1] in ("!", "^")
    if negate:
        body = body[1:]
    # Everything but the range dash is literal; regex syntax ("\\", "[", "&&") must not leak in.
    inner = "".join(c if c == "-" else re.escape(c) for c in body)
    # A class never matches the separator, as in gitignore.
    return f"[^/{inner}]" if negate else f"(?!/)[{inner}]"
