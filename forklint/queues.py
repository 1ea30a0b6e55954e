"""Which RQ queues each job is put on and each worker listens to: a worker never runs a job of a queue it does not read.

Every answer is a set of queue names, or None when forklint cannot tell (a name computed at run
time, a helper it cannot follow): unknown never separates a job from a worker.
"""

from __future__ import annotations

import re

from forklint.catalog import Catalog
from forklint.facts import CallFact, FileFacts, FunctionFact
from forklint.index import Index

DEFAULT = "default"
# Constructors and getters of a queue, and where they take its name: (position, keyword).
_QUEUE_NAMERS = {
    "rq.Queue": (0, "name"),
    "rq.queue.Queue": (0, "name"),
    "django_rq.get_queue": (0, "name"),
    "django_rq.queues.get_queue": (0, "name"),
    "flask_rq2.RQ().get_queue": (0, "name"),
    "flask_rq.get_queue": (0, "name"),
}
# Calls that enqueue on the default queue of their framework.
_DEFAULT_ENQUEUERS = frozenset({"django_rq.enqueue", "flask_rq.enqueue"})
_LITERAL = re.compile(r'"([^"]*)"')
_PLAIN_NAME = re.compile(r"[\w.:@/-]+")
_MAX_DEPTH = 4


class Queues:
    def __init__(self, index: Index, catalog: Catalog) -> None:
        self.index = index
        self.catalog = catalog

    # --- where jobs go -------------------------------------------------------------------------

    def of_decorator(
        self, f: FileFacts, args: tuple[str, ...], kwargs: dict[str, str]
    ) -> set[str] | None:
        """`@job("high")`, `@job(queue="high")`; a bare django-rq `@job` is the default queue."""
        value = kwargs.get("queue") or (args[0] if args else None)
        if value is None:
            return {DEFAULT}
        return self._names(f, None, value, 0)

    def of_enqueue(self, f: FileFacts, fn: FunctionFact | None, call: CallFact) -> set[str] | None:
        """The queues an enqueue call puts its job on: its receiver's name."""
        target = self.index.resolve(f.module, fn, call.callee)
        if target in _DEFAULT_ENQUEUERS:
            return {DEFAULT}
        receiver = call.callee.rpartition(".")[0]
        if not receiver:
            return None
        return self._queue_of(f, fn, receiver, call.loc.line, 0)

    def _queue_of(
        self, f: FileFacts, fn: FunctionFact | None, written: str, line: int, depth: int
    ) -> set[str] | None:
        """The name of the queue an expression as written (`q`, `Queue("x")`, `get_queue()`)
        stands for."""
        if depth > _MAX_DEPTH:
            return None
        if written.endswith("()"):  # a call made here: find it on this line and read its name
            call = self._call_on_line(f, fn, written[:-2], line)
            return self._named_by(f, fn, call, depth) if call is not None else None
        if written.isidentifier():
            assigns = (fn.assigns if fn is not None else ()) or ()
            values = [a for a in assigns if a.target == written]
            if not values:
                values = [a for a in f.assigns if a.target == written]
                fn = None if values else fn
            if len(values) != 1 or not values[0].value.endswith("()"):
                return None
            call = self._call_on_line(f, fn, values[0].value[:-2], values[0].loc.line)
            return self._named_by(f, fn, call, depth) if call is not None else None
        return None

    def _named_by(
        self, f: FileFacts, fn: FunctionFact | None, call: CallFact, depth: int
    ) -> set[str] | None:
        target = self.index.resolve(f.module, fn, call.callee)
        namer = _QUEUE_NAMERS.get(target)
        if namer is not None:
            position, keyword = namer
            kwargs = dict(call.kwargs)
            value = kwargs.get(keyword) or (
                call.args[position] if len(call.args) > position else None
            )
            return {DEFAULT} if value is None else self._names(f, fn, value, depth)
        helper = self.index.call_target(target)
        entry = self.index.functions.get(helper) if helper else None
        if entry is None:
            return None
        hf, hfn = entry
        for returned in hfn.returns:  # `def get_queue(name="default"): return Queue(name)`
            if not returned.endswith("()"):
                continue
            inner = self._call_in(hfn, returned[:-2])
            if inner is None:
                continue
            inner_target = self.index.resolve(hf.module, hfn, inner.callee)
            namer = _QUEUE_NAMERS.get(inner_target)
            if namer is None:
                continue
            position, keyword = namer
            value = dict(inner.kwargs).get(keyword) or (
                inner.args[position] if len(inner.args) > position else None
            )
            if value is None:
                return {DEFAULT}
            param = next((p for p, _ in hfn.params if p == value), None)
            if param is None:
                return self._names(hf, hfn, value, depth + 1)
            # the helper's parameter: the caller's argument, else its default
            names = [p for p, _ in hfn.params if p not in ("self", "cls")]
            given = dict(call.kwargs).get(param)
            if given is None and param in names and names.index(param) < len(call.args):
                given = call.args[names.index(param)]
            if given is None:
                given = dict(hfn.defaults).get(param)
                return self._names(hf, hfn, given, depth + 1) if given else None
            return self._names(f, fn, given, depth + 1)
        return None

    def _names(
        self, f: FileFacts, fn: FunctionFact | None, value: str, depth: int
    ) -> set[str] | None:
        """Queue names a described value holds: "x", ["a","b"], a constant naming them."""
        if value.startswith('"'):
            return {value.strip('"')}
        if value.startswith("["):
            found = _LITERAL.findall(value)
            items = [v for v in value.strip("[]").split(",") if v]
            return set(found) if found and len(found) == len(items) else None
        if value.isidentifier() and depth < _MAX_DEPTH:
            binding = self.index.module_bindings(f.module).get(value)
            if binding is not None and binding.kind == "value":
                return self._names(f, None, binding.target, depth + 1)
        return None

    def _call_on_line(
        self, f: FileFacts, fn: FunctionFact | None, callee: str, line: int
    ) -> CallFact | None:
        calls = fn.calls if fn is not None else (*f.calls, *f.main_calls)
        return next((c for c in calls if c.callee == callee and c.loc.line == line), None)

    def _call_in(self, fn: FunctionFact, callee: str) -> CallFact | None:
        return next((c for c in fn.calls if c.callee == callee), None)

    # --- what workers read ---------------------------------------------------------------------

    def of_worker(
        self, f: FileFacts, fn: FunctionFact | None, construction: CallFact
    ) -> set[str] | None:
        """The queues a `Worker(queues, ...)` call listens to."""
        value = dict(construction.kwargs).get("queues") or (
            construction.args[0] if construction.args else None
        )
        if value is None:
            return None
        names = self._names(f, fn, value, 0)
        if names is not None:
            return names
        if value == "map()":  # `Worker(map(Queue, listen))`: a Queue made of each name listed
            mapped = self._call_on_line(f, fn, "map", construction.loc.line)
            if mapped is not None and len(mapped.args) == 2:
                maker = self.index.resolve(f.module, fn, mapped.args[0])
                if _QUEUE_NAMERS.get(self.index.canonical(maker)) == (0, "name"):
                    value = mapped.args[1]
                    names = self._names(f, fn, value, 0)
                    if names is not None:
                        return names
        if value.startswith("["):  # [Queue("a"), Queue("b")]
            return None
        if value.isidentifier() and fn is not None:
            if any(p == value for p, _ in fn.params):
                return None  # the caller's (the command line's) queues
            assigned = [a for a in fn.assigns if a.target == value]
            if len(assigned) == 1 and not assigned[0].conditional:
                return self._names(f, fn, assigned[0].value, 1)
        return None

    @staticmethod
    def of_command(queues: tuple[str, ...]) -> set[str] | None:
        """`rq worker high low`: the queues named, "default" when none; unknown if one is a variable."""
        if not queues:
            return {DEFAULT}
        if not all(_PLAIN_NAME.fullmatch(q) for q in queues):
            return None  # `$QUEUES`, `%(ENV_Q)s`, `{{ queues }}`: decided where it runs
        return set(queues)
