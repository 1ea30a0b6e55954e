"""Find the `rq worker` / `celery worker` command lines a project starts its workers with, and their options."""

from __future__ import annotations

import json
import os
import re
import shlex
import stat
import sys
from collections.abc import Callable, Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path

from forklint.config import Config
from forklint.findings import FileError
from forklint.fsutil import within
from forklint.project import WalkedFile, make_excluder, read_bytes, walk

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

# Deployment files are small; a bigger one is a data dump, not a process definition.
MAX_FILE_BYTES = 2 * 1024 * 1024


@dataclass(frozen=True)
class WorkerCommand:
    # "rq" | "rq-pool" | "celery": the frameworks' own worker commands; "program": a program that
    # may run the project's own code (a script, `python -m pkg`, a console script, `flask ...`,
    # `manage.py ...`), on a line that mentions a worker; the world resolves it or reports it
    kind: str
    path: str  # relpath of the file holding the line (Procfile, Dockerfile, ...)
    line: int  # 1-based line where the command starts
    text: str  # the command as written (list forms joined shell-style)
    worker_class: str | None = None  # rq -w/--worker-class value (dotted)
    config_module: str | None = None  # rq -c/--config: a settings module the parent imports
    job_class: str | None = None  # rq -j/--job-class
    paths: tuple[str, ...] = ()  # rq --path/-P values
    queues: tuple[str, ...] = ()
    celery_app: str | None = None  # celery -A/--app value
    max_tasks_per_child: int | None = None  # celery --max-tasks-per-child / --maxtasksperchild
    pool: str | None = None  # celery --pool/-P (prefork, solo, threads, gevent...)
    via: str | None = None  # "django" (`manage.py rqworker`), "flask" (`flask rq worker`)
    program: str | None = None  # "program" commands: the program as written ("/app/manage.py")
    module: str | None = None  # "program" commands run as `python -m MODULE`
    argv: tuple[str, ...] = ()  # "program" commands: the arguments after the program or module
    env: tuple[tuple[str, str], ...] = ()  # variables set for the command (ENV, `X=1 cmd`)
    workdir: str | None = None  # a Dockerfile's WORKDIR when the command runs


_Reader = Callable[[str, str], Iterator[WorkerCommand]]
# The project's console scripts (name -> "pkg.mod:func") while a scan runs: a bare program name
# runs the project's code only when the project installs a script of that name.
_console_scripts: ContextVar[frozenset[str]] = ContextVar("console_scripts", default=frozenset())


def scan(root: Path, config: Config) -> tuple[tuple[WorkerCommand, ...], tuple[FileError, ...]]:
    """Every worker command line in the project's deployment files, in path and line order."""
    commands: list[WorkerCommand] = []
    errors: list[FileError] = []
    token = _console_scripts.set(frozenset(console_scripts(Path(os.path.abspath(root)))))
    try:
        _scan(root, config, commands, errors)
    finally:
        _console_scripts.reset(token)
    commands.sort(key=lambda command: (command.path, command.line))
    errors.sort(key=lambda error: error.path)
    return tuple(commands), tuple(errors)


def _scan(
    root: Path, config: Config, commands: list[WorkerCommand], errors: list[FileError]
) -> None:
    for walked in walk(Path(os.path.abspath(root)), "", make_excluder(config)):
        if walked.error is not None:
            continue  # directory problems are the Python discovery's to report
        folders = walked.relpath.split("/")[:-1]
        if not config.include_tests and any(f in ("test", "tests", "testing") for f in folders):
            continue  # a test's docker-entrypoint is not how the project is deployed
        reader = _reader_for(walked)
        if reader is None:
            continue
        text, error = _read_text(walked)
        if error is not None:
            errors.append(error)
            continue
        if text is None or not _MENTIONS_WORKER.search(text):
            continue
        try:
            commands.extend(reader(text, walked.relpath))
        except Exception as exc:  # noqa: BLE001 - one odd deployment file must not stop the run
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            errors.append(FileError(walked.relpath, f"cannot parse: {reason}"))


_ENTRY_POINT = re.compile(r"""["']\s*([\w.-]+)\s*=\s*([\w.]+\s*:\s*[\w.]+)\s*["']""")


def console_scripts(root: Path) -> dict[str, str]:
    """The scripts the project installs: `[project.scripts]`, setup.cfg `console_scripts`, and
    `"name = pkg.mod:func"` strings in setup.py (read as text: setup.py is never run), at the root
    and in the folders one or two below it that hold a distribution of their own
    (`worker/setup.py`, a monorepo's `src/worker/pyproject.toml`: held-out taranis-ai)."""
    found = _console_scripts_of(root, root)
    folders = _subfolders(str(root))
    for level in (folders, [f for folder in folders for f in _subfolders(folder)]):
        for folder in level:
            for name, target in _console_scripts_of(Path(folder), root).items():
                found.setdefault(name, target)
    return found


def _subfolders(folder: str) -> list[str]:
    try:
        return sorted(
            entry.path
            for entry in os.scandir(folder)
            if entry.is_dir(follow_symlinks=False)
            and not entry.name.startswith(".")
            and entry.name not in ("test", "tests", "testing", "node_modules")
        )
    except OSError:
        return []


def _console_scripts_of(folder: Path, boundary: Path) -> dict[str, str]:
    found: dict[str, str] = {}
    data = _read_within(folder / "pyproject.toml", boundary)
    if data:
        try:
            document = tomllib.loads(data.decode("utf-8", errors="replace"))
        except tomllib.TOMLDecodeError:
            document = {}
        project = document.get("project", {})
        tool = document.get("tool", {})
        poetry = tool.get("poetry", {}) if isinstance(tool, dict) else {}
        # `[project.scripts]`, and Poetry's own `[tool.poetry.scripts]` (held-out questbycycle)
        for table in (project, poetry):
            scripts = table.get("scripts", {}) if isinstance(table, dict) else {}
            if isinstance(scripts, dict):
                found.update(
                    {k: v for k, v in scripts.items() if isinstance(v, str) and k not in found}
                )
    for name in ("setup.cfg", "setup.py"):
        data = _read_within(folder / name, boundary)
        if not data:
            continue
        text = data.decode("utf-8", errors="replace")
        if name == "setup.cfg":
            section = re.search(r"^console_scripts\s*=\s*\n((?:[ \t]+.+\n?)+)", text, re.MULTILINE)
            for line in section.group(1).splitlines() if section else ():
                key, _, value = line.strip().partition("=")
                if value.strip():
                    found.setdefault(key.strip(), value.strip().replace(" ", ""))
        else:
            for key, value in _ENTRY_POINT.findall(text):
                found.setdefault(key, value.replace(" ", ""))
    return found


