"""The pre-fork world: how workers start, what their parent has done before it forks, and each job's fork model."""

from __future__ import annotations

from dataclasses import dataclass, field

from forklint.catalog import Catalog
from forklint.commands import WorkerCommand
from forklint.config import Config
from forklint.facts import CallFact, FileFacts, FunctionFact, ImportFact
from forklint.index import Index, Step
from forklint.jobs import Job

# Deeper than this, a start-up's call chain is not followed (and Python's stack stays safe).
_MAX_CALL_DEPTH = 60
STOCK_ASSUMPTION = "no worker start-up found: assumed stock `rq worker`"
# Models where the work horse (or pool child) starts from a fork of the parent.
FORKING = frozenset({"rq", "celery", "celery-per-task"})
# Models where memoised state dies with every job.
PER_JOB = frozenset({"rq", "celery-per-task"})


@dataclass(frozen=True)
class Site:
    """A call that runs in the worker parent before it forks, with the path that gets there."""

    module: str
    call: CallFact
    target: str  # resolved callee
    trace: tuple[Step, ...]


@dataclass(frozen=True)
class Startup:
    """A start-up function or script written in the project (the place a fix goes)."""

    module: str
    relpath: str
    function: str | None  # qualname; None for a script's module level
    work_line: int  # line of the `.work()` call
    work_text: str  # "Worker.work()"


@dataclass(frozen=True)
class Reset:
    """Code that runs in every child right after the fork; it resets only what it touches."""

    label: (
        str  # "worker_process_init handler app.signals.reset", "os.register_at_fork in app/db.py:9"
    )
    function: str | None = None  # the project function it runs
    opaque: bool = False  # code forklint cannot see (a lambda, an entry outside the project)


@dataclass
class Parent:
    """One way the project starts a worker, and what that parent has done before it forks."""

    label: str  # "worker.py:main()", "Procfile:1", "stock `rq worker`"
    framework: str  # "rq" | "celery"
    model: str  # "rq" | "rq-simple" | "rq-spawn" | "celery" | "celery-per-task" | "celery-solo"
    startup: Startup | None = None
    worker_class: str | None = None  # the class a start-up runs: "rq.Worker", "app.worker.MyWorker"
    worker_kind: str | None = None  # its kind: "forking" | "prefork" | "simple" | "spawn" | "pool"
    prefork_table: bool = False  # forklint.rq.PreforkWorker runs config.prefork
    modules: set[str] = field(default_factory=set)  # imported before the fork
    configured: list[frozenset[str]] = field(
        default_factory=list
    )  # modules loaded at each configure_mappers()
    warmed: set[str] = field(default_factory=set)  # project functions called before the fork
    # the same facts in the order the parent does them (for verify's project baseline)
    import_order: list[str] = field(default_factory=list)
    call_order: list[str] = field(default_factory=list)  # "pkg.mod:func" of project functions and
    # catalog calls that warm the parent (configure_mappers)
    sites: list[Site] = field(default_factory=list)
    resets: list[Reset] = field(
        default_factory=list
    )  # after-fork resets this parent's children run
    command: WorkerCommand | None = (
        None  # the command line that starts it (Procfile, Dockerfile...)
    )


@dataclass
class World:
    parents: list[Parent]
    assumptions: list[str]
    job_models: dict[str, str]  # job fq -> fork model
    job_parents: dict[str, list[Parent]]  # job fq -> the forking parents that run it
    global_resets: list[Reset]  # os.register_at_fork(after_in_child=...), project-wide


