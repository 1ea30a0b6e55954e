"""How the project starts its workers: its CLIs, the command lines that run them, and what each start-up runs before the fork.

A *launch* is a start-up forklint followed: the steps the worker parent runs (a script's
module code, a CLI's group callbacks and app factory, Django's set-up, the command function up
to `.work()`) and the worker it starts. A start-up it sees but cannot follow is *unresolved*.
"""

from __future__ import annotations

import os
import re
import shlex
from collections import deque
from dataclasses import dataclass, field

from forklint.catalog import Catalog
from forklint.commands import WorkerCommand, rq_cli_command
from forklint.config import Config
from forklint.facts import CallFact, FileFacts, FunctionFact, described_string
from forklint.findings import Unresolved
from forklint.index import Index, Step
from forklint.queues import Queues

SETTLE_WORKER = '[tool.forklint] worker = "pkg.module:function"'
SETTLE_CLASS = '[tool.forklint] worker-class = "pkg.module:Class"'
# How far a start-up's calls are searched for the `.work()` call they lead to.
_MAX_PATH = 8
_CLICK_GROUPS = frozenset({"click.group", "click.decorators.group"})
_CLICK_COMMANDS = frozenset({"click.command", "click.decorators.command"})
_GROUP_OBJECTS = {
    "click.Group": "click",
    "click.core.Group": "click",
    "flask.cli.AppGroup": "flask",
    "flask.cli.FlaskGroup": "flask",
    "typer.Typer": "typer",
    "typer.main.Typer": "typer",
    "flask_script.Manager": "flask-script",
}
# The last part of every decorator that makes a CLI command or group (cheap to test first).
_CLI_DECORATOR_NAMES = frozenset({"group", "command", "option", "callback"})
_FLASK_GROUP_CLASSES = frozenset({"flask.cli.FlaskGroup", "flask.cli.AppGroup"})
_DJANGO_MAIN = frozenset(
    {"django.core.management.execute_from_command_line", "django.core.management.call_command"}
)


@dataclass(frozen=True)
class RunStep:
    """One thing the worker parent runs before it forks, in order."""

    kind: str  # "import" | "script" (a module run as __main__) | "call" (a project function)
    target: str  # module or function fq
    step: Step | None  # where it shows in a trace (None: nothing to add, a script's own module)
    until: tuple[int, int] | None = None  # stop before this (line, column): the next step's call


@dataclass(frozen=True)
class WorkSite:
    """The `.work()` / `.start()` call a launch reaches, and the function that makes it."""

    module: str
    function: str | None  # qualname; None at module level, "__main__" in a main block
    call: CallFact
    worker_class: str | None  # the class it runs, as resolved ("rq.Worker", "app.w.MyWorker")
    candidates: tuple[str, ...] = ()  # every class the receiver may hold (platform branches)
    queues: frozenset[str] | None = None  # the queues the worker reads; None: unknown
    cli: bool = False  # RQ's `rq worker` command called in-process: argv may name the class
    # RQ's whole CLI called in-process (`rq.cli.main()`): the words it reads after the program's
    # name, as the code sets them (each way its conditions may go); None: the process's own
    # command line (the code sets none); a sentence: the code sets them in a way not read here
    argv: tuple[tuple[str, ...], ...] | str | None = None
    main: bool = False  # `rq.cli.main()`: the command line (argv) names the command it runs


@dataclass
class Launch:
    """A start-up forklint followed from where it begins to the worker it starts."""

    label: str  # "bin/docker-entrypoint:28", "worker.py:main()"
    path: str  # where it starts (a command line's file, or the start-up's module)
    line: int
    framework: str  # "rq" | "celery"
    steps: list[RunStep] = field(default_factory=list)
    work: WorkSite | None = None  # None for RQ's own CLI (`rq worker`)
    worker_class: str | None = None  # the class the worker runs, when known
    command: WorkerCommand | None = None
    signature: tuple = ()  # identical launches from several command lines are one
    django: bool = False  # django-rq's rqworker: Django's connections are closed before the fork
    queues: frozenset[str] | None = None  # the queues the worker reads; None: unknown
    unresolved: Unresolved | None = None  # a start-up seen whose worker cannot be told
    # the command lines of identical launches merged into this one (a fix switches them all)
    also: list[WorkerCommand] = field(default_factory=list)


