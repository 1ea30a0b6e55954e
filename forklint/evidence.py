"""What the rules ask of the program: job paths, heavy work, mapped classes, and the hits they record."""

from __future__ import annotations

import builtins
import re
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field

from forklint.catalog import Catalog
from forklint.config import Config
from forklint.facts import CallFact, ClassFact, FileFacts, FunctionFact, Loc
from forklint.findings import Finding, Fix, Prefork, TraceStep
from forklint.index import Index, Step
from forklint.jobs import Job, is_test_module
from forklint.resets import Resets
from forklint.world import (
    PER_JOB,
    Parent,
    World,
    call_text,
    celery_app_modules,
    preloaded,
    source_line,
)

_PLAIN_DOTTED = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*")
_BUILTINS = frozenset(dir(builtins)) | {"__name__", "__file__", "__package__"}
MEMO_DECORATORS = frozenset(
    {
        "functools.lru_cache",
        "functools.cache",
        "functools.cached_property",
        "cachetools.cached",
        "cachetools.func.lru_cache",
        "cachetools.func.ttl_cache",
        "django.utils.functional.cached_property",
    }
)


@dataclass
class Hit:
    """One anchor (a call, an import, a function) and everything that reaches it."""

    code: str
    f: FileFacts
    loc: Loc
    context: str
    message: str = ""
    jobs: list[str] = field(default_factory=list)
    trace: tuple[Step, ...] = ()
    fix: Fix | None = None


class JobPath:
    """How a walk reached a function: the call that got there and the path before it.

    The trace is only spelt out (`trace()`) where a rule reports something.
    """

    __slots__ = ("_before", "_call", "_f", "_fn", "_steps")

    def __init__(
        self,
        before: JobPath | None,
        first: Step | None,
        f: FileFacts | None = None,
        call: CallFact | None = None,
        fn: FunctionFact | None = None,
    ) -> None:
        self._before = before
        self._f = f
        self._call = call
        self._fn = fn  # the function that made `call`
        self._steps: tuple[Step, ...] | None = (first,) if first is not None else None

    def trace(self) -> tuple[Step, ...]:
        if self._steps is None:
            assert self._before is not None and self._f is not None and self._call is not None
            f, call = self._f, self._call
            step = Step(f.relpath, call.loc.line, call.loc.column, call_text(f, call))
            self._steps = self._before.trace() + (step,)
        return self._steps

    def hops(self) -> list[tuple[FileFacts, FunctionFact | None, CallFact]]:
        """The calls from the job to here, outermost first: (file, the function making it, call)."""
        out = []
        link: JobPath | None = self
        while link is not None and link._call is not None:
            assert link._f is not None
            out.append((link._f, link._fn, link._call))
            link = link._before
        return out[::-1]

    def calls(self) -> list[tuple[FileFacts, CallFact, str]]:
        """The calls from the job to here, outermost first: (file, call, its text). For fixes."""
        return [(f, call, call_text(f, call)) for f, _fn, call in self.hops()]


# (function fq, its file, the function, how the job reached it)
Reached = tuple[str, FileFacts, FunctionFact, JobPath]


# Methods that read a value out of a store (Redis and caches): `r.get(key)` is this run's value
_STORE_READS = frozenset({"get", "getex", "hget", "hgetall", "mget", "lpop", "rpop", "lindex"})