class _Run:
    """Abstract execution of the parent: imports and calls in source order, nothing is really run."""

    def __init__(self, index: Index, catalog: Catalog, parent: Parent) -> None:
        self.index = index
        self.catalog = catalog
        self.parent = parent
        self.functions_done: set[str] = set()

    def import_module(self, module: str, trace: tuple[Step, ...]) -> None:
        for name in (*self.index.package_parents(module), module):
            if name in self.parent.modules:
                continue
            self.parent.modules.add(name)
            if name in self.index.modules:
                self.parent.import_order.append(name)
                self.run_module(name, trace)

    def run_module(
        self, module: str, trace: tuple[Step, ...], main: bool = False, until: int | None = None
    ) -> None:
        f = self.index.modules[module]
        imports = f.main_imports if main else f.imports
        calls = f.main_calls if main else f.calls
        fn = None
        resolved = {id(c): t for c, t in self.index.module_calls(module)} if not main else {}
        events: list[tuple[int, int, object]] = [(i.loc.line, i.loc.column, i) for i in imports]
        events += [(c.loc.line, c.loc.column, c) for c in calls]
        events.sort(key=lambda e: (e[0], e[1]))
        for line, _, event in events:
            if until is not None and line >= until:
                break
            if isinstance(event, ImportFact):
                step = _step(f, event.loc.line, event.loc.column, event.text)
                for name in self.index.imported_modules(event):
                    self.import_module(name, trace + (step,))
            else:
                assert isinstance(event, CallFact)
                target = resolved.get(id(event)) or self.index.resolve(module, fn, event.callee)
                self.call(f, event, target, trace)
        if not main:
            for read in f.reads:
                if until is None or read.loc.line < until:
                    self.read(f, None, read, trace)

    def run_function(
        self, fq: str, trace: tuple[Step, ...], until: tuple[int, int] | None = None
    ) -> None:
        if fq in self.functions_done and until is None:
            return
        self.functions_done.add(fq)
        self.parent.warmed.add(fq)
        entry = self.index.functions.get(fq)
        if entry is None:
            return
        f, fn = entry
        self.parent.call_order.append(f"{f.module}:{fn.qualname}")
        resolved = {id(c): t for c, t in self.index.callees(fq)}
        events: list[tuple[int, int, object]] = [(i.loc.line, i.loc.column, i) for i in fn.imports]
        events += [(c.loc.line, c.loc.column, c) for c in fn.calls]
        events.sort(key=lambda e: (e[0], e[1]))
        for line, column, event in events:
            if until is not None and (line, column) >= until:
                break
            if isinstance(event, ImportFact):
                step = _step(f, event.loc.line, event.loc.column, event.text)
                for name in self.index.imported_modules(event):
                    self.import_module(name, trace + (step,))
            else:
                assert isinstance(event, CallFact)
                self.call(f, event, resolved.get(id(event), ""), trace)
        receivers = [  # `SERVICE.model.warm()` reads SERVICE.model on the way
            CallFact(c.callee.rpartition(".")[0], c.loc, (), (), c.conditional)
            for c in fn.calls
            if c.callee.count(".") >= 2 and "(" not in c.callee and "[" not in c.callee
        ]
        for read in (
            *fn.reads,
            *receivers,
        ):  # `SERVICE.model` in the parent fills a cached_property there
            if until is None or (read.loc.line, read.loc.column) < until:
                self.read(f, fn, read, trace)

    def read(
        self, f: FileFacts, fn: FunctionFact | None, read: CallFact, trace: tuple[Step, ...]
    ) -> None:
        target = self.index.resolve(f.module, fn, read.callee)
        entry = self.index.functions.get(target)
        if entry is not None and any(d.name.endswith("property") for d in entry[1].decorators):
            step = _step(f, read.loc.line, read.loc.column, read.callee)
            if len(trace) < _MAX_CALL_DEPTH:
                self.run_function(target, trace + (step,))

    def call(self, f: FileFacts, call: CallFact, target: str, trace: tuple[Step, ...]) -> None:
        step = _step(f, call.loc.line, call.loc.column, call_text(f, call))
        self.parent.sites.append(Site(f.module, call, target, trace + (step,)))
        self.external_call(target)
        project = self.index.call_target(target)
        if project is not None and len(trace) < _MAX_CALL_DEPTH:
            self.run_function(project, trace + (step,))

    def external_call(self, target: str) -> None:
        if self.catalog.configure(target):
            self.parent.configured.append(frozenset(self.parent.modules))
            self.parent.call_order.append("sqlalchemy.orm:configure_mappers")


