"""Set `[tool.forklint.prefork]` in pyproject.toml text, leaving every byte outside that table alone."""

from __future__ import annotations

import copy
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from forklint.config import MAX_CONFIG_BYTES
from forklint.findings import Prefork
from forklint.fsutil import FileProblem, atomic_write, link_text, read_regular

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

TABLE = ("tool", "forklint", "prefork")
_BARE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
_WIDTH = 88  # longer arrays are written one entry per line


class EditError(Exception):
    """pyproject.toml cannot be edited safely; the message says why and what to do instead."""


@dataclass(frozen=True)
class _Header:
    start: int  # offset of the line
    end: int  # offset after the line's newline
    key: tuple[str, ...]
    array: bool  # [[array.of.tables]]


@dataclass(frozen=True)
class _Assignment:
    start: int
    end: int  # offset after the line's newline (after the value's last line for multi-line values)
    table: tuple[str, ...]  # the enclosing header's key, () for the top level
    key: tuple[str, ...]  # as written: ("prefork", "imports") for `prefork.imports = ...`
    value_start: int
    value_end: int  # the value without trailing blanks or comment


def write_prefork(path: Path, prefork: Prefork) -> None:
    """Add or replace the table in the pyproject.toml at `path` (created when missing).

    The file is replaced atomically; a symlinked pyproject.toml is refused (its target may be
    outside the project, and a dangling link would make forklint create that target).
    """
    if os.path.islink(path):
        raise EditError(
            f"{path}: is a symlink (to {link_text(path)}); refusing to edit through it; "
            "add the table printed by `forklint prefork` to the file it points to"
        )
    try:
        text = read_regular(path, MAX_CONFIG_BYTES).decode("utf-8") if os.path.lexists(path) else ""
    except FileProblem as problem:
        raise EditError(f"{path}: cannot read ({problem})") from None
    except UnicodeDecodeError as exc:
        raise EditError(f"{path}: cannot read ({exc})") from None
    edited = set_prefork(text, prefork, where=str(path))
    if edited == text:
        return
    try:
        atomic_write(path, edited.encode("utf-8"))
    except FileProblem as problem:
        raise EditError(f"{path}: cannot write ({problem}); the file was left as it was") from None


def set_prefork(text: str, prefork: Prefork, *, where: str = "pyproject.toml") -> str:
    """`text` whose `[tool.forklint.prefork]` also holds `prefork`'s entries (existing ones stay first)."""
    try:
        before = tomllib.loads(text)
    except ValueError as exc:  # TOMLDecodeError, or an integer of thousands of digits
        raise EditError(f"{where}: invalid TOML ({exc}); fix it before using --write") from None
    except RecursionError:
        raise EditError(
            f"{where}: invalid TOML (nested too deeply); fix it before using --write"
        ) from None
    current = _current(before, where)
    merged = current.merge(prefork)
    if merged == current:
        return text
    values = merged.to_dict()
    newline = "\r\n" if text.partition("\n")[0].endswith("\r") else "\n"
    try:
        items = _scan(text)
    except (IndexError, ValueError):  # a layout the small scanner below does not know
        raise EditError(_UNSAFE.format(where=where)) from None
    headers = [item for item in items if isinstance(item, _Header)]
    assignments = [item for item in items if isinstance(item, _Assignment)]
    if any(h.key == TABLE and not h.array for h in headers):
        in_table = [a for a in assignments if a.table == TABLE]
        header = next(h for h in headers if h.key == TABLE)
        edits = _set_keys(text, in_table, (), values, header.end, newline)
    elif inline := [a for a in assignments if a.table + a.key == TABLE]:
        table = {**_value(text, inline[0]), **values}
        edits = [(inline[0].value_start, inline[0].value_end, _inline_table(table))]
    elif dotted := [a for a in assignments if (a.table + a.key)[:3] == TABLE]:
        prefix = dotted[0].key[:-1]
        edits = _set_keys(text, dotted, prefix, values, dotted[-1].end, newline)
    else:
        edits = [_new_table(text, headers, assignments, merged, newline)]
    after = _apply(text, edits)
    _check(before, after, values, where)
    return after


