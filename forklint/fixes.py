"""Fixes: what answers each finding in this project (the pre-fork table and the start-ups that run
it, a memoised loader, an after-fork reset), as a sentence and as changes `forklint.fixplan`
turns into edits."""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING

from forklint.changes import (
    AddMixin,
    CallSite,
    CeleryWarmUp,
    Change,
    Memoise,
    Missing,
    ResetAfterFork,
    StartupCode,
    SwitchCommand,
    SwitchStartup,
)
from forklint.commands import PREFORK_WORKER, STOCK_WORKERS, with_prefork_worker
from forklint.facts import CallFact, FileFacts, FunctionFact
from forklint.findings import Fix, Prefork
from forklint.world import (
    FLASK_RQ2_WORKER,
    Parent,
    Site,
    call_text,
    is_test_module,
    startup_label,
)

if TYPE_CHECKING:
    from forklint.evidence import Evidence, JobPath
    from forklint.jobs import Job

# Worker classes a start-up can swap for PreforkWorker without changing what the worker does.
_SWAPPABLE = frozenset({*STOCK_WORKERS, "rq.worker.base.Worker", "rq.worker.worker_classes.Worker"})
_MIXIN = "forklint.rq.PreforkMixin"


def prefork_fix(ev: Evidence, parents: list[Parent], table: Prefork, action: str) -> Fix:
    """Do `table` in every worker parent that lacks it: the [tool.forklint.prefork] entries with
    each start-up switched to PreforkWorker (or PreforkMixin), or the lines themselves in a start-up
    function the project owns, or a worker_init handler for Celery.

    `action` is what the parents must do, as a verb phrase: "import app.tasks", "call get_model()".
    """
    tests = [m for m in table.imports if m in ev.index.modules and _is_test(ev, m)]
    if tests:
        return Fix(
            f"{action} in the worker parent; {', '.join(tests)} is test code, which forklint "
            "does not load into a production worker",
            "display-only",
        )
    if any(_needs_django_setup(ev, p, table) for p in parents):
        # a models module imported before django.setup() raises AppRegistryNotReady; the set-up
        # imports every installed app's models itself (held-out rescuekerala: a plain `rq` worker
        # script in a Django project, whose job calls django.setup() on every run)
        table = Prefork(table.imports, ("django:setup", *table.calls), table.after_fork)
        action = f"call django.setup() and {action}"
    changes, parts, uses_table = parent_changes(ev, parents, table, action)
    brought, said = _brought_across(ev, parents, table)
    changes += brought
    written = _already_written(ev, table)
    if uses_table:
        entries = "; ".join(_entries(table))
        if written:
            parts.insert(0, "[tool.forklint.prefork] already has " + entries)
        else:
            parts.insert(0, f"add {entries} to [tool.forklint.prefork]")
    if len(parents) == 1 and isinstance(changes[0] if changes else None, StartupCode):
        summary = parts[-1]
    else:
        summary = f"{action} in the worker parent: " + "; ".join(parts)
    summary = "; ".join([summary, *said])
    prefork = table if uses_table else None
    return _fix(summary, changes, prefork, written)


def _needs_django_setup(ev: Evidence, parent: Parent, table: Prefork) -> bool:
    """Whether doing `table` in `parent` imports a module that defines Django models before the
    parent has set Django up."""
    if "django:setup" in table.calls or any(ev.catalog.settled_in_parent(w) for w in parent.warmed):
        return False
    loaded = ev.resets.preload(parent, table).modules - parent.modules
    return any(
        ev.index.subclass_of(f"{module}.{c.qualname}", ev.catalog.django_models)
        for module in loaded
        if module in ev.index.modules
        for c in ev.index.modules[module].classes
    )


