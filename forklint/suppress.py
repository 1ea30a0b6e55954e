"""Which findings are reported: select/ignore prefixes, per-file ignores and `# noqa` comments."""

from __future__ import annotations

import re
from collections.abc import Iterable
from fnmatch import fnmatchcase

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


def _file_ignored(code: str, path: str, config: Config) -> bool:
    for pattern, codes in config.per_file_ignores:
        if _glob_match(path, pattern) and _longest(code, codes) >= 0:
            return True
    return False


def _glob_match(path: str, pattern: str) -> bool:
    pattern = pattern.strip("/")
    if fnmatchcase(path, pattern) or fnmatchcase(path, pattern.replace("**/", "")):
        return True
    if "/" not in pattern:  # a bare name matches at any depth, like ruff's per-file-ignores
        return fnmatchcase(path.rsplit("/", 1)[-1], pattern)
    return (
        path.startswith(pattern.rstrip("*").rstrip("/") + "/")
        if pattern.endswith(("/**", "/"))
        else False
    )


def apply(findings: Iterable[Finding], config: Config) -> list[Finding]:
    return [
        f
        for f in findings
        if selected(f.code, config)
        and not _file_ignored(f.code, f.path, config)
        and not suppressed_by_comment(f.code, f.source_line)
    ]