@dataclass
class CliNode:
    """A command or group of one of the project's CLIs."""

    kind: str  # "click" | "typer" | "flask" | "flask-script" | "django"
    key: str  # the group object's or callback's fq
    function: str | None = None  # the callback; a group's runs before its subcommands
    children: dict[str, CliNode] = field(default_factory=dict)
    app_factory: str | None = None  # FlaskGroup(create_app=...), Manager(create_app)
    loads_app: bool = False  # commands run with the Flask app loaded (AppGroup, FlaskGroup)
    group_methods: tuple[str, ...] = ()  # a project Group class's methods click runs on the way


class Startups:
    """Finds the project's worker start-ups and follows them."""

    def __init__(self, index: Index, catalog: Catalog, config: Config) -> None:
        self.index = index
        self.catalog = catalog
        self.config = config
        self.nodes: dict[str, CliNode] = {}
        self._reaches: dict[str, tuple[tuple[str, CallFact], ...] | None] = {}
        self._other_start_method: bool | None = None
        self._files: dict[str, list[str]] = {}
        self.queues = Queues(index, catalog)
        for f in index.modules.values():
            self._files.setdefault(os.path.basename(f.relpath), []).append(f.relpath)
        self._build_clis()
        self.work_functions: set[str] = set()  # functions that call `.work()` on a worker
        self.runs_work: set[str] = set()  # modules whose own code starts a worker or calls into one
        self.callers: dict[str, set[str]] = {}  # reverse call edges into `reaching`
        self.reaching: set[str] = set()  # functions from which a `.work()` call is reached
        self._find_work()

    # --- which code starts a worker ------------------------------------------------------------

    def _find_work(self) -> None:
        """Work calls, then every function that reaches one, walking call edges backwards. Calls
        are matched by name before they are resolved: most projects have one or two start-ups."""
        index = self.index
        cli = {fq.rpartition(".")[2] for fq in self.catalog.cli_entries}
        methods = tuple(f".{m}" for m in self.catalog.start_methods) + tuple(f".{m}" for m in cli)

        def named(call: CallFact) -> bool:  # `from rq.cli import main; main()` too
            return call.callee.endswith(methods) or call.callee in cli

        for module, f in index.modules.items():
            for fn in f.functions:
                if any(named(c) for c in fn.calls):
                    fq = f"{module}.{fn.qualname}"
                    if self.work_site_in(fq) is not None:
                        self.work_functions.add(fq)
            for call in (*f.calls, *f.main_calls):
                if named(call) and self._work_site(f, None, call) is not None:
                    self.runs_work.add(module)
        self.reaching = set(self.work_functions)
        wanted = {fq.rpartition(".")[2] for fq in self.reaching}
        done: set[str] = set()
        while wanted - done:
            todo = wanted - done
            done |= todo
            for module, f in index.modules.items():
                for fn in f.functions:
                    fq = f"{module}.{fn.qualname}"
                    for call in fn.calls:
                        if call.callee.rpartition(".")[2] not in todo:
                            continue
                        target = index.call_target(index.resolve(module, fn, call.callee))
                        if target in self.reaching and target != fq:
                            self.callers.setdefault(target, set()).add(fq)
                            if fq not in self.reaching:
                                self.reaching.add(fq)
                                wanted.add(fn.name)
                    for call in fn.calls:
                        target = self.spawned(module, fn, call, todo)
                        if target in self.reaching and target != fq:
                            self.callers.setdefault(target, set()).add(fq)
                            if fq not in self.reaching:
                                self.reaching.add(fq)
                                wanted.add(fn.name)
                for call in (*f.calls, *f.main_calls):
                    target = None
                    if call.callee.rpartition(".")[2] in todo:
                        target = index.call_target(index.resolve(module, None, call.callee))
                    # `Process(target=serve).start()` in a script's main block (held-out brainns)
                    target = target or self.spawned(module, None, call, todo)
                    if target in self.reaching:
                        self.callers.setdefault(target, set()).add(f"<module>{module}")
                        self.runs_work.add(module)

    def spawned(
        self, module: str, fn: FunctionFact | None, call: CallFact, names: set[str] | None = None
    ) -> str | None:
        """The project function a `multiprocessing.Process(target=f)` call runs in a forked
        child: what the spawner did before is the child's too (the fork start method, Linux's
        default before Python 3.14). None under another start method set by the project."""
        if call.callee.rpartition(".")[2] != "Process":
            return None
        written = dict(call.kwargs).get("target", "")
        if not written or (names is not None and written.rpartition(".")[2] not in names):
            return None
        if self.index.resolve(module, fn, call.callee) not in _FORKING_PROCESS:
            return None
        if self._start_method_not_fork():
            return None
        return self.index.call_target(self.index.resolve(module, fn, written))

    def _start_method_not_fork(self) -> bool:
        if self._other_start_method is None:
            self._other_start_method = False
            for module, f in self.index.modules.items():
                calls = [(None, c) for c in (*f.calls, *f.main_calls)]
                calls += [(fn, c) for fn in f.functions for c in fn.calls]
                for fn, c in calls:
                    if c.callee.rpartition(".")[2] not in ("set_start_method", "get_context"):
                        continue
                    if self.index.resolve(module, fn, c.callee) in _START_METHOD_SETTERS and (
                        not c.args or c.args[0] != '"fork"'
                    ):
                        self._other_start_method = True
        return self._other_start_method

    def tops(self, fq: str) -> list[str]:
        """The functions nothing calls from which `fq` is reached (where a start-up begins)."""
        out: list[str] = []
        seen = {fq}
        stack = [fq]
        while stack:
            current = stack.pop()
            mine = self.callers.get(current, set())
            if not mine:
                out.append(current)
            for caller in mine:
                if not caller.startswith("<module>") and caller not in seen:
                    seen.add(caller)
                    stack.append(caller)
        return out

    # --- the project's CLIs ------------------------------------------------------------------

    def _build_clis(self) -> None:
        index = self.index
        for module, f in index.modules.items():
            for a in (*f.assigns, *f.main_assigns):
                if not a.value.endswith("()") or "." in a.target:
                    continue
                cls = index.resolve(module, None, a.value[:-2])
                kind = _GROUP_OBJECTS.get(cls)
                if kind is None:
                    continue
                node = self._node(kind, f"{module}.{a.target}")
                node.loads_app = cls in _FLASK_GROUP_CLASSES
                if kind == "flask-script":
                    factory = self._call_arg(f, a.loc.line, 0)
                    node.app_factory = self._project_function(module, None, factory)
        for module, f in index.modules.items():
            for fn in f.functions:
                fq = f"{module}.{fn.qualname}"
                for deco in fn.decorators:
                    self._decorated(module, f, fn, fq, deco)
            for call in f.calls:
                if call.callee.endswith((".add_command", ".add_typer")):
                    self._registration(module, None, call, "")
            for fn in f.functions:
                if not any(c.callee.endswith((".add_command", ".add_typer")) for c in fn.calls):
                    continue
                for call, target in index.callees(f"{module}.{fn.qualname}"):
                    if call.callee.endswith((".add_command", ".add_typer")):
                        self._registration(module, fn, call, target)
            if ".management.commands." in module:
                entry = index.classes.get(f"{module}.Command")
                if entry is not None and "handle" in entry[1].methods:
                    django = self._node("django", "<django>")
                    name = module.rpartition(".")[2]
                    django.children[name] = CliNode(
                        "django", f"{module}.Command", function=f"{module}.Command.handle"
                    )

    def _node(self, kind: str, key: str) -> CliNode:
        node = self.nodes.get(key)
        if node is None:
            node = self.nodes[key] = CliNode(kind, key)
        return node

    def _decorated(self, module: str, f: FileFacts, fn: FunctionFact, fq: str, deco) -> None:
        if deco.name.rpartition(".")[2] not in _CLI_DECORATOR_NAMES:
            return
        name = self.index.resolve(module, None, deco.name)
        kwargs = dict(deco.kwargs)
        if name in _CLICK_GROUPS or name in _CLICK_COMMANDS:
            cls = self.index.resolve(module, None, kwargs.get("cls", "")) if "cls" in kwargs else ""
            node = self._node("click", fq)
            node.function = fq
            if cls in self.index.classes:  # `cls=ExtendableGroup`: its code runs in the parent
                node.group_methods = tuple(
                    m
                    for name in ("__init__", "main", "invoke", "get_command", "list_commands")
                    if (m := self.index.find_method(cls, name)) is not None
                )
            if cls in _FLASK_GROUP_CLASSES or cls.endswith("FlaskGroup"):
                node.loads_app = True
                node.app_factory = self._project_function(
                    module, None, kwargs.get("create_app", "")
                )
            return
        head, _, method = deco.name.rpartition(".")
        if not head or method not in ("command", "group", "option", "callback"):
            return
        parent = self._group_key(module, head)
        if parent is None:
            return
        group = self.nodes[parent]
        if method == "callback":  # typer's `@app.callback()` runs before every command
            group.function = fq
            return
        command_name = described_string(deco.args[0]) if deco.args else None
        command_name = described_string(kwargs.get("name", "")) or command_name
        child = self._node(group.kind, fq)
        child.function = fq
        child.loads_app = group.loads_app or group.kind == "flask"
        names = [command_name] if command_name else _command_names(fn.name)
        for one in names:
            group.children[one] = child

    def _registration(
        self, module: str, fn: FunctionFact | None, call: CallFact, target: str
    ) -> None:
        """`group.add_command(cmd, "name")`, `app.add_typer(sub, name=...)`, Flask-Script's
        `manager.add_command("name", cmd)`, and `app.cli.add_command(group)`."""
        head, _, method = call.callee.rpartition(".")
        if method not in ("add_command", "add_typer") or not head:
            return
        parent = self._group_key(module, head, fn)
        if parent is None:
            return
        group = self.nodes[parent]
        args = list(call.args)
        kwargs = dict(call.kwargs)
        name = None
        if group.kind == "flask-script" and args and args[0].startswith('"'):
            name, args = described_string(args[0]), args[1:]
        if not args:
            return
        child_key = self._group_key(module, args[0], fn) or self._project_function(
            module, fn, args[0]
        )
        if child_key is None:
            return
        child = self.nodes.get(child_key)
        if child is None:
            child = self._node(group.kind, child_key)
            child.function = child_key
        name = (
            name
            or (described_string(args[1]) if len(args) > 1 else None)
            or described_string(kwargs.get("name", ""))
        )
        names = [name] if name else _command_names(child_key.rpartition(".")[2])
        if group.loads_app:
            child.loads_app = True
        for one in names:
            group.children[one] = child

    def _group_key(self, module: str, written: str, fn: FunctionFact | None = None) -> str | None:
        """The CLI group a dotted name written in `module` stands for, if it is one."""
        symbol = self.symbol(module, fn, written)
        if symbol in self.nodes:
            return symbol
        resolved = self.index.resolve(module, fn, written)
        if resolved in self.nodes:
            return resolved
        if resolved.endswith(".cli") and resolved.removesuffix(".cli").endswith("flask.Flask()"):
            node = self._node("flask", "<flask>")  # `app.cli`: the Flask app's own CLI
            node.loads_app = True
            return node.key
        return None

    def symbol(self, module: str, fn: FunctionFact | None, written: str, depth: int = 0) -> str:
        """The project global a dotted name names ("redash.cli.rq.manager" for `rq.manager`),
        stopping at the global instead of following it to the value it holds."""
        head, _, rest = written.partition(".")
        if not head.isidentifier() or depth > 8:
            return ""
        if fn is not None and head in self.index.local_bindings(module, fn):
            binding = self.index.local_bindings(module, fn)[head]
            if binding.kind != "fq":
                return ""
        else:
            binding = self.index.module_bindings(module).get(head)
        if binding is None:
            return ""
        base = binding.target if binding.kind == "fq" else f"{module}.{head}"
        full = f"{base}.{rest}" if rest else base
        owner, _, name = full.rpartition(".")
        if owner in self.index.modules and owner != module:
            inner = self.index.module_bindings(owner).get(name)
            if inner is not None and inner.kind == "fq" and inner.target != full:
                return self.symbol(owner, None, name, depth + 1)  # a re-export
        return full

    def _project_function(self, module: str, fn: FunctionFact | None, written: str) -> str | None:
        if not written or written.startswith('"'):
            return None
        target = self.index.call_target(self.index.resolve(module, fn, written))
        return target

    def _call_arg(self, f: FileFacts, line: int, position: int) -> str:
        for call in f.calls:
            if call.loc.line == line and len(call.args) > position:
                return call.args[position]
        return ""

    # --- where the worker starts: `.work()` calls and the paths that reach them ----------------

    def work_site_in(self, fq: str) -> WorkSite | None:
        """The `.work()` call made in function `fq` itself, if any."""
        entry = self.index.functions.get(fq)
        if entry is None:
            return None
        f, fn = entry
        for call, _target in self.index.callees(fq):
            site = self._work_site(f, fn, call)
            if site is not None:
                return site
        return None

    def _work_site(self, f: FileFacts, fn: FunctionFact | None, call: CallFact) -> WorkSite | None:
        method = call.callee.rpartition(".")[2]
        cli = self.catalog.cli_entries
        if any(method == fq.rpartition(".")[2] for fq in cli):
            target = self.index.resolve(f.module, fn, call.callee)
            if target not in cli:
                return None
            function = fn.qualname if fn is not None else None
            stock = ("rq.Worker", ("rq.Worker",), None)
            if target in self.catalog.cli_mains:
                argv = self._main_argv(f, fn, call)
                return WorkSite(f.module, function, call, *stock, cli=True, argv=argv, main=True)
            return WorkSite(f.module, function, call, *stock, cli=True)
        if method not in self.catalog.start_methods or "." not in call.callee:
            return None
        candidates = self.worker_classes(f.module, fn, call.callee.rpartition(".")[0])
        if not candidates:
            return None
        kinds = [self.class_kind(c) for c in candidates]
        is_pool = [k == "pool" for k in kinds]
        if (method == "start") != any(is_pool):
            return None
        chosen = next(
            (c for c, k in zip(candidates, kinds, strict=True) if k == "forking"), candidates[0]
        )
        function = fn.qualname if fn is not None else None
        queues = self._worker_queues(f, fn, call)
        return WorkSite(f.module, function, call, chosen, tuple(candidates), queues)

    def _main_argv(
        self, f: FileFacts, fn: FunctionFact | None, call: CallFact
    ) -> tuple[tuple[str, ...], ...] | str | None:
        """The words `rq.cli.main()` reads after the program's name: `main(args=[...])`, or the
        list the code assigns to sys.argv before the call (`args = [...]; args.extend([...]) if
        a flag is set; sys.argv = args`), with and without what it adds under a condition."""
        keywords = dict(call.kwargs)
        written = keywords["args"] if "args" in keywords else (call.args[0] if call.args else None)
        if written is not None:
            words = _described_words(written)
            return (words,) if words is not None else f"rq.cli.main(args={written or '...'})"
        if fn is not None:
            assigns, calls = fn.assigns, fn.calls
        else:
            assigns, calls = (*f.assigns, *f.main_assigns), (*f.calls, *f.main_calls)
        before = [a for a in assigns if a.loc.line < call.loc.line]
        set_argv = [a for a in before if a.target == "sys.argv"]
        if not set_argv:
            return None
        last = set_argv[-1]
        if last.conditional:
            return "sys.argv is set under a condition"
        names = ["sys.argv"]
        value = last.value
        if value.isidentifier():  # `sys.argv = args`: the list the name holds
            names.append(value)
            built = [a for a in before if a.target == value]
            if len(built) != 1 or built[0].conditional:
                return f"sys.argv = {value}, a list built in a way not read here"
            value = built[0].value
        words = _described_words(value, program=True)
        if words is None or not words:
            return f"sys.argv = {value or '...'}"
        variants = [list(words[1:]), list(words[1:])]  # every condition taken; none taken
        for c in sorted(calls, key=lambda c: (c.loc.line, c.loc.column)):
            receiver, _, method = c.callee.rpartition(".")
            if receiver not in names or c.loc.line >= call.loc.line:
                continue
            added = _described_words(c.args[0]) if c.args and method == "extend" else None
            if method == "append" and c.args and described_string(c.args[0]) is not None:
                added = (described_string(c.args[0]) or "",)
            if added is None:
                return f"{c.callee}(...) changes the command line in a way not read here"
            for variant in variants[:1] if c.conditional else variants:
                variant.extend(added)
        return tuple(dict.fromkeys(tuple(v) for v in variants))

    def _worker_queues(
        self, f: FileFacts, fn: FunctionFact | None, call: CallFact
    ) -> frozenset[str] | None:
        """The queues of the worker `call` starts, read from where the worker is built."""
        receiver = call.callee.rpartition(".")[0]
        calls = fn.calls if fn is not None else (*f.calls, *f.main_calls)
        construction = None
        if receiver.endswith("()"):
            construction = next(
                (c for c in calls if c.callee == receiver[:-2] and c.loc.line == call.loc.line),
                None,
            )
        elif receiver.isidentifier():
            # `worker = Worker(map(Queue, listen)); worker.work()`, in a function or in a
            # script's own lines (held-out process-management-system)
            owner = fn.assigns if fn is not None else (*f.assigns, *f.main_assigns)
            assigned = [a for a in owner if a.target == receiver and a.value != "None"]
            if len(assigned) == 1 and assigned[0].value.endswith("()"):
                line = assigned[0].loc.line
                value = assigned[0].value[:-2]
                construction = next(
                    (c for c in calls if c.callee == value and c.loc.line == line), None
                )
        if construction is None:
            return None
        names = self.queues.of_worker(f, fn, construction)
        return frozenset(names) if names is not None else None

    def worker_classes(self, module: str, fn: FunctionFact | None, receiver: str) -> list[str]:
        """Every worker class the receiver of `.work()` may be an instance of."""
        values = [receiver]
        if fn is not None and receiver.isidentifier():
            assigned = [a.value for a in fn.assigns if a.target == receiver and a.value]
            if assigned:
                values = assigned
        elif fn is None and receiver.isidentifier() and module in self.index.modules:
            # `worker = None` (a placeholder) ... `worker = Worker(...)` ... `worker.work()` in a
            # script's own lines: what it is given besides None (held-out pise)
            f = self.index.modules[module]
            assigned = [
                a.value
                for a in (*f.assigns, *f.main_assigns)
                if a.target == receiver and a.value and a.value != "None"
            ]
            if assigned:
                values = assigned
        elif fn is not None and receiver.endswith("()") and receiver[:-2].isidentifier():
            # `cls = SimpleWorker if os.name == "nt" else Worker; cls([...]).work()`: each class
            # the name may hold (held-out learn-faster-core)
            assigned = [a.value for a in fn.assigns if a.target == receiver[:-2] and a.value]
            if assigned:
                values = [f"{value}()" for value in assigned]
        out: list[str] = []
        for value in values:
            resolved = self.index.resolve(module, fn, value)
            cls = self._instance_class(resolved)
            if cls is not None and cls not in out:
                out.append(cls)
        return out

    def _instance_class(self, resolved: str, depth: int = 0) -> str | None:
        """The worker class `resolved` ("rq.Worker()", "app.make_worker()") is an instance of."""
        if not resolved.endswith("()") or depth > 4:
            return None
        callee = resolved[:-2]
        if callee in self.catalog.worker_factories:
            return "rq.Worker"
        if self.catalog.worker_kind(callee) is not None:
            return callee
        if callee in self.index.classes:
            names = frozenset(n for n, _ in self.catalog.worker_kind.entries)
            return callee if self.index.subclass_of(callee, names) else None
        entry = self.index.functions.get(callee)
        if entry is not None:  # a helper that builds the worker: what it returns (or yields)
            f, fn = entry
            for value in fn.returns:
                cls = self._instance_class(self.index.resolve(f.module, fn, value), depth + 1)
                if cls is not None:
                    return cls
        return None

    def class_kind(self, cls: str) -> str:
        """ "forking" | "simple" | "spawn" | "pool" | "prefork" | "unknown" for a worker class.

        A project subclass takes its base's kind, except that overriding `execute_job` (or
        `fork_work_horse`) without calling the base's or `os.fork` runs jobs in the worker
        itself, as SimpleWorker and gevent workers do.
        """
        kind = self.catalog.worker_kind(cls)
        if kind is not None:
            return kind
        if cls not in self.index.classes:
            return "unknown"
        project, external = self.index.mro(cls)
        for name in ("execute_job", "fork_work_horse"):
            method = self.index.find_method(cls, name)
            if method is not None and not self._forks(method, name):
                return "simple"
        for e in external:
            k = self.catalog.worker_kind(e)
            if k is not None:
                return k
        return "unknown"

    def _forks(self, method: str, name: str) -> bool:
        for call, target in self.index.callees(method):
            if target in ("os.fork", "os.forkpty"):
                return True
            tail = call.callee.rpartition(".")[2]
            if call.callee.startswith("super()") and tail in ("execute_job", "fork_work_horse"):
                return True
            if call.callee.startswith("self.") and tail == "fork_work_horse":
                return True
        return False

    def path_to_work(self, fq: str) -> tuple[tuple[str, CallFact], ...] | None:
        """The calls from function `fq` to the function that makes the `.work()` call: ((fq0,
        call0), (fq1, call1), ..., (fqk, work call)); None when none is reached."""
        if fq in self._reaches:
            return self._reaches[fq]
        if fq not in self.reaching:
            return None
        found: tuple[tuple[str, CallFact], ...] | None = None
        queue: deque[tuple[str, tuple[tuple[str, CallFact], ...]]] = deque([(fq, ())])
        seen = {fq}
        while queue and found is None:
            current, path = queue.popleft()
            site = self.work_site_in(current)
            if site is not None:
                found = path + ((current, site.call),)
                break
            if len(path) >= _MAX_PATH:
                continue
            f, fn = self.index.functions[current]
            for call, target in self.index.callees(current):
                callee = self.index.call_target(target)
                if callee not in self.reaching:
                    callee = self.spawned(f.module, fn, call)
                if callee in self.reaching and callee not in seen:
                    seen.add(callee)
                    queue.append((callee, path + ((current, call),)))
        self._reaches[fq] = found
        return found

    def site_at_end(self, path: tuple[tuple[str, CallFact], ...]) -> WorkSite:
        fq = path[-1][0]
        site = self.work_site_in(fq)
        assert site is not None
        return site

    # --- command lines -------------------------------------------------------------------------

    def project_file(self, command: WorkerCommand) -> FileFacts | None | str:
        """The project module a program command runs: FileFacts, None (not the project's code),
        or a sentence saying why it cannot be told."""
        if command.module:
            return self.index.modules.get(command.module)
        program = command.program or ""
        if not program:
            return None
        if "/" not in program and not program.endswith(".py"):
            return None  # a console script: resolved by the caller
        parts = [p for p in program.split("/") if p not in ("", ".")]
        if not parts or program.endswith("/"):
            return None  # a folder (`./`), not a program file
        candidates: list[str] = []
        # the longest tail of the path that names a project file: `/app/manage.py` -> manage.py
        for start in range(len(parts)):
            tail = "/".join(parts[start:])
            matches = [
                r for r in self._files.get(parts[-1], []) if r == tail or r.endswith("/" + tail)
            ]
            exact = [r for r in matches if r == tail]
            if exact:
                candidates = exact
                break
            if len(matches) == 1 and start > 0:
                candidates = matches
                break
        if not candidates:  # `./manage.py` run from a folder forklint does not know: by name
            candidates = [r for r in self._files.get(parts[-1], []) if r.endswith(parts[-1])]
        if len(candidates) != 1:
            if candidates:
                return f"{program} matches {len(candidates)} files of the project"
            return None
        return next(f for f in self.index.modules.values() if f.relpath == candidates[0])

    # --- dispatch ----------------------------------------------------------------------------

    def main_dispatch(self, f: FileFacts) -> tuple[CallFact, CliNode] | None:
        """The call in a script's main block that hands the command line to a CLI, and its root."""
        for call in f.main_calls:
            target = self.index.resolve(f.module, None, call.callee)
            if target in _DJANGO_MAIN:
                return call, self.nodes.get("<django>") or self._node("django", "<django>")
            written = call.callee
            for suffix in (".run", ".main"):  # Flask-Script's manager.run(), click's cli.main()
                written = written.removesuffix(suffix)
            for key in (
                self.symbol(f.module, None, written),
                self.index.resolve(f.module, None, written),
            ):
                if key in self.nodes:
                    return call, self.nodes[key]
        return None

    def dispatch(self, root: CliNode, argv: tuple[str, ...]) -> list[CliNode] | str | None:
        """The chain of CLI nodes `argv` selects (root first); None when `argv` names none of the
        project's commands (a built-in like `runserver`), or a sentence saying why it cannot be
        told (`$QUEUES` where a command name goes)."""
        chain = [root]
        node = root
        for word in argv:
            if not node.children:
                break
            if word.startswith("-"):
                continue
            if word.startswith("$") or "%" in word:
                return f"the command name comes from {word}"
            child = node.children.get(word)
            if child is None:
                return None
            chain.append(child)
            node = child
        if node.children and node is not root:
            return None  # a group named without a command: only shows its help
        return chain if len(chain) > 1 or root.kind != "django" else None

    # --- launches ------------------------------------------------------------------------------

    def from_path(
        self,
        label: str,
        where: tuple[str, int],
        prelude: list[RunStep],
        entry: str,
        path: tuple[tuple[str, CallFact], ...],
        command: WorkerCommand | None,
        signature: tuple,
    ) -> Launch:
        """A launch that runs `prelude`, then the functions of `path` up to the `.work()` call."""
        steps = list(prelude)
        for fq, call in path:
            f, fn = self.index.functions[fq]
            steps.append(
                RunStep(
                    "call",
                    fq,
                    Step(f.relpath, fn.loc.line, fn.loc.column, f"def {fn.name}(...)"),
                    (call.loc.line, call.loc.column),
                )
            )
        site = self.site_at_end(path)
        worker_class = site.worker_class
        queues = site.queues
        problem = None
        if site.main:
            read = self.cli_main(site, command)
            if isinstance(read, Unresolved):
                problem = read
            else:
                worker_class, queues, loads = read
                steps += loads
        elif site.cli and command is not None:
            worker_class = _worker_class_option(command.argv) or worker_class
        return Launch(
            label,
            where[0],
            where[1],
            "rq",
            steps,
            site,
            worker_class,
            command,
            signature + (entry,),
            queues=queues,
            unresolved=problem,
        )

    def cli_main(
        self, site: WorkSite, command: WorkerCommand | None
    ) -> tuple[str, frozenset[str] | None, list[RunStep]] | Unresolved:
        """What `rq.cli.main()` starts, read from the command line it runs: the worker class,
        the queues, and the modules its options load before the fork (`-c`, `-j`)."""
        f = self.index.modules[site.module]
        line = site.call.loc.line
        variants = site.argv
        if variants is None:
            if command is None:
                return unresolved(
                    f.relpath,
                    line,
                    "calls rq.cli.main(), which runs the command line the process was started "
                    "with, and forklint finds none that runs it",
                )
            variants = (command.argv,)
        if isinstance(variants, str):
            return unresolved(
                f.relpath, line, f"calls rq.cli.main(), and {variants}: what it starts is unknown"
            )
        read = [rq_cli_command(words, f.relpath, line) for words in variants]
        shown = " | ".join(shlex.join(["rq", *words]) for words in variants)
        if any(c is None for c in read):
            return unresolved(
                f.relpath, line, f"calls rq.cli.main() with `{shown}`, which starts no worker"
            )
        facts = {
            (c.kind, c.worker_class, c.config_module, c.job_class, c.queues) for c in read if c
        }
        if len(facts) > 1:
            return unresolved(
                f.relpath,
                line,
                f"calls rq.cli.main() with `{shown}`, depending on a condition",
            )
        chosen = read[0]
        assert chosen is not None
        here = Step(f.relpath, line, site.call.loc.column, chosen.text)
        cls = (chosen.worker_class or "rq.Worker").replace(":", ".")
        cls = self.index.canonical(cls) if chosen.worker_class else cls
        loads = []
        for name in (chosen.config_module, chosen.job_class):
            module = self.index.defining_module(name) if name is not None else None
            if module is not None:
                loads.append(RunStep("import", module, here))
        module = cls.rpartition(".")[0]
        if cls not in self.index.classes and module in self.index.modules:
            loads.append(RunStep("import", module, here))
        named = Queues.of_command(chosen.queues)
        if cls in self.index.classes and self.index.find_method(cls, "__init__") is not None:
            named = None  # the class may pick its own queues (held-out pulpcore's PulpWorker)
        return cls, (frozenset(named) if named is not None else None), loads