class Evidence:
    """The questions rules ask, answered once and memoised; and the hits they record."""

    def __init__(
        self, index: Index, catalog: Catalog, config: Config, jobs: tuple[Job, ...], world: World
    ) -> None:
        self.index = index
        self.catalog = catalog
        self.config = config
        self.jobs = tuple(j for j in jobs if j.fq not in world.unread_jobs)
        self.world = world
        self.hits: dict[tuple[str, str, int, int], Hit] = {}
        self._memo: dict[str, bool] = {}
        self._heavy_memo: dict[str, bool] = {}
        self._import_runs: dict[str, frozenset[str]] = {}
        self._mapped: dict[str, bool] = {}
        self._resolved_decorators: dict[str, tuple[str, ...]] = {}
        self._reaches_heavy: dict[str, bool] = {}
        self._closures: dict[str, frozenset[str]] = {}
        self._walks: dict[tuple[str, bool, bool], list[Reached]] = {}
        self._imported: set[str] | None = None
        self.resets = Resets(self)

    # --- recording -----------------------------------------------------------------------------

    def add(
        self,
        code: str,
        f: FileFacts,
        loc: Loc,
        context: str,
        job: str | None,
        trace: tuple[Step, ...],
        message: str,
        fix: Fix | None,
    ) -> None:
        """Record a finding; one call site reached from several jobs is one hit listing every job."""
        key = (code, f.relpath, loc.line, loc.column)
        hit = self.hits.get(key)
        if hit is None:
            hit = self.hits[key] = Hit(code, f, loc, context, message, [], trace, fix)
        elif hit.fix is not None and fix is not None:
            hit.fix = merge_fixes(hit.fix, fix)  # another job's way to the same site
        if job is not None and job not in hit.jobs:
            hit.jobs.append(job)

    def step(self, f: FileFacts, loc: Loc, text: str) -> Step:
        return Step(f.relpath, loc.line, loc.column, text)

    def job_step(self, job: Job) -> Step:
        f, fn = self.index.functions[job.fq]
        return self.step(f, fn.loc, f"def {fn.name}(...)  # job ({job.how})")

    def context_of(self, f: FileFacts, call: CallFact) -> str:
        """Qualified name of the function holding `call` ("" at module level)."""
        for fn in f.functions:
            if any(c is call for c in fn.calls):
                return fn.qualname
        return ""

    def celery_app_module(self, parent: Parent) -> str | None:
        """The module of the Celery app a Celery parent loads (where a worker_init handler goes)."""
        modules = celery_app_modules(self.index, self.catalog, parent.command)
        return modules[0] if modules else None

    # --- jobs and the parents that fork them ---------------------------------------------------

    def per_job_parents(self, job: Job) -> list[Parent]:
        """The parents that fork a fresh horse for every run of `job` (empty where memoised state
        outlives a job: Celery's reused children, SimpleWorker, Dramatiq...)."""
        if (
            self.world.job_models.get(job.fq, "rq") not in PER_JOB
            or job.fq in self.world.unknown_jobs
        ):
            return []  # unknown: a start-up that may run it was not followed
        return [p for p in self.world.job_parents.get(job.fq, []) if p.model in PER_JOB]

    # --- memoisation ---------------------------------------------------------------------------

    def decorators(self, fq: str) -> tuple[str, ...]:
        cached = self._resolved_decorators.get(fq)
        if cached is None:
            f, fn = self.index.functions[fq]
            cached = tuple(self.index.resolve(f.module, None, d.name) for d in fn.decorators)
            self._resolved_decorators[fq] = cached
        return cached

    def is_memoised(self, fq: str) -> bool:
        cached = self._memo.get(fq)
        if cached is None:
            entry = self.index.functions.get(fq)
            cached = entry is not None and (
                bool(entry[1].memo_globals)
                or any(d in MEMO_DECORATORS or _looks_memoising(d) for d in self.decorators(fq))
            )
            self._memo[fq] = cached
        return cached

    def is_cached_property(self, fq: str) -> bool:
        return any(d.endswith("cached_property") for d in self.decorators(fq))

    # --- walking a job's path ------------------------------------------------------------------

    def walk(self, job: Job, unconditional: bool, into_memo: bool) -> list[Reached]:
        """Every function on the job's path, breadth first, with how the job reached it.

        `unconditional` follows only calls made on every run; `into_memo` also enters memoised
        callees. Memoised per job: several rules walk the same path.
        """
        key = (job.fq, unconditional, into_memo)
        cached = self._walks.get(key)
        if cached is not None:
            return cached
        out: list[Reached] = []
        seen = {job.fq}
        queue = deque([(job.fq, JobPath(None, self.job_step(job)))])
        while queue:
            fq, path = queue.popleft()
            entry = self.index.functions.get(fq)
            if entry is None:
                continue
            f, fn = entry
            out.append((fq, f, fn, path))
            for call, target in self.index.callees(fq):
                if unconditional and call.conditional:
                    continue
                callee = self.index.call_target(target)
                if callee is None or callee in seen:
                    continue
                if not into_memo and self.is_memoised(callee):
                    continue
                seen.add(callee)
                queue.append((callee, JobPath(path, None, f, call, fn)))
        self._walks[key] = out
        return out

    # --- what a call's arguments are made of ----------------------------------------------------

    def varies(
        self,
        f: FileFacts,
        fn: FunctionFact,
        call: CallFact,
        depth: int = 0,
        path: JobPath | None = None,
    ) -> bool:
        """Whether a call's arguments may differ from one run of its function to the next: made
        of a parameter, an instance attribute, a loop variable or a local made of those (True),
        or only of literals, module globals, imports and builtins (False). Unknown is True.

        Given the `path` a job took to `fn`, a parameter is what the caller passed: a loader
        called with a constant on this path does the same work on every run."""
        if "*" in call.names or depth > 3:
            return True
        module_names = self.index.module_bindings(f.module)
        local = self.index.local_bindings(f.module, fn)
        for name in call.names:
            binding = local.get(name)
            if binding is None:
                if name in module_names or name in _BUILTINS:
                    continue
                return True  # a loop/with/except target, a closure variable: unknown
            if name in ("self", "cls"):
                return True
            if binding.kind == "param":
                caller = path._before if path is not None else None
                if (
                    path is None
                    or caller is None
                    or path._call is None
                    or path._f is None
                    or path._fn is None
                    or self.varies(path._f, path._fn, path._call, depth + 1, caller)
                ):
                    return True  # the job's own argument, or made of one
                continue
            if binding.kind == "fq":
                if self._fetches(self.index.resolve(f.module, fn, name)):
                    return True  # `fetch_config()`: what it downloads this run
                continue  # a function-level import or a nested def
            for a in fn.assigns:
                if a.target != name:
                    continue
                if a.value.startswith('"') or a.value.isdigit():
                    continue
                if self._constant_name(a.value, module_names, local):
                    continue  # `endpoint = settings.S3_ENDPOINT_URL`: a module global's value
                made = next(
                    (
                        c
                        for c in fn.calls
                        if c.loc.line == a.loc.line and f"{c.callee}()" == a.value
                    ),
                    None,
                )
                if (
                    made is not None
                    and not self._fetches(self.index.resolve(f.module, fn, made.callee))
                    and not self.varies(f, fn, made, depth + 1)
                ):
                    continue
                return True
        for name in call.names:  # `load(fetch_config())`: a module-level function it calls
            if name not in local and self._fetches(self.index.resolve(f.module, fn, name)):
                return True
        for arg in (*call.args, *(value for _, value in call.kwargs)):
            # `loads(r.get("state"))`: what a client reads out of a store this run (a Redis
            # client from a catalog call, or from a helper forklint cannot see into)
            if not arg.endswith("()") or arg.startswith('"'):
                continue
            target = self.index.resolve(f.module, fn, arg[:-2])
            if self._fetches(target):
                return True
            if (
                arg[:-2].rpartition(".")[2] in _STORE_READS
                and "." in arg[:-2]
                and self.index.call_target(target) is None
            ):
                return True
        return False

    def _fetches(self, target: str, depth: int = 0) -> bool:
        """Whether calling `target` fetches data over the network: a catalog fetch, or a project
        function that makes one (two calls deep)."""
        if not target:
            return False
        if self.catalog.fetches(target):
            return True
        fq = self.index.call_target(target)
        if fq is None or depth >= 2:
            return False
        return any(self._fetches(t, depth + 1) for _call, t in self.index.callees(fq))

    @staticmethod
    def _constant_name(value: str, module_names: dict, local: dict) -> bool:
        """A plain dotted name made of a module global, an import or a builtin (`settings.X`,
        `DEFAULT_BUCKET`): the same on every run, like the global itself."""
        if not _PLAIN_DOTTED.fullmatch(value):
            return False
        head = value.split(".")[0]
        binding = local.get(head)
        if binding is not None:
            return binding.kind == "fq"  # a function-level import; a local value or param varies
        return head in module_names or head in _BUILTINS

    # --- heavy work ----------------------------------------------------------------------------

    def reaches_heavy_call(self, fq: str) -> bool:
        """Whether running `fq` makes, unconditionally and outside any cache, a catalog heavy call."""
        return self._reaches_heavy_work(fq, self._reaches_heavy, unconditional=True, imports=False)

    def does_heavy_work(self, fq: str) -> bool:
        """Whether calling `fq` reaches a heavy call or a heavy import, conditionally or not."""
        return self._reaches_heavy_work(fq, self._heavy_memo, unconditional=False, imports=True)

    def _reaches_heavy_work(
        self, fq: str, memo: dict[str, bool], *, unconditional: bool, imports: bool
    ) -> bool:
        """Depth-first over the call graph from `fq` (iterative: call chains run deep).

        `unconditional` follows neither conditional calls nor memoised callees; `imports` also
        counts a function-level import of a heavy module.
        """
        cached = memo.get(fq)
        if cached is not None:
            return cached
        seen = {fq}
        stack = [fq]
        result = False
        while stack and not result:
            current = stack.pop()
            if unconditional and current != fq and self.is_memoised(current):
                continue
            if imports:
                entry = self.index.functions.get(current)
                if entry is None:
                    continue
                if any(self.catalog.heavy_module(i.module) for i in entry[1].imports):
                    result = True
                    break
            for call, target in self.index.callees(current):
                if unconditional and call.conditional:
                    continue
                if self.catalog.heavy_call(target):
                    result = True
                    break
                callee = self.index.call_target(target)
                if callee is not None and callee not in seen:
                    seen.add(callee)
                    stack.append(callee)
        memo[fq] = result
        return result

    def import_run(self, module: str) -> frozenset[str]:
        """Every module that importing `module` loads, what the calls its import makes import
        included (`app = create_app()` registering blueprints), as forklint models a parent;
        "*" among them when those calls import modules forklint cannot name."""
        cached = self._import_runs.get(module)
        if cached is None:
            blank = Parent("", "rq", "rq")
            loaded = preloaded(self.index, self.catalog, blank, Prefork(imports=(module,)))
            unknown = {"*"} if loaded.dynamic_imports else set()
            cached = frozenset(loaded.modules) | self.module_closure(module) | unknown
            self._import_runs[module] = cached
        return cached

    def module_closure(self, module: str) -> frozenset[str]:
        """Every module that importing `module` loads (memoised: jobs share their closures)."""
        cached = self._closures.get(module)
        if cached is not None:
            return cached
        seen: set[str] = set()
        queue = [module, *self.index.package_parents(module)]
        while queue:
            mod = queue.pop()
            if mod in seen:
                continue
            seen.add(mod)
            f = self.index.modules.get(mod)
            if f is None:
                continue
            for imp in f.imports:
                queue.extend(self.index.imported_modules(imp))
        result = self._closures[module] = frozenset(seen)
        return result

    def heavy_closure(
        self, module: str, loaded: set[str], warmed: set[str] | frozenset[str] = frozenset()
    ) -> list[tuple[str, tuple[Step, ...]]]:
        """What makes importing `module` expensive, given what is already loaded: (reason, trace).

        Heavy libraries first, then ORM models, then heavy module-level calls (not one the
        parent made that does nothing again in its children: `warmed`, `django.setup()`).
        """
        reasons: list[tuple[int, str, tuple[Step, ...]]] = []
        libraries: set[str] = set()
        seen = set(loaded)
        # how each module was reached (the importing module and its import step): traces are
        # spelt out only for the reasons, so a long import chain costs its length, not its square
        came_from: dict[str, tuple[str, Step] | None] = {module: None}
        queue: deque[str] = deque([module])
        seen.add(module)
        for parent_pkg in self.index.package_parents(module):
            if parent_pkg not in seen:
                seen.add(parent_pkg)
                came_from[parent_pkg] = None
                queue.append(parent_pkg)

        def trace(mod: str, *last: Step) -> tuple[Step, ...]:
            steps = list(last)
            link = came_from.get(mod)
            while link is not None:
                steps.append(link[1])
                link = came_from.get(link[0])
            return tuple(reversed(steps))

        while queue:
            mod = queue.popleft()
            f = self.index.modules.get(mod)
            if f is None:
                heavy = self.catalog.heavy_module(mod)
                # a library the parent has loaded is not loaded again for one more submodule
                if heavy is not None and heavy not in libraries and heavy not in loaded:
                    libraries.add(heavy)
                    reasons.append((0, heavy, trace(mod)))
                continue
            for c in f.classes:
                if self.is_mapped(f"{mod}.{c.qualname}"):
                    step = self.step(f, c.loc, f"class {c.name}(...)")
                    reasons.append((1, f"the ORM models of {f.relpath}", trace(mod, step)))
                    break
            for call, target in self.index.module_calls(mod):
                what = self.catalog.heavy_call(target)
                if what is not None and not (
                    target in warmed and self.catalog.settled_in_parent(target)
                ):
                    step = self.step(f, call.loc, call_text(f, call))
                    reasons.append(
                        (
                            2,
                            f"{callee_name(call, target)}() at import of {f.relpath}",
                            trace(mod, step),
                        )
                    )
            for imp in f.imports:
                for name in self.index.imported_modules(imp):
                    if name not in seen:
                        seen.add(name)
                        came_from[name] = (mod, self.step(f, imp.loc, imp.text))
                        queue.append(name)
        reasons.sort(key=lambda r: r[0])
        models = [r for r in reasons if r[0] == 1]
        if (
            len(models) > 1
        ):  # one entry for all model modules: "the ORM models of app/a.py and 9 more"
            first = models[0]
            merged = (1, f"{first[1]} and {len(models) - 1} more modules", first[2])
            reasons = [r for r in reasons if r[0] != 1]
            reasons.insert(sum(1 for r in reasons if r[0] == 0), merged)
        return [(what, trace) for _, what, trace in reasons]

    # --- the ORM -------------------------------------------------------------------------------

    def is_mapped(self, cls_fq: str) -> bool:
        """A project class that SQLAlchemy maps (not the declarative Base itself)."""
        cached = self._mapped.get(cls_fq)
        if cached is not None:
            return cached
        self._mapped[cls_fq] = False
        result = False
        entry = self.index.classes.get(cls_fq)
        if entry is not None:
            f, c = entry
            abstract = any(a.target == "__abstract__" and a.value == "True" for a in c.assigns)
            for base in c.bases:
                resolved = self.index.resolve(f.module, None, base)
                if resolved in self.catalog.declarative_bases:
                    result = False  # this is the Base; its subclasses are mapped
                    break
                if self.catalog.base_factory(resolved) or (
                    resolved in self.index.classes
                    and (
                        self.is_mapped(resolved)
                        or self.is_base(resolved)
                        or self._abstract_model(resolved)
                    )
                ):
                    result = not abstract
                if resolved in self.catalog.table_bases and ("table", "True") in c.keywords:
                    result = True
            for d in c.decorators:
                if self.index.resolve(f.module, None, d.name) in self.catalog.mapping_decorators:
                    result = True
        self._mapped[cls_fq] = result
        return result

    def _abstract_model(self, cls_fq: str) -> bool:
        """`class BaseModel(db.Model): __abstract__ = True`: not mapped, but its subclasses are."""
        entry = self.index.classes.get(cls_fq)
        if entry is None:
            return False
        f, c = entry
        if not any(a.target == "__abstract__" and a.value == "True" for a in c.assigns):
            return False
        for base in c.bases:
            resolved = self.index.resolve(f.module, None, base)
            if self.catalog.base_factory(resolved) or resolved in self.catalog.declarative_bases:
                return True
            if resolved in self.index.classes and (
                self.is_base(resolved) or self._abstract_model(resolved)
            ):
                return True
        return False

    def is_base(self, cls_fq: str) -> bool:
        entry = self.index.classes.get(cls_fq)
        if entry is None:
            return False
        f, c = entry
        return any(
            self.index.resolve(f.module, None, b) in self.catalog.declarative_bases for b in c.bases
        )

    def mapped_prefix(self, target: str) -> str | None:
        """The mapped class `target` starts with ("app.models.Event" for "app.models.Event.query.all")."""
        if not target:
            return None
        stop = len(target)
        for ch in "([":
            i = target.find(ch)
            if i != -1:
                stop = min(stop, i)
        parts = target[:stop].split(".")
        for n in range(len(parts), 0, -1):
            candidate = ".".join(parts[:n])
            if candidate in self.index.classes:
                return candidate if self.is_mapped(candidate) else None
        return None

    def imported_modules(self) -> set[str]:
        """Every project module some deployed code imports (at module level, under `__main__`,
        in a function; not code only tests run, unless `include-tests`), with the packages above
        it, and every job's module (a horse imports it)."""
        if self._imported is None:
            out = {job.module for job in self.jobs}
            for f in self.index.modules.values():
                if is_test_module(f.relpath) and not self.config.include_tests:
                    continue
                imports = [*f.imports, *f.main_imports]
                for fn in f.functions:
                    imports += fn.imports
                for imp in imports:
                    for name in self.index.imported_modules(imp):
                        out.add(name)
                        out.update(self.index.package_parents(name))
            self._imported = out
        return self._imported

    def mapped_classes(self) -> list[tuple[str, FileFacts, ClassFact]]:
        """The application's mapped classes (the throw-away models of test modules and of Alembic
        revision files, which only a migration run loads, are not the app's)."""
        out = []
        for cls_fq, (f, c) in self.index.classes.items():
            if is_test_module(f.relpath) or _is_alembic_revision(f):
                continue
            if self.is_mapped(cls_fq):
                out.append((cls_fq, f, c))
        return out

    def is_query(self, target: str) -> bool:
        """Whether a resolved call runs SQL where it is called (a lazy query it builds does not)."""
        return self.engine_connect(target) or self.query_chain(target) == "runs"

    def is_django_query(self, target: str) -> bool:
        found = self._query_root(target)
        return (found is not None and found[0] == "django") or target.startswith("django.db.")

    def engine_connect(self, target: str) -> bool:
        return self.catalog.engine_connect(target) is not None

    def evaluates_query(self, expression: str) -> bool:
        """Whether evaluating a resolved expression (iterating it, `len()`, `bool()`, indexing)
        runs SQL: a query chain whose every method is known."""
        return self.query_chain(expression.removesuffix("()"), evaluated=True) in ("runs", "lazy")

    def query_chain(self, target: str, evaluated: bool = False) -> str | None:
        """ "runs" (the call runs SQL), "lazy" (it builds a query that runs only when evaluated),
        or None (not a query chain, or a method forklint does not know)."""
        found = self._query_root(target)
        if found is None:
            return None
        kind, rest = found
        if kind == "session":
            method = rest.split("(", 1)[0]
            if method in self.catalog.session_queries and rest == method:
                return "runs"
            if method != "query":
                return None
        evaluating, lazy = (
            (self.catalog.django_evaluating, self.catalog.django_lazy)
            if kind == "django"
            else (self.catalog.query_evaluating, self.catalog.query_lazy)
        )
        methods = [m for m in rest.split("().") if m]
        if not methods or any("(" in m or "[" in m or "." in m for m in methods):
            return None
        for method in methods[:-1]:
            if method not in lazy:
                return None
        last = methods[-1]
        if last in evaluating:
            return "runs"
        return "lazy" if last in lazy else None

    def _query_root(self, target: str) -> tuple[str, str] | None:
        """("django" | "class" | "session", the chain after the manager/query/session)."""
        for manager in self.catalog.django_managers:
            head, sep, rest = target.partition(f".{manager}.")
            if (
                sep
                and head in self.index.classes
                and self.index.subclass_of(head, self.catalog.django_models)
            ):
                return "django", rest
        cls = self.mapped_prefix(target)
        if cls is not None:
            for q in self.catalog.class_queries:
                prefix = f"{cls}.{q}."
                if target.startswith(prefix):
                    return "class", target[len(prefix) :]
        session = self.catalog.session_prefix(target)
        if session is not None:
            return "session", target[len(session) + 1 :]
        return None

    def is_dbapi_connect(self, target: str) -> bool:
        return self.catalog.fork_unsafe(target) == "database connection" and target.endswith(
            "connect"
        )


