"""FRK201 query-at-import: the database is queried while a module is imported."""

from __future__ import annotations

import functools
from collections.abc import Callable

from forklint.evidence import Evidence, callee_name
from forklint.facts import CallFact, FileFacts
from forklint.jobs import is_test_module
from forklint.world import source_line

CODE = "FRK201"


def check(ev: Evidence) -> None:
    imported = ev.imported_modules()
    # the modules the code's strings name, gathered once and only when a module needs them
    named = functools.cache(lambda: _named(_string_literals(ev)))
    for module, f in ev.index.modules.items():
        if _script(ev, module, f, imported, named):
            continue
        if is_test_module(f.relpath) and not ev.config.include_tests:
            continue  # only the test runner imports it: code only tests run is not a deployment
        for call, target in ev.index.module_calls(module):
            if ev.is_dbapi_connect(target) and _private_memory_database(call):
                continue
            if ev.is_query(target) or ev.is_dbapi_connect(target):
                what = f"{callee_name(call, target)}()"
            elif call.evaluated and ev.evaluates_query(target):
                # `for d in Device.objects.all():`, `Device.objects.all()[0]`, `if qs.filter():`
                what = f"evaluating {callee_name(call, target)}()"
            else:
                wrapped = [a for a in call.args if a.endswith("()")]
                builtin = call.callee in ev.catalog.evaluating_builtins
                if not (
                    builtin
                    and any(ev.evaluates_query(ev.index.resolve(module, None, a)) for a in wrapped)
                ):
                    continue
                what = f"{call.callee}() of a query"  # `list(Device.objects.all())`
            message = (
                f"{what} talks to the database while {f.relpath} is imported; move it into a "
                "function that runs when the value is needed"
            )
            ev.add(CODE, f, call.loc, "", None, (), message, None)


def _script(
    ev: Evidence, module: str, f: FileFacts, imported: set[str], named: Callable[[], set[str]]
) -> bool:
    """A program nothing imports (`runtestserver.py`: `db.create_all()` as its body): its
    module-level code runs when someone runs it, not when a worker or the app imports it. A
    top-level module, a Django management command, a module that says it is a program (a `#!`
    line or a `__main__` block), or one no code names (no import, no string) and no framework
    discovers by its name (`admin`, `tasks`, `migrations/`...)."""
    if f.is_package or module in imported or is_test_module(f.relpath):
        return False  # imported by code, or by the test runner by its name
    if "." not in module:
        return True
    if ".management.commands." in f".{module}":
        # a Django management command: Django imports it only to run that command (`manage.py
        # help` lists the files without importing them), so its top level is the command's run
        return True
    parent = ev.index.modules.get(module.rpartition(".")[0])
    if parent is not None and parent.is_package and _discovered(module):
        return False  # `app/admin.py`, `app/tasks.py`: a framework imports it by convention
    if source_line(module, 1).startswith("#!") or f.main_calls or f.main_imports:
        return True
    # `python -m app.scripts.create_admin` (a Makefile), `api/bench.py` run in a shell (held-out
    # ownphotos): no marker, but no code loads it by name either (a setting, INSTALLED_APPS, an
    # `include`, an import_module() string)
    if not f.calls:
        return False  # nothing at its top level to report anyway
    return module not in named()


# Modules frameworks import by their names, with no import statement or string in the project:
# Django's admin autodiscovery, Celery's `autodiscover_tasks()`, django-modeltranslation,
# Haystack, app registries (`models`, `apps`), template tag libraries and migrations.
_DISCOVERED_NAMES = frozenset(
    {
        "admin",
        "tasks",
        "models",
        "apps",
        "urls",
        "views",
        "signals",
        "receivers",
        "handlers",
        "translation",
        "search_indexes",
        "checks",
        "jobs",
        "cron",
        "celery",
        "wsgi",
        "asgi",
    }
)
_DISCOVERED_IN = frozenset({"templatetags", "migrations", "models"})


def _discovered(module: str) -> bool:
    parts = module.split(".")
    return parts[-1] in _DISCOVERED_NAMES or any(p in _DISCOVERED_IN for p in parts[:-1])


def _named(texts: set[str]) -> set[str]:
    """The modules the literals name: `app.plugins.x`, `app.jobs:run` name `app.plugins.x`,
    `app.plugins`, `app`, `app.jobs`... (each dotted prefix)."""
    out: set[str] = set()
    for text in texts:
        parts = text.partition(":")[0].split(".")
        out.update(".".join(parts[: n + 1]) for n in range(len(parts)))
    return out


def _string_literals(ev: Evidence) -> set[str]:
    """The dotted string literals the project's code passes or assigns (`"app.plugins.x"`)."""
    out: set[str] = set()
    for f in ev.index.modules.values():
        scopes = [(f.calls, f.assigns), (f.main_calls, f.main_assigns)]
        scopes += [(fn.calls, fn.assigns) for fn in f.functions]
        for calls, assigns in scopes:
            values = [a.value for a in assigns]
            for call in calls:
                values += [*call.args, *(v for _k, v in call.kwargs)]
            for value in values:
                if '"' in value:
                    out.update(v.strip().strip('"') for v in value.strip("[]").split(","))
    return out


def _private_memory_database(call: CallFact) -> bool:
    """`sqlite3.connect(":memory:")`: a database private to the process that opens it, with no
    server to talk to and nothing another process could share."""
    values = [*call.args[:1], *(v for k, v in call.kwargs if k == "database")]
    return any(v.strip("\"'") in (":memory:", "file::memory:") for v in values)