def _brought_across(
    ev: Evidence, parents: list[Parent], table: Prefork
) -> tuple[list[Change], list[str]]:
    """What doing `table` in `parents` would bring across the fork (a preloaded module whose
    import connects a pool, creates a client or starts a thread), and the change that answers it:
    the same after-fork reset the FRK3xx rule would ask for, or its advice."""
    from forklint.evidence import callee_name
    from forklint.rules import (
        frk301_connection_inherited_across_fork,
        frk302_thread_started_before_fork,
        frk303_client_created_before_fork,
    )

    rules = (
        frk301_connection_inherited_across_fork,
        frk302_thread_started_before_fork,
        frk303_client_created_before_fork,
    )
    changes: list[Change] = []
    said: list[str] = []
    seen: set[tuple[str, int, int]] = set()
    for parent in parents:
        for found in ev.resets.preloaded(parent, table):
            site = found.site
            key = (site.module, site.call.loc.line, site.call.loc.column)
            answers = [a for a in (rule.answer(ev, found) for rule in rules) if a is not None]
            if key in seen or not answers:
                continue
            seen.add(key)
            fix = answers[0][1]
            where = f"{ev.index.modules[site.module].relpath}:{site.call.loc.line}"
            what = (
                f"that runs {callee_name(site.call, site.target)}() ({where}) before the fork too"
            )
            if fix.applicability == "display-only" or not fix.changes:
                changes.append(Missing(f"{what}: {fix.summary}"))
            else:
                changes += fix.changes
            said.append(f"{what}, so {fix.summary}")
    return changes, said


def parent_changes(
    ev: Evidence, parents: list[Parent], table: Prefork, action: str, table_only: bool = False
) -> tuple[list[Change], list[str], bool]:
    """(changes, a phrase for each, whether they need the table) to make `parents` do `table`.

    `table_only`: the entries are known only once the fix is written (a memoised getter's name),
    so every parent must run the table rather than lines of its own.
    """
    index = ev.index
    uses_table = table_only or any(_needs_table(ev, p) for p in parents)
    changes: list[Change] = []
    parts: list[str] = []
    for parent in parents:
        startup = parent.startup
        if _runs_table(ev, parent):
            continue  # it runs the table already: the entries are the whole fix
        if startup is not None:
            label = startup_label(startup)
            cls = parent.worker_class
            if cls is not None and cls in index.classes:
                changes.append(_mixin(ev, cls, label))
                parts.append(f"put {_MIXIN} first in the bases of {_class_label(ev, cls)}")
                uses_table = True
            elif uses_table and (cls is None or cls in _SWAPPABLE) and not startup.cli:
                changes.append(
                    SwitchStartup(
                        startup.relpath,
                        startup.module,
                        startup.function,
                        startup.work_line,
                        label,
                        table,
                    )
                )
                parts.append(f"build {PREFORK_WORKER} instead of Worker in {label}")
            elif table_only:
                changes.append(
                    Missing(f"{label} runs {cls}: {action} there before {startup.work_text}")
                )
                parts.append(f"{action} in {label} before {startup.work_text}")
            else:
                changes.append(
                    StartupCode(
                        startup.relpath,
                        startup.module,
                        startup.function,
                        startup.work_line,
                        label,
                        _lacking(parent, _with_every_model(ev, table)),
                    )
                )
                parts.append(f"{action} in {label} before {startup.work_text}")
            continue
        if parent.framework == "celery":
            app = ev.celery_app_module(parent)
            if app is None or table_only:
                changes.append(
                    Missing(f"{action} in a Celery worker_init handler ({parent.label})")
                )
                parts.append(f"{action} in a worker_init handler, which runs in the parent")
            else:
                f = index.modules[app]
                changes.append(CeleryWarmUp(f.relpath, app, table))
                parts.append(f"{action} in a worker_init handler in {f.relpath}")
            continue
        command = parent.command
        cls = parent.worker_class
        flask_rq2 = parent.label == FLASK_RQ2_WORKER or (
            command is not None and command.via == "flask"
        )
        if flask_rq2 and (cls is None or cls in _SWAPPABLE):
            # Flask-RQ2's `flask rq worker` takes no --worker-class: it runs the class the Flask
            # config names (and a plain `rq worker` would lose the app context its jobs need)
            where = (
                "no worker start-up found" if command is None else f"{command.path}:{command.line}"
            )
            changes.append(
                Missing(
                    f"{where}: Flask-RQ2's `flask rq worker` takes no --worker-class; set "
                    f'RQ_WORKER_CLASS = "{PREFORK_WORKER}" in the Flask app\'s config'
                )
            )
            parts.append(f'set RQ_WORKER_CLASS = "{PREFORK_WORKER}" in the Flask config')
            continue
        if command is None:
            if cls is not None and cls in index.classes and parent.label.startswith("[tool"):
                changes.append(_mixin(ev, cls, parent.label))
                parts.append(f"put {_MIXIN} first in the bases of {_class_label(ev, cls)}")
                continue
            run = _assumed_command(parent.label)
            changes.append(
                Missing(f"no worker start-up found: start the worker with `{run} <queues>`")
            )
            parts.append(f"start the worker with `{run}`")
            continue
        where = f"{command.path}:{command.line}"
        if (cls is None or cls in _SWAPPABLE) and not takes_worker_class(command.text):
            changes.append(
                Missing(
                    f"{where} starts the worker through the project's own command, which may "
                    f"not take --worker-class: make the worker it builds a {PREFORK_WORKER} "
                    f"(or give its class {_MIXIN})"
                )
            )
            parts.append(f"make the worker that {where} starts run the table")
        elif cls is None or cls in _SWAPPABLE:
            changes.append(SwitchCommand(command.path, command.line, command.text))
            parts.append(f"run `{with_prefork_worker(command.text)}` ({where})")
            for again in parent.also_commands:  # the same worker started for other queues
                if takes_worker_class(again.text):
                    changes.append(SwitchCommand(again.path, again.line, again.text))
                    parts.append(f"the same in {again.path}:{again.line}")
        elif cls in index.classes:
            changes.append(_mixin(ev, cls, where))
            parts.append(f"put {_MIXIN} first in the bases of {_class_label(ev, cls)} ({where})")
        else:
            mixin = f"class YourWorker({_MIXIN}, {cls})"
            changes.append(Missing(f"{where} runs {cls}: pass `{mixin}` to --worker-class"))
            parts.append(f"make {cls} ({where}) run the table: {mixin}")
    return changes, parts, uses_table


