"""The pre-fork world: the worker parents, what each has done before it forks, and each job's fork model."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import os
import re
import shlex
from pathlib import Path

from forklint.catalog import Catalog
from forklint.celery_routes import read_routes, task_queues
from forklint.commands import WorkerCommand, as_django_manage, console_scripts, wrapped_workers
from forklint.config import Config
from forklint.facts import (
    CallFact,
    ClassFact,
    FileFacts,
    FunctionFact,
    ImportFact,
    described_string,
)
from forklint.findings import Prefork, Unresolved
from forklint.index import Index, Step
from forklint.jobs import Job, is_test_module
from forklint.project import make_excluder, read_bytes, walk
from forklint.queues import Queues
from forklint.startups import SETTLE_WORKER, CliNode, Launch, RunStep, Startups, WorkSite

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
    conditional: bool = False  # may not run: under a condition, or in code that may not run
    loaded: int = 0  # how many project modules the parent had imported (its import_order) then


@dataclass(frozen=True)
class Startup:
    """A start-up function or script written in the project (the place a fix goes)."""

    module: str
    relpath: str
    function: str | None  # qualname; None for a script's module level
    work_line: int  # line of the `.work()` call
    work_text: str  # "Worker.work()"
    cli: bool = False  # RQ's `rq worker` command called in-process ("rq.cli.worker()")


@dataclass(frozen=True)
class Reset:
    """Code that runs in every child right after the fork; it resets only what it touches."""

    label: (
        str  # "worker_process_init handler app.signals.reset", "os.register_at_fork in app/db.py:9"
    )
    function: str | None = None  # the project function it runs
    opaque: bool = False  # code forklint cannot see (a lambda, an entry outside the project)
    django: bool = False  # closes Django's database connections (django-rq, Celery's fix-up)


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
    # calls that import modules forklint cannot name (entry points, import_module(variable)):
    # whether such a parent imported a given module is unknown
    dynamic_imports: list[Step] = field(default_factory=list)
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
    queues: frozenset[str] | None = None  # the RQ queues it reads; None: unknown (any)
    # the command lines of the same worker started again (other queues, other files)
    also_commands: tuple[WorkerCommand, ...] = ()


@dataclass
class World:
    parents: list[Parent]
    assumptions: list[str]
    job_models: dict[str, str]  # job fq -> fork model
    job_parents: dict[str, list[Parent]]  # job fq -> the forking parents that run it
    global_resets: list[Reset]  # os.register_at_fork(after_in_child=...), project-wide
    # start-ups seen but not followed; the jobs they may run have an unknown parent
    unresolved: list[Unresolved] = field(default_factory=list)
    unknown_jobs: set[str] = field(default_factory=set)
    # jobs sent only to queues that no worker of the project reads: no rule speaks of them
    unread_jobs: set[str] = field(default_factory=set)


class _Run:
    """Abstract execution of the parent: imports and calls in source order, nothing is really run."""

    def __init__(self, index: Index, catalog: Catalog, parent: Parent) -> None:
        self.index = index
        self.catalog = catalog
        self.parent = parent
        self.functions_done: set[str] = set()
        self.maybe_done: set[str] = set()  # run only where they may not run
        self.sure_modules: set[str] = set()  # imported on every run (not under a condition)

    def import_module(
        self, module: str, trace: tuple[Step, ...], conditional: bool = False
    ) -> None:
        for name in (*self.index.package_parents(module), module):
            if name in self.sure_modules or (conditional and name in self.parent.modules):
                continue
            self.parent.modules.add(name)
            if not conditional:
                self.sure_modules.add(name)
            if name in self.index.modules:
                if name not in self.parent.import_order:
                    self.parent.import_order.append(name)
                self.run_module(name, trace, conditional=conditional)

    def run_module(
        self,
        module: str,
        trace: tuple[Step, ...],
        main: bool = False,
        until: int | None = None,
        conditional: bool = False,
    ) -> None:
        f = self.index.modules[module]
        imports = f.main_imports if main else f.imports
        calls = f.main_calls if main else f.calls
        fn = None
        resolved = {id(c): t for c, t in self.index.module_calls(module)} if not main else {}
        events: list[tuple[int, int, object]] = [(i.loc.line, i.loc.column, i) for i in imports]
        events += [(c.loc.line, c.loc.column, c) for c in calls]
        if not main:
            events += [(c.loc.line, c.loc.column, c) for c in f.classes if "." not in c.qualname]
        events.sort(key=lambda e: (e[0], e[1]))
        for line, _, event in events:
            if until is not None and line >= until:
                break
            if isinstance(event, ImportFact):
                step = _step(f, event.loc.line, event.loc.column, event.text)
                for name in self.index.imported_modules(event):
                    self.import_module(name, trace + (step,), conditional or event.conditional)
            elif isinstance(event, ClassFact):
                self.define(f, event, trace, conditional)
            else:
                assert isinstance(event, CallFact)
                target = resolved.get(id(event)) or self.index.resolve(module, fn, event.callee)
                self.call(f, event, target, trace, conditional or event.conditional)
        if not main:
            for read in f.reads:
                if until is None or read.loc.line < until:
                    self.read(f, None, read, trace, conditional or read.conditional)

    def run_function(
        self,
        fq: str,
        trace: tuple[Step, ...],
        until: tuple[int, int] | None = None,
        conditional: bool = False,
    ) -> None:
        if until is None:
            if fq in self.functions_done or (conditional and fq in self.maybe_done):
                return
            (self.maybe_done if conditional else self.functions_done).add(fq)
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
                    self.import_module(name, trace + (step,), conditional or event.conditional)
            else:
                assert isinstance(event, CallFact)
                target = resolved.get(id(event), "")
                self.call(f, event, target, trace, conditional or event.conditional)
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
                self.read(f, fn, read, trace, conditional or read.conditional)

    def read(
        self,
        f: FileFacts,
        fn: FunctionFact | None,
        read: CallFact,
        trace: tuple[Step, ...],
        conditional: bool = False,
    ) -> None:
        target = self.index.resolve(f.module, fn, read.callee)
        entry = self.index.functions.get(target)
        if entry is not None and any(d.name.endswith("property") for d in entry[1].decorators):
            step = _step(f, read.loc.line, read.loc.column, read.callee)
            if len(trace) < _MAX_CALL_DEPTH:
                self.run_function(target, trace + (step,), conditional=conditional)

    def call(
        self,
        f: FileFacts,
        call: CallFact,
        target: str,
        trace: tuple[Step, ...],
        conditional: bool = False,
    ) -> None:
        step = _step(f, call.loc.line, call.loc.column, call_text(f, call))
        loaded = len(self.parent.import_order)
        self.parent.sites.append(Site(f.module, call, target, trace + (step,), conditional, loaded))
        self.external_call(target)
        if self.catalog.dynamic_import(target):
            literal = call.args[0].strip('"') if call.args and call.args[0].startswith('"') else ""
            if literal and target in _IMPORT_MODULE:
                self.import_module(literal, trace + (step,), conditional)
            else:  # the parent may have imported anything
                self.parent.dynamic_imports.append(step)
        elif target in _URL_INCLUDES and call.args:
            # `path("reports/", include("reports.urls"))` imports the app's URLconf right there,
            # and with it its views (held-out rnacentral-webcode)
            named = call.args[0]
            if named.startswith("["):  # include(("reports.urls", "reports"))
                named = named[1:].partition(",")[0].rstrip("]")
            module = described_string(named)
            if module:
                self.import_module(module, trace + (step,), conditional)
        project = self.index.call_target(target)
        if target in self.index.classes and any(
            self.catalog.deferred_construction(base) for base in self.index.mro(target)[1]
        ):
            project = None  # a WTForms field in a class body: __init__ runs later, per form
        if project is not None and len(trace) < _MAX_CALL_DEPTH:
            self.run_function(project, trace + (step,), conditional=conditional)

    def define(
        self, f: FileFacts, c: ClassFact, trace: tuple[Step, ...], conditional: bool
    ) -> None:
        """A class defined at import whose definition inspects a model's mapper (a schema or form
        class with `class Meta: model = Model`): a site, as if its base were called with Model."""
        fq = f"{f.module}.{c.qualname}"
        inspector = next(
            (b for b in self.index.mro(fq)[1] if self.catalog.mapper_inspector(b)), None
        )
        if inspector is None:
            return
        meta = self.index.classes.get(f"{fq}.Meta")
        model = next((a.value for a in meta[1].assigns if a.target == "model"), "") if meta else ""
        if not model:
            return
        call = CallFact(c.bases[0] if c.bases else inspector, c.loc, (model,), (), False)
        step = _step(f, c.loc.line, c.loc.column, f"class {c.name}(...): Meta.model = {model}")
        loaded = len(self.parent.import_order)
        self.parent.sites.append(
            Site(f.module, call, inspector, trace + (step,), conditional, loaded)
        )

    def external_call(self, target: str) -> None:
        if self.catalog.settled_in_parent(target):  # `django.setup()`: a horse's call is free
            self.parent.warmed.add(target)
        if self.catalog.configure(target):
            self.parent.configured.append(frozenset(self.parent.modules))
            self.parent.call_order.append("sqlalchemy.orm:configure_mappers")


_ENV_FLASK_APP = re.compile(
    r"""^\s*ENV\s+(?:.*\s)?FLASK_APP(?:=|\s+)["']?([^"'\s]+)""", re.MULTILINE | re.IGNORECASE
)
_COPY = re.compile(r"^\s*(?:COPY|ADD)\s+([^\n\[]+?)\s*$", re.MULTILINE | re.IGNORECASE)
_IMPORT_MODULE = frozenset({"importlib.import_module", "__import__", "importlib.__import__"})
_URL_INCLUDES = frozenset(
    {"django.urls.include", "django.urls.conf.include", "django.conf.urls.include"}
)
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
    return _Builder(index, catalog, config, jobs, commands).build()


# Decorators that do not change how (or whether) a function is called.
_PLAIN_DECORATORS = frozenset(
    {
        "staticmethod",
        "classmethod",
        "property",
        "functools.wraps",
        "functools.lru_cache",
        "functools.cache",
        "contextlib.contextmanager",
        "typing.overload",
        "abc.abstractmethod",
        "click.option",
        "click.argument",
        "click.pass_context",
        "click.pass_obj",
        "click.decorators.option",
        "click.decorators.argument",
        "click.decorators.pass_context",
        "click.decorators.pass_obj",
    }
)
_WITH_APPCONTEXT = frozenset({"flask.cli.with_appcontext"})
_COMMENTED_DECORATOR = re.compile(r"\s*#\s*@")
_DJANGO_SETTINGS = re.compile(r"DJANGO_SETTINGS_MODULE")


