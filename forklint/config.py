"""`[tool.forklint]` -> a frozen Config; unknown keys and wrong types are errors that say what to change."""

from __future__ import annotations

import json
import keyword
import math
import os
import re
import stat
import sys
from dataclasses import dataclass, field, fields, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from forklint.findings import Prefork
from forklint.fsutil import FileProblem, leads_out, link_text, read_regular
from forklint.globs import GlobError, compile_glob

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

_CODE_SHAPE = re.compile(r"FRK\d{0,3}")
# A settings file is a few KB; anything near this is not one (and would cost memory to parse).
MAX_CONFIG_BYTES = 4 * 1024 * 1024
# Every walked entry is matched against every exclude glob that is not a plain name (~1 us
# each), every reported path against every per-file-ignores glob: 1,000 globs made a
# 20,000-file run last minutes, and pyproject.toml comes with the pull request. At 128 the
# worst case adds ~0.1 ms a file, a fraction of what parsing the file costs.
MAX_GLOBS = 128
FORMATS = ("text", "concise", "json", "sarif", "github", "gitlab")
FORK_MODELS = ("auto", "rq", "rq-spawn", "rq-simple", "celery", "celery-per-task", "dramatiq")


class ConfigError(Exception):
    """A configuration problem; the message is one sentence naming the file, the key and the fix."""


@dataclass(frozen=True)
class Config:
    root: Path = Path(".")  # the project root (absolute once loaded)
    source: Path | None = None  # the file the settings came from, if any
    src: tuple[str, ...] = ()  # extra source roots relative to root, e.g. ("backend",)
    exclude: tuple[
        str, ...
    ] = ()  # glob patterns (gitignore-like, relative to root) replacing the defaults
    extend_exclude: tuple[str, ...] = ()
    select: tuple[str, ...] = ()  # empty: every rule
    ignore: tuple[str, ...] = ()
    extend_select: tuple[str, ...] = ()
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (glob, codes)
    format: str = "text"
    worker: str | None = None  # "pkg.mod:func" that starts the worker
    worker_class: str | None = None  # "pkg.mod:Class", the worker class `rq worker -w` uses
    fork_model: str = "auto"  # one of FORK_MODELS; "auto" detects it from the project
    include_tests: bool = False  # jobs and start-ups only tests run count as deployed
    heavy_calls: tuple[str, ...] = ()  # extra catalog entries: dotted callables, "pkg.mod.func"
    heavy_modules: tuple[str, ...] = ()  # extra heavy modules (import closure roots), "pandas"
    job_decorators: tuple[str, ...] = ()  # extra decorators that make a job, "app.jobs.background"
    jobs: tuple[str, ...] = ()  # functions that are jobs, "app.tasks:record_event"
    fork_unsafe_calls: tuple[str, ...] = ()  # extra fork-unsafe constructors, "vendor.Client"
    prefork: Prefork = field(default_factory=Prefork)
    parse_timeout: float = 10.0  # CPU seconds one file's parse may take, else not analysed
    parse_memory: int = 1024  # megabytes one file's parse may add, else not analysed
    # (entry, line in `source`) for each quoted prefork entry, found when the file is read
    prefork_lines: tuple[tuple[str, int], ...] = ()

    def with_overrides(self, **changes: Any) -> Config:
        return replace(self, **changes)

    def source_label(self) -> str:
        """The settings file as findings and errors name it: relative to the root when inside it."""
        if self.source is None:
            return "pyproject.toml"
        try:
            return self.source.resolve().relative_to(self.root.resolve()).as_posix()
        except ValueError:
            return str(self.source)

    def entry_line(self, entry: str) -> int | None:
        """The line of `source` that names a [tool.forklint.prefork] entry, if it was found."""
        return dict(self.prefork_lines).get(entry)