def _assumed_command(label: str) -> str:
    """The assumed worker command of a parent's label (stock `rq worker -c app.settings`,
    django-rq `manage.py rqworker`) running PreforkWorker, with what it needs kept."""
    _, _, rest = label.partition("`")
    command = rest.partition("`")[0]
    if command.startswith("manage.py"):
        command = "python " + command
    if not takes_worker_class(command):
        command = "rq worker"
    return with_prefork_worker(command)


def _is_test(ev: Evidence, module: str) -> bool:
    return is_test_module(ev.index.modules[module].relpath)


def _runs_table(ev: Evidence, parent: Parent) -> bool:
    """Whether the parent's worker is PreforkWorker (or has the mixin): it reads the table."""
    if parent.prefork_table or parent.worker_kind == "prefork":
        return True
    cls = parent.worker_class
    if cls is None:
        return False
    if ev.catalog.worker_kind(cls) == "prefork":
        return True
    return cls in ev.index.classes and any(
        ev.catalog.worker_kind(base) == "prefork" for base in ev.index.mro(cls)[1]
    )


def takes_worker_class(text: str) -> bool:
    """Whether the command's program is one whose worker subcommand takes -w/--worker-class: RQ's
    CLI (`rq worker`, `python -m rq.cli worker`, `rq worker-pool`, its `rqworker` script) or
    django-rq's `manage.py rqworker`; not a project's own `./manage.py rq worker` or Flask-RQ2's `flask rq worker`."""
    try:
        words = shlex.split(text, comments=False)
    except ValueError:
        return False
    for i, word in enumerate(words):
        if " " in word and takes_worker_class(word):  # `sh -c 'exec rq worker high'`
            return True
        if word.rsplit("/", 1)[-1] == "rqworker" and (
            i == 0 or "/" in word or words[i - 1] == "exec"
        ):
            return True  # RQ's own `rqworker` script
        if word in ("rqworker", "rqworker-pool"):
            return i > 0 and words[i - 1].endswith(("manage.py", "django-admin"))
        if word in ("worker", "worker-pool") and i > 0:
            program = words[i - 1].rsplit("/", 1)[-1]
            if program not in ("rq", "rq.cli"):
                continue
            before = words[i - 2].rsplit("/", 1)[-1] if i > 1 else ""
            return not (before.endswith(".py") or before in ("flask", "manage", "django-admin"))
    return False