def _read_within(path: Path, boundary: Path) -> bytes | None:
    """The file's bytes, unless it is missing, unreadable or a symlink out of the project."""
    if not within(path, boundary):
        return None
    return read_bytes(path, path.name, MAX_FILE_BYTES)[0]


_MENTIONS_WORKER = re.compile(r"rq|celery|worker", re.IGNORECASE)


def _read_text(walked: WalkedFile) -> tuple[str | None, FileError | None]:
    data, error = read_bytes(walked.path, walked.relpath, MAX_FILE_BYTES)
    if error is not None or data is None:
        return None, error
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    # Only the worker command lines matter: a Makefile or manifest with a stray non-UTF-8 byte
    # (or a script with a binary payload) is still read, never an error on a clean project.
    return data.decode("utf-8", errors="replace"), None


# ---- which file is which ------------------------------------------------------------------

_SHELL_SHEBANG = re.compile(rb"#!\s*\S*(?:/|env\s+)(?:ba|da|z|k|a)?sh\b")


# Templates of deployment files (`rq-worker.conf.template`, `worker.service.j2`) hold the same lines.
_TEMPLATE_SUFFIXES = (
    ".template",
    ".tmpl",
    ".tpl",
    ".j2",
    ".jinja",
    ".jinja2",
    ".in",
    ".example",
    ".sample",
    ".dist",
)


def _reader_for(walked: WalkedFile) -> _Reader | None:
    name = walked.path.name
    for template in _TEMPLATE_SUFFIXES:
        if name.lower().endswith(template) and len(name) > len(template):
            name = name[: -len(template)]
            break
    lower = name.lower()
    suffix = os.path.splitext(lower)[1]
    if name == "Procfile" or name.startswith("Procfile."):
        return _procfile
    if lower in ("dockerfile", "containerfile") or lower.startswith(
        ("dockerfile.", "containerfile.", "dockerfile-", "containerfile-")
    ):
        return _dockerfile
    if suffix in (".dockerfile", ".containerfile"):
        return _dockerfile
    if lower in ("heroku.yml", "heroku.yaml"):
        return _heroku_yml
    if suffix in (".yml", ".yaml"):
        return _yaml
    if suffix in (".conf", ".ini"):
        return _supervisord
    if suffix == ".service":
        return _systemd
    if name in ("Makefile", "makefile", "GNUmakefile") or suffix == ".mk":
        return _makefile
    if suffix in (".sh", ".bash", ".zsh", ".ksh"):
        return _shell_script
    if lower == "fly.toml" or (lower.startswith("fly.") and suffix == ".toml"):
        return _fly_toml
    in_bin = walked.relpath.startswith("bin/") or "/bin/" in walked.relpath
    if (not suffix or in_bin) and _has_shell_shebang(walked.path):
        return _shell_script
    return None


def _has_shell_shebang(path: Path) -> bool:
    try:
        if not stat.S_ISREG(path.stat().st_mode):  # opening a FIFO would block the run
            return False
        with open(path, "rb") as handle:
            first = handle.readline(200)
    except OSError:
        return False
    return bool(_SHELL_SHEBANG.match(first))


# ---- the file formats ---------------------------------------------------------------------


def _procfile(text: str, relpath: str) -> Iterator[WorkerCommand]:
    for number, line in enumerate(text.splitlines(), 1):
        match = re.match(r"\s*[A-Za-z0-9_.-]+\s*:\s*(.+)$", line)
        if match and not line.lstrip().startswith("#"):
            yield from _from_shell(match.group(1).strip(), relpath, number)


def _dockerfile(text: str, relpath: str) -> Iterator[WorkerCommand]:
    escape = "\\"
    directive = re.match(r"\s*#\s*escape\s*=\s*(\S)", text)
    if directive:
        escape = directive.group(1)
    entrypoint: tuple[int, str | list[str]] | None = None
    cmd: tuple[int, str | list[str]] | None = None
    env: dict[str, str] = {}
    workdir: str | None = None
    for number, logical in _logical_lines(text, escape, skip_comments=True):
        match = re.match(r"\s*([A-Za-z]+)\s*(.*)$", logical, re.DOTALL)
        if not match:
            continue
        instruction, argument = match.group(1).upper(), match.group(2).strip()
        if instruction == "FROM":
            yield from _combined(entrypoint, cmd, relpath, env, workdir)
            entrypoint = cmd = None
            env = {}
            workdir = None
        elif instruction == "ENV":
            env.update(_docker_env(argument))
        elif instruction == "WORKDIR":
            directory = argument.strip().strip("\"'")
            workdir = (
                directory
                if directory.startswith("/") or workdir is None
                else f"{workdir}/{directory}"
            )
        elif instruction == "ENTRYPOINT":
            entrypoint = (number, _docker_form(argument))
        elif instruction == "CMD":
            cmd = (number, _docker_form(argument))
    # Docker appends CMD to an exec-form ENTRYPOINT (`ENTRYPOINT ["rq"]` + `CMD ["worker"]`).
    yield from _combined(entrypoint, cmd, relpath, env, workdir)


def _docker_env(argument: str) -> dict[str, str]:
    """`ENV A=1 B="two words"` or the legacy `ENV A one value`."""
    words = _words(argument)
    if words and "=" not in words[0]:
        return {words[0]: " ".join(words[1:])}
    return dict(word.partition("=")[::2] for word in words if "=" in word)


def _docker_form(argument: str) -> str | list[str]:
    """The exec (JSON array) form as a list; anything else is the shell form, as Docker reads it."""
    if argument.startswith("["):
        try:
            value = json.loads(argument)
        except ValueError:
            return argument
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return value
    return argument