_SOURCE: dict[str, list[str]] = {}


def set_sources(sources: dict[str, list[str]]) -> None:
    """Source lines per module, for the text of trace steps."""
    _SOURCE.clear()
    _SOURCE.update(sources)


def source_line(module: str, line: int) -> str:
    lines = _SOURCE.get(module, [])
    return lines[line - 1] if 0 < line <= len(lines) else ""


def call_text(f: FileFacts, call: CallFact) -> str:
    """The call as written, from its start to its closing parenthesis on the same logical line."""
    text = source_line(f.module, call.loc.line)
    start = call.loc.column - 1
    depth = 0
    for i in range(start, len(text)):
        ch = text[i]
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
            if depth == 0:
                return text[start : i + 1]
            if depth < 0:
                return text[start:i]
    return text[start:].rstrip()


def _step(f: FileFacts, line: int, column: int, text: str) -> Step:
    return Step(f.relpath, line, column, text)


def build(
    index: Index,
    catalog: Catalog,
    config: Config,
    jobs: tuple[Job, ...],
    commands: tuple[WorkerCommand, ...],
) -> World:
    parents: list[Parent] = []
    assumptions: list[str] = []
    rq_jobs = [j for j in jobs if j.framework == "rq"]
    celery_jobs = [j for j in jobs if j.framework == "celery"]

    # RQ parents: configuration first, then command lines, then start-up code in the project.
    if config.worker:
        module, _, name = config.worker.partition(":")
        fq = f"{module}.{name}".replace(":", ".")
        startup = _startup_in_function(index, catalog, fq)
        parent = _parent_from_startup(
            index, catalog, config, fq, startup, f"[tool.forklint] worker = {config.worker}"
        )
        if parent is not None:
            parents.append(parent)
        else:
            assumptions.append(
                f"[tool.forklint] worker = {config.worker!r} is not a function of the project"
            )
    if config.worker_class:
        parents.append(
            _parent_from_class(
                index,
                catalog,
                config,
                config.worker_class.replace(":", "."),
                None,
                f"[tool.forklint] worker-class = {config.worker_class}",
            )
        )
    for command in commands:
        if command.kind in ("rq", "rq-pool"):
            parents.append(_parent_from_command(index, catalog, config, command))
    if not config.worker:
        for fq, startup in _find_startups(index, catalog):
            parent = _parent_from_startup(
                index, catalog, config, fq, startup, startup_label(startup)
            )
            if parent is not None:
                parents.append(parent)
    if rq_jobs and not any(p.framework == "rq" for p in parents):
        parents.append(_stock(index, catalog, config))
        assumptions.append(STOCK_ASSUMPTION)

    celery_commands = [c for c in commands if c.kind == "celery"]
    if celery_jobs or celery_commands:
        if celery_commands:
            for command in celery_commands:
                parents.append(_celery_parent(index, catalog, config, command, celery_jobs))
        else:
            parents.append(_celery_parent(index, catalog, config, None, celery_jobs))

    if config.fork_model != "auto":
        for p in parents:
            p.model = config.fork_model

    job_models: dict[str, str] = {}
    job_parents: dict[str, list[Parent]] = {}
    for job in jobs:
        if job.framework in ("rq", "celery"):
            mine = [p for p in parents if p.framework == job.framework]
            forking = [p for p in mine if p.model in FORKING]
            job_parents[job.fq] = forking
            if config.fork_model != "auto":
                job_models[job.fq] = config.fork_model
            elif not mine:
                job_models[job.fq] = "rq" if job.framework == "rq" else "celery"
            elif any(p.model in PER_JOB for p in mine):
                job_models[job.fq] = next(p.model for p in mine if p.model in PER_JOB)
            elif forking:
                job_models[job.fq] = forking[0].model
            else:
                job_models[job.fq] = mine[0].model
        else:
            job_models[job.fq] = config.fork_model if config.fork_model != "auto" else job.framework
            job_parents[job.fq] = []
    return World(parents, assumptions, job_models, job_parents, _global_resets(index, catalog))


