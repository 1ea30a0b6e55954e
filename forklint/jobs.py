"""Job discovery: which project functions a worker runs, found through decorators, enqueue calls and config."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace

from forklint.catalog import Catalog
from forklint.config import Config
from forklint.facts import CallFact, FileFacts, FunctionFact, Loc
from forklint.index import Index
from forklint.queues import Queues


def is_test_module(relpath: str) -> bool:
    """Code only tests run: `tests/`, `test_*.py`, `*_test.py`, `conftest.py`, and Django's
    `tests.py` (the module `manage.py startapp` writes; held-out ownphotos)."""
    parts = relpath.split("/")
    name = parts[-1]
    return (
        any(p in ("test", "tests", "testing") for p in parts[:-1])
        or name.startswith("test_")
        or name.endswith("_test.py")
        or name in ("conftest.py", "tests.py")
    )


@dataclass(frozen=True)
class Job:
    fq: str  # "app.tasks.record_event"
    module: str
    qualname: str
    framework: str  # "rq" | "celery" | "dramatiq" | "huey"
    how: str  # how it was recognised: "@rq.decorators.job", "enqueued at app/views.py:12", ...
    relpath: str
    loc: Loc  # of the function's name
    # the RQ queues it is put on; None when forklint cannot tell (then any worker may run it)
    queues: frozenset[str] | None = None
    # a callback (on_failure=...) only ever handed to RQ with a job function of its own module:
    # a horse that runs it has imported that module to run the job
    rides_in_job_module: bool = False
    # a callback only ever handed to RQ with job functions (never a job of its own): those jobs,
    # whose horse it runs in after them
    rides_with: tuple[str, ...] = ()


def discover(index: Index, catalog: Catalog, config: Config) -> tuple[Job, ...]:
    """The project's jobs. Code that only tests run is not a deployment: a job defined in a test
    module, or handed to RQ only from one, is left out unless `include-tests` is set."""
    found: dict[str, Job] = {}

    def deployed(relpath: str) -> bool:
        return config.include_tests or not is_test_module(relpath)

    queue_names = Queues(index, catalog)
    unknown = object()
    queues: dict[str, set[str] | object] = {}

    def add(fq: str, framework: str, how: str, on: set[str] | None = None) -> None:
        entry = index.functions.get(fq)
        if entry is None:
            return
        f, fn = entry
        if not deployed(f.relpath):
            return
        seen = queues.get(fq)
        if on is None or seen is unknown:
            queues[fq] = unknown
        else:
            queues[fq] = (seen if isinstance(seen, set) else set()) | on
        if fq not in found:
            found[fq] = Job(fq, f.module, fn.qualname, framework, how, f.relpath, fn.loc)

    for module, f in index.modules.items():
        for fn in f.functions:
            fq = f"{module}.{fn.qualname}"
            for deco in fn.decorators:
                framework = _decorator_framework(index, catalog, f, fn, deco.name)
                if framework is not None:
                    on = (
                        queue_names.of_decorator(f, deco.args, dict(deco.kwargs))
                        if framework == "rq"
                        else None
                    )
                    add(fq, framework, f"@{deco.name}", on)
                    break
    standalone = set(found)  # jobs in their own right (not only someone's callback)
    primary = set(found)  # decorated or enqueued as the job itself
    callback_of: dict[str, set[str]] = {}  # callback -> the jobs enqueued with it
    # the last names of the job decorators (`django_rq.job`, `Celery().task`), by name too
    decorator_names = frozenset(
        name.rpartition(".")[2] for name, _framework in catalog.job_decorator.entries
    ) | {"task", "shared_task", "actor"}
    riding: set[str] = set()  # callbacks seen only with a job function of their own module
    for f in index.modules.values():
        if not deployed(f.relpath):
            continue
        for fn, calls in _call_scopes(f):
            for call in calls:
                enqueued = _enqueued(index, catalog, f, fn, call, deployed)
                on = queue_names.of_enqueue(f, fn, call) if enqueued else None
                mains = [t for t, _kind, callback in enqueued if not callback]
                for target, kind, callback in enqueued:
                    add(target, "rq", f"{kind} at {f.relpath}:{call.loc.line}", on)
                    if callback:
                        callback_of.setdefault(target, set()).update(mains)
                    if not callback or not mains:
                        primary.add(target)
                    if not callback:
                        standalone.add(target)
                    elif mains and all(_same_module(index, m, target) for m in mains):
                        riding.add(target)
                    else:
                        standalone.add(target)
                applied = _decorator_applied(index, catalog, decorator_names, f, fn, call)
                if applied is not None:  # `create_repo_job = job(create_repo)` (Metecho)
                    target, framework = applied
                    add(target, framework, f"{call.callee}(...) at {f.relpath}:{call.loc.line}")
                    standalone.add(target)
                    primary.add(target)
    for cls_fq, (_f, c) in index.classes.items():
        if index.subclass_of(cls_fq, catalog.task_classes) and "run" in c.methods:
            add(f"{cls_fq}.run", "celery", "celery Task.run")
        if index.subclass_of(cls_fq, _worker_names(catalog)):
            for name in c.methods:
                if name in catalog.horse_methods:
                    add(f"{cls_fq}.{name}", "rq", f"work-horse method {c.name}.{name}")
    for entry in config.jobs:
        add(entry.replace(":", "."), "rq", "[tool.forklint] jobs")
    return tuple(
        replace(
            job,
            queues=frozenset(q) if isinstance(q := queues[fq], set) else None,
            rides_in_job_module=fq in riding and fq not in standalone,
            rides_with=tuple(sorted(callback_of.get(fq, ()))) if fq not in primary else (),
        )
        for fq, job in found.items()
    )


def _call_scopes(f: FileFacts) -> list[tuple[FunctionFact | None, tuple[CallFact, ...]]]:
    """A file's calls by scope: its top level, its `__main__` block, each function."""
    return [(None, f.calls), (None, f.main_calls), *((fn, fn.calls) for fn in f.functions)]