def _looks_memoising(decorator: str) -> bool:
    """Caches forklint does not list by name (`@cache.memoize()`, `@cached(...)`, `@memoized`):
    what they keep is unknown, so their work is not per-job waste it can report."""
    last = decorator.removesuffix("()").rpartition(".")[2].lower()
    return "cache" in last or "memo" in last


def merge_fixes(first: Fix, other: Fix) -> Fix:
    """One fix for a site several jobs reach: the first one's words, every job's changes."""
    from dataclasses import replace

    changes = tuple(dict.fromkeys(first.changes + other.changes))
    prefork = first.prefork
    if prefork is not None and other.prefork is not None:
        prefork = prefork.merge(other.prefork)
    if changes == first.changes and prefork == first.prefork:
        return first
    return replace(first, changes=changes, prefork=prefork)


def _is_alembic_revision(f: FileFacts) -> bool:
    """An Alembic revision file: `revision = ...` and `down_revision = ...` at module level."""
    names = {a.target for a in f.assigns}
    return "revision" in names and "down_revision" in names


def callee_name(call: CallFact, target: str) -> str:
    """The callee as written ("engine.connect"), else as resolved."""
    return call.callee or target.removesuffix("()") or "call"


def spanning(loc: Loc, text: str) -> Loc:
    """`loc` widened to the whole call text when that text is on the call's line."""
    if "\n" in text or loc.end_line != loc.line:
        return loc
    return Loc(loc.line, loc.column, loc.line, max(loc.end_column, loc.column + len(text)))