def _stock(index: Index, catalog: Catalog, config: Config) -> Parent:
    parent = Parent("stock `rq worker`", "rq", "rq")
    parent.modules.update({"rq", "redis"})
    return parent


def _find_startups(index: Index, catalog: Catalog) -> list[tuple[str | None, Startup]]:
    """Functions and scripts that call `.work()` on an RQ worker (or `.start()` on a pool)."""
    out: list[tuple[str | None, Startup]] = []
    for module, f in index.modules.items():
        if is_test_module(f.relpath):  # a test's burst worker is not how the app runs its jobs
            continue
        for fn in f.functions:
            fq = f"{module}.{fn.qualname}"
            for call, target in index.callees(fq):
                if _is_work_call(index, catalog, module, fn, call, target):
                    out.append(
                        (
                            fq,
                            Startup(
                                module,
                                f.relpath,
                                fn.qualname,
                                call.loc.line,
                                _work_text(index, catalog, module, fn, call),
                            ),
                        )
                    )
                    break
        for calls, main in ((f.calls, False), (f.main_calls, True)):
            for call in calls:
                target = index.resolve(module, None, call.callee)
                if _is_work_call(index, catalog, module, None, call, target):
                    out.append(
                        (
                            None,
                            Startup(
                                module,
                                f.relpath,
                                None if not main else "__main__",
                                call.loc.line,
                                _work_text(index, catalog, module, None, call),
                            ),
                        )
                    )
                    break
    return out


def is_test_module(relpath: str) -> bool:
    parts = relpath.split("/")
    name = parts[-1]
    return (
        any(p in ("test", "tests", "testing") for p in parts[:-1])
        or name.startswith("test_")
        or name.endswith("_test.py")
        or name == "conftest.py"
    )


def _work_text(
    index: Index, catalog: Catalog, module: str, fn: FunctionFact | None, call: CallFact
) -> str:
    """ "Worker.work()", "MyWorker.work()", "WorkerPool.start()": how a fix names the start call."""
    cls = worker_class_of(index, catalog, module, fn, call) or "Worker"
    return f"{cls.rpartition('.')[2]}.{call.callee.rpartition('.')[2]}()"


def worker_class_of(
    index: Index, catalog: Catalog, module: str, fn: FunctionFact | None, call: CallFact
) -> str | None:
    """The worker class a `.work()`/`.start()` call runs: "rq.SimpleWorker", "app.worker.MyWorker"..."""
    receiver = call.callee.rpartition(".")[0]
    resolved = index.resolve(module, fn, receiver)
    if not resolved.endswith("()"):
        return None
    cls = resolved[:-2]
    if cls in catalog.worker_factories:
        return "rq.Worker"
    if catalog.worker_kind(cls) is not None:
        return cls
    if cls in index.classes and index.subclass_of(
        cls, frozenset(n for n, _ in catalog.worker_kind.entries)
    ):
        return cls
    return None


def _is_work_call(
    index: Index,
    catalog: Catalog,
    module: str,
    fn: FunctionFact | None,
    call: CallFact,
    target: str,
) -> bool:
    method = call.callee.rpartition(".")[2]
    if method not in catalog.start_methods:
        return False
    cls = worker_class_of(index, catalog, module, fn, call)
    if cls is None:
        return False
    kind = _class_kind(index, catalog, cls)
    return (method == "start") == (kind == "pool")