# TOML key -> (Config field, expected kind)
_KEYS: dict[str, tuple[str, str]] = {
    "src": ("src", "strings"),
    "exclude": ("exclude", "globs"),
    "extend-exclude": ("extend_exclude", "globs"),
    "select": ("select", "strings"),
    "ignore": ("ignore", "strings"),
    "extend-select": ("extend_select", "strings"),
    "per-file-ignores": ("per_file_ignores", "table-of-strings"),
    "format": ("format", "string"),
    "worker": ("worker", "target"),
    "worker-class": ("worker_class", "target"),
    "fork-model": ("fork_model", "string"),
    "include-tests": ("include_tests", "bool"),
    "heavy-calls": ("heavy_calls", "names"),
    "heavy-modules": ("heavy_modules", "modules"),
    "job-decorators": ("job_decorators", "names"),
    "jobs": ("jobs", "names"),
    "fork-unsafe-calls": ("fork_unsafe_calls", "names"),
    "prefork": ("prefork", "prefork"),
    "parse-timeout": ("parse_timeout", "seconds"),
    "parse-memory": ("parse_memory", "megabytes"),
}
_PREFORK_KEYS = {"imports": "imports", "calls": "calls", "after-fork": "after_fork"}
_PREFORK_KINDS = {"imports": "modules", "calls": "targets", "after-fork": "targets"}

assert {f for f, _ in _KEYS.values()} == {f.name for f in fields(Config)} - {
    "root",
    "source",
    "prefork_lines",
}


def find_root(start: Path) -> Path:
    """The nearest directory upward holding pyproject.toml or .git; failing both, `start`'s directory."""
    # Not resolved: `leak.py -> /etc/passwd` must not make /etc the project.
    start = Path(os.path.abspath(start))
    base = start if _is_dir_or_hidden(start) else start.parent
    for directory in (base, *base.parents):
        # lexists: a pyproject.toml that is a FIFO or a dangling link still marks the root, and
        # load_config then says what is wrong with it instead of silently using another root.
        if os.path.lexists(directory / "pyproject.toml") or os.path.exists(directory / ".git"):
            return directory
    return base


def _is_dir_or_hidden(path: Path) -> bool:
    """A directory, or a path forklint may not look at (a folder below one `nobody` cannot
    search): taken as a folder, whose walk then says once that it cannot be read."""
    try:
        return stat.S_ISDIR(os.stat(path).st_mode)
    except PermissionError:
        return True
    except OSError:
        return False


@lru_cache(maxsize=4096)  # a settings file repeats the same few codes, maybe many times
def is_known_code(code: str) -> bool:
    """True when `code` is a rule code (FRK102) or a prefix (FRK1) that matches at least one rule."""
    # Imported here: the rule docs are read only when codes are checked, never at worker start-up.
    from forklint import ruledocs

    return bool(_CODE_SHAPE.fullmatch(code)) and any(
        known.startswith(code) for known in ruledocs.all_rules()
    )


def load_config(
    root: Path, config_file: Path | None = None, *, check_codes: bool = False
) -> Config:
    """Read `[tool.forklint]` from `config_file` or from `root/pyproject.toml` (a missing file is fine).

    A file named other than pyproject.toml (e.g. forklint.toml) holds either a `[tool.forklint]`
    table or the keys at its top level. `check_codes` also checks the rule codes of select,
    ignore, extend-select and per-file-ignores (the command line does; a worker does not care).
    """
    root = root.resolve()
    path = config_file if config_file is not None else root / "pyproject.toml"
    if config_file is None and not os.path.lexists(path):
        return Config(root=root)
    if leads_out(path, root):  # pyproject.toml, or --config in the project, linked elsewhere
        raise ConfigError(
            f"{path}: a symlink to a file outside the project ({link_text(path)}); "
            "forklint reads only the project's own files"
        )
    text = _read_settings(path)
    try:
        data = tomllib.loads(text)
    except ValueError as exc:  # TOMLDecodeError, or an integer of thousands of digits
        raise ConfigError(f"{path}: invalid TOML ({exc})") from None
    except RecursionError:
        raise ConfigError(f"{path}: invalid TOML (arrays or tables nested too deeply)") from None
    tool = data.get("tool", {})
    if path.name == "pyproject.toml":
        if not isinstance(tool, dict):
            raise ConfigError(
                f"{path}: `tool` must be a table ([tool.forklint] holds the settings)"
            )
        table = tool.get("forklint", {})
        prefix = "tool.forklint"
    elif "tool" in data:
        # A pyproject-shaped file under another name (alt.toml, pyproject.ci.toml).
        if not isinstance(tool, dict) or "forklint" not in tool:
            raise ConfigError(f"{path}: no [tool.forklint] table (nor forklint keys at top level)")
        table, prefix = tool["forklint"], "tool.forklint"
    else:
        table, prefix = data, ""
    config = parse_table(table, root=root, source=path, prefix=prefix, check_codes=check_codes)
    config = replace(config, prefork_lines=_entry_lines(text, config.prefork))
    project_file = root / "pyproject.toml"
    if not config.prefork and config_file is not None and os.path.lexists(project_file):
        try:
            same = project_file.samefile(path)
        except OSError:
            same = False
        if not same:
            # The worker runs the project's table whatever file the linter was pointed at, so the
            # analysis must see the same pre-fork world.
            config = replace(config, prefork=load_config(root).prefork)
    return config