def _same_module(index: Index, first: str, second: str) -> bool:
    a, b = index.functions.get(first), index.functions.get(second)
    return a is not None and b is not None and a[0].module == b[0].module


def _worker_names(catalog: Catalog) -> frozenset[str]:
    return frozenset(name for name, kind in catalog.worker_kind.entries if kind != "pool")


def _decorator_framework(
    index: Index, catalog: Catalog, f: FileFacts, fn: FunctionFact, name: str
) -> str | None:
    fq = index.resolve(f.module, _enclosing(index, f, fn), name)
    framework = catalog.job_decorator(fq)
    if framework is not None:
        return framework
    # `class myjob(rq.decorators.job)` (also behind functools.partial): the base's framework
    cls = fq.removesuffix("()")
    if cls in index.classes:
        for base in index.mro(cls)[1]:
            framework = catalog.job_decorator(base)
            if framework is not None:
                return framework
    framework = _framework_by_name(fq)
    if framework is not None:
        return framework
    # a project decorator that hands what it decorates to a framework's decorator:
    # `def pipeline_task(fn): return app.task(autoretry_for=...)(fn)`
    if fq in index.functions:
        return _wrapping_framework(index, catalog, fq)
    return None


def _decorator_applied(
    index: Index,
    catalog: Catalog,
    names: frozenset[str],
    f: FileFacts,
    fn: FunctionFact | None,
    call: CallFact,
) -> tuple[str, str] | None:
    """(function, framework) when `call`, at a module's top level, applies a framework's job
    decorator to a project function as a plain call: `job(create_repo)` (django-rq takes the function itself),
    `job("high")(create_repo)`, `app.task(send)`."""
    if fn is not None or not call.args or call.args[0].startswith(('"', "[")):
        # `job("default")`: the decorator being built; in a function, a decorator applied to
        # what the function is handed (a project decorator's wrapper) is not a job of its own
        return None
    if call.callee.rpartition(".")[2] not in names and not call.callee.endswith("()"):
        return None  # most calls (tested before resolving); `x(...)(fn)` may be any alias
    target = _function_value(index, f, fn, call.args[0])
    if target is None:
        return None
    fq = index.resolve(f.module, fn, call.callee)
    framework = catalog.job_decorator(fq) or _framework_by_name(fq)
    if framework is None and fq.endswith("()"):  # `job("high")(fn)`: the built decorator
        framework = catalog.job_decorator(fq[:-2]) or _framework_by_name(fq[:-2])
    return (target, framework) if framework is not None else None


def _framework_by_name(fq: str) -> str | None:
    """Celery apps built by a factory (`celery = make_celery(app)`) resolve to the factory's call."""
    last = fq.rpartition(".")[2]
    if last in ("task", "shared_task") and "celery" in fq.lower():
        return "celery"
    if last == "actor" and "dramatiq" in fq:
        return "dramatiq"
    return None