def _class_kind(index: Index, catalog: Catalog, cls: str) -> str:
    """ "prefork" | "simple" | "spawn" | "pool" | "forking" for a worker class (project subclasses by their base)."""
    kind = catalog.worker_kind(cls)
    if kind is not None:
        return kind
    if cls in index.classes:
        external = index.mro(cls)[1]
        for e in external:
            k = catalog.worker_kind(e)
            if k is not None:
                return k
    return "forking"


def _model_of_kind(kind: str) -> str:
    return {"simple": "rq-simple", "spawn": "rq-spawn"}.get(kind, "rq")


def _startup_in_function(index: Index, catalog: Catalog, fq: str) -> Startup | None:
    entry = index.functions.get(fq)
    if entry is None:
        return None
    f, fn = entry
    for call, target in index.callees(fq):
        if _is_work_call(index, catalog, f.module, fn, call, target):
            return Startup(
                f.module,
                f.relpath,
                fn.qualname,
                call.loc.line,
                _work_text(index, catalog, f.module, fn, call),
            )
    return Startup(f.module, f.relpath, fn.qualname, 10**9, "Worker.work()")


def startup_label(startup: Startup) -> str:
    where = (
        f"{startup.relpath}:{startup.function}()"
        if startup.function and startup.function != "__main__"
        else startup.relpath
    )
    return where


def _parent_from_startup(
    index: Index,
    catalog: Catalog,
    config: Config,
    fq: str | None,
    startup: Startup | None,
    label: str,
) -> Parent | None:
    if startup is None:
        return None
    f = index.modules[startup.module]
    fn = index.functions[fq][1] if fq is not None and fq in index.functions else None
    work_call = _find_work_call(index, catalog, f, fn, startup)
    cls = (
        worker_class_of(index, catalog, f.module, fn, work_call) if work_call is not None else None
    )
    kind = _class_kind(index, catalog, cls) if cls else "forking"
    parent = Parent(
        label, "rq", _model_of_kind(kind), startup=startup, worker_class=cls, worker_kind=kind
    )
    run = _Run(index, catalog, parent)
    for name in (*index.package_parents(startup.module), startup.module):
        parent.modules.add(name)
        if name in index.modules:
            parent.import_order.append(name)
    if fn is not None:
        here = (_step(f, fn.loc.line, fn.loc.column, f"def {fn.name}(...)"),)
    else:
        here = ()
    if fn is not None:
        run.run_module(startup.module, here)
        until = (work_call.loc.line, work_call.loc.column) if work_call is not None else None
        run.run_function(fq, here, until=until)  # type: ignore[arg-type]
    elif startup.function == "__main__":
        run.run_module(startup.module, here)
        run.run_module(startup.module, here, main=True, until=startup.work_line)
    else:
        run.run_module(startup.module, here, until=startup.work_line)
    if cls and cls in index.classes:
        _run_worker_class(index, catalog, run, cls, here)
    if kind == "prefork":
        _run_prefork_table(index, catalog, config, run, here)
    return parent


def _find_work_call(
    index: Index, catalog: Catalog, f: FileFacts, fn: FunctionFact | None, startup: Startup
) -> CallFact | None:
    calls = (
        fn.calls
        if fn is not None
        else (f.main_calls if startup.function == "__main__" else f.calls)
    )
    for call in calls:
        if (
            call.loc.line == startup.work_line
            and call.callee.rpartition(".")[2] in catalog.start_methods
        ):
            return call
    return None


def _run_worker_class(
    index: Index, catalog: Catalog, run: _Run, cls: str, trace: tuple[Step, ...]
) -> None:
    """A project Worker subclass: its module is imported and its parent-side methods run before forking."""
    run.import_module(index.classes[cls][0].module, trace)
    for name in catalog.parent_methods:
        method = index.find_method(cls, name)
        if method is None:
            continue
        until = None
        for call, _target in index.callees(method):
            if call.callee.startswith("super()"):
                until = (call.loc.line, call.loc.column)
                break
        run.run_function(method, trace, until=until)