def _read_settings(path: Path) -> str:
    """The text of a settings file; a FIFO, a device or a huge file is refused, never waited on."""
    try:
        data = read_regular(path, MAX_CONFIG_BYTES)
    except FileProblem as problem:
        if problem.kind == "os" and not os.path.lexists(path):
            raise ConfigError(f"{path}: config file not found") from None
        raise ConfigError(f"{path}: cannot read config file ({problem})") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: cannot read config file ({exc})") from None


def _entry_lines(text: str, table: Prefork) -> tuple[tuple[str, int], ...]:
    lines = []
    for entry in dict.fromkeys((*table.imports, *table.calls, *table.after_fork)):
        at = text.find(f'"{entry}"')
        if at == -1:
            at = text.find(f"'{entry}'")
        if at != -1:
            lines.append((entry, text.count("\n", 0, at) + 1))
    return tuple(lines)


def parse_table(
    table: Any,
    *,
    root: Path,
    source: Path | None = None,
    prefix: str = "tool.forklint",
    check_codes: bool = False,
) -> Config:
    where = str(source) if source else "config"
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: `{prefix or 'the file'}` must be a table")
    values: dict[str, Any] = {}
    for key, value in table.items():
        name = f"{prefix}.{key}" if prefix else key
        if key not in _KEYS:
            valid = ", ".join(sorted(_KEYS))
            raise ConfigError(f"{where}: unknown key `{_clip(name)}`; valid keys are: {valid}")
        field_name, kind = _KEYS[key]
        values[field_name] = _convert(value, kind, name, where)
    if values.get("format", "text") not in FORMATS:
        raise ConfigError(f"{where}: `{prefix}.format` must be one of {', '.join(FORMATS)}")
    if values.get("fork_model", "auto") not in FORK_MODELS:
        raise ConfigError(f"{where}: `{prefix}.fork-model` must be one of {', '.join(FORK_MODELS)}")
    if check_codes:
        _check_codes(values, prefix, where)
    return Config(root=root, source=source, **values)


def _check_codes(values: dict[str, Any], prefix: str, where: str) -> None:
    lists = [
        (key, values.get(key.replace("-", "_"), ()))
        for key in ("select", "ignore", "extend-select")
    ]
    for glob, codes in values.get("per_file_ignores", ()):
        lists.append((f"per-file-ignores.{_clip(json.dumps(glob))}", codes))
    for key, codes in lists:
        for code in codes:
            if not is_known_code(code):
                name = f"{prefix}.{key}" if prefix else key
                raise ConfigError(
                    f"{where}: `{name}` has unknown rule code or prefix {code!r}; codes look like "
                    "FRK102, prefixes like FRK1 (`forklint rule --all` lists them)"
                )