def _needs_table(ev: Evidence, parent: Parent) -> bool:
    """Whether this parent is fixed through [tool.forklint.prefork] (not lines in its own code)."""
    if _runs_table(ev, parent):
        return True
    if parent.startup is not None:
        return parent.worker_class is not None and parent.worker_class in ev.index.classes
    return parent.framework != "celery"


def _with_every_model(ev: Evidence, table: Prefork) -> Prefork:
    """Lines written into a start-up that configure the mappers import every model module first:
    configure_mappers() configures what is loaded (and FRK202 holds the start-up to that)."""
    if not any(c.endswith(":configure_mappers") for c in table.calls):
        return table
    models = sorted({f.module for _fq, f, _c in ev.mapped_classes()})
    return Prefork(tuple(dict.fromkeys((*table.imports, *models))), table.calls, table.after_fork)


def _lacking(parent: Parent, table: Prefork) -> Prefork:
    """The imports the parent has not done yet (the calls are all needed)."""
    imports = tuple(m for m in table.imports if m not in parent.modules)
    return Prefork(imports, table.calls, table.after_fork)


def _mixin(ev: Evidence, cls: str, label: str) -> AddMixin:
    f, c = ev.index.classes[cls]
    return AddMixin(f.relpath, f.module, c.qualname, label)


def _class_label(ev: Evidence, cls: str) -> str:
    f, c = ev.index.classes[cls]
    return f"{c.name} ({f.relpath})"


def _entries(table: Prefork) -> list[str]:
    out = []
    if table.imports:
        out.append("imports = [" + ", ".join(f'"{m}"' for m in table.imports) + "]")
    if table.calls:
        out.append("calls = [" + ", ".join(f'"{c}"' for c in table.calls) + "]")
    if table.after_fork:
        out.append("after-fork = [" + ", ".join(f'"{c}"' for c in table.after_fork) + "]")
    return out


def _already_written(ev: Evidence, table: Prefork) -> bool:
    current = ev.config.prefork
    return bool(table) and current.merge(table) == current


def _fix(summary: str, changes: list[Change], prefork: Prefork | None, written: bool) -> Fix:
    editable = [c for c in changes if not isinstance(c, Missing)]
    table_edit = prefork is not None and not written
    applicability = "safe" if editable or table_edit else "display-only"
    return Fix(summary, applicability, prefork=prefork, changes=tuple(changes))


# --- memoising a heavy call (FRK103) -----------------------------------------------------------


def memo_fix(
    ev: Evidence, job: Job, path: JobPath, f: FileFacts, fn: FunctionFact, call: CallFact
) -> Fix:
    """Memoise the outermost factory between the job and the heavy call (forklint.fixplan picks it
    and checks it can be memoised); where the job forks per run, warm it before the fork too."""
    chain = [
        CallSite(cf.relpath, cf.module, ev.context_of(cf, c), c.loc.line, c.loc.column, text)
        for cf, c, text in path.calls()
    ]
    chain.append(
        CallSite(
            f.relpath, f.module, fn.qualname, call.loc.line, call.loc.column, call_text(f, call)
        )
    )
    parents = ev.per_job_parents(job)
    changes: list[Change] = [Memoise(tuple(chain), warm=bool(parents))]
    summary = f"memoise `{call_text(f, call)}` (or the factory that returns it) once per process"
    if parents:
        more, _parts, _ = parent_changes(ev, parents, Prefork(), "warm it", table_only=True)
        changes += more
        summary += " and warm it before the fork"
    return Fix(summary, "unsafe", changes=tuple(changes))