def walked_jobs(ev: Evidence) -> Iterator[tuple[Job, list[Parent]]]:
    """Each job with the parents that fork a horse per run of it (the FRK101/102/104/105 jobs)."""
    for job in ev.jobs:
        parents = ev.per_job_parents(job)
        if parents:
            yield job, parents


def _job_names(jobs: list[str]) -> str:
    return ", ".join(j.rpartition(".")[2] for j in jobs)


def to_findings(hits: list[Hit], rule_meta) -> list[Finding]:
    out: list[Finding] = []
    for hit in hits:
        name, severity = rule_meta(hit.code)
        line_text = source_line(hit.f.module, hit.loc.line)
        message = hit.message.replace("{jobs}", _job_names(hit.jobs))
        out.append(
            Finding(
                code=hit.code,
                name=name,
                severity=severity,
                path=hit.f.relpath,
                line=hit.loc.line,
                column=hit.loc.column,
                end_line=hit.loc.end_line,
                end_column=hit.loc.end_column,
                message=message,
                jobs=tuple(hit.jobs),
                trace=tuple(
                    TraceStep(s.path, max(s.line, 1), max(s.column, 1), s.text) for s in hit.trace
                ),
                fix=hit.fix,
                context=hit.context,
                source_line=line_text.rstrip("\r\n"),
            )
        )
    return out