def _convert(value: Any, kind: str, name: str, where: str) -> Any:
    if kind == "bool":
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: `{name}` must be true or false")
        return value
    if kind in ("string", "target"):
        if not isinstance(value, str):
            raise ConfigError(f"{where}: `{name}` must be a string")
        if kind == "target":
            _check_entry(value, kind, name, where, single=True)
        return value
    if kind in ("strings", "globs", "names", "modules", "targets"):
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{where}: `{name}` must be a list of strings")
        if kind == "globs":
            _check_count(value, name, where)
        for entry in value:
            _check_entry(entry, kind, name, where)
        return tuple(value)
    if kind == "seconds":  # bool is an int to Python, never a duration to a user
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not 0 < value < math.inf
        ):
            raise ConfigError(f"{where}: `{name}` must be a positive number of seconds")
        return float(value)
    if kind == "megabytes":
        if isinstance(value, bool) or not isinstance(value, int) or value < 32:
            raise ConfigError(f"{where}: `{name}` must be a whole number of megabytes, at least 32")
        return value
    if kind == "table-of-strings":
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: `{name}` must be a table of glob = [codes]")
        _check_count(value, name, where)
        for glob in value:
            _check_entry(glob, "globs", name, where)
        return tuple(
            (k, _convert(v, "strings", f"{name}.{_clip(json.dumps(k))}", where))
            for k, v in value.items()
        )
    if kind == "prefork":
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: `{name}` must be a table")
        parts: dict[str, Any] = {}
        for key, entries in value.items():
            if key == "freeze":
                if not isinstance(entries, bool):
                    raise ConfigError(f"{where}: `{name}.freeze` must be true or false")
                parts["freeze"] = entries
                continue
            if key not in _PREFORK_KEYS:
                valid = ", ".join((*_PREFORK_KEYS, "freeze"))
                raise ConfigError(
                    f"{where}: unknown key `{_clip(name + '.' + key)}`; valid keys are: {valid}"
                )
            parts[_PREFORK_KEYS[key]] = _convert(
                entries, _PREFORK_KINDS[key], f"{name}.{key}", where
            )
        return Prefork(**parts)
    raise AssertionError(kind)


def _check_count(globs: list[str] | dict[str, Any], name: str, where: str) -> None:
    if len(globs) > MAX_GLOBS:
        raise ConfigError(
            f"{where}: `{name}` has {len(globs)} globs; forklint takes at most {MAX_GLOBS} "
            "(a folder glob such as `generated/` covers many files)"
        )


_SHAPES = {
    "modules": '"pkg.module"',
    "names": '"pkg.module.name" or "pkg.module:name"',
    "targets": '"pkg.module:function"',
    "target": '"pkg.module:name"',
}


def _check_entry(entry: str, kind: str, name: str, where: str, *, single: bool = False) -> None:
    """Entries name Python things or globs; an empty or malformed one is an error, not a no-op."""
    if kind == "strings":
        return
    what = f"`{name}`" if single else f"`{name}` entry {_shown(entry)}"
    if kind == "globs":
        try:
            compile_glob(entry)
        except GlobError as exc:
            raise ConfigError(f"{where}: {what} is not a valid glob ({exc})") from None
        return
    module, colon, attribute = entry.partition(":")
    if kind == "modules":
        ok = not colon and _dotted(module)
    elif kind == "names":
        ok = _dotted(module) and (not colon or _dotted(attribute))
    else:  # a module and an attribute in it: "pkg.mod:func", "pkg.mod:Class.method"
        ok = bool(colon) and _dotted(module) and _dotted(attribute)
    if not ok:
        raise ConfigError(f"{where}: {what} must look like {_SHAPES[kind]}")


def _dotted(text: str) -> bool:
    return all(part.isidentifier() and not keyword.iskeyword(part) for part in text.split("."))


def _shown(text: str) -> str:
    """`text` quoted for a one-line message, shortened when long (a value can be megabytes)."""
    return repr(text) if len(text) <= _LONGEST else _clip(repr(text))


def _clip(text: str) -> str:
    if len(text) <= _LONGEST:
        return text
    return f"{text[:_LONGEST]}... ({len(text)} characters)"


_LONGEST = 80