def _run_prefork_table(
    index: Index, catalog: Catalog, config: Config, run: _Run, trace: tuple[Step, ...]
) -> None:
    table = config.prefork
    run.parent.prefork_table = bool(table)
    source = config.source_label()
    for module in table.imports:
        line = config.entry_line(module) or 1
        run.import_module(
            module, trace + (Step(source, line, 1, f"[tool.forklint.prefork] imports {module}"),)
        )
    for entry in table.calls:
        fq = entry.replace(":", ".")
        fq = index.canonical(fq)
        step = Step(
            source, config.entry_line(entry) or 1, 1, f"[tool.forklint.prefork] calls {entry}"
        )
        run.external_call(fq)
        if fq in index.functions:
            run.run_function(fq, trace + (step,))
    for entry in table.after_fork:
        fq = index.canonical(entry.replace(":", "."))
        run.parent.resets.append(
            Reset(
                f"[tool.forklint.prefork] after-fork {entry}",
                fq if fq in index.functions else None,
                opaque=fq not in index.functions,
            )
        )


def _parent_from_class(
    index: Index,
    catalog: Catalog,
    config: Config,
    cls: str,
    command: WorkerCommand | None,
    label: str,
) -> Parent:
    kind = _class_kind(index, catalog, cls)
    parent = Parent(label, "rq", _model_of_kind(kind), command=command, worker_class=cls)
    parent.modules.update({"rq", "redis"})
    run = _Run(index, catalog, parent)
    if command is not None:
        here = (Step(command.path, command.line, 1, command.text),)
    else:
        here = (Step(config.source_label(), 1, 1, label),)
    if command is not None and command.config_module:
        run.import_module(command.config_module, here)
    if cls in index.classes:
        _run_worker_class(index, catalog, run, cls, here)
    else:
        module = cls.rpartition(".")[0]
        if module in index.modules:
            run.import_module(module, here)
    if kind == "prefork":
        _run_prefork_table(index, catalog, config, run, here)
    return parent


def _parent_from_command(
    index: Index, catalog: Catalog, config: Config, command: WorkerCommand
) -> Parent:
    label = f"{command.path}:{command.line}"
    cls = (command.worker_class or config.worker_class or "rq.Worker").replace(":", ".")
    if command.kind == "rq-pool" and not command.worker_class:
        cls = "rq.Worker"
    cls = index.canonical(cls)
    return _parent_from_class(index, catalog, config, cls, command, label)


def _celery_parent(
    index: Index,
    catalog: Catalog,
    config: Config,
    command: WorkerCommand | None,
    celery_jobs: list[Job],
) -> Parent:
    label = f"{command.path}:{command.line}" if command is not None else "celery worker"
    app_modules = celery_app_modules(index, catalog, command)
    max_per_child = command.max_tasks_per_child if command is not None else None
    pool = command.pool if command is not None else None
    for module in app_modules:
        value = _celery_setting(index, module, "worker_max_tasks_per_child")
        if max_per_child is None and value is not None and value.isdigit():
            max_per_child = int(value)
    if pool in ("solo", "threads", "gevent", "eventlet"):
        model = "celery-solo"
    elif max_per_child == 1:
        model = "celery-per-task"
    else:
        model = "celery"
    parent = Parent(label, "celery", model)
    run = _Run(index, catalog, parent)
    if command is not None:
        here = (Step(command.path, command.line, 1, command.text),)
    else:
        here = ()
    for module in app_modules:
        run.import_module(module, here)
        for included in _celery_includes(index, catalog, module):
            run.import_module(included, here)
    for job in celery_jobs:  # Celery imports every task module before the pool forks
        run.import_module(job.module, here)
    for handler in _signal_handlers(index, catalog.celery_parent_signals):
        f, fn = index.functions[handler]
        run.run_function(
            handler, here + (_step(f, fn.loc.line, fn.loc.column, f"def {fn.name}(...)"),)
        )
    parent.resets += [
        Reset(f"worker_process_init handler {h}", h)
        for h in _signal_handlers(index, catalog.celery_child_signals)
    ]
    return parent


