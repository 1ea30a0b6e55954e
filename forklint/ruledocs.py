"""Rule documentation and examples, loaded from rules/FRK*.toml and rendered for `forklint rule`."""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from forklint.findings import SEVERITIES
from forklint.resources import rules_dir

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

_CODE = re.compile(r"FRK\d{3}")
_NAME = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")
# A trailing comment made only of expectations: "# FRK102:5" or "# FRK101:5 FRK102:5".
_EXPECTATION_COMMENT = re.compile(r"[ \t]*#[ \t]*((?:FRK\d{3}:\d+[ \t]*)+)$")
_EXPECTATION = re.compile(r"(FRK\d{3}):(\d+)")

_TEXT_KEYS = ("summary", "what-it-does", "why-bad", "fix")
_KEYS = {"code", "name", "severity", "references", "examples", *_TEXT_KEYS}
_EXAMPLE_KEYS = {"title", "valid", "files"}

# (heading, RuleDoc attribute) in the order ruff's rule pages use.
SECTIONS = (
    ("What it does", "what_it_does"),
    ("Why is this bad?", "why_bad"),
    ("Example", "example"),
    ("Use instead", "use_instead"),
    ("Fix", "fix"),
    ("References", "references"),
)


class RuleDocError(Exception):
    """A rule file is malformed; the message names the file and what is wrong."""


@dataclass(frozen=True)
class RuleExample:
    title: str
    valid: bool
    files: tuple[tuple[str, str], ...]  # (relpath, content): a small project
    expected: frozenset[tuple[str, str, int, int]]  # (code, path, line, column) from "# FRK102:5"


@dataclass(frozen=True)
class RuleDoc:
    code: str
    name: str
    severity: str
    summary: str  # one line (SARIF shortDescription)
    what_it_does: str
    why_bad: str
    example: str  # the first invalid example, expectation comments stripped
    use_instead: str  # the first valid example, expectation comments stripped
    fix: str
    references: tuple[str, ...]
    examples: tuple[RuleExample, ...]


def all_rules() -> dict[str, RuleDoc]:
    """Every documented rule, ordered by code."""
    return dict(_load_all(rules_dir()))


def get_rule(code: str) -> RuleDoc:
    """The rule for `code` ("FRK102"); KeyError when there is none."""
    return all_rules()[code]


def expectations(relpath: str, content: str) -> frozenset[tuple[str, str, int, int]]:
    """The (code, path, line, column) findings an example file announces in its trailing comments."""
    found = set()
    for number, line in enumerate(content.splitlines(), start=1):
        match = _EXPECTATION_COMMENT.search(line)
        if match:
            for code, column in _EXPECTATION.findall(match.group(1)):
                found.add((code, relpath, number, int(column)))
    return frozenset(found)


def strip_expectations(content: str) -> str:
    """The file as a reader should see it: without the "# FRK102:5" test annotations."""
    lines = content.splitlines()
    return "\n".join(_EXPECTATION_COMMENT.sub("", line) for line in lines) + ("\n" if lines else "")


def render_text(rule: RuleDoc) -> str:
    """Plain text for the terminal (`forklint rule CODE`)."""
    parts = [f"{rule.code} ({rule.name}) [{rule.severity}]", "", rule.summary]
    for heading, attribute in SECTIONS:
        parts += ["", heading, "-" * len(heading)]
        if attribute == "references":
            parts += [f"- {ref}" for ref in rule.references]
        else:
            parts.append(getattr(rule, attribute).rstrip("\n"))
    return "\n".join(parts) + "\n"


def render_markdown(rule: RuleDoc) -> str:
    """Markdown in ruff's rule-page layout (SARIF `help.markdown`, generated docs)."""
    parts = [f"# {rule.name} ({rule.code})", "", f"Severity: {rule.severity}", "", rule.summary]
    for heading, attribute in SECTIONS:
        parts += ["", f"## {heading}", ""]
        if attribute == "references":
            parts += [
                f"- <{ref}>" if ref.startswith("http") else f"- {ref}" for ref in rule.references
            ]
        elif attribute in ("example", "use_instead"):
            invalid = _first(rule.examples, valid=False)
            if attribute == "example":
                parts.append(_project_markdown(invalid))
            else:
                parts.append(_project_markdown(_first(rule.examples, valid=True), invalid))
        else:
            parts.append(getattr(rule, attribute).rstrip("\n"))
    return "\n".join(parts) + "\n"


@lru_cache(maxsize=4)
def _load_all(folder: Path) -> tuple[tuple[str, RuleDoc], ...]:
    paths = sorted(folder.glob("FRK*.toml"))
    if not paths:
        raise RuleDocError(f"{folder}: no rule files (FRK*.toml) found")
    rules = [_load(path) for path in paths]
    return tuple((rule.code, rule) for rule in sorted(rules, key=lambda r: r.code))