class _Builder:
    """Builds the world: every start-up followed (or reported unresolved), then each job's parents."""

    def __init__(
        self,
        index: Index,
        catalog: Catalog,
        config: Config,
        jobs: tuple[Job, ...],
        commands: tuple[WorkerCommand, ...],
    ) -> None:
        self.index = index
        self.catalog = catalog
        self.config = config
        self.jobs = jobs
        self.commands = commands
        self.starts = Startups(index, catalog, config)
        self.launches: dict[tuple, Launch] = {}
        self.parents: list[Parent] = []
        self.unresolved: list[Unresolved] = []
        self.assumptions: list[str] = []
        self.unknown_frameworks: set[str] = set()
        self._other_files: list[str] | None = None  # the project's files, for program paths
        self._settings: tuple[str | None] | None = None  # the Django settings module, once found
        self._configured: str | None = None  # the function `[tool.forklint] worker` names
        self._copies: dict[str, str] | None = None  # image path -> project file (Dockerfiles)
        self._dockerfile_texts: dict[str, str] | None = None

    # --- the whole world -----------------------------------------------------------------------

    def build(self) -> World:
        config, index = self.config, self.index
        if config.worker:
            self._configured_worker()
        if config.worker_class:
            label = f"[tool.forklint] worker-class = {config.worker_class}"
            where = (config.source_label(), 1)
            self._rq_cli(label, where, config.worker_class.replace(":", "."), None, [])
        celery_commands = []
        for command in (c for each in self.commands for c in self._unwrapped(each)):
            if command.kind in ("rq", "rq-pool"):
                self._rq_command(command)
            elif command.kind == "celery":
                if not self._foreign_celery_app(command):
                    celery_commands.append(command)
            elif command.kind == "program":
                self._program(command)
        if not config.worker:
            self._code_startups()
        for launch in self.launches.values():
            parent = self._parent(launch)
            if parent is not None:
                self.parents.append(parent)

        rq_jobs = [j for j in self.jobs if j.framework == "rq"]
        celery_jobs = [j for j in self.jobs if j.framework == "celery"]
        if (
            rq_jobs
            and "rq" not in self.unknown_frameworks
            and not any(p.framework == "rq" for p in self.parents)
        ):
            self._assumed_rq_parent()
        if celery_jobs or celery_commands:
            if not celery_commands:  # said once, as for RQ (held-out squad, gitlab-tools, capstone)
                self.assumptions.append(CELERY_ASSUMPTION)
            for command in celery_commands or [None]:
                parent = self._celery_parent(command, celery_jobs)
                if parent is not None:
                    self.parents.append(parent)

        if config.fork_model != "auto":
            for p in self.parents:
                p.model = config.fork_model
        job_models: dict[str, str] = {}
        job_parents: dict[str, list[Parent]] = {}
        unknown: set[str] = set()
        celery_queues = self._celery_queues(celery_jobs, celery_commands)
        unread: dict[str, list[str]] = {}  # queue -> jobs sent there that no worker reads
        for job in self.jobs:
            if job.framework in self.unknown_frameworks:
                unknown.add(job.fq)
            if job.framework in ("rq", "celery"):
                # a worker runs only the jobs of the queues it reads (unknown on either side: any)
                queues = celery_queues.get(job.fq) if job.framework == "celery" else job.queues
                mine = [
                    p
                    for p in self.parents
                    if p.framework == job.framework
                    and (p.queues is None or queues is None or bool(p.queues & queues))
                ]
                forking = [p for p in mine if p.model in FORKING]
                job_parents[job.fq] = forking
                theirs = [p for p in self.parents if p.framework == job.framework]
                if (
                    not mine
                    and queues
                    and theirs
                    and all(p.queues is not None for p in theirs)
                    and job.framework not in self.unknown_frameworks
                ):
                    # every worker of the project reads other queues (held-out
                    # process-management-system: a job on "ocr", workers on "emails")
                    for queue in sorted(queues):
                        unread.setdefault(queue, []).append(job.fq)
                if config.fork_model != "auto":
                    job_models[job.fq] = config.fork_model
                elif not mine:
                    job_models[job.fq] = "rq" if job.framework == "rq" else "celery"
                elif any(p.model in PER_JOB for p in mine) and not (
                    # a Celery task whose queue is unknown, among workers that read chosen
                    # queues and do not all start a child per task: which one runs it is unknown
                    job.framework == "celery"
                    and queues is None
                    and any(p.queues for p in mine)
                    and not all(p.model in PER_JOB for p in mine)
                ):
                    job_models[job.fq] = next(p.model for p in mine if p.model in PER_JOB)
                elif forking:
                    job_models[job.fq] = forking[0].model
                else:
                    job_models[job.fq] = mine[0].model
            else:
                model = config.fork_model if config.fork_model != "auto" else job.framework
                job_models[job.fq] = model
                job_parents[job.fq] = []
        for queue, fqs in sorted(unread.items()):
            self.assumptions.append(
                f"no worker of the project reads queue {queue!r}: "
                f"{', '.join(sorted(fqs))} left out (a worker deployed elsewhere may run it)"
            )
        unresolved = list({(u.path, u.line, u.what): u for u in self.unresolved}.values())
        return World(
            self.parents,
            self.assumptions,
            job_models,
            job_parents,
            _global_resets(index, self.catalog),
            sorted(unresolved, key=lambda u: (u.path, u.line)),
            unknown,
            {fq for fqs in unread.values() for fq in fqs},
        )

    def _celery_queues(
        self, celery_jobs: list[Job], commands: list[WorkerCommand]
    ) -> dict[str, frozenset[str] | None]:
        """The queues each Celery task is sent to (None: unknown), when a worker reads chosen
        queues (`-Q`); otherwise nothing to tell apart."""
        if not any(c.queues for c in commands):
            return {}
        index = self.index
        settings = self._django_settings()
        modules: list[str] = []
        for command in commands:
            for module in celery_app_modules(index, self.catalog, command):
                modules += [module, *_celery_config_modules(index, module, settings)]
        texts = ["\n".join(_SOURCE.get(m, [])) for m in dict.fromkeys(modules)]
        routes = read_routes(texts)
        sends = self._queue_sends()
        out: dict[str, frozenset[str] | None] = {}
        for job in celery_jobs:
            kwargs: dict[str, str] = {}
            entry = index.functions.get(job.fq)
            if entry is not None:
                for deco in entry[1].decorators:
                    kwargs.update(deco.kwargs)
            name = job.fq.removesuffix(".run")  # a Task class's run(): the class names the task
            out[job.fq] = task_queues(routes, name, kwargs, lambda fq=job.fq: sends.get(fq, []))
        return out

    def _queue_sends(self) -> dict[str, list[str | None]]:
        """Task -> the `queue=` its senders pass (`task.apply_async(queue="x")`, `task.s().set(
        queue=...)`): a literal's text, None for a computed one."""
        out: dict[str, list[str | None]] = {}
        for module, f in self.index.modules.items():
            for fn, calls in ((None, f.calls), *((fn, fn.calls) for fn in f.functions)):
                for call in calls:
                    value = dict(call.kwargs).get("queue")
                    if value is None or "." not in call.callee:
                        continue
                    receiver = call.callee.rpartition(".")[0].removesuffix("()")
                    task = self.index.call_target(self.index.resolve(module, fn, receiver))
                    if task is not None:
                        out.setdefault(task, []).append(described_string(value))
        return out

    def _unresolved(self, path: str, line: int, what: str, settle: str = SETTLE_WORKER) -> None:
        if self._configured is not None:
            return  # `[tool.forklint] worker = ...` names the parent: that settles every start-up
        self.unresolved.append(Unresolved(path, line, what, settle))
        self.unknown_frameworks.add("rq")

    def _add(self, launch: Launch) -> None:
        kept = self.launches.setdefault(launch.signature, launch)
        if kept is not launch and launch.command is not None and launch.command != kept.command:
            kept.also.append(launch.command)
        if kept is not launch and kept.queues is not None:
            # the same worker started again for other queues: the one parent reads them all
            kept.queues = None if launch.queues is None else kept.queues | launch.queues

    # --- configuration -------------------------------------------------------------------------

    def _configured_worker(self) -> None:
        config, index = self.config, self.index
        module, _, name = config.worker.partition(":")  # type: ignore[union-attr]
        fq = index.canonical(f"{module}.{name}".replace(":", "."))
        label = f"[tool.forklint] worker = {config.worker}"
        if fq not in index.functions:
            self.assumptions.append(
                f"[tool.forklint] worker = {config.worker!r} is not a function of the project"
            )
            return
        self._configured = fq
        f, fn = index.functions[fq]
        here = Step(config.source_label(), 1, 1, label)
        prelude = [RunStep("import", f.module, here)]
        path = self.starts.path_to_work(fq)
        if path is None:
            # the function starts the worker in a way forklint cannot see: what it does is
            # all it does before the fork
            step = RunStep("call", fq, _step(f, fn.loc.line, fn.loc.column, f"def {fn.name}(...)"))
            launch = Launch(
                label, here.path, 1, "rq", prelude + [step], None, None, None, ("config",)
            )
            self._add(launch)
            return
        self._add(
            self.starts.from_path(label, (here.path, 1), prelude, fq, path, None, ("config",))
        )

    # --- command lines -------------------------------------------------------------------------

    def _rq_command(self, command: WorkerCommand) -> None:
        label = f"{command.path}:{command.line}"
        here = Step(command.path, command.line, 1, command.text)
        prelude: list[RunStep] = []
        own = self._own_django_command(command)
        if own is not None:
            self._program(own)
            return
        if command.via == "django":
            django = self._django_setup(here, command)
            if django is None:
                self._unresolved(
                    command.path,
                    command.line,
                    "runs django-rq's rqworker, but forklint finds no "
                    "Django settings module (DJANGO_SETTINGS_MODULE)",
                )
                return
            prelude += django
        elif command.via == "flask":
            app = self._flask_app(here, dict(command.env))
            if isinstance(app, str):
                self._unresolved(command.path, command.line, f"runs `flask rq worker`, but {app}")
                return
            prelude += app
        if command.config_module:
            prelude.append(RunStep("import", command.config_module, here))
        prelude += self._class_setting_imports(command, here)
        cls = command.worker_class or self.config.worker_class or self._django_worker_class(command)
        cls = (cls or "rq.Worker").replace(":", ".")
        if command.kind == "rq-pool" and not command.worker_class:
            cls = "rq.Worker"
        self._rq_cli(
            label,
            (command.path, command.line),
            self._project_class(cls),
            command,
            prelude,
            django=command.via == "django",
        )

    def _own_django_command(self, command: WorkerCommand) -> WorkerCommand | None:
        """`manage.py rqworker` where the project has a management command of its own by that
        name (Django runs the project's app's command, not django-rq's): a program to follow."""
        if command.via != "django" or command.kind != "rq":
            return None
        django = self.starts.nodes.get("<django>")
        if django is None or "rqworker" not in django.children:
            return None
        try:
            words = shlex.split(command.text)
        except ValueError:
            return None
        program = next(
            (w for w in words if w.rpartition("/")[2] in ("manage.py", "django-admin")), None
        )
        if program is None:
            return None
        return replace(
            command, kind="program", via=None, program=program, argv=("rqworker", *command.queues)
        )

    def _project_class(self, dotted: str) -> str:
        """A class named on a command line, as the index knows it: also when the command runs in
        a folder below the root that forklint names as a package (`directory=/srv/backend` with
        backend/__init__.py: `-w app.workers.W` is the project's `backend.app.workers.W`)."""
        fq = self.index.canonical(dotted)
        if fq in self.index.classes or "." not in fq:
            return fq
        tails = [c for c in self.index.classes if c.endswith("." + fq)]
        return tails[0] if len(tails) == 1 else fq

    def _rq_cli(
        self,
        label: str,
        where: tuple[str, int],
        cls: str,
        command: WorkerCommand | None,
        prelude: list[RunStep],
        django: bool = False,
    ) -> None:
        """RQ's own CLI (`rq worker`, django-rq's `rqworker`): the worker class's module, its
        parent-side methods, and what the options load."""
        module = cls.rpartition(".")[0]
        steps = list(prelude)
        if cls not in self.index.classes and module in self.index.modules:
            steps.append(RunStep("import", module, Step(where[0], where[1], 1, label)))
        signature = ("rq-cli", cls, tuple((s.kind, s.target) for s in steps))
        launch = Launch(label, where[0], where[1], "rq", steps, None, cls, command, signature)
        launch.django = django
        if command is not None:
            named = Queues.of_command(command.queues)
            launch.queues = frozenset(named) if named is not None else None
        self._add(launch)

    def _program(self, command: WorkerCommand) -> None:
        """A command line that runs the project's own code: follow it to the worker it starts."""
        here = Step(command.path, command.line, 1, command.text)
        where = (command.path, command.line)
        label = f"{command.path}:{command.line}"
        program = command.program or ""
        console = console_scripts(self.config.root)
        if program == "flask" or command.module == "flask":  # `python -m flask run_worker`
            self._flask_command(command, here)
            return
        name = program.rpartition("/")[2]  # `/opt/venv/bin/netbox`: the installed script
        if command.module is None and name in console:
            self._console_script(console[name], command.argv, label, where, here, command)
            return
        found = self.starts.project_file(command)
        if isinstance(found, str):
            if _starts_a_worker(command):
                self._unresolved(command.path, command.line, f"runs {found}")
            return
        if found is None:
            if command.module is not None:
                return  # `python -m` a module of another package
            if self._is_project_shell_script(program, command.path):
                return  # its own lines are read as commands
            # a program that is not the project's (gunicorn, celery inspect): unless its own name
            # says it starts a worker, it is someone else's tool
            if _starts_a_worker(command):
                self._unresolved(
                    command.path,
                    command.line,
                    f"runs {program}, which is not a file of the project",
                )
            return
        self._script(found, command.argv, label, where, here, command)

    def _unwrapped(self, command: WorkerCommand) -> tuple[WorkerCommand, ...]:
        """A program that is not the project's (an environment wrapper out of the repository)
        whose arguments start a framework's worker: that worker (held-out ureport's
        `/home/app/env.sh /home/app/venv/bin/celery worker -A proj -Q sync`)."""
        wrapped = wrapped_workers(command)
        if not wrapped:
            return (command,)
        program = command.program or ""
        if (
            program == "flask"
            or program.rpartition("/")[2] in console_scripts(self.config.root)
            or self.starts.project_file(command) is not None
            or self._is_project_shell_script(program, command.path)
        ):
            return (command,)
        return wrapped

    def _foreign_celery_app(self, command: WorkerCommand) -> bool:
        """A Celery worker of an app in another distribution (`celery --app=superset.tasks.
        celery_app:app worker`, a third-party bootstrap script shipped beside the project), in
        a project without Celery tasks: no module or folder of the project has the app's
        top-level name, and nothing of the project's runs there (held-out
        jf-compliance-dashboard). With Celery tasks in the project, such an app may still load
        them (Invenio's `invenio_app.celery` finds tasks through entry points): unresolved."""
        top = (command.celery_app or "").split(":")[0].split(".")[0]
        if not top.isidentifier() or any(j.framework == "celery" for j in self.jobs):
            return False  # `-A $APP`, `-A {{ app }}`: unknown
        for module, f in self.index.modules.items():
            if top in module.split(".") or top in f.relpath.split("/"):
                return False
        return True

    def _is_project_shell_script(self, program: str, beside: str = "") -> bool:
        """A program that is a file of the project but not Python (an entrypoint shell script),
        from the root or, written `./run.sh`, beside the file whose line runs it (an entrypoint
        that runs its sibling scripts, often after `cd "$(dirname "$0")"`)."""
        parts = [p for p in program.split("/") if p not in ("", ".")]
        bases = [self.config.root]
        folder = beside.rpartition("/")[0]
        if folder and program.startswith("./"):
            bases.append(os.path.join(self.config.root, folder))
        for base in bases:
            for start in range(len(parts)):
                candidate = os.path.join(base, *parts[start:])
                if os.path.isfile(candidate) and not candidate.endswith(".py"):
                    return True
        # `/start-celeryworker`, a path a Dockerfile fills with `COPY ./compose/.../start
        # /start-celeryworker` (cookiecutter-django; held-out muckrock, documentcloud)
        copied = self._dockerfile_copies().get(program)
        if copied is not None and not copied.endswith(".py"):
            return True
        # `./bin/entrypoint-worker.sh` run in a folder of the project (a compose service's build
        # context, a supervisord `directory=`): the one project file whose path ends with it
        # `./celeryworker.sh` run in the folder a Dockerfile copies a project folder to (WORKDIR
        # + `COPY app .`): the one project file of that name (held-out shynet)
        if (len(parts) >= 2 or program.startswith("./")) and not program.endswith(".py"):
            tail = "/".join(parts)
            matches = [r for r in self._project_files() if r.endswith("/" + tail)]
            return len(matches) == 1
        return False

    def _dockerfile_copies(self) -> dict[str, str]:
        """Image path -> project file, from every Dockerfile's `COPY`/`ADD` of one project file
        to an absolute path (the build context is taken as the project's root)."""
        if self._copies is None:
            self._copies = {}
            files = set(self._project_files())
            for text in self._dockerfiles().values():
                for match in _COPY.finditer(text):
                    words = [w for w in match.group(1).split() if not w.startswith("--")]
                    if len(words) != 2 or not words[1].startswith("/"):
                        continue
                    source = os.path.normpath(words[0]).lstrip("./")
                    if source in files:
                        self._copies.setdefault(words[1], source)
                        # `COPY deploy/start_worker /usr/local/bin`: into a folder (held-out aasaan)
                        into = words[1].rstrip("/") + "/" + source.rpartition("/")[2]
                        self._copies.setdefault(into, source)
        return self._copies

    def _project_files(self) -> list[str]:
        if self._other_files is None:
            root = Path(os.path.abspath(self.config.root))
            self._other_files = [
                w.relpath
                for w in walk(root, "", make_excluder(self.config))
                if w.error is None and not w.is_dir and not w.leaves_project
            ]
        return self._other_files

    def _script(
        self,
        f: FileFacts,
        argv: tuple[str, ...],
        label: str,
        where: tuple[str, int],
        here: Step | None,
        command: WorkerCommand | None,
    ) -> None:
        """A project script run with `argv`: its module code, then its main block up to the call
        that dispatches (a CLI) or starts the worker."""
        dispatch = self.starts.main_dispatch(f)
        if dispatch is not None:
            call, root = dispatch
            prelude = [RunStep("script", f.module, here, (call.loc.line, call.loc.column))]
            self._run_cli(root, argv, prelude, label, where, command, f"runs {f.relpath}")
            return
        rqworker = command is not None and as_django_manage(command) is not None
        for call in f.main_calls if rqworker else ():
            # `if __name__ == "__main__": main()`, where main() runs Django's management dispatch
            # (`python -m shop.manage rqworker`: held-out eda-server); other commands of such a
            # script are left as they were (not checked on real projects yet)
            target = self.index.call_target(self.index.resolve(f.module, None, call.callee))
            inner = self._function_dispatch(target) if target is not None else None
            if inner is not None and inner[1].kind == "django":
                prelude = [
                    RunStep("script", f.module, here, (call.loc.line, call.loc.column)),
                    RunStep("call", target, here, (inner[0].loc.line, inner[0].loc.column)),
                ]
                self._run_cli(inner[1], argv, prelude, label, where, command, f"runs {f.relpath}")
                return
        for launch in self._script_launches(f, label, where, here, command):
            self._add(launch)
            return
        if command is not None and _starts_a_worker(command) and self._may_start_a_worker(f):
            self._unresolved(
                where[0], where[1], f"runs {f.relpath}, which forklint could not follow to a worker"
            )

    def _may_start_a_worker(self, f: FileFacts, rq_only: bool = False) -> bool:
        """Whether a project script could start a worker forklint did not see: its code, or the
        project code it imports, imports a job framework, imports modules by computed name or
        calls what it computes, and somewhere calls what starts a worker (`.work()`,
        `worker_main()`, a framework's CLI or worker module, Django's command dispatch). A
        wait-for-the-database script named `celeryworker_pre_start.py` cannot (held-out
        biosegment), nor can a message consumer that loads plugins and imports the Celery app to
        enqueue (held-out MozDef, EvalAI). `rq_only`: whether it imports RQ (or django-rq...)
        at all, nothing less (a console script whose worker forklint could not follow)."""
        if rq_only:
            return self._imports_or_computes(f, rq_only=True)
        if self._dispatches_by_name(f):
            return True  # `COMMANDS[args.command]()`: whatever it runs, a worker among them
        return self._imports_or_computes(f) and self._calls_a_worker_start(f)

    def _dispatches_by_name(self, f: FileFacts) -> bool:
        """The script itself calls what it computes (in its module code, main block or its own
        functions), or imports by computed name at module level."""
        for call in (*f.calls, *f.main_calls):
            if self.catalog.dynamic_import(call.callee) or "import_module" in call.callee:
                return True
        calls = (*f.calls, *f.main_calls, *(c for fn in f.functions for c in fn.calls))
        return any(_computed(c) for c in calls)

    def _script_closure(self, f: FileFacts) -> list[FileFacts]:
        """The script and the project modules it imports (at module level or in functions)."""
        seen = {f.module}
        out = [f]
        todo = [f]
        while todo:
            current = todo.pop()
            imports = [*current.imports, *current.main_imports]
            for fn in current.functions:
                imports += fn.imports
            for imp in imports:
                for name in self.index.imported_modules(imp):
                    nested = self.index.modules.get(name)
                    if nested is not None and name not in seen:
                        seen.add(name)
                        out.append(nested)
                        todo.append(nested)
        return out

    def _calls_a_worker_start(self, f: FileFacts) -> bool:
        for current in self._script_closure(f):
            for fn in (None, *current.functions):
                calls = fn.calls if fn is not None else (*current.calls, *current.main_calls)
                for call in calls:
                    last = call.callee.rpartition(".")[2]
                    if last in _WORKER_STARTS:
                        return True
                    target = self.index.resolve(current.module, fn, call.callee)
                    if target.startswith(_WORKER_MODULES):
                        return True
        return False

    def _imports_or_computes(self, f: FileFacts, rq_only: bool = False) -> bool:
        frameworks = _RQ_FRAMEWORKS if rq_only else _WORKER_FRAMEWORKS
        for current in self._script_closure(f):
            imports = [*current.imports, *current.main_imports]
            calls = [*current.calls, *current.main_calls]
            for fn in current.functions:
                imports += fn.imports
                calls += fn.calls
            if any(
                name.split(".")[0] in frameworks
                for imp in imports
                for name in self.index.imported_modules(imp)
            ):
                return True
            if not rq_only and any(
                self.catalog.dynamic_import(c.callee) or "import_module" in c.callee or _computed(c)
                for c in calls
            ):
                return True
        return False

    def _script_launches(
        self, f: FileFacts, label: str, where: tuple[str, int], here: Step | None, command
    ) -> list[Launch]:
        """A script's main block (or module code) that reaches a `.work()` call."""
        out = []
        for calls, main in ((f.main_calls, True), (f.calls, False)):
            for call in calls:
                site = self.starts._work_site(f, None, call)
                until = (call.loc.line, call.loc.column)
                kind = "script" if main else "module"
                if site is not None:
                    function = "__main__" if main else None
                    steps = [RunStep(kind, f.module, here, until)]
                    # `Worker(["emails"]).work()` in the script: the queues it names (held-out
                    # process-management-system: jobs of other queues were charged to it)
                    cls, queues, problem = site.worker_class, site.queues, None
                    if site.main:  # `sys.argv = [...]; rq.cli.main()` in the script itself
                        site = replace(site, function=function)
                        read = self.starts.cli_main(site, command)
                        if isinstance(read, Unresolved):
                            problem = read
                        else:
                            cls, queues, loads = read
                            steps += loads
                    else:
                        site = WorkSite(
                            f.module,
                            function,
                            call,
                            site.worker_class,
                            site.candidates,
                            site.queues,
                        )
                    out.append(
                        Launch(
                            label,
                            where[0],
                            where[1],
                            "rq",
                            steps,
                            site,
                            cls,
                            command,
                            (kind, f.module, until),
                            queues=queues,
                            unresolved=problem,
                        )
                    )
                    return out
                target = self.index.call_target(
                    self.index.resolve(f.module, None, call.callee)
                ) or self.starts.spawned(f.module, None, call)
                if target is None:
                    continue
                path = self.starts.path_to_work(target)
                if path is not None:
                    steps = [RunStep(kind, f.module, here, until)]
                    out.append(
                        self.starts.from_path(
                            label, where, steps, target, path, command, (kind, f.module)
                        )
                    )
                    return out
        return out

    def _run_cli(
        self,
        root: CliNode,
        argv: tuple[str, ...] | None,
        prelude: list[RunStep],
        label: str,
        where: tuple[str, int],
        command: WorkerCommand | None,
        what: str,
    ) -> None:
        """The CLI command `argv` selects (every command that starts a worker when `argv` is
        None: a start-up found in code, whatever command line runs it)."""
        if argv is None:
            for names, chain in self._leaves(root):
                self._cli_launch(chain, prelude, f"{label} {' '.join(names)}", where, command, None)
            return
        chain = self.starts.dispatch(root, argv)
        if chain is None and root.kind == "django" and command is not None:
            # not one of the project's commands: `rqworker` is django-rq's, as under manage.py
            rq = as_django_manage(command)
            if rq is not None:
                self._rq_command(rq)
            return
        if isinstance(chain, str):
            # a pass-through (`manage.py $*`) is not a worker start-up unless it says so
            if command is None or _starts_a_worker(command):
                self._unresolved(where[0], where[1], f"{what}, and {chain}")
        elif chain is not None:  # None: not one of the project's commands (runserver, shell...)
            self._cli_launch(chain, prelude, label, where, command, None)

    def _cli_launch(
        self,
        chain: list[CliNode],
        prelude: list[RunStep],
        label: str,
        where: tuple[str, int],
        command: WorkerCommand | None,
        f: FileFacts | None,
    ) -> None:
        """The parent runs the groups' callbacks, loads the app the CLI needs, then the command."""
        leaf = chain[-1]
        if leaf.function is None:
            return
        path = self.starts.path_to_work(leaf.function)
        if path is None:
            return  # a command that does not start a worker
        here = (prelude[0].step if prelude else None) or Step(where[0], where[1], 1, label)
        steps = list(prelude)
        if chain[0].kind == "django":
            django = self._django_setup(here)
            if django is None:
                self._unresolved(
                    where[0],
                    where[1],
                    "runs a Django command, but forklint finds no "
                    "Django settings module (DJANGO_SETTINGS_MODULE)",
                )
                return
            steps += django
        for node in chain:
            if node.function is None or node.function not in self.index.functions:
                continue
            fn_f, fn = self.index.functions[node.function]
            here_fn = _step(fn_f, fn.loc.line, fn.loc.column, f"def {fn.name}(...)")
            # what click runs while it parses: a custom group class's methods, option callbacks
            for method in node.group_methods:
                steps.append(RunStep("call", method, here_fn))
            for callback in self._option_callbacks(fn_f, fn):
                steps.append(RunStep("call", callback, here_fn))
            if node is not chain[-1]:
                steps.append(RunStep("call", node.function, here_fn))
        if any(n.loads_app for n in chain) or self._with_appcontext(leaf.function):
            factory = next((n.app_factory for n in chain if n.app_factory), None)
            if factory is not None:
                ff, ffn = self.index.functions[factory]
                steps.append(
                    RunStep(
                        "call",
                        factory,
                        _step(ff, ffn.loc.line, ffn.loc.column, f"def {ffn.name}(...)"),
                    )
                )
            elif chain[0].kind in ("flask", "click"):
                app = self._flask_app(here, dict(command.env) if command else {})
                if isinstance(app, str):
                    self._unresolved(where[0], where[1], f"runs a Flask command, but {app}")
                    return
                steps += app
        elif chain[0].kind == "flask-script":
            factory = chain[0].app_factory
            if factory is not None:
                ff, ffn = self.index.functions[factory]
                steps.append(
                    RunStep(
                        "call",
                        factory,
                        _step(ff, ffn.loc.line, ffn.loc.column, f"def {ffn.name}(...)"),
                    )
                )
        signature = ("cli", tuple(s.target for s in steps), leaf.function)
        self._add(
            self.starts.from_path(label, where, steps, leaf.function, path, command, signature)
        )

    def _option_callbacks(self, f: FileFacts, fn: FunctionFact) -> list[str]:
        out = []
        for deco in fn.decorators:
            for key, value in deco.kwargs:
                if key == "callback":
                    target = self.index.call_target(self.index.resolve(f.module, None, value))
                    if target is not None:
                        out.append(target)
        return out

    def _with_appcontext(self, fq: str) -> bool:
        entry = self.index.functions.get(fq)
        if entry is None:
            return False
        f, fn = entry
        return any(
            self.index.resolve(f.module, None, d.name) in _WITH_APPCONTEXT for d in fn.decorators
        )

    def _console_script(
        self,
        entry: str,
        argv: tuple[str, ...] | None,
        label: str,
        where: tuple[str, int],
        here: Step,
        command: WorkerCommand | None,
    ) -> None:
        """An installed script (`name = pkg.mod:func`): its module, then the function or CLI."""
        module, _, attribute = entry.partition(":")
        fq = self.index.canonical(f"{module}.{attribute}")
        if module not in self.index.modules:
            if command is not None and _starts_a_worker(command):
                self._unresolved(
                    where[0],
                    where[1],
                    f"runs the console script {entry}, which forklint cannot find",
                )
            return
        prelude = [RunStep("import", module, here)]
        node = self.starts.nodes.get(fq)
        if node is not None:
            self._run_cli(node, argv, prelude, label, where, command, f"runs {entry}")
            return
        target = self.index.call_target(fq)
        if target is None:
            if command is not None and _starts_a_worker(command):
                self._unresolved(where[0], where[1], f"runs {entry}, which forklint cannot follow")
            return
        inner = self._function_dispatch(target)
        if inner is not None:  # `def main(): cli()` / `execute_from_command_line(sys.argv)`
            call, root = inner
            prelude.append(RunStep("call", target, here, (call.loc.line, call.loc.column)))
            self._run_cli(root, argv, prelude, label, where, command, f"runs {entry}")
            return
        path = self.starts.path_to_work(target)
        if path is not None:
            launch = self.starts.from_path(
                label, where, prelude, target, path, command, ("console", entry)
            )
            self._add(launch)
        elif (
            command is not None
            and _starts_a_worker(command)
            and self._may_start_a_worker(self.index.modules[module], rq_only=True)
        ):  # `taranis-worker = "worker:start_worker"`, whose worker class is chosen at run time
            # (not a Celery worker's `app.worker_main()`: no RQ start-up to settle)
            self._unresolved(
                where[0], where[1], f"runs {entry}, which forklint could not follow to a worker"
            )

    def _function_dispatch(self, fq: str) -> tuple[CallFact, CliNode] | None:
        for call, target in self.index.callees(fq):
            if target in ("django.core.management.execute_from_command_line",):
                return call, self.starts.nodes.get("<django>") or self.starts._node(
                    "django", "<django>"
                )
            if target in self.starts.nodes:
                return call, self.starts.nodes[target]
        return None

    def _flask_command(self, command: WorkerCommand, here: Step) -> None:
        root = self.starts.nodes.get("<flask>")
        argv = tuple(a for a in command.argv if a not in ("--app",))
        chain = self.starts.dispatch(root, argv) if root is not None else None
        if isinstance(chain, str):
            if _starts_a_worker(command):
                self._unresolved(command.path, command.line, f"runs flask, and {chain}")
        elif chain is None:
            # `flask run_worker` whose command forklint does not find (registered on an app it
            # cannot name: `app, rq = create_app()`): a start-up seen, not resolved (umalat)
            name = next((a for a in argv if not a.startswith("-")), "")
            if _starts_a_worker(command) or _WORKERISH.search(name):
                self._unresolved(
                    command.path,
                    command.line,
                    f"runs `flask {name}`, a command forklint does not find in the project's "
                    "Flask CLI",
                )
        else:
            self._cli_launch(
                chain,
                [],
                f"{command.path}:{command.line}",
                (command.path, command.line),
                command,
                None,
            )

    # --- start-ups in code ----------------------------------------------------------------------

    def _code_startups(self) -> None:
        index = self.index
        covered: set[str] = set()
        scripts: list[Launch] = []  # what scripts' own `__main__` blocks start
        for module, f in index.modules.items():
            if self._skip(f.relpath) or not (f.main_calls or module in self.starts.runs_work):
                continue
            here = None  # the script's own lines make the trace
            if self.starts.main_dispatch(f) is not None:
                self._script(f, None, f.relpath, (f.relpath, 1), here, None)
            else:
                scripts += self._entry_script(f, here)
        for name, entry in console_scripts(self.config.root).items():
            module = entry.partition(":")[0]
            f = index.modules.get(module)
            if f is not None and not self._skip(f.relpath):
                here = Step(f.relpath, 1, 1, f"console script {name} = {entry}")
                self._console_script(entry, None, name, (f.relpath, 1), here, None)
        # a script's own `__main__` block that starts what a command line or an installed
        # program starts too is not a parent of its own: that program, which may have loaded
        # more, is what runs it (held-out renku-python)
        ran = {id(launch) for launch in scripts}
        deployed = {_work_key(launch) for launch in self.launches.values() if id(launch) not in ran}
        for signature, launch in list(self.launches.items()):
            if id(launch) in ran and launch.work is not None and _work_key(launch) in deployed:
                del self.launches[signature]
        for launch in self.launches.values():
            if launch.work is not None:
                covered.add(_work_key(launch))
        self._uncovered(covered)

    def _skip(self, relpath: str) -> bool:
        return is_test_module(relpath) and not self.config.include_tests

    def _entry_script(self, f: FileFacts, here: Step | None) -> list[Launch]:
        launches = self._script_launches(f, f.relpath, (f.relpath, 1), here, None)
        for launch in launches:
            site = launch.work
            if site is not None and site.function not in (None, "__main__"):
                launch.label = f"{f.relpath}:{launch.steps[-1].target.rpartition('.')[2]}()"
            self._add(launch)
        return launches

    def _leaves(self, root: CliNode) -> list[tuple[list[str], list[CliNode]]]:
        """Every command of a CLI (a name path and its chain of nodes) that starts a worker."""
        out: list[tuple[list[str], list[CliNode]]] = []
        stack: list[tuple[list[str], list[CliNode]]] = [([], [root])]
        seen: set[int] = set()
        while stack:
            names, chain = stack.pop()
            node = chain[-1]
            if node.children:
                if id(node) in seen:
                    continue
                seen.add(id(node))
                firsts: dict[int, str] = {}
                for name, child in node.children.items():
                    firsts.setdefault(id(child), name)
                for name, child in node.children.items():
                    if firsts[id(child)] == name:
                        stack.append((names + [name], chain + [child]))
            elif node.function is not None and self.starts.path_to_work(node.function) is not None:
                out.append((names, chain))
        return out

    def _uncovered(self, covered: set[str]) -> None:
        """Functions that start a worker but no launch reaches: an entry forklint can follow
        (nothing calls it), one it cannot (an unknown decorator), or dead code."""
        for site in sorted(self.starts.work_functions - covered):
            f = self.index.functions[site][0]
            if self._skip(f.relpath):
                continue
            for top in self.starts.tops(site):
                self._top_entry(top)

    def _top_entry(self, fq: str) -> None:
        if fq not in self.index.functions:
            return
        f, fn = self.index.functions[fq]
        if self._skip(f.relpath):
            return
        path = self.starts.path_to_work(fq)
        if path is None:
            return
        decorators = [self.index.resolve(f.module, None, d.name) for d in fn.decorators]
        unknown = [
            d
            for d, raw in zip(decorators, fn.decorators, strict=True)
            if d not in _PLAIN_DECORATORS
            and d not in _WITH_APPCONTEXT
            and not raw.name.endswith(".setter")
        ]
        if fq in self.starts.nodes:
            unknown = []  # a CLI command no entry point runs: the command itself is the start
        if unknown:
            self._unresolved(
                f.relpath,
                fn.loc.line,
                f"{fn.name}() starts a worker and is decorated with @{fn.decorators[0].name}, which "
                "forklint does not know how to run",
            )
            return
        if not fn.decorators and self._commented_decorator(f, fn):
            return  # its CLI decorator is commented out and nothing calls it: dead code
        if fn.cls and fn.name == "handle" and ".management.commands." in f.module:
            here = Step(
                f.relpath, fn.loc.line, fn.loc.column, f"manage.py {f.module.rpartition('.')[2]}"
            )
            self._cli_launch(
                [self.starts._node("django", "<django>"), CliNode("django", fq, function=fq)],
                [],
                f"manage.py {f.module.rpartition('.')[2]}",
                (f.relpath, fn.loc.line),
                None,
                f,
            )
            return
        here = _step(f, fn.loc.line, fn.loc.column, f"def {fn.name}(...)")
        prelude = [RunStep("import", f.module, here)]
        if fq in self.starts.nodes:
            # a CLI command whose program forklint could not follow to it: the program's module
            # ran first, and what it loads at import (`cli = init_cli()` importing every
            # command's module) is in the parent; a parent that imports more can only silence
            # (held-out labfunctions: a sibling command's job module)
            for name, entry in sorted(console_scripts(self.config.root).items()):
                module = entry.partition(":")[0]
                if module in self.index.modules and module != f.module:
                    script = Step(f.relpath, fn.loc.line, 1, f"console script {name} = {entry}")
                    prelude.insert(0, RunStep("import", module, script))
        if self._with_appcontext(fq) or (
            fq in self.starts.nodes and self.starts.nodes[fq].loads_app
        ):
            app = self._flask_app(here, {})
            if isinstance(app, str):
                self._unresolved(
                    f.relpath, fn.loc.line, f"{fn.name}() runs in a Flask app context, but {app}"
                )
                return
            prelude += app
        label = f"{f.relpath}:{fn.qualname}()"
        self._add(
            self.starts.from_path(
                label, (f.relpath, fn.loc.line), prelude, fq, path, None, ("entry",)
            )
        )

    def _commented_decorator(self, f: FileFacts, fn: FunctionFact) -> bool:
        line = fn.loc.line - 1
        while line >= 1:
            text = source_line(f.module, line)
            if _COMMENTED_DECORATOR.match(text):
                return True
            if text.strip() and not text.strip().startswith("#"):
                return False
            line -= 1
        return False

    # --- frameworks' own set-up ----------------------------------------------------------------

    def _django_setup(
        self, here: Step, command: WorkerCommand | None = None
    ) -> list[RunStep] | None:
        """`django.setup()`: the settings module, every app's models (and apps) modules, and the
        AppConfig.ready() methods. Every models module of the project counts as installed: a
        parent that imports more than it does can only silence a finding, never make one."""
        settings = self._django_settings(command)
        if settings is None:
            return None
        setup = Step(here.path, here.line, here.column, f"django.setup() with {settings}")
        steps = [RunStep("import", settings, setup), RunStep("call", "django.setup", setup)]
        # installed apps that are not the project's (`django.contrib.sites`, `rest_framework`):
        # their models modules too, named by the settings' strings (more can only silence)
        elsewhere = self._installed_elsewhere(settings)
        # django.contrib.admin's AdminConfig.ready() autodiscovers every app's `admin` module
        wanted = (
            ("models", "apps", "admin")
            if "django.contrib.admin" in elsewhere
            else ("models", "apps")
        )
        for module in self.index.modules:
            last = module.rpartition(".")[2]
            if last in wanted or ".models." in module:
                if not self._skip(self.index.modules[module].relpath):
                    steps.append(RunStep("import", module, setup))
        for app in elsewhere:
            steps.append(RunStep("import", f"{app}.models", setup))
        # the system checks a management command runs before handle() (django-rq's rqworker
        # keeps them; Celery's fix-up runs them too): the URL check imports ROOT_URLCONF, and
        # with it the views (held-out ownphotos)
        for urlconf in self._root_urlconfs(settings):
            checks = Step(
                here.path, here.line, here.column, f"system checks: ROOT_URLCONF {urlconf}"
            )
            steps.append(RunStep("import", urlconf, checks))
        for cls_fq, (_f, c) in self.index.classes.items():
            if "ready" in c.methods and self.index.subclass_of(cls_fq, _APP_CONFIGS):
                steps.append(RunStep("call", f"{cls_fq}.ready", setup))
        return steps

    def _root_urlconfs(self, settings: str) -> list[str]:
        """The project module `ROOT_URLCONF = "proj.urls"` names, in the settings or a module they
        star-import; with django-configurations, what each Configuration class says."""
        modules = _with_star_sources(self.index, settings)
        for module in modules:
            f = self.index.modules.get(module)
            for a in f.assigns if f is not None else ():
                if a.target == "ROOT_URLCONF" and a.value.startswith('"'):
                    name = a.value.strip('"')
                    if name in self.index.modules:
                        return [name]
        found: list[str] = []
        for cls in self._configuration_classes(settings):
            for c in self.index.mro(cls)[0]:  # the first class that sets it, as Python looks
                value = next(
                    (
                        a.value
                        for a in self.index.classes[c][1].assigns
                        if a.target == "ROOT_URLCONF"
                    ),
                    None,
                )
                if value is None:
                    continue
                name = described_string(value)
                if name in self.index.modules and name not in found:
                    found.append(name)
                break
        return found

    def _configuration_classes(self, settings: str) -> list[str]:
        """django-configurations' settings classes (`class Prod(Configuration): ROOT_URLCONF =
        ...`) the settings module defines or imports. DJANGO_CONFIGURATION picks one where the
        process starts; a manage.py's setdefault() is only a default a deployment overrides, so
        every class counts: what any of them loads, the parent may have loaded (held-out
        donate-wagtail)."""
        found: list[str] = []
        for module in _with_star_sources(self.index, settings):
            for b in self.index.module_bindings(module).values():
                fq = self.index.canonical(b.target) if b.kind == "fq" else ""
                if (
                    fq in self.index.classes
                    and fq not in found
                    and self.index.subclass_of(fq, _CONFIGURATIONS)
                ):
                    found.append(fq)
        return found

    def _installed_elsewhere(self, settings: str) -> list[str]:
        """The dotted strings of the settings module (and the project modules it star-imports)
        that name no project module: the installed apps of other distributions, an AppConfig
        path cut to its app (`django.contrib.sites.apps.SitesConfig` -> `django.contrib.sites`)."""
        modules = _with_star_sources(self.index, settings)
        heads = {m.split(".")[0] for m in self.index.modules}
        names: list[str] = []
        for module in modules:
            names += _listed_strings(_APPS_LIST, "\n".join(_SOURCE.get(module, [])))
        for cls in self._configuration_classes(settings):  # `INSTALLED_APPS = [...]` in a class
            for c in self.index.mro(cls)[0]:
                for a in self.index.classes[c][1].assigns:
                    if _APPS_NAME.fullmatch(a.target) and a.value.startswith("["):
                        names += _APP_STRING.findall(a.value)
        apps: list[str] = []
        for name in names:
            if name.split(".")[0] in heads:
                continue
            app = name.split(".apps.")[0] if ".apps." in name else name
            if app not in apps:
                apps.append(app)
        return apps

    def _django_settings(self, command: WorkerCommand | None = None) -> str | None:
        """The Django settings module: the one the worker's own command sets, else the project's
        (found once: every Django parent asks for it)."""
        own = dict(command.env).get("DJANGO_SETTINGS_MODULE") if command is not None else None
        if own and own in self.index.modules:
            return own
        if self._settings is None:
            self._settings = (self._find_django_settings(),)
        return self._settings[0]

    def _find_django_settings(self) -> str | None:
        found: list[str] = []
        for f in self.index.modules.values():
            for call in (*f.calls, *f.main_calls, *(c for fn in f.functions for c in fn.calls)):
                if len(call.args) >= 2 and call.args[0] == '"DJANGO_SETTINGS_MODULE"':
                    value = call.args[1].strip('"')
                    if value in self.index.modules:
                        found.append(value)
        for command in self.commands:
            value = dict(command.env).get("DJANGO_SETTINGS_MODULE")
            if value and value in self.index.modules:
                found.insert(0, value)
        if found:
            return found[0]
        candidates = [
            m
            for m, f in self.index.modules.items()
            if m.rpartition(".")[2] == "settings"
            and any(a.target == "INSTALLED_APPS" for a in f.assigns)
        ]
        return candidates[0] if len(candidates) == 1 else None

    def _class_setting_imports(self, command: WorkerCommand | None, here: Step) -> list[RunStep]:
        """The job and queue classes the worker parent loads by name before forking: RQ's
        `-j/--job-class` (RQ_JOB_CLASS), and for django-rq's rqworker settings.RQ["JOB_CLASS"] /
        ["QUEUE_CLASS"] and the RQ_EXCEPTION_HANDLERS functions (its get_worker() imports
        them): their project modules are imported."""
        names: list[str] = []
        if command is not None and command.job_class:
            names.append(command.job_class)
        if command is None or command.via == "django":
            settings = self._django_settings(command)
            if settings is not None:
                pattern = re.compile(
                    r"""["'](?:JOB_CLASS|QUEUE_CLASS)["']\s*[:,]\s*["']([\w.:]+)["']"""
                )
                for line in _SOURCE.get(settings, []):
                    names += pattern.findall(line)
                # RQ_EXCEPTION_HANDLERS: get_worker() imports each handler (held-out fondef)
                text = "\n".join(_SOURCE.get(settings, []))
                names += _listed_strings(_HANDLERS_LIST, text)
        steps = []
        for name in names:
            module = self.index.defining_module(name)
            if module is not None:
                steps.append(RunStep("import", module, here))
        return steps

    def _django_worker_class(self, command: WorkerCommand) -> str | None:
        """django-rq reads the worker class from settings.RQ["WORKER_CLASS"]."""
        if command.via != "django":
            return None
        settings = self._django_settings(command)
        if settings is None:
            return None
        pattern = re.compile(r"""["']WORKER_CLASS["']\s*[:,]\s*["']([\w.]+)["']""")
        found = None
        for line in _SOURCE.get(settings, []):
            match = pattern.search(line)
            if match:
                found = match.group(1)
        return found

    def _flask_app(self, here: Step, env: dict[str, str]) -> list[RunStep] | str:
        """What `flask` (and Flask's app-context commands) load: FLASK_APP, else app.py/wsgi.py,
        with its factory called when it has one."""
        value = env.get("FLASK_APP") or self._dotenv_flask_app() or self._image_flask_app()
        module = None
        factory = None
        if value:
            name, _, attribute = value.partition(":")
            name = name.removesuffix(".py").strip("/").replace("/", ".")
            for candidate in (name, name.removeprefix("app.") if name.startswith("app.") else None):
                if candidate and candidate in self.index.modules:
                    module = candidate
                    break
            if module is None:
                parts = name.split(".")
                for start in range(1, len(parts)):
                    tail = ".".join(parts[start:])
                    if tail in self.index.modules:
                        module = tail
                        break
            if module is None:
                return f"FLASK_APP={value} names no module of the project"
            attribute = attribute.split("(")[0]
            if attribute and f"{module}.{attribute}" in self.index.functions:
                factory = f"{module}.{attribute}"
        else:
            for candidate in ("wsgi", "app"):
                # Flask's own guess, kept to a module that is a Flask app: a monorepo's Django
                # `wsgi.py` is not the app (held-out mpcontribs: a false FRK101 from it)
                if candidate in self.index.modules and self._is_flask_module(candidate):
                    module = candidate
                    break
            if module is None:
                return "forklint cannot tell which Flask app it loads (set FLASK_APP)"
        step = Step(here.path, here.line, here.column, f"FLASK_APP={value or module}")
        steps = [RunStep("import", module, step)]
        bindings = self.index.module_bindings(module)
        if factory is None and "app" not in bindings and "application" not in bindings:
            for name in ("create_app", "make_app"):
                target = self.index.call_target(self.index.resolve(module, None, name))
                if target is not None:
                    factory = target
                    break
        if factory is not None:
            steps.append(RunStep("call", factory, step))
        return steps

    def _is_flask_module(self, module: str) -> bool:
        """Whether `module` imports Flask or calls an app factory of the project."""
        f = self.index.modules[module]
        if any(i.module == "flask" or i.module.startswith("flask.") for i in f.imports):
            return True
        return any(
            self.index.call_target(self.index.resolve(module, None, name)) is not None
            for name in ("create_app", "make_app")
        )

    def _image_flask_app(self) -> str | None:
        """FLASK_APP set by the project's Dockerfiles (`ENV FLASK_APP=...`), when they agree: an
        image's ENV holds in every container built from it (held-out qlsm)."""
        values = {
            m.group(1)
            for text in self._dockerfiles().values()
            for m in _ENV_FLASK_APP.finditer(text)
        }
        return values.pop() if len(values) == 1 else None

    def _dockerfiles(self) -> dict[str, str]:
        """The project's Dockerfiles (relpath -> text), read once."""
        if self._dockerfile_texts is None:
            self._dockerfile_texts = {}
            for relpath in self._project_files():
                name = relpath.rpartition("/")[2]
                if (
                    name == "Dockerfile"
                    or name.startswith("Dockerfile.")
                    or name.endswith(".Dockerfile")
                ):
                    data = read_bytes(Path(self.config.root) / relpath, relpath)[0] or b""
                    self._dockerfile_texts[relpath] = data.decode("utf-8", errors="replace")
        return self._dockerfile_texts

    def _dotenv_flask_app(self) -> str | None:
        for name in (".flaskenv", ".env"):
            path = os.path.join(self.config.root, name)
            try:
                with open(path, encoding="utf-8", errors="replace") as handle:
                    text = handle.read(65536)
            except OSError:
                continue
            match = re.search(
                r"^\s*(?:export\s+)?FLASK_APP\s*=\s*['\"]?([^'\"\s#]+)", text, re.MULTILINE
            )
            if match:
                return match.group(1)
        return None

    # --- parents -------------------------------------------------------------------------------

    def _parent(self, launch: Launch) -> Parent | None:
        index, catalog = self.index, self.catalog
        if launch.unresolved is not None:  # `rq.cli.main()` with a command line not read
            u = launch.unresolved
            self._unresolved(u.path, u.line, u.what, u.settle)
            return None
        cls = launch.worker_class or "rq.Worker"
        kind = self.starts.class_kind(cls)
        if kind == "unknown":
            self._unresolved(
                launch.path,
                launch.line,
                f"starts a {cls}, a worker class forklint does not know (whether it forks)",
                '[tool.forklint] fork-model = "rq" (or "rq-simple")',
            )
            return None
        startup = None
        if launch.work is not None:
            site = launch.work
            f = index.modules[site.module]
            text = f"{cls.rpartition('.')[2]}.{site.call.callee.rpartition('.')[2]}()"
            if site.cli:
                text = f"{site.call.callee}()"
            startup = Startup(
                site.module, f.relpath, site.function, site.call.loc.line, text, cli=site.cli
            )
        parent = Parent(
            launch.label,
            "rq",
            _model_of_kind(kind),
            startup=startup,
            worker_class=cls,
            worker_kind=kind,
            command=launch.command,
            queues=launch.queues,
            also_commands=tuple(launch.also),
        )
        parent.modules.update({"rq", "redis"})
        run = _Run(index, catalog, parent)
        trace: tuple[Step, ...] = ()
        for step in launch.steps:
            if step.step is not None:
                trace = trace + (step.step,)
            if step.kind == "import":
                run.import_module(step.target, trace)
            elif step.kind in ("script", "module"):
                until_line = step.until[0] if step.until else None
                if step.target in index.modules:
                    parent.modules.add(step.target)
                    if step.target not in parent.import_order:  # its module code ran
                        parent.import_order.append(step.target)
                    if step.kind == "script":
                        run.run_module(step.target, trace)
                        run.run_module(step.target, trace, main=True, until=until_line)
                    else:
                        run.run_module(step.target, trace, until=until_line)
            elif step.kind == "call":
                run.run_function(step.target, trace, until=step.until)
        if cls in index.classes:
            _run_worker_class(index, catalog, run, cls, trace)
        if kind == "prefork":
            _run_prefork_table(index, catalog, self.config, run, trace)
        if launch.django:  # django-rq's rqworker closes every database connection before work()
            parent.resets.append(Reset("django-rq's reset_db_connections()", None, django=True))
        return parent

    def _assumed_rq_parent(self) -> None:
        """No start-up at all: the stock `rq worker`, or django-rq's `rqworker` for a Django
        project (a stock worker cannot run jobs that need Django set up)."""
        if self._django_settings() is not None and any(
            "django" in j.how or self._uses_django(j) for j in self.jobs if j.framework == "rq"
        ):
            here = Step("manage.py", 1, 1, "manage.py rqworker")
            steps = self._django_setup(here) or []
            steps += self._class_setting_imports(None, here)
            launch = Launch(
                "django-rq `manage.py rqworker`",
                "manage.py",
                1,
                "rq",
                steps,
                None,
                "rq.Worker",
                None,
                ("assumed-django",),
                django=True,
            )
            parent = self._parent(launch)
            if parent is not None:
                self.parents.append(parent)
                self.assumptions.append(DJANGO_ASSUMPTION)
                return
        if any(self._flask_rq2_job(j) for j in self.jobs if j.framework == "rq"):
            # Flask-RQ2's jobs run under `flask rq worker`, which loads the Flask app (its
            # views, models and what they import) before it forks; a stock `rq worker` gives
            # them no app context
            here = Step("", 1, 1, "flask rq worker")
            app = self._flask_app(here, {})
            if isinstance(app, str):
                self.assumptions.append(f"{FLASK_UNKNOWN} ({app})")
                return
            launch = Launch(
                FLASK_RQ2_WORKER,
                "",
                1,
                "rq",
                app,
                None,
                "rq.Worker",
                None,
                ("assumed-flask",),
            )
            parent = self._parent(launch)
            if parent is not None:
                self.parents.append(parent)
                self.assumptions.append(FLASK_ASSUMPTION)
                return
        if any(
            "django" in j.how or self._imports_django_rq(j)
            for j in self.jobs
            if j.framework == "rq"
        ):
            # django-rq's jobs run only under a worker that set Django up (a stock `rq worker`
            # cannot run them), and forklint finds no settings module to say what that loads
            self.assumptions.append(DJANGO_UNKNOWN)
            return
        settings = self._rq_settings_modules()
        if len(settings) == 1:
            # the project ships what `rq worker -c` reads: a stock worker started with it
            f = settings[0]
            label = f"stock `rq worker -c {f.module}`"
            here = Step(f.relpath, 1, 1, f"rq worker -c {f.module}")
            launch = Launch(
                label,
                f.relpath,
                1,
                "rq",
                [RunStep("import", f.module, here)],
                None,
                "rq.Worker",
                None,
                ("assumed-settings", f.module),
            )
            parent = self._parent(launch)
            if parent is not None:
                self.parents.append(parent)
                self.assumptions.append(
                    f"no worker start-up found: assumed stock `rq worker -c {f.module}` "
                    f"({f.relpath} holds RQ's settings and nothing imports it)"
                )
                return
        parent = Parent(
            "stock `rq worker`", "rq", "rq", worker_class="rq.Worker", worker_kind="forking"
        )
        parent.modules.update({"rq", "redis"})
        self.parents.append(parent)
        self.assumptions.append(STOCK_ASSUMPTION)

    def _rq_settings_modules(self) -> list[FileFacts]:
        """Project modules made for `rq worker -c`: they set RQ's settings (REDIS_* among them)
        and no project code imports them (a Django settings module is not one)."""
        names = self.catalog.rq_settings_names
        found = []
        for module, f in self.index.modules.items():
            if self._skip(f.relpath) or module.endswith("__init__"):
                continue
            assigned = {a.target for a in f.assigns} & names
            if len(assigned) < 2 or not any(n.startswith("REDIS_") for n in assigned):
                continue
            if any(a.target == "INSTALLED_APPS" for a in f.assigns):
                continue
            found.append(f)
        if not found:
            return []
        wanted = {f.module for f in found}
        for f in self.index.modules.values():
            imports = list(f.imports) + list(f.main_imports)
            imports += [i for fn in f.functions for i in fn.imports]
            for i in imports:
                full = f"{i.module}.{i.name}" if i.name else i.module
                wanted.discard(i.module)
                wanted.discard(full)
        return [f for f in found if f.module in wanted]

    def _flask_rq2_job(self, job: Job) -> bool:
        """A job of Flask-RQ2 (`@rq.job` on an `RQ()` of flask_rq2)."""
        found = self.index.functions.get(job.fq)
        if found is None:
            return False
        f, fn = found
        return any(
            self.index.resolve(f.module, None, d.name).startswith("flask_rq2.")
            for d in fn.decorators
        )

    def _imports_django_rq(self, job: Job) -> bool:
        f = self.index.modules.get(job.module)
        return f is not None and any(
            i.module == "django_rq" or i.module.startswith("django_rq.") for i in f.imports
        )

    def _uses_django(self, job: Job) -> bool:
        f = self.index.modules.get(job.module)
        return f is not None and any(
            i.module.startswith(("django", "django_rq")) for i in f.imports
        )

    # --- Celery --------------------------------------------------------------------------------

    def _celery_parent(
        self, command: WorkerCommand | None, celery_jobs: list[Job]
    ) -> Parent | None:
        index, catalog, config = self.index, self.catalog, self.config
        label = f"{command.path}:{command.line}" if command is not None else "celery worker"
        app_modules = celery_app_modules(index, catalog, command)
        if command is not None and command.celery_app and not app_modules:
            self.unresolved.append(
                Unresolved(
                    command.path,
                    command.line,
                    f"runs the Celery app {command.celery_app}, which forklint cannot find",
                    '[tool.forklint] fork-model = "celery"',
                )
            )
            self.unknown_frameworks.add("celery")
            return None
        max_per_child = command.max_tasks_per_child if command is not None else None
        pool = command.pool if command is not None else None
        for module in app_modules:
            value = _celery_setting(
                index, module, "worker_max_tasks_per_child", django_settings=self._django_settings()
            )
            if max_per_child is None and value is not None and value.isdigit():
                max_per_child = int(value)
        if pool in ("solo", "threads", "gevent", "eventlet"):
            model = "celery-solo"
        elif max_per_child == 1:
            model = "celery-per-task"
        else:
            model = "celery"
        parent = Parent(label, "celery", model)
        if (
            command is not None
            and command.queues
            and all(re.fullmatch(r"[\w.:@-]+", q) for q in command.queues)
        ):  # `-Q gpu`: only the tasks sent to gpu (not `-Q "$QUEUES"`, `{{ .Values.q }}`)
            parent.queues = frozenset(command.queues)
        run = _Run(index, catalog, parent)
        here = (Step(command.path, command.line, 1, command.text),) if command is not None else ()
        for module in app_modules:
            run.import_module(module, here)
            for included in _celery_includes(index, catalog, module):
                run.import_module(included, here)
        if config.fork_model == "auto" and _django_configured(index, app_modules):
            # Celery's Django fix-up runs django.setup() in the parent at worker_init: the
            # settings, every installed app's models and apps modules, AppConfig.ready()
            setup_at = here[0] if here else Step("", 1, 1, "celery worker")
            for step in self._django_setup(setup_at) or []:
                trace = here + ((step.step,) if step.step is not None else ())
                if step.kind == "import":
                    run.import_module(step.target, trace)
                elif step.kind == "call":
                    run.run_function(step.target, trace)
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
        if config.fork_model == "auto" and _django_configured(index, app_modules):
            # Celery's Django fix-up closes the parent's database connections in every child
            parent.resets.append(
                Reset("Celery's Django fix-up (worker_process_init)", None, django=True)
            )
        return parent