def _combined(
    first: tuple[int, str | list[str]] | None,
    second: tuple[int, str | list[str]] | None,
    relpath: str,
    env: dict[str, str],
    workdir: str | None = None,
) -> Iterator[WorkerCommand]:
    """The program (`first`) with its arguments (`second`); else each on its own (`exec "$@"` scripts)."""
    if first is not None and second is not None and isinstance(first[1], list):
        rest = second[1] if isinstance(second[1], list) else ["/bin/sh", "-c", second[1]]
        found = list(_from_argv([*first[1], *rest], relpath, first[0], env=env, workdir=workdir))
        if any(command.kind != "program" for command in found):
            yield from found
            return
        # an entrypoint script (`exec "$@"`) and its arguments: the arguments may be the command
        separate = list(_combined(first, None, relpath, env, workdir)) + list(
            _combined(None, second, relpath, env, workdir)
        )
        yield from separate or found
        return
    for part in (first, second):
        if part is not None:
            number, value = part
            if isinstance(value, list):
                yield from _from_argv(value, relpath, number, env=env, workdir=workdir)
            else:
                yield from _from_shell(value, relpath, number, env=env, workdir=workdir)


def _supervisord(text: str, relpath: str) -> Iterator[WorkerCommand]:
    lines = text.splitlines()
    for index, line in enumerate(lines):
        match = re.match(r"command\s*[=:]\s*(.*)$", line)
        if not match or _no_processes(lines, index):
            continue
        value = [match.group(1)]
        for more in lines[index + 1 :]:  # INI continuation lines are indented
            if not more.strip() or not more[:1].isspace():
                break
            value.append(more.strip())
        yield from _from_shell(" ".join(value).strip(), relpath, index + 1)


def _no_processes(lines: list[str], at: int) -> bool:
    """Whether the supervisord section holding line `at` says `numprocs=0`: supervisor starts
    range(numprocs_start, numprocs_start + numprocs) processes of it, none (held-out
    pychunkedgraph: workers kept in the file to start by hand)."""
    start = at
    while start > 0 and not lines[start - 1].lstrip().startswith("["):
        start -= 1
    end = at + 1
    while end < len(lines) and not lines[end].lstrip().startswith("["):
        end += 1
    return any(
        re.fullmatch(r"numprocs\s*[=:]\s*0+\s*(?:[;#].*)?", lines[i].strip())
        for i in range(start, end)
    )


def _systemd(text: str, relpath: str) -> Iterator[WorkerCommand]:
    for number, logical in _logical_lines(text, "\\", skip_comments=True):
        match = re.match(r"\s*ExecStart\s*=\s*[-@:+!]*(.*)$", logical, re.DOTALL)
        if match:
            yield from _from_shell(match.group(1).strip(), relpath, number)


def _makefile(text: str, relpath: str) -> Iterator[WorkerCommand]:
    for number, logical in _logical_lines(text, "\\", skip_comments=False):
        if logical.startswith("\t"):
            yield from _from_shell(logical.strip().lstrip("@-+").strip(), relpath, number)


_ARRAY_START = re.compile(
    r"^(?:(?:local|declare|typeset|readonly|export)(?:\s+-\w+)*\s+)?\w+\+?=\("
)


_EXPORT = re.compile(r"^export\s+([A-Za-z_]\w*)=(?:\"([^\"$`]*)\"|'([^']*)'|([^\s$`;&|]*))\s*$")


def _shell_script(text: str, relpath: str) -> Iterator[WorkerCommand]:
    in_array = False
    exported: dict[str, str] = {}  # `export DJANGO_SETTINGS_MODULE=...` above (held-out wmrat)
    for number, logical in _logical_lines(text, "\\", skip_comments=True):
        line = logical.strip()
        export = _EXPORT.match(line)
        if export is not None and not logical[:1].isspace():  # at the script's top level
            exported[export[1]] = next(v for v in export.groups()[1:] if v is not None)
            continue
        # the elements of an array literal (`args=(` ... `)`) are words, not commands: a file
        # name listed there is not a program the script runs (held-out dioptra)
        if in_array:
            in_array = not (line.startswith(")") or line.endswith(")"))
            continue
        start = _ARRAY_START.match(line)
        if start is not None:
            in_array = ")" not in line[start.end() :]
            continue
        yield from _from_shell(line, relpath, number, dict(exported) if exported else None)


def _fly_toml(text: str, relpath: str) -> Iterator[WorkerCommand]:
    processes = tomllib.loads(text).get("processes", {})
    if not isinstance(processes, dict):
        return
    lines = text.splitlines()
    for name, command in processes.items():
        if not isinstance(command, str):
            continue
        number = next(
            (
                i
                for i, line in enumerate(lines, 1)
                if re.match(rf"\s*[\"']?{re.escape(name)}[\"']?\s*=", line)
            ),
            1,
        )
        yield from _from_shell(command, relpath, number)


def _logical_lines(text: str, escape: str, *, skip_comments: bool) -> Iterator[tuple[int, str]]:
    """Lines with `escape`-newline continuations joined, numbered by their first physical line."""
    start = 0
    parts: list[str] = []
    for number, line in enumerate(text.splitlines(), 1):
        if skip_comments and line.lstrip().startswith("#"):
            continue  # also inside a continued line, where Docker drops them
        if not parts:
            start = number
        stripped = line.rstrip()
        if stripped.endswith(escape) and not stripped.endswith(escape * 2):
            parts.append(stripped[: -len(escape)].rstrip())
            continue
        parts.append(line)
        yield start, " ".join(part.strip() if i else part for i, part in enumerate(parts))
        parts = []
    if parts:
        yield start, " ".join(parts)


# ---- YAML: docker compose, Kubernetes, heroku.yml ------------------------------------------

_YAML_KEY = re.compile(r"([A-Za-z_][\w.-]*|\"[^\"]*\"|'[^']*')\s*:(?:\s+|$)(.*)$")
_YAML_KEYS = ("command", "args", "entrypoint", "environment")


def _heroku_yml(text: str, relpath: str) -> Iterator[WorkerCommand]:
    """heroku.yml: `run:` processes whose `command:` is a list of shell commands (one each)."""
    yield from _yaml(text, relpath, lists_are_commands=True)