def loader_fix(what: str, loader: str, parameters: list[str]) -> Fix:
    """A memoised loader the table cannot warm (it takes arguments, or it is a cached_property)."""
    if parameters:
        summary = (
            f"warm {loader}() before the fork with the arguments the jobs use: a function without "
            f"parameters that calls it, listed in [tool.forklint.prefork] calls"
        )
    else:
        summary = (
            f"fill {what} before the fork: a function that reads it, listed in "
            "[tool.forklint.prefork] calls"
        )
    return Fix(summary, "display-only")


# --- after-fork resets (FRK301, FRK303) --------------------------------------------------------


def engine_reset_fix(ev: Evidence, site: Site) -> Fix:
    """Dispose, in every forked child, the pool of the engine this site connected."""
    holder = ev.resets.engines.connected_engine(site)
    if holder is None:
        return Fix(
            "dispose the engine's pool in every child with engine.dispose(close=False) (for "
            "example in os.register_at_fork(after_in_child=...)); forklint cannot tell which "
            "engine this call connects",
            "display-only",
        )
    module, _, name = holder.rpartition(".")
    f = ev.index.modules[module]
    disposer = ev.resets.engines.disposer_of(holder)
    change = ResetAfterFork(f.relpath, module, name, "engine", "SQLAlchemy engine", None, disposer)
    how = f"{disposer.rpartition('.')[2]}()" if disposer else f"{name}.dispose(close=False)"
    summary = (
        f"dispose the pool of {name} in every forked child: "
        f"os.register_at_fork(after_in_child=...) calling {how} in {f.relpath}"
    )
    return Fix(summary, "safe", changes=(change,))


def client_reset_fix(
    ev: Evidence, site: Site, holder: str | None, fn: FunctionFact | None, client: str
) -> Fix:
    """Create the client again in every forked child, where the module global holding it is the
    only way the project reaches it."""
    advice = (
        f"create the {client} after the fork: in the job, in a getter called after the fork, or "
        "again in os.register_at_fork(after_in_child=...)"
    )
    if holder is None:
        return Fix(advice + "; forklint cannot tell where this one is kept", "display-only")
    module, _, name = holder.rpartition(".")
    f = ev.index.modules[module]
    # globals made from the client (`events = client.app.events`) are made again with it
    held = [name] + [
        a.target
        for a in f.assigns
        if a.target.isidentifier() and (a.value == name or a.value.startswith(name + "."))
    ]
    importers = sorted(
        {path for n in held for path in ev.resets.engines.importers_of(f"{module}.{n}")}
    )
    if importers:
        return Fix(
            f"{advice}; {', '.join(importers)} import {' or '.join(held)} by name, so a new one "
            f"in {module} would not reach them",
            "display-only",
        )
    scope = fn.qualname if fn is not None else ""
    text = call_text(f, site.call)
    where = CallSite(f.relpath, module, scope, site.call.loc.line, site.call.loc.column, text)
    change = ResetAfterFork(f.relpath, module, name, "client", client, where)
    summary = (
        f"create {name} again in every forked child: os.register_at_fork(after_in_child=...) "
        f"in {f.relpath}"
    )
    return Fix(summary, "safe", changes=(change,))


def thread_fix() -> Fix:
    return Fix(
        "start the thread after the fork (an after-fork hook) or inside the job", "display-only"
    )


def brief(summary: str) -> str:
    """The fix for a one-line message: what to do, without every start-up it applies to (the fix
    plan lists those)."""
    if len(summary) <= 120:
        return summary
    head, sep, _ = summary.partition(": ")
    return head if sep else summary