# the top-level packages of the job frameworks: a script that imports none cannot start a worker
def _computed(call: CallFact) -> bool:
    """What is called is computed (`COMMANDS[name]()`, `getattr(module, name)()`), not a method
    of something computed (`sys.argv[0].replace()`)."""
    return call.callee.endswith(("]", "()"))


# What starts a worker, called from a script forklint could not follow (`.work()`, `worker_main()`,
# Django's command dispatch to `rqworker`/`celery`), and the framework modules that start one.
_WORKER_STARTS = frozenset(
    {"work", "worker_main", "execute_from_command_line", "call_command", "run_from_argv"}
)
_WORKER_MODULES = (
    "rq.cli",
    "rq.worker",
    "rq.Worker",
    "rq.SimpleWorker",
    "rq.worker_pool",
    "rq.WorkerPool",
    "celery.bin",
    "celery.apps.worker",
    "celery.worker",
    "dramatiq.cli",
    "huey.consumer",
    "huey.bin",
    "django_rq.workers",
    "django_rq.management",
)
_WORKER_FRAMEWORKS = frozenset(
    {"rq", "django_rq", "flask_rq", "flask_rq2", "rq_scheduler", "celery", "huey", "dramatiq"}
)
_RQ_FRAMEWORKS = frozenset({"rq", "django_rq", "flask_rq", "flask_rq2", "rq_scheduler"})
_APP_CONFIGS = frozenset({"django.apps.AppConfig", "django.apps.config.AppConfig"})
_CONFIGURATIONS = frozenset({"configurations.Configuration", "configurations.base.Configuration"})
_APPS_NAME = re.compile(r"\w*APPS")
# `INSTALLED_APPS = [...]`, `THIRD_PARTY_APPS = (...)`, `INSTALLED_APPS += [...]`: the strings listed
_APPS_LIST = re.compile(r"^\w*APPS\s*\+?=\s*[\[(](?P<items>[^\])]*)[\])]", re.MULTILINE)
_HANDLERS_LIST = re.compile(r"^RQ_EXCEPTION_HANDLERS\s*=\s*[\[(](?P<items>[^\])]*)[\])]", re.M)
_APP_STRING = re.compile(r"""["']([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)["']""")  # a dotted name
_WORKERISH = re.compile(r"worker|(?<![a-z])rq(?![a-z])", re.IGNORECASE)
_WORKER_ARGUMENTS = frozenset(
    {"worker", "workers", "rq", "rqworker", "worker-pool", "rqworker-pool"}
)