def _yaml(text: str, relpath: str, lists_are_commands: bool = False) -> Iterator[WorkerCommand]:
    """`command:`/`args:`/`entrypoint:` values, grouped by the mapping that holds them.

    A line-based reader for the few shapes these keys take (plain, quoted, block and flow
    scalars, block and flow sequences); the rest of the document is only followed for
    indentation, so no YAML library is needed and a template (Helm) does not stop it.
    """
    lines = text.splitlines()
    groups: dict[int, dict[str, tuple[int, str | list[str]]]] = {}
    environments: dict[int, dict[str, str]] = {}  # compose `environment:` (RQ_WORKER_CLASS...)
    stack: list[tuple[int, int]] = []  # (indent, mapping id)
    next_id = 0
    index = 0
    while index < len(lines):
        line = lines[index]
        content = line.lstrip(" ")
        if not content.strip() or content.startswith(("#", "---", "...")):
            index += 1
            continue
        indent = len(line) - len(content)
        new_mapping = False
        while content.startswith("- "):
            rest = content[2:].lstrip(" ")
            indent += len(content) - len(rest)
            content = rest
            new_mapping = True
        while stack and (stack[-1][0] > indent or (new_mapping and stack[-1][0] == indent)):
            stack.pop()
        if not stack or stack[-1][0] != indent:
            next_id += 1
            stack.append((indent, next_id))
        match = _YAML_KEY.match(content)
        index += 1
        if not match:
            continue
        key = match.group(1).strip("\"'")
        if key not in _YAML_KEYS:
            continue
        key_line = index
        if key == "environment":
            variables, index = _yaml_environment(match.group(2), indent, lines, index)
            environments[stack[-1][1]] = variables
            continue
        value, index = _yaml_value(match.group(2), indent, lines, index)
        if value is not None:
            groups.setdefault(stack[-1][1], {})[key] = (key_line, value)
    for group_id, group in groups.items():
        # compose: entrypoint + command; Kubernetes: command + args (both as Docker combines them).
        first = group.get("entrypoint") or (group.get("command") if "args" in group else None)
        second = (
            group.get("args")
            if "args" in group
            else (group.get("command") if "entrypoint" in group else None)
        )
        if first is None and second is None:
            first = group.get("command")
            if lists_are_commands and first is not None and isinstance(first[1], list):
                for item in first[1]:
                    yield from _from_shell(item, relpath, first[0])
                continue
        elif first is not None and second is not None:
            # Compose and Kubernetes split string values into words; no shell runs them.
            first = (first[0], _words(first[1]))
            second = (second[0], _words(second[1]))
        yield from _combined(first, second, relpath, environments.get(group_id, {}))


def _words(command: str | list[str]) -> list[str]:
    if isinstance(command, list):
        return command
    try:
        return shlex.split(command)
    except ValueError:
        return command.split()


def _yaml_value(
    rest: str, indent: int, lines: list[str], index: int
) -> tuple[str | list[str] | None, int]:
    """Parse the value after `key:`; returns it and the index of the first line after it."""
    rest = _strip_yaml_comment(rest).strip()
    if rest.startswith(("|", ">")):
        block, index = _yaml_block(lines, index, indent)
        return (block if rest.startswith("|") else " ".join(block.split("\n"))), index
    if rest.startswith("["):
        flow = rest
        while flow.count("[") > flow.count("]") and index < len(lines):
            flow += " " + lines[index].strip()
            index += 1
        return _yaml_flow(flow), index
    if rest:
        return _yaml_scalar(rest), index
    items: list[str] = []
    item_indent: int | None = None
    while index < len(lines):
        line = lines[index]
        content = line.lstrip(" ")
        if not content.strip() or content.startswith("#"):
            index += 1
            continue
        current = len(line) - len(content)
        if current < indent or (current == indent and not content.startswith("-")):
            break
        if not content.startswith("-") or (item_indent is not None and current != item_indent):
            if item_indent is None:  # a plain scalar continued on the following lines
                block, index = _yaml_block(lines, index, indent)
                return " ".join(block.split()), index
            break
        item_indent = current
        item = _strip_yaml_comment(content[1:]).strip()
        index += 1
        if item.startswith(("|", ">")):
            block, index = _yaml_block(lines, index, current)
            items.append(block if item.startswith("|") else " ".join(block.split("\n")))
        else:
            items.append(_yaml_scalar(item))
    return (items if items else None), index


def _yaml_environment(
    rest: str, indent: int, lines: list[str], index: int
) -> tuple[dict[str, str], int]:
    """Compose's `environment:` as a mapping (`KEY: value`) or a list (`- KEY=value`)."""
    rest = _strip_yaml_comment(rest).strip()
    if rest.startswith("{"):
        pairs = [item.partition(":") for item in rest.strip("{}").split(",")]
        return {k.strip(): _yaml_scalar(v) for k, _, v in pairs if k.strip()}, index
    value, next_index = _yaml_value(rest, indent, lines, index)
    if isinstance(value, list):
        return dict(_yaml_scalar(item).partition("=")[::2] for item in value), next_index
    variables: dict[str, str] = {}
    while index < len(lines):
        line = lines[index]
        content = line.lstrip(" ")
        if content.strip() and not content.startswith("#"):
            if len(line) - len(content) <= indent:
                break
            key, _, value = _strip_yaml_comment(content).partition(":")
            variables[key.strip().strip("\"'")] = _yaml_scalar(value)
        index += 1
    return variables, index


def _yaml_block(lines: list[str], index: int, indent: int) -> tuple[str, int]:
    body: list[str] = []
    while index < len(lines):
        line = lines[index]
        if line.strip() and len(line) - len(line.lstrip(" ")) <= indent:
            break
        body.append(line.strip())
        index += 1
    while body and not body[-1]:
        body.pop()
    return "\n".join(body), index


def _yaml_flow(flow: str) -> list[str]:
    inner = flow.strip()
    inner = inner[1 : inner.rindex("]")] if "]" in inner else inner[1:]
    items, current, quote = [], "", ""
    for char in inner:
        if quote:
            current += char
            if char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
            current += char
        elif char == ",":
            items.append(current)
            current = ""
        else:
            current += char
    if current.strip():
        items.append(current)
    return [_yaml_scalar(item.strip()) for item in items]