def celery_app_modules(index: Index, catalog: Catalog, command: WorkerCommand | None) -> list[str]:
    if command is not None and command.celery_app:
        name = command.celery_app.split(":")[0]
        candidates = [name, f"{name}.celery", f"{name}.celery_app"]
        found = [c for c in candidates if c in index.modules]
        if found:
            return found[:1]
        parts = name.split(".")
        for n in range(len(parts), 0, -1):
            if ".".join(parts[:n]) in index.modules:
                return [".".join(parts[:n])]
    out = []
    for module, f in index.modules.items():
        for a in f.assigns:
            if (
                a.value.endswith("()")
                and index.resolve(module, None, a.value[:-2]) in catalog.celery_apps
            ):
                out.append(module)
                break
    return out


def _celery_includes(index: Index, catalog: Catalog, module: str) -> list[str]:
    out: list[str] = []
    for call, target in index.module_calls(module):
        if target in catalog.celery_apps or target.endswith(".autodiscover_tasks"):
            values = [v for k, v in call.kwargs if k in ("include", "imports", "packages")]
            if target.endswith(".autodiscover_tasks") and call.args:
                values.append(call.args[0])
            for value in values:
                for item in value.strip("[]").split(","):
                    item = item.strip().strip('"')
                    if not item:
                        continue
                    if target.endswith(".autodiscover_tasks"):
                        item = f"{item}.tasks"
                    out.append(item)
    return out


def _celery_setting(index: Index, module: str, key: str, depth: int = 0) -> str | None:
    """A setting of the Celery app defined in `module`: `app.conf.KEY = ...`, `Celery(KEY=...)`,
    `app.conf.update(KEY=...)`, or a module named by `app.config_from_object("settings")`."""
    f = index.modules[module]
    for a in f.assigns:
        if a.target.endswith(f".{key}") or (depth and a.target == key):
            return a.value
    for call in f.calls:
        for k, v in call.kwargs:
            if k == key:
                return v
        if call.callee.endswith(".config_from_object") and call.args and depth < 2:
            source = call.args[0].strip('"').split(":")[0]
            if source in index.modules:
                value = _celery_setting(index, source, key, depth + 1)
                if value is not None:
                    return value
    return None


def _signal_handlers(index: Index, signals: frozenset[str]) -> list[str]:
    out: list[str] = []
    for module, f in index.modules.items():
        for fn in f.functions:
            for deco in fn.decorators:
                if (
                    deco.name.endswith(".connect")
                    and index.resolve(module, None, deco.name[: -len(".connect")]) in signals
                ):
                    out.append(f"{module}.{fn.qualname}")
        for call, _target in index.module_calls(module):
            if (
                call.callee.endswith(".connect")
                and call.args
                and index.resolve(module, None, call.callee[: -len(".connect")]) in signals
            ):
                handler = index.resolve(module, None, call.args[0])
                if handler in index.functions:
                    out.append(handler)
    return out


def _global_resets(index: Index, catalog: Catalog) -> list[Reset]:
    """`os.register_at_fork(after_in_child=...)` calls anywhere in the project."""
    out: list[Reset] = []
    for module, f in index.modules.items():
        scopes = [(None, f.calls)] + [(fn, fn.calls) for fn in f.functions]
        for fn, calls in scopes:
            for call in calls:
                if "register_at_fork" not in call.callee:
                    continue
                if index.resolve(module, fn, call.callee) not in catalog.after_fork_hooks:
                    continue
                for keyword, value in call.kwargs:
                    if keyword != "after_in_child":
                        continue
                    label = f"os.register_at_fork in {f.relpath}:{call.loc.line}"
                    handler = index.call_target(index.resolve(module, fn, value)) if value else None
                    # a lambda's body is not in the facts: assume it resets what needs resetting
                    out.append(Reset(label, handler, opaque=handler is None))
    return out