def _starts_a_worker(command: WorkerCommand) -> bool:
    """Whether a command line says it starts a worker: its program's name (`start-worker`,
    `rqworker`) or one of its arguments (`manage.py rq worker`), not an option's value
    (gunicorn's `-w $WORKERS`, `celery inspect --app=app.worker`)."""
    name = (command.program or command.module or "").rpartition("/")[2]
    if _WORKERISH.search(name):
        return True
    return any(
        arg.lower() in _WORKER_ARGUMENTS
        # `conda create -n worker`: the value of an option (held-out foldy)
        and not (at and command.argv[at - 1].startswith("-") and "=" not in command.argv[at - 1])
        for at, arg in enumerate(command.argv)
    )


DJANGO_UNKNOWN = (
    "no worker start-up found, and the django-rq jobs need Django set up but forklint finds no "
    "Django settings module: the worker parent is unknown (set [tool.forklint] worker = ...)"
)
CELERY_ASSUMPTION = (
    "no Celery worker command found: assumed `celery worker` (the app and its task modules "
    "imported, a prefork pool of reused children)"
)
DJANGO_ASSUMPTION = "no worker start-up found: assumed django-rq's `manage.py rqworker` (Django set up, nothing else preloaded)"
FLASK_RQ2_WORKER = "Flask-RQ2 `flask rq worker`"  # the label of the assumed parent
FLASK_ASSUMPTION = "no worker start-up found: assumed Flask-RQ2's `flask rq worker` (the Flask app loaded, nothing else preloaded)"
FLASK_UNKNOWN = (
    "no worker start-up found, and the Flask-RQ2 jobs run under `flask rq worker`, whose app "
    "forklint cannot find: the worker parent is unknown (set [tool.forklint] worker = ...)"
)