def _load(path: Path) -> RuleDoc:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise RuleDocError(f"{path}: cannot read rule file ({exc})") from None
    missing = sorted(_KEYS - data.keys())
    if missing:
        raise RuleDocError(f"{path}: missing section(s) {', '.join(missing)}")
    unknown = sorted(data.keys() - _KEYS)
    if unknown:
        raise RuleDocError(f"{path}: unknown key(s) {', '.join(unknown)}")
    code, name, severity = data["code"], data["name"], data["severity"]
    if not isinstance(code, str) or not _CODE.fullmatch(code):
        raise RuleDocError(f"{path}: code {code!r} must look like FRK123")
    if path.stem != code:
        raise RuleDocError(f"{path}: file name must be {code}.toml")
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise RuleDocError(f"{path}: name {name!r} must be kebab-case")
    if severity not in SEVERITIES:
        raise RuleDocError(f"{path}: severity {severity!r} must be one of {', '.join(SEVERITIES)}")
    for key in _TEXT_KEYS:
        if not isinstance(data[key], str) or not data[key].strip():
            raise RuleDocError(f"{path}: section {key} must be non-empty text")
    if "\n" in data["summary"].strip():
        raise RuleDocError(f"{path}: summary must be one line")
    references = data["references"]
    if (
        not isinstance(references, list)
        or not references
        or not all(isinstance(r, str) for r in references)
    ):
        raise RuleDocError(f"{path}: references must be a non-empty list of strings")
    if not isinstance(data["examples"], list):
        raise RuleDocError(f"{path}: examples must be an array of tables ([[examples]])")
    examples = tuple(_example(path, number, raw) for number, raw in enumerate(data["examples"], 1))
    for valid in (False, True):
        if not any(example.valid is valid for example in examples):
            raise RuleDocError(
                f"{path}: needs at least one {'valid' if valid else 'invalid'} example"
            )
    return RuleDoc(
        code=code,
        name=name,
        severity=severity,
        summary=data["summary"].strip(),
        what_it_does=_dedent(data["what-it-does"]),
        why_bad=_dedent(data["why-bad"]),
        example=_project_text(_first(examples, valid=False)),
        use_instead=_project_text(_first(examples, valid=True), _first(examples, valid=False)),
        fix=_dedent(data["fix"]),
        references=tuple(references),
        examples=examples,
    )


def _example(path: Path, number: int, raw: Any) -> RuleExample:
    where = f"{path}: example {number}"
    if not isinstance(raw, dict):
        raise RuleDocError(f"{where} must be a table")
    missing = sorted(_EXAMPLE_KEYS - raw.keys())
    if missing:
        raise RuleDocError(f"{where}: missing key(s) {', '.join(missing)}")
    unknown = sorted(raw.keys() - _EXAMPLE_KEYS)
    if unknown:
        raise RuleDocError(f"{where}: unknown key(s) {', '.join(unknown)}")
    title, valid, files = raw["title"], raw["valid"], raw["files"]
    if not isinstance(title, str) or not title.strip():
        raise RuleDocError(f"{where}: title must be non-empty text")
    if not isinstance(valid, bool):
        raise RuleDocError(f"{where}: valid must be true or false")
    if not isinstance(files, dict) or not files:
        raise RuleDocError(f'{where}: files must be a non-empty table of "relpath" = content')
    for relpath, content in files.items():
        if not isinstance(content, str):
            raise RuleDocError(f"{where}: file {relpath!r} must be a string")
        if relpath.startswith("/") or ".." in relpath.split("/") or "\\" in relpath:
            raise RuleDocError(f"{where}: file {relpath!r} must be a relative path with /")
    pairs = tuple((relpath, content) for relpath, content in files.items())
    expected = frozenset().union(*(expectations(relpath, content) for relpath, content in pairs))
    if not valid and not any(code == path.stem for code, *_ in expected):
        raise RuleDocError(
            f"{where} ({title}): an invalid example needs a '# {path.stem}:COLUMN' comment"
        )
    if valid and any(code == path.stem for code, *_ in expected):
        raise RuleDocError(f"{where} ({title}): a valid example cannot expect {path.stem}")
    return RuleExample(title=title.strip(), valid=valid, files=pairs, expected=expected)


def _first(examples: tuple[RuleExample, ...], *, valid: bool) -> RuleExample:
    return next(example for example in examples if example.valid is valid)


def _dedent(text: str) -> str:
    return text.strip("\n").rstrip() + "\n"


def _project_text(example: RuleExample, base: RuleExample | None = None) -> str:
    files, same = _shown(example, base)
    blocks = [f"{example.title}:"]
    for relpath, body in files:
        lines = "\n".join(f"    {line}" if line else "" for line in body.split("\n"))
        blocks.append(f"# {relpath}\n{lines}")
    if same:
        blocks.append(f"(unchanged: {', '.join(same)})")
    return "\n\n".join(blocks) + "\n"


def _project_markdown(example: RuleExample, base: RuleExample | None = None) -> str:
    files, same = _shown(example, base)
    blocks = [f"{example.title}:"]
    for relpath, body in files:
        blocks.append(f"`{relpath}`\n\n```{_language(relpath)}\n{body}\n```")
    if same:
        blocks.append(f"(unchanged: {', '.join(f'`{relpath}`' for relpath in same)})")
    return "\n\n".join(blocks)


def _shown(
    example: RuleExample, base: RuleExample | None
) -> tuple[list[tuple[str, str]], list[str]]:
    """The files worth printing, annotations stripped; for "Use instead", only what differs
    from the "Example" (a reader compares the two, so repeating the models is noise)."""
    before = {} if base is None else {p: strip_expectations(c) for p, c in base.files}
    files, same = [], []
    for relpath, content in example.files:
        body = strip_expectations(content)
        if not body.strip():
            continue
        if before.get(relpath) == body:
            same.append(relpath)
        else:
            files.append((relpath, body.rstrip("\n")))
    return files, same


def _language(relpath: str) -> str:
    if relpath.endswith((".py", ".pyi")):
        return "python"
    if relpath.endswith(".toml"):
        return "toml"
    return "text"