def render_table(prefork: Prefork, newline: str = "\n") -> str:
    """The `[tool.forklint.prefork]` table as TOML text."""
    lines = ["[tool.forklint.prefork]"]
    lines += [_assignment((key,), entries, newline) for key, entries in prefork.to_dict().items()]
    return newline.join(lines) + newline


def _set_keys(
    text: str,
    existing: list[_Assignment],
    prefix: tuple[str, ...],
    values: dict[str, list[str]],
    insert_at: int,
    newline: str,
) -> list[tuple[int, int, str]]:
    edits = []
    added = []
    if existing:
        insert_at = max(insert_at, existing[-1].end)
    for key, entries in values.items():
        match = next((a for a in existing if a.key == (*prefix, key)), None)
        if match is not None:
            edits.append((match.value_start, match.value_end, _array(entries, newline)))
        else:
            added.append(_assignment((*prefix, key), entries, newline) + newline)
    if added:
        lead = "" if text[:insert_at].endswith("\n") else newline
        edits.append((insert_at, insert_at, lead + "".join(added)))
    return edits


def _new_table(
    text: str,
    headers: list[_Header],
    assignments: list[_Assignment],
    prefork: Prefork,
    newline: str,
) -> tuple[int, int, str]:
    """Insert the table after the last `[tool.forklint...]` table, else at the end of the file."""
    table = render_table(prefork, newline)
    ours = [i for i, h in enumerate(headers) if h.key[:2] == TABLE[:2]]
    if ours:
        header = headers[ours[-1]]
        following = headers[ours[-1] + 1] if ours[-1] + 1 < len(headers) else None
        limit = following.start if following else len(text)
        # After the table's last statement, before blank lines and comments that introduce the next one.
        ends = [header.end] + [a.end for a in assignments if header.start < a.start < limit]
        position = max(ends)
    else:
        position = len(text)
    lead = "" if position == 0 or text[:position].endswith("\n") else newline
    if position > 0:
        lead += newline
    # Keep a blank line before what follows (a comment introducing the next table).
    trail = newline if position < len(text) and text[position] not in "\r\n" else ""
    return (position, position, lead + table + trail)


def _current(data: dict[str, Any], where: str) -> Prefork:
    table: Any = data
    for depth, key in enumerate(TABLE):
        table = table.get(key, {})
        if not isinstance(table, dict):
            raise EditError(f"{where}: `{'.'.join(TABLE[: depth + 1])}` must be a table")
    parts = {}
    for key, name in (("imports", "imports"), ("calls", "calls"), ("after-fork", "after_fork")):
        entries = table.get(key, []) if isinstance(table, dict) else None
        if not isinstance(entries, list) or not all(isinstance(e, str) for e in entries):
            raise EditError(f"{where}: `tool.forklint.prefork.{key}` must be a list of strings")
        parts[name] = tuple(entries)
    return Prefork(**parts)


def _apply(text: str, edits: list[tuple[int, int, str]]) -> str:
    for start, end, replacement in sorted(edits, reverse=True):
        text = text[:start] + replacement + text[end:]
    return text


def _check(before: dict[str, Any], text: str, values: dict[str, list[str]], where: str) -> None:
    """The edit changed exactly the prefork keys, or it is refused."""
    expected = copy.deepcopy(before)  # not a JSON round trip: TOML has dates and times
    table = expected.setdefault("tool", {}).setdefault("forklint", {}).setdefault("prefork", {})
    table.update(values)
    try:
        after = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        after = None
    if after != expected:
        raise EditError(_UNSAFE.format(where=where))


_UNSAFE = (
    "{where}: cannot add [tool.forklint.prefork] to this file's layout safely; "
    "add the table printed by `forklint prefork` by hand"
)


def _assignment(key: tuple[str, ...], entries: list[str] | tuple[str, ...], newline: str) -> str:
    return f"{'.'.join(_key_text(part) for part in key)} = {_array(entries, newline)}"