def _django_configured(index: Index, app_modules: list[str]) -> bool:
    for module in app_modules:
        f = index.modules.get(module)
        if f is None:
            continue
        for call in (*f.calls, *(c for fn in f.functions for c in fn.calls)):
            if call.args and call.args[0] == '"DJANGO_SETTINGS_MODULE"':
                return True
            if call.callee.endswith("config_from_object") and any(
                k == "namespace" for k, _ in call.kwargs
            ):
                return True
    return False


def _model_of_kind(kind: str) -> str:
    return {"simple": "rq-simple", "spawn": "rq-spawn"}.get(kind, "rq")


def startup_label(startup: Startup) -> str:
    where = (
        f"{startup.relpath}:{startup.function}()"
        if startup.function and startup.function != "__main__"
        else startup.relpath
    )
    return where


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

    def calls(entries: tuple[str, ...]) -> None:
        for entry in entries:
            fq = index.canonical(entry.replace(":", "."))
            step = Step(
                source, config.entry_line(entry) or 1, 1, f"[tool.forklint.prefork] calls {entry}"
            )
            run.external_call(fq)
            if fq in index.functions:
                run.run_function(fq, trace + (step,))

    calls(table.setup_calls())  # as forklint.rq does: `django:setup` before the imports
    for module in table.imports:
        line = config.entry_line(module) or 1
        run.import_module(
            module, trace + (Step(source, line, 1, f"[tool.forklint.prefork] imports {module}"),)
        )
    calls(table.later_calls())
    for entry in table.after_fork:
        fq = index.canonical(entry.replace(":", "."))
        run.parent.resets.append(
            Reset(
                f"[tool.forklint.prefork] after-fork {entry}",
                fq if fq in index.functions else None,
                opaque=fq not in index.functions,
            )
        )