def _wrapping_framework(index: Index, catalog: Catalog, fq: str) -> str | None:
    """The framework whose job decorator the project decorator `fq` (or a function nested in it)
    calls on what it decorates (linkding's `task()` returns `huey.task(...)(inner)`)."""
    f, outer = index.functions[fq]
    nested = index.nested_functions(fq)
    # what the decorator may hand on: its parameters, and the functions it defines (a wrapper)
    handed = {n for fn in (outer, *nested) for n, _ann in fn.params} | {fn.name for fn in nested}
    for fn in (outer, *nested):
        for call in fn.calls:
            if not call.callee.endswith("()") or not call.args or call.args[0] not in handed:
                continue  # `X(...)(fn)`: the call that applies a built decorator to the function
            target = index.resolve(f.module, fn, call.callee[:-2])
            framework = catalog.job_decorator(target) or _framework_by_name(target)
            if framework is not None:
                return framework
    return None


def _enclosing(index: Index, f: FileFacts, fn: FunctionFact) -> FunctionFact | None:
    parent = fn.qualname.rpartition(".")[0]
    if not parent or parent == fn.cls:
        return None
    entry = index.functions.get(f"{f.module}.{parent}")
    return entry[1] if entry is not None else None


def _enqueued(
    index: Index,
    catalog: Catalog,
    f: FileFacts,
    fn: FunctionFact | None,
    call: CallFact,
    deployed: Callable[[str], bool] = lambda _relpath: True,
) -> list[tuple[str, str, bool]]:
    """(job fq, how, whether it is a callback) for each project function this call hands to RQ."""
    if call.callee.rpartition(".")[2] not in catalog.enqueue_names:
        return []  # most calls: not one that hands a function to RQ (tested before resolving)
    fq = index.resolve(f.module, fn, call.callee)
    form = catalog.enqueue_form(fq)
    method = call.callee.rpartition(".")[2]
    if form is not None:
        position, keywords = form.position, form.keywords
    elif method in catalog.enqueue_methods and "." in call.callee:
        position = 1 if method in catalog.enqueue_second else 0
        keywords = ("f", "func")
    else:
        return []
    values: list[tuple[str, bool]] = []
    kwargs = dict(call.kwargs)
    if len(call.args) > position:
        values.append((call.args[position], False))
    values += [(kwargs[k], False) for k in keywords if k in kwargs]
    values += [(kwargs[k], True) for k in catalog.callback_keywords if k in kwargs]
    out: list[tuple[str, str, bool]] = []
    for value, callback in values:
        target = _function_value(index, f, fn, value)
        if target is not None:
            out.append((target, method or call.callee, callback))
            continue
        # `for func, every in PERIODIC: scheduler.schedule(func=func, ...)`: each listed function
        for element in _loop_elements(index, f, fn, value):
            out.append((element, method or call.callee, callback))
        # `enqueue(f"app.tasks.{name}")` in `launch_task(self, name)`, `enqueue_call(func=func)`
        # in `enqueue_job(func)`: what its callers pass
        for target in _computed_targets(index, f, fn, value, deployed):
            out.append((target, method or call.callee, callback))
    return out


_COMPUTED = re.compile(r"\+(?P<prefix>[\w.]+\.)\+(?P<name>\w+)")


def _computed_targets(
    index: Index,
    f: FileFacts,
    fn: FunctionFact | None,
    value: str,
    deployed: Callable[[str], bool],
) -> list[str]:
    """The project functions a parameter names, from what the function's callers pass.

    `launch_task(self, name)` enqueues `f"app.tasks.{name}"`; a call
    `current_user.launch_task("export_posts")` anywhere in the project makes
    `app.tasks.export_posts` a job when that function exists. `enqueue_job(func)` enqueues
    `func`; a call `enqueue_job(grade_backup, ...)` makes `grade_backup` one (okpy), and so does
    `task_runner_start("app.bench.run_benchmark")` for a helper that enqueues its parameter
    (beautiful-sat-solver).
    """
    match = _COMPUTED.fullmatch(value)
    name = match["name"] if match is not None else value
    found: list[str] = []
    for caller, scope, passed in _passed_by_callers(index, f, fn, name, deployed):
        if match is not None:
            if not passed.startswith('"'):
                continue
            passed = f'"{match["prefix"]}{passed.strip(chr(34))}"'
        if passed.startswith('"'):
            scope = None  # a dotted path: `task_runner_start("app.bench.run", ...)`
        target = _function_value(index, caller, scope, passed)
        if target is not None and target not in found:
            found.append(target)
    return found


