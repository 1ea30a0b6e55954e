"""Which Celery queue a task is sent to: its decorator's `queue=`, the app's task routes
(`task_routes`, Django's `CELERY_TASK_ROUTES`), else the default queue. A worker started with
`-Q gpu` runs only the tasks of `gpu`, so its settings (`--max-tasks-per-child=1`) say nothing
about the others (held-out escriptorium).

Read from the settings' source with `ast` (never run): only literals count; routes that are
functions, router classes or computed values make every task's queue unknown.
"""

from __future__ import annotations

import ast
import fnmatch
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from forklint.facts import described_string

# The names a routes table / the default queue goes by: Celery 4+ settings, Django's with
# namespace="CELERY", Celery 3's upper-case names.
_ROUTES = frozenset({"task_routes", "CELERY_TASK_ROUTES", "CELERY_ROUTES"})
_DEFAULT = frozenset({"task_default_queue", "CELERY_TASK_DEFAULT_QUEUE", "CELERY_DEFAULT_QUEUE"})
_CELERY_DEFAULT = "celery"


@dataclass
class Routes:
    """The routes of one app: exact names first, then glob patterns in order (Celery's MapRoute)."""

    known: bool = True  # False: some route could not be read, every queue is unknown
    exact: dict[str, str | None] | None = None
    patterns: list[tuple[str, str | None]] | None = None
    default: str = _CELERY_DEFAULT

    def queue_of(self, name: str) -> str | None:
        """The queue task `name` is sent to; None when it cannot be told."""
        if not self.known:
            return None
        if self.exact and name in self.exact:
            return self.exact[name]
        for pattern, queue in self.patterns or ():
            if fnmatch.fnmatchcase(name, pattern):
                return queue
        return self.default


def read_routes(texts: Iterable[str]) -> Routes:
    """The routes and default queue set in these settings texts (the app module, its config
    modules, Django's settings). A table that is not literal makes the routes unknown."""
    routes = Routes(exact={}, patterns=[])
    for text in texts:
        if not any(name in text for name in (*_ROUTES, *_DEFAULT)):
            continue
        try:
            tree = ast.parse(text)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            routes.known = False
            continue
        for target, value in _assignments(tree):
            if target in _DEFAULT:
                if isinstance(value, ast.Constant) and isinstance(value.value, str):
                    routes.default = value.value
                else:
                    routes.known = False
            elif target in _ROUTES and not _add_table(routes, value):
                routes.known = False
    return routes


def _assignments(tree: ast.Module) -> list[tuple[str, ast.expr | None]]:
    """(setting name, value) for `NAME = v`, `app.conf.NAME = v`, and `NAME=v` keywords of
    calls (`app.conf.update(task_routes=...)`, `Celery(..., task_routes=...)`)."""
    out: list[tuple[str, ast.expr | None]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                name = _last_name(target)
                if name is not None:
                    out.append((name, node.value))
        elif isinstance(node, ast.AnnAssign):
            name = _last_name(node.target)
            if name is not None:
                out.append((name, node.value))
        elif isinstance(node, ast.AugAssign):
            name = _last_name(node.target)
            if name in _ROUTES or name in _DEFAULT:
                out.append((name, None))  # `CELERY_TASK_ROUTES |= {...}`: not followed
        elif isinstance(node, ast.Call):
            for keyword in node.keywords:
                if keyword.arg is not None:
                    out.append((keyword.arg, keyword.value))
    return out


def _last_name(target: ast.expr) -> str | None:
    if isinstance(target, ast.Name):
        return target.id
    if isinstance(target, ast.Attribute):
        return target.attr
    return None


def _add_table(routes: Routes, value: ast.expr | None) -> bool:
    """Add a routes table (a dict, or a list/tuple of dicts); False when it is not literal."""
    if isinstance(value, (ast.List, ast.Tuple)):
        return all(_add_table(routes, element) for element in value.elts)
    if not isinstance(value, ast.Dict):
        return False
    assert routes.exact is not None and routes.patterns is not None
    for key, route in zip(value.keys, value.values, strict=True):
        if not (isinstance(key, ast.Constant) and isinstance(key.value, str)):
            return False  # `**OTHER_ROUTES`, a compiled regex
        queue = _route_queue(route)
        if "*" in key.value or "?" in key.value or "[" in key.value:
            routes.patterns.append((key.value, queue))
        else:
            routes.exact.setdefault(key.value, queue)
    return True


def _route_queue(route: ast.expr) -> str | None:
    """`{"queue": "gpu"}` or `"gpu"`: the queue; anything else (an exchange and routing key):
    unknown."""
    if isinstance(route, ast.Constant) and isinstance(route.value, str):
        return route.value
    if isinstance(route, ast.Dict):
        for key, value in zip(route.keys, route.values, strict=True):
            if isinstance(key, ast.Constant) and key.value == "queue":
                if isinstance(value, ast.Constant) and isinstance(value.value, str):
                    return value.value
                return None
    return None


def task_queues(
    routes: Routes,
    name: str,
    decorator_kwargs: dict[str, str],
    sent_to: Callable[[], list[str | None]],
) -> frozenset[str] | None:
    """The queues a task may run from: its decorator's `queue=` (or its routed queue), plus any
    `queue=` a caller passes when sending it (`task.apply_async(queue="x")`); None if unknown."""
    if "queue" in decorator_kwargs:
        queue = described_string(decorator_kwargs["queue"])
    else:
        named = described_string(decorator_kwargs["name"]) if "name" in decorator_kwargs else None
        queue = routes.queue_of(named or name)
    if queue is None:
        return None
    queues = {queue}
    for extra in sent_to():
        if extra is None:
            return None
        queues.add(extra)
    return frozenset(queues)