def _work_key(launch: Launch) -> str:
    """The start-up function (module.function) whose `.work()` a launch reaches."""
    site = launch.work
    return f"{site.module}.{site.function}" if site is not None else ""


def preloaded(index: Index, catalog: Catalog, parent: Parent, table: Prefork) -> Parent:
    """The parent as it would be if it also did `table` before the fork; its `sites` are only the
    calls it would newly make: those of the modules it would import for the first time and of the
    functions it would call (a fix that preloads a module whose import connects a pool brings
    that pool across the fork)."""
    shadow = replace(
        parent,
        modules=set(parent.modules),
        configured=list(parent.configured),
        warmed=set(parent.warmed),
        dynamic_imports=[],
        import_order=list(parent.import_order),
        call_order=[],
        sites=[],
        resets=list(parent.resets),
    )
    run = _Run(index, catalog, shadow)
    run.sure_modules = set(parent.modules)
    run.functions_done = set(parent.warmed)
    for module in table.imports:
        run.import_module(module, ())
    for entry in table.calls:
        fq = index.canonical(entry.replace(":", "."))
        run.external_call(fq)
        if fq in index.functions:
            run.run_function(fq, ())
    return shadow


def celery_app_modules(index: Index, catalog: Catalog, command: WorkerCommand | None) -> list[str]:
    if command is not None and command.celery_app:
        name = command.celery_app.split(":")[0]
        candidates = [name, f"{name}.celery", f"{name}.celery_app"]
        found = [c for c in candidates if c in index.modules]
        if found:  # `-A proj`: Celery imports proj, and finds the app in it or in proj.celery
            return found
        parts = name.split(".")
        for n in range(len(parts), 0, -1):
            if ".".join(parts[:n]) in index.modules:
                return [".".join(parts[:n])]
        found = _named_from_a_folder(index, name)
        if found is not None:
            return [found]
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