def _array(entries: list[str] | tuple[str, ...], newline: str) -> str:
    items = [json.dumps(entry, ensure_ascii=False) for entry in entries]
    one_line = "[" + ", ".join(items) + "]"
    if len(one_line) <= _WIDTH:
        return one_line
    return "[" + newline + "".join(f"    {item},{newline}" for item in items) + "]"


def _inline_table(table: dict[str, Any]) -> str:
    parts = [f"{_key_text(key)} = {_array(entries, '')}" for key, entries in table.items()]
    return "{ " + ", ".join(parts) + " }"


def _key_text(key: str) -> str:
    return key if key and set(key) <= _BARE else json.dumps(key, ensure_ascii=False)


def _value(text: str, assignment: _Assignment) -> dict[str, Any]:
    return tomllib.loads("v = " + text[assignment.value_start : assignment.value_end])["v"]


# A scanner that knows just enough TOML to find table headers and top-level key/value
# statements with their exact offsets; the text has already been validated by tomllib.


def _scan(text: str) -> list[_Header | _Assignment]:
    items: list[_Header | _Assignment] = []
    table: tuple[str, ...] = ()
    i, n = 0, len(text)
    while i < n:
        start = i
        while i < n and text[i] in " \t":
            i += 1
        if i >= n:
            break
        if text[i] in "\r\n":
            i += 1
            continue
        if text[i] == "#":
            i = _line_end(text, i)
            continue
        if text[i] == "[":
            array = text.startswith("[[", i)
            key, i = _key(text, i + (2 if array else 1))
            i += 2 if array else 1
            end = _line_end(text, i)
            items.append(_Header(start, end, key, array))
            table = key
            i = end
            continue
        key, i = _key(text, i)
        i += 1  # "="
        while text[i] in " \t":
            i += 1
        value_start = i
        value_end = _value_end(text, i)
        end = _line_end(text, value_end)
        items.append(_Assignment(start, end, table, key, value_start, value_end))
        i = end
    return items


def _line_end(text: str, i: int) -> int:
    newline = text.find("\n", i)
    return len(text) if newline < 0 else newline + 1


def _key(text: str, i: int) -> tuple[tuple[str, ...], int]:
    """A dotted key starting at `i`; returns it and the offset of what follows (`=` or `]`)."""
    parts = []
    while True:
        while text[i] in " \t":
            i += 1
        if text[i] == '"':
            end = _string_end(text, i)
            parts.append(tomllib.loads("k = " + text[i:end])["k"])
        elif text[i] == "'":
            end = text.index("'", i + 1) + 1
            parts.append(text[i + 1 : end - 1])
        else:
            end = i
            while text[end] in _BARE:
                end += 1
            parts.append(text[i:end])
        i = end
        while text[i] in " \t":
            i += 1
        if text[i] != ".":
            return tuple(parts), i
        i += 1


def _string_end(text: str, i: int) -> int:
    """The offset after the string (any of TOML's four kinds) that starts at `i`."""
    quote = text[i]
    if text.startswith(quote * 3, i):
        j = i + 3
        while True:
            if quote == '"' and text[j] == "\\":
                j += 2
            elif text.startswith(quote * 3, j):
                # Up to two quotes of content may sit right before the closing delimiter.
                run = 3
                while run < 5 and j + run < len(text) and text[j + run] == quote:
                    run += 1
                return j + run
            else:
                j += 1
    j = i + 1
    while text[j] != quote:
        j += 2 if quote == '"' and text[j] == "\\" else 1
    return j + 1


def _value_end(text: str, i: int) -> int:
    depth = 0
    n = len(text)
    while i < n:
        c = text[i]
        if c in "\"'":
            i = _string_end(text, i)
        elif c in "[{":
            depth += 1
            i += 1
        elif c in "]}":
            depth -= 1
            i += 1
        elif c == "#":
            if depth == 0:
                break
            i = _line_end(text, i)
        elif c in "\r\n" and depth == 0:
            break
        else:
            i += 1
    while text[i - 1] in " \t":
        i -= 1
    return i