# Process classes whose start() forks under the default start method (not `ctx.Process` of a
# context the project picked: that start method is not known here).
_FORKING_PROCESS = frozenset(
    {
        "multiprocessing.Process",
        "multiprocessing.context.Process",
        "multiprocessing.process.BaseProcess",
    }
)
_START_METHOD_SETTERS = frozenset(
    {"multiprocessing.set_start_method", "multiprocessing.get_context"}
)


def _described_words(described: str, program: bool = False) -> tuple[str, ...] | None:
    """The strings of a list literal as `describe` writes it (`["worker","-w","app.W"]`); a
    word `describe` left out (`"redis://host"`, an f-string) is `$?`, and it may stand only as the
    value of an option that loads no code (`--url`), or first as the `program` name. None when an
    item is a name or a call (it may be `*extra`, any number of words)."""
    if not (described.startswith("[") and described.endswith("]")):
        return None
    inner = described[1:-1]
    if not inner:
        return ()
    words: list[str] = []
    for item in inner.split(","):
        word = described_string(item)
        if word is None and program and not words and not item.startswith("["):
            word = _UNREAD  # `sys.argv = [sys.argv[0], "worker", ...]`
        if word is None and item:
            return None
        if word is None and (not words or words[-1] not in _HARMLESS_VALUES):
            return None
        words.append(_UNREAD if word is None else word)
    return tuple(words)