def _named_from_a_folder(index: Index, name: str) -> str | None:
    """`-A src.shop.celery_app` run from the folder that holds `src/`: Python imports the module
    through the folder's name, and forklint names it `shop.celery_app` (the src layout). The
    module whose file is at that path, with the leading folders dropped from its name."""
    parts = name.split(".")
    for n in range(1, len(parts)):
        rest = ".".join(parts[n:])
        f = index.modules.get(rest) or index.modules.get(f"{rest}.__init__")
        if f is None:
            continue
        path = f.relpath[: -len(".py")]
        if path.endswith("/__init__"):
            path = path[: -len("/__init__")]
        if path == "/".join(parts) or path.endswith("/" + "/".join(parts)):
            return f.module
    return None


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


# Celery 3 names of the settings Celery 4+ spells in lower case (worker_max_tasks_per_child).
_OLD_CELERY_NAMES = {"worker_max_tasks_per_child": "CELERYD_MAX_TASKS_PER_CHILD"}


def _celery_setting(
    index: Index,
    module: str,
    key: str,
    depth: int = 0,
    names: tuple[str, ...] = (),
    django_settings: str | None = None,
) -> str | None:
    """A setting of the Celery app defined in `module`: `app.conf.KEY = ...`, `Celery(KEY=...)`,
    `app.conf.update(KEY=...)`, or a module named by `app.config_from_object("settings")`,
    including Django's settings with `namespace="CELERY"` (`CELERY_WORKER_MAX_TASKS_PER_CHILD`)."""
    f = index.modules[module]
    wanted = names or (key,)
    for a in f.assigns:
        if any(a.target.endswith(f".{n}") or (depth and a.target == n) for n in wanted):
            return a.value
    for call in f.calls:
        for k, v in call.kwargs:
            if k in wanted:
                return v
        if call.callee.endswith(".config_from_object") and call.args and depth < 2:
            source = call.args[0].strip('"').split(":")[0]
            namespace = dict(call.kwargs).get("namespace", "").strip('"')
            if source == "django.conf":
                source = django_settings or ""
            if namespace:
                inner = (f"{namespace}_{key.upper()}",)
            else:
                inner = (key, key.upper(), _OLD_CELERY_NAMES.get(key, key.upper()))
            if source in index.modules:
                value = _celery_setting(index, source, key, depth + 1, inner, django_settings)
                if value is not None:
                    return value
    return None