def _passed_by_callers(
    index: Index,
    f: FileFacts,
    fn: FunctionFact | None,
    param: str,
    deployed: Callable[[str], bool],
) -> list[tuple[FileFacts, FunctionFact | None, str]]:
    """(caller's file, caller's scope, the argument as written) for each call of `fn` in the
    project that passes its parameter `param`. A call is `fn`'s when it resolves to it, or when
    it does not resolve and no other project function has that name."""
    if fn is None:
        return []
    params = [name for name, _annotation in fn.params]
    if param not in params:
        return []
    position = params.index(param)
    if fn.cls is not None and params[:1] in (["self"], ["cls"]):
        position -= 1  # the receiver is not written in the call
    own = f"{f.module}.{fn.qualname}"
    namesakes = sum(1 for fq in index.functions if fq.rpartition(".")[2] == fn.name)
    out: list[tuple[FileFacts, FunctionFact | None, str]] = []
    for module, caller in index.modules.items():
        if not deployed(caller.relpath):
            continue
        for scope, calls in _call_scopes(caller):
            for call in calls:
                if call.callee.rpartition(".")[2] != fn.name:
                    continue
                resolved = index.resolve(module, scope, call.callee)
                if resolved != own and (resolved in index.functions or namesakes != 1):
                    continue
                kwargs = dict(call.kwargs)
                passed = (
                    call.args[position]
                    if 0 <= position < len(call.args)
                    else kwargs.get(param, "")
                )
                if passed:
                    out.append((caller, scope, passed))
    return out


_ELEMENT = re.compile(r"(?P<container>[\w.]+)\[\*\](?:\[(?P<item>\d+)\])?")


def _loop_elements(index: Index, f: FileFacts, fn: FunctionFact | None, value: str) -> list[str]:
    """The project functions a loop variable takes from a literal list or tuple it iterates."""
    if not value.isidentifier():
        return []
    local = index.local_bindings(f.module, fn) if fn is not None else {}
    binding = local.get(value) or index.module_bindings(f.module).get(value)
    if binding is None or binding.kind != "value":
        return []
    match = _ELEMENT.fullmatch(binding.target)
    if match is None:
        return []
    name = match["container"]
    holder = (local.get(name) if "." not in name else None) or index.module_bindings(f.module).get(
        name
    )
    if holder is None or holder.kind != "value" or not holder.target.startswith("["):
        return []
    elements = _split(holder.target)
    if match["item"] is not None:
        position = int(match["item"])
        items = [_split(e) for e in elements if e.startswith("[")]
        elements = [i[position] for i in items if len(i) > position]
    found = []
    for element in elements:
        target = _function_value(index, f, None, element)
        if target is not None:
            found.append(target)
    return found


def _split(literal: str) -> list[str]:
    """The top-level items of a described list "[a,[b,1],c]"."""
    inner = literal[1:-1] if literal.startswith("[") and literal.endswith("]") else ""
    items, depth, current = [], 0, ""
    for char in inner:
        if char == "," and depth == 0:
            items.append(current)
            current = ""
            continue
        depth += char == "["
        depth -= char == "]"
        current += char
    if current:
        items.append(current)
    return items


def _function_value(index: Index, f: FileFacts, fn: FunctionFact | None, value: str) -> str | None:
    if not value or value.endswith("()") or value.startswith("["):
        return None
    if not value.startswith('"'):  # `JOB = "app.tasks.run"` ... `enqueue(JOB)` (dioptra)
        value = index.string_constant(f.module, fn, value) or value
    if value.startswith('"'):
        fq = value.strip('"').replace(":", ".")
        owner, _, attr = fq.rpartition(".")
        if owner in index.modules and attr in index.module_bindings(owner):
            # RQ imports `owner` and takes its attribute: a package's `from .run import run`
            # names the function, not the submodule of the same name (dioptra)
            fq = index.resolve(owner, None, attr)
        else:
            fq = index.canonical(fq)
    else:
        fq = index.resolve(f.module, fn, value)
    return fq if fq in index.functions else None
