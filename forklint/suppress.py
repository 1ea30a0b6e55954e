"""Which findings are reported: select/ignore prefixes, per-file ignores and `# noqa` comments."""

from __future__ import annotations

import re
from collections.abc import Iterable
from fnmatch import translate

from forklint.config import Config
from forklint.findings import Finding

_NOQA = re.compile(
    r"#\s*noqa(?::\s*(?P<codes>[A-Z]+[0-9]+(?:[\s,]+[A-Z]+[0-9]+)*))?", re.IGNORECASE
)
_IGNORE = re.compile(r"#\s*forklint:\s*ignore(?:\[(?P<codes>[^\]]*)\])?", re.IGNORECASE)
_ALL = "ALL"


def suppressed_by_comment(code: str, line: str) -> bool:
    """`# noqa`, `# noqa: FRK103`, `# forklint: ignore`, `# forklint: ignore[FRK103]` on the anchor line."""
    if "#" not in line:
        return False
    for pattern in (_NOQA, _IGNORE):
        for m in pattern.finditer(line):
            codes = m.group("codes")
            if codes is None:
                return True
            if code in {c.upper() for c in re.split(r"[\s,]+", codes.strip()) if c}:
                return True
    return False


def _longest(code: str, prefixes: Iterable[str]) -> int:
    """Length of the most specific prefix that matches (ALL counts as the least specific), -1 for none."""
    best = -1
    for prefix in prefixes:
        prefix = prefix.strip().upper()
        if prefix == _ALL:
            best = max(best, 0)
        elif prefix and code.startswith(prefix):
            best = max(best, len(prefix))
    return best


def selected(code: str, config: Config) -> bool:
    """ruff's rule: the most specific matching prefix wins; a tie goes to ignore."""
    chosen = _longest(code, (config.select or ("FRK",)) + config.extend_select)
    if chosen < 0:
        return False
    return _longest(code, config.ignore) < chosen


class _PerFileIgnores:
    """`per-file-ignores`, each glob compiled once and each path matched once: the table comes
    from pyproject.toml, and thousands of globs asked afresh for every finding (fnmatch's cache
    of compiled patterns thrashing) took minutes."""

    def __init__(self, table: tuple[tuple[str, tuple[str, ...]], ...]) -> None:
        self._rules = [(_PathGlob(pattern), codes) for pattern, codes in table]
        self._by_path: dict[str, list[tuple[str, ...]]] = {}

    def ignored(self, code: str, path: str) -> bool:
        lists = self._by_path.get(path)
        if lists is None:
            lists = self._by_path[path] = [c for glob, c in self._rules if glob.matches(path)]
        return any(_longest(code, codes) >= 0 for codes in lists)


class _PathGlob:
    """A per-file-ignores glob as ruff reads it: fnmatch on the path (with or without `**/`), a
    bare name at any depth, `dir/` or `dir/**` for everything below."""

    def __init__(self, pattern: str) -> None:
        pattern = pattern.strip("/")
        self._regexes = [re.compile(translate(p)) for p in {pattern, pattern.replace("**/", "")}]
        self._bare = "/" not in pattern
        self._below = (
            pattern.rstrip("*").rstrip("/") + "/" if pattern.endswith(("/**", "/")) else None
        )

    def matches(self, path: str) -> bool:
        if any(regex.match(path) for regex in self._regexes):
            return True
        if self._bare:  # a bare name matches at any depth, like ruff's per-file-ignores
            return any(regex.match(path.rsplit("/", 1)[-1]) for regex in self._regexes)
        return self._below is not None and path.startswith(self._below)


def apply(findings: Iterable[Finding], config: Config) -> list[Finding]:
    per_file = _PerFileIgnores(config.per_file_ignores)
    return [
        f
        for f in findings
        if selected(f.code, config)
        and not per_file.ignored(f.code, f.path)
        and not suppressed_by_comment(f.code, f.source_line)
    ]