def _listed_strings(pattern: re.Pattern[str], text: str) -> list[str]:
    """The dotted-name strings of every list the pattern finds (`INSTALLED_APPS = [...]`)."""
    return [
        name for listed in pattern.finditer(text) for name in _APP_STRING.findall(listed["items"])
    ]


def _celery_config_modules(index: Index, module: str, django_settings: str | None) -> list[str]:
    """The project modules an app module reads its settings from: `config_from_object("x")`
    (Django's settings for "django.conf:settings"), with the modules they star-import."""
    out: list[str] = []
    f = index.modules.get(module)
    if f is None:
        return out
    for call in (*f.calls, *(c for fn in f.functions for c in fn.calls)):
        if call.callee.endswith(".config_from_object") and call.args:
            source = call.args[0].strip('"').split(":")[0]
            if source == "django.conf":
                source = django_settings or ""
            if source in index.modules:
                out += _with_star_sources(index, source)
    return out


def _with_star_sources(index: Index, module: str) -> list[str]:
    """A settings module and the project modules it star-imports (`from .base import *`)."""
    out = [module]
    f = index.modules.get(module)
    if f is not None:
        for imp in f.imports:
            if imp.name == "*":
                out += [m for m in index.imported_modules(imp) if m in index.modules]
    return out


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