def _yaml_scalar(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        try:
            return str(json.loads(value))
        except ValueError:
            return value[1:-1]
    if len(value) >= 2 and value[0] == value[-1] == "'":
        return value[1:-1].replace("''", "'")
    return value


def _strip_yaml_comment(value: str) -> str:
    quote = ""
    for position, char in enumerate(value):
        if quote:
            if char == quote:
                quote = ""
        elif char in "\"'" and (position == 0 or value[position - 1] in " [,"):
            quote = char
        elif char == "#" and (position == 0 or value[position - 1] == " "):
            return value[:position]
    return value


# ---- shell command lines ------------------------------------------------------------------


def _from_shell(
    command: str,
    relpath: str,
    line: int,
    env: dict[str, str] | None = None,
    workdir: str | None = None,
) -> Iterator[WorkerCommand]:
    """Worker commands in a shell command line: `&&`, `;`, pipes, `sh -c "..."`, env prefixes."""
    for argv in _simple_commands(command):
        yield from _from_argv(argv, relpath, line, command, env, workdir)


_MAKE_VARIABLE = re.compile(r"\$[({]([A-Za-z_][A-Za-z0-9_]*)[)}]")


def _simple_commands(command: str) -> list[list[str]]:
    # `$(PYTHON)` / `${VENV}` would otherwise split at their parentheses like subshells.
    command = _unquoted_newlines_to_semicolons(_MAKE_VARIABLE.sub(r"$\1", command))
    lexer = shlex.shlex(command, posix=True, punctuation_chars=";&|()<>")
    lexer.whitespace_split = True
    lexer.commenters = "#"
    try:
        tokens = list(lexer)
    except ValueError:  # an unclosed quote: read the words as they stand
        tokens = command.split()
    commands: list[list[str]] = [[]]
    skip_next = False
    for token in tokens:
        if skip_next:
            skip_next = False
        elif token and set(token) <= set("<>&") and ("<" in token or ">" in token):
            skip_next = True  # a redirection and its target
            if commands[-1] and commands[-1][-1].isdigit():
                commands[-1].pop()  # the file descriptor of `2>&1`
        elif token and set(token) <= set(";&|()"):
            commands.append([])
        else:
            commands[-1].append(token)
    return [argv for argv in commands if argv]


def _unquoted_newlines_to_semicolons(command: str) -> str:
    """A multi-line script (YAML `|` block, `sh -c` argument) runs one command per line."""
    out: list[str] = []
    quote = ""
    escaped = False
    for char in command:
        if escaped:
            escaped = False
            out.append(" " if char == "\n" else char)
            if char == "\n":
                out.pop(-2)  # drop the backslash of a line continuation
            continue
        if char == "\\" and quote != "'":
            escaped = True
        elif quote:
            quote = "" if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char == "\n":
            char = ";"
        out.append(char)
    return "".join(out)


_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=")
_PYTHON = re.compile(r"(?:python|pypy)(?:\d+(?:\.\d+)*)?(?:\.exe)?$")
# Commands that run another command found later on their line (process managers, tracers, runners).
_WRAPPERS = frozenset(
    _words(
        """exec nohup time command env sudo gosu su-exec tini dumb-init chpst setuidgid nice
        ionice stdbuf timeout watchmedo newrelic-admin ddtrace-run opentelemetry-instrument
        poetry pipenv uv pdm hatch rye doppler honcho scout-apm infisical op aws-vault dotenv
        wait-for-it wait-for-it.sh xvfb-run coverage"""
    )
)
# Project and environment managers among the wrappers: they run a command only through `run`
# (`uv run --frozen celery ...`, `poetry -C src run rq worker`); `uv sync --directory src/worker`,
# `poetry install`, `uv pip install -e .` install packages and run nothing (held-out taranis-ai)
_RUNNERS = frozenset({"poetry", "pipenv", "uv", "pdm", "hatch", "rye"})
# their options that take a value, before and after `run` (uv's, poetry's, pdm's, hatch's, rye's)
_RUNNER_VALUE_OPTIONS = frozenset(
    _words(
        """--directory --project -C -P -p --python --with -w --with-editable --with-requirements
        --extra --group --only-group --no-group --no-extra --package --env-file --index
        --default-index --index-url -i --extra-index-url --find-links -f --upgrade-package
        --reinstall-package --config-file --cache-dir --color --index-strategy --keyring-provider
        --resolution --prerelease --exclude-newer --link-mode --config-setting
        --python-preference --no-binary-package --no-build-package --refresh-package
        --allow-insecure-host --env -e --pyproject --venv"""
    )
)
# Programs that run no command of their own: a wrapper's command that is one of them runs nothing
# (`sudo tee /etc/systemd/system/shop-worker.service << EOF` writes a file: held-out cupcake)
_FILE_TOOLS = frozenset(
    _words(
        """tee cat cp mv rm ln mkdir chmod chown chgrp touch install echo printf sed awk grep ls
        cd test rsync scp curl wget tar systemctl service journalctl supervisorctl apt-get apt
        yum dnf apk pip pip3 git kill pkill tail head"""
    )
)
_SHELLS = frozenset({"sh", "bash", "dash", "zsh", "ksh", "ash"})
_RQ_ENV = {"RQ_WORKER_CLASS": "worker_class", "RQ_CONFIG": "config", "RQ_JOB_CLASS": "job_class"}


def _from_argv(
    argv: Sequence[str],
    relpath: str,
    line: int,
    text: str | None = None,
    env: dict[str, str] | None = None,
    workdir: str | None = None,
) -> Iterator[WorkerCommand]:
    shown = text if text is not None else shlex.join(argv)
    shown = "; ".join(part.strip() for part in shown.splitlines() if part.strip())
    env = dict(env or {})
    args = list(argv)
    while args and _ASSIGNMENT.match(args[0]):
        name, _, value = args.pop(0).partition("=")
        env[name] = value
    if not args:
        return
    program = os.path.basename(args[0])
    if program in _SHELLS:
        script = _shell_script_argument(args[1:])
        if script is not None:
            for inner in _simple_commands(script):
                yield from _from_argv(inner, relpath, line, shown, env, workdir)
        return
    if program in _RUNNERS:
        wrapped = _run_subcommand(args[1:])
        if wrapped:
            yield from _from_argv(wrapped, relpath, line, shown, env, workdir)
        return
    if program in _WRAPPERS:
        # The wrapped command is the first word that starts one (`exec /app/manage.py rq worker`
        # runs manage.py, not `rq`), or what follows `--`.
        for start in range(1, len(args)):
            if args[start] == "--":
                if start + 1 < len(args):
                    yield from _from_argv(args[start + 1 :], relpath, line, shown, env, workdir)
                return
            if _is_option_value(args, start):
                continue  # `watchmedo ... --directory ./src -- cmd`: ./src is the option's value
            if _starts_command(args[start:]):
                yield from _from_argv(args[start:], relpath, line, shown, env, workdir)
                return
        return
    found = _program_kind(args)
    if found is None:
        command = _program(args, relpath, line, shown, env, workdir)
        if command is not None:
            yield command
        return
    kind, options = found
    if kind == "celery":
        yield _celery(options, relpath, line, shown)
    else:
        yield _rq(kind, options, relpath, line, shown, env, _via(args))


def _run_subcommand(args: Sequence[str]) -> list[str]:
    """The command a project manager runs: what follows its `run` (`uv tool run`) and the
    options of both; nothing for its other subcommands (`sync`, `install`, `pip install`)."""
    subcommand: list[str] = []
    module = False
    position = 0
    while position < len(args):
        arg = args[position]
        if arg == "--":
            rest = list(args[position + 1 :])
            break
        if arg.startswith("-"):
            if arg in ("-m", "--module") and subcommand[-1:] == ["run"]:
                module = True  # `uv run -m celery worker`
            elif "=" not in arg and arg in _RUNNER_VALUE_OPTIONS:
                position += 1
            position += 1
            continue
        if subcommand[-1:] == ["run"]:
            rest = list(args[position:])
            break
        subcommand.append(arg)
        if subcommand not in (["run"], ["tool"], ["tool", "run"]):
            return []
        position += 1
    else:
        return []
    if subcommand[-1:] != ["run"] or not rest:
        return []
    return ["python", "-m", *rest] if module else rest


def _starts_command(args: Sequence[str]) -> bool:
    first = args[0]
    program = os.path.basename(first)
    return bool(
        _ASSIGNMENT.match(first)
        or program in _SHELLS
        or program in _FILE_TOOLS
        or program in _WRAPPERS
        or _PYTHON.match(program)
        or _path_like(first)
        or _program_kind(args) is not None
    )


def _path_like(word: str) -> bool:
    """A word that names a program file: `./manage.py`, `/app/bin/run`, `worker.py` (not a
    folder: `./`, `/app/src/`)."""
    return (
        not word.startswith(("-", "$"))
        and "=" not in word
        and not any(c in word for c in "*?[")  # a glob (`-p '*.py'`) names no program
        and not word.endswith("/")
        and word not in (".", "..")
        and ("/" in word or word.endswith(".py"))
    )


def _is_option_value(args: Sequence[str], at: int) -> bool:
    """A path-like word right after a wrapper's long option with no `=` (`--directory ./src`)
    is that option's value when a `--` later on the line marks where the wrapped command starts."""
    before = args[at - 1]
    return (
        before.startswith("--") and before != "--" and "=" not in before and "--" in args[at + 1 :]
    )


def _program(
    args: list[str],
    relpath: str,
    line: int,
    text: str,
    env: dict[str, str],
    workdir: str | None,
) -> WorkerCommand | None:
    """A program that may run the project's own code (the world tells whether it starts a worker)."""
    program = args[0]
    rest = list(args[1:])
    module = None
    if _PYTHON.match(os.path.basename(program)):
        after = _after_interpreter_options(rest)
        if not after:
            return None
        if after[0] == "-m":
            if len(after) < 2:
                return None
            module, rest = after[1], after[2:]
        else:
            program, rest = after[0], after[1:]
    elif program == "flask":
        if "rq" in rest:  # Flask-RQ2's `flask rq ...`: its worker is read as RQ's own command
            return None
    elif os.path.basename(program) in _FRAMEWORK_PROGRAMS:
        # `/venv/bin/celery -A app beat`: the framework's own program by its installed path; one
        # that starts a worker was read as such already, any other (beat, flower) runs no job
        return None
    elif not (_path_like(program) or program in _console_scripts.get()):
        return None
    return WorkerCommand(
        kind="program",
        path=relpath,
        line=line,
        text=text,
        program=program if module is None else None,
        module=module,
        argv=tuple(rest),
        env=tuple(sorted(env.items())),
        workdir=workdir,
    )


# Programs of the job frameworks themselves (never the project's code to follow).
_FRAMEWORK_PROGRAMS = frozenset(
    {"celery", "rq", "rqworker", "rqscheduler", "rqgeventworker", "dramatiq", "huey_consumer"}
)


def _via(args: Sequence[str]) -> str | None:
    """Which framework's CLI runs an RQ worker: django-rq's `manage.py rqworker`, Flask-RQ2's `flask rq`."""
    for arg in args:
        name = os.path.basename(arg)
        if name in ("manage.py", "django-admin", "django-admin.py"):
            return "django"
        if name == "flask":
            return "flask"
        if name in ("rq", "rqworker", "rq.cli"):
            return None
    return None


def _shell_script_argument(args: Sequence[str]) -> str | None:
    """The script of `sh -c SCRIPT` (also `-ec`, `-lc`, `-o pipefail -c`)."""
    for position, arg in enumerate(args):
        if arg.startswith("-") and not arg.startswith("--") and "c" in arg[1:]:
            return args[position + 1] if position + 1 < len(args) else None
        if not arg.startswith(("-", "+")) and (position == 0 or args[position - 1] != "-o"):
            return None
    return None


def _program_kind(args: Sequence[str]) -> tuple[str, list[str]] | None:
    """("rq" | "rq-pool" | "celery", the arguments after the subcommand) when `args` starts a worker."""
    program = os.path.basename(args[0])
    rest = list(args[1:])
    if program in _console_scripts.get() and program == args[0]:
        # the project's own console script, even when named like RQ's `rqworker`: installed
        # after its dependencies, it replaces theirs (held-out questbycycle)
        return None
    if _PYTHON.match(program) or program.startswith("$"):
        rest = _after_interpreter_options(rest)
        if rest is None or not rest:
            return None
        if rest[0] == "-m":
            if len(rest) < 2:
                return None
            module, rest = rest[1], rest[2:]
            if module in ("rq.cli", "rq"):
                return _rq_subcommand(rest)
            if module == "celery":
                return _celery_subcommand(rest)
            if module == "flask":
                return _flask_subcommand(rest)
            return None
        program, rest = os.path.basename(rest[0]), rest[1:]
    if program == "rq":
        return _rq_subcommand(rest)
    if program == "rqworker":
        return "rq", rest
    if program == "rqgeventworker":  # rq-gevent-worker's script: RQ's worker options, its class
        return "rq", ["--worker-class", "rq_gevent_worker.GeventWorker", *rest]
    if program == "celery":
        return _celery_subcommand(rest)
    if program == "flask":
        return _flask_subcommand(rest)
    if program in ("manage.py", "django-admin", "django-admin.py"):
        for position, arg in enumerate(rest):
            if arg in ("rqworker", "rqworker-pool"):
                return ("rq" if arg == "rqworker" else "rq-pool"), rest[:position] + rest[
                    position + 1 :
                ]
            if not arg.startswith("-"):
                return None
    return None


def _after_interpreter_options(args: list[str]) -> list[str] | None:
    """Drop the interpreter's own options (`python -u -X dev -m rq.cli ...`)."""
    position = 0
    while position < len(args):
        arg = args[position]
        if arg == "-m" or not arg.startswith("-"):
            return args[position:]
        if arg in ("-W", "-X", "--check-hash-based-pycs"):
            position += 2
        elif arg == "-c":
            return None
        else:
            position += 1
    return None


def _rq_subcommand(rest: list[str]) -> tuple[str, list[str]] | None:
    for position, arg in enumerate(rest):
        if arg in ("worker", "worker-pool"):
            return ("rq" if arg == "worker" else "rq-pool"), rest[position + 1 :]
        if not arg.startswith("-"):
            return None
    return None


def _celery_subcommand(rest: list[str]) -> tuple[str, list[str]] | None:
    _, positionals = _parse_options(rest, _CELERY_VALUE, _CELERY_FLAGS, stop_at_positional=True)
    if positionals and positionals[0] == "worker":
        before = rest[: len(rest) - len(positionals)]
        return "celery", before + positionals[1:]
    return None


def _flask_subcommand(rest: list[str]) -> tuple[str, list[str]] | None:
    for position, arg in enumerate(rest[:-1]):
        if arg == "rq" and rest[position + 1] == "worker":  # Flask-RQ2's `flask rq worker`
            return "rq", rest[position + 2 :]
    return None


# Options of RQ 3.0's click commands (rq/cli/helpers.py shared_options, rq/cli/workers.py), plus the
# ones older releases had (--sentry-*), so a value is never mistaken for a queue name.
_RQ_SHARED_VALUE = {
    **dict.fromkeys(("--config", "-c"), "config"),
    **dict.fromkeys(("--worker-class", "-w"), "worker_class"),
    **dict.fromkeys(("--job-class", "-j"), "job_class"),
    **dict.fromkeys(("--path", "-P"), "path"),
    **dict.fromkeys(_words("--url -u --queue-class --connection-class --serializer -S"), "other"),
}
_RQ_WORKER_VALUE = {
    **_RQ_SHARED_VALUE,
    **dict.fromkeys(
        _words(
            """--logging_level --logging-level --log-format --date-format --name -n --results-ttl
            --worker-ttl --maintenance-interval --job-monitoring-interval --exception-handler
            --pid --max-jobs --max-idle-time --dequeue-strategy -ds --sentry-dsn --sentry-ca-certs"""
        ),
        "other",
    ),
}
_RQ_WORKER_FLAGS = frozenset(
    _words(
        """--burst -b --disable-job-desc-logging --verbose -v --quiet -q
        --disable-default-exception-handler -d --with-scheduler -s --sentry-debug --help"""
    )
)
_RQ_POOL_VALUE = {
    **_RQ_SHARED_VALUE,
    **dict.fromkeys(
        _words(
            "--logging-level -l --exception-handler --log-format --date-format --num-workers -n"
        ),
        "other",
    ),
}
_RQ_POOL_FLAGS = frozenset(_words("--burst -b --verbose -v --quiet -q --help"))

# Celery 5's global options (before the subcommand) and `celery worker`'s, with Celery 3/4 spellings.
_CELERY_VALUE = {
    **dict.fromkeys(("-A", "--app"), "app"),
    **dict.fromkeys(("-P", "--pool"), "pool"),
    **dict.fromkeys(("-Q", "--queues"), "queues"),
    **dict.fromkeys(("--max-tasks-per-child", "--maxtasksperchild"), "max_tasks_per_child"),
    **dict.fromkeys(
        _words(
            """-b --broker --result-backend --loader --config --workdir -n --hostname -S --statedb
            -l --loglevel -O --prefetch-multiplier -c --concurrency --time-limit --soft-time-limit
            --max-memory-per-child --maxmemperchild -X --exclude-queues -I --include
            --heartbeat-interval --autoscale -s --schedule-filename --schedule --scheduler -f
            --logfile --pidfile --uid --gid --umask --executable"""
        ),
        "other",
    ),
}
_CELERY_FLAGS = frozenset(
    _words(
        """-C --no-color -q --quiet --skip-checks --version --help -E --task-events --events
        --purge --discard --without-gossip --without-mingle --without-heartbeat -B --beat -D
        --detach --autoreload"""
    )
)


def _parse_options(
    args: Sequence[str],
    value_options: dict[str, str],
    flags: frozenset[str],
    *,
    stop_at_positional: bool = False,
) -> tuple[dict[str, list[str]], list[str]]:
    """Read options the way click does: `--opt=v`, `--opt v`, `-ov`, `-o v`, flag clusters `-bv`, `--`.

    Unknown options are taken for flags: a wrong guess can only drop a queue name, never
    turn an option value into the worker class.
    """
    values: dict[str, list[str]] = {}
    positionals: list[str] = []
    position = 0
    while position < len(args):
        arg = args[position]
        position += 1
        if arg == "--":
            positionals.extend(args[position:])
            break
        if not arg.startswith("-") or arg == "-":
            positionals.append(arg)
            if stop_at_positional:
                positionals.extend(args[position:])
                break
            continue
        name, has_value, inline = arg.partition("=")
        if name in value_options or name in flags or arg.startswith("--"):
            if name in value_options:
                if has_value:
                    value = inline
                elif position < len(args):
                    value = args[position]
                    position += 1
                else:
                    continue
                values.setdefault(value_options[name], []).append(value)
            continue
        for offset in range(1, len(arg)):  # a short option cluster
            short = "-" + arg[offset]
            if short in value_options:
                value = arg[offset + 1 :]
                if not value and position < len(args):
                    value = args[position]
                    position += 1
                if value:
                    values.setdefault(value_options[short], []).append(value)
                break
    return values, positionals


def _rq(
    kind: str,
    args: list[str],
    relpath: str,
    line: int,
    text: str,
    env: dict[str, str],
    via: str | None = None,
) -> WorkerCommand:
    value_options, flags = (
        (_RQ_WORKER_VALUE, _RQ_WORKER_FLAGS) if kind == "rq" else (_RQ_POOL_VALUE, _RQ_POOL_FLAGS)
    )
    values, queues = _parse_options(args, value_options, flags)
    for variable, option in _RQ_ENV.items():  # click's envvar= fallbacks
        if variable in env and option not in values:
            values[option] = [env[variable]]

    def last(option: str) -> str | None:
        return values[option][-1] if option in values else None

    return WorkerCommand(
        kind=kind,
        path=relpath,
        line=line,
        text=text,
        worker_class=last("worker_class"),
        config_module=last("config"),
        job_class=last("job_class"),
        paths=tuple(values.get("path", ())),
        queues=tuple(queues),
        via=via,
        # `DJANGO_SETTINGS_MODULE=... manage.py rqworker`, FLASK_APP for `flask rq worker`
        # (held-out zoltar, resource-hub: the worker's own settings were not read)
        env=tuple(sorted(env.items())),
    )


def _celery(args: list[str], relpath: str, line: int, text: str) -> WorkerCommand:
    values, _ = _parse_options(args, _CELERY_VALUE, _CELERY_FLAGS)
    limit = values.get("max_tasks_per_child", [None])[-1]
    queues = tuple(
        q.strip() for value in values.get("queues", ()) for q in value.split(",") if q.strip()
    )
    return WorkerCommand(
        kind="celery",
        path=relpath,
        line=line,
        text=text,
        queues=queues,
        celery_app=values["app"][-1] if "app" in values else None,
        max_tasks_per_child=int(limit) if limit is not None and limit.isdigit() else None,
        pool=values["pool"][-1] if "pool" in values else None,
    )


# ---- a program's arguments read as a command line ----------------------------------------


def wrapped_workers(command: WorkerCommand) -> tuple[WorkerCommand, ...]:
    """The framework worker commands a program runs as its arguments, when they start one
    (`/home/shop/env.sh /home/shop/venv/bin/celery worker -A shop`: an environment wrapper out of
    the repository that execs its arguments; held-out ureport). Whether the program is a file of
    the project, which could do anything with them, is the caller's to tell. The arguments must
    name the framework's program by its path or through an interpreter: a CLI's subcommand is
    never written so (`./manage.py rq worker`, `/venv/bin/app rq worker` run their own commands)."""
    args = list(command.argv)
    if command.kind != "program" or command.module is not None or not args:
        return ()
    if (command.program or "").endswith(".py") or not (
        "/" in args[0] or _PYTHON.match(os.path.basename(args[0]))
    ):
        return ()
    if _program_kind(args) is None:
        return ()
    env = dict(command.env)
    found = _from_argv(args, command.path, command.line, command.text, env, command.workdir)
    return tuple(c for c in found if c.kind != "program")


def as_django_manage(command: WorkerCommand) -> WorkerCommand | None:
    """A program command that hands its arguments to Django's management dispatch (a console
    script or module whose code calls execute_from_command_line, like manage.py), read as
    `manage.py ARGS`: django-rq's worker when ARGS run `rqworker` (held-out eda-server's
    `aap-eda-manage rqworker --worker-class ...`)."""
    found = _program_kind(["manage.py", *command.argv])
    if command.kind != "program" or found is None:
        return None
    kind, options = found
    return _rq(kind, options, command.path, command.line, command.text, dict(command.env), "django")


# ---- the same command line, running the pre-fork hook ------------------------------------

PREFORK_WORKER = "forklint.rq.PreforkWorker"
STOCK_WORKERS = ("rq.Worker", "rq.worker.Worker")
# An explicit stock worker class: `-w rq.Worker`, `--worker-class=rq.Worker`, RQ_WORKER_CLASS=rq.Worker.
_STOCK_OPTION = re.compile(
    r"(?<!\S)(?P<option>--worker-class(?:=|\s+)|-w\s*|RQ_WORKER_CLASS=)"
    r"(?P<quote>['\"]?)rq(?:\.worker)?\.Worker(?P=quote)(?![\w.])"
)
# The worker subcommand, after which the option goes: `rq worker`, `python -m rq.cli worker-pool`,
# `flask rq worker`, and django-rq's `manage.py rqworker`, which has only the long spelling.
_SUBCOMMAND = re.compile(
    r"(?<![\w.-])(?:rq(?:\.cli)?\s+(?P<rq>worker(?:-pool)?)|(?P<django>rqworker(?:-pool)?))(?![\w-])"
)


def with_prefork_worker(text: str) -> str:
    """The worker command line `text` with every flag, queue and wrapper kept, running PreforkWorker."""
    stock = _STOCK_OPTION.search(text)
    if stock is not None:
        return f"{text[: stock.start()]}{stock['option']}{PREFORK_WORKER}{text[stock.end() :]}"
    subcommand = _SUBCOMMAND.search(text)
    if subcommand is None:  # a shape the scanner knows but this edit does not: say what to add
        return f"{text}    (add --worker-class {PREFORK_WORKER})"
    option = "--worker-class" if subcommand["django"] else "-w"
    end = subcommand.end()
    return f"{text[:end]} {option} {PREFORK_WORKER}{text[end:]}"


def commands_in(path: Path, relpath: str, text: str) -> tuple[WorkerCommand, ...]:
    """The worker command lines of one deployment file's `text` (forklint.fixplan reads an edited
    Procfile or Dockerfile back with it, to check the edit says what it meant)."""
    reader = _reader_for(WalkedFile(path, relpath))
    if reader is None:
        return ()
    try:
        return tuple(reader(text, relpath))
    except Exception:  # noqa: BLE001 - an unreadable result is simply not a confirmed edit
        return ()


def rq_cli_command(args: Sequence[str], relpath: str, line: int) -> WorkerCommand | None:
    """The worker command RQ's CLI runs when code hands it `args`, the words after the program's
    name (`rq.cli.main(args=[...])`, `sys.argv[1:]`); None when they start no worker."""
    found = _rq_subcommand(list(args))
    if found is None:
        return None
    kind, options = found
    return _rq(kind, options, relpath, line, shlex.join(["rq", *args]), {})