_UNREAD = "$?"
# `rq worker` options whose value loads no code: a value forklint cannot read changes nothing
_HARMLESS_VALUES = frozenset(
    """--url -u --name -n --pid --sentry-dsn --logging_level --logging-level --log-format
    --date-format --results-ttl --worker-ttl --max-jobs --max-idle-time""".split()
)


def _worker_class_option(argv: tuple[str, ...]) -> str | None:
    """The class `-w X` / `--worker-class X` / `--worker-class=X` names among RQ's options."""
    for i, word in enumerate(argv):
        if word in ("-w", "--worker-class") and i + 1 < len(argv):
            return argv[i + 1].replace(":", ".")
        if word.startswith("--worker-class="):
            return word.partition("=")[2].replace(":", ".")
    return None


def _command_names(function: str) -> list[str]:
    """click names a command after its function: `run_worker` is `run-worker` (click 7+), and
    Flask-Script keeps `run_worker`; click 8.2 also drops a `_command`/`_cmd` suffix."""
    names = [function.replace("_", "-"), function]
    for suffix in ("_command", "_cmd", "_group", "_grp"):
        if function.endswith(suffix) and len(function) > len(suffix):
            names.append(function[: -len(suffix)].replace("_", "-"))
    return list(dict.fromkeys(names))


def unresolved(path: str, line: int, what: str, settle: str = SETTLE_WORKER) -> Unresolved:
    return Unresolved(path, line, what, settle)


_WORD = re.compile(r"worker", re.IGNORECASE)
