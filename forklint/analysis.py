"""The rules: walk each job's path and the pre-fork world, and turn what they do into findings."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from forklint.catalog import Catalog
from forklint.commands import with_prefork_worker
from forklint.config import Config
from forklint.facts import CallFact, ClassFact, FileFacts, FunctionFact, ImportFact, Loc
from forklint.findings import Finding, Fix, Prefork, TraceStep
from forklint.index import Index, Step
from forklint.jobs import Job
from forklint.world import (
    FORKING,
    PER_JOB,
    Parent,
    Reset,
    Site,
    World,
    call_text,
    is_test_module,
    source_line,
)

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
CONFIGURE_CALL = "sqlalchemy.orm:configure_mappers"


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


class _Path:
    """How the walk reached a function: the call that got there and the path before it."""

    __slots__ = ("_before", "_call", "_f", "_steps")

    def __init__(
        self,
        before: _Path | None,
        first: Step | None,
        f: FileFacts | None = None,
        call: CallFact | None = None,
    ) -> None:
        self._before = before
        self._f = f
        self._call = call
        self._steps: tuple[Step, ...] | None = (first,) if first is not None else None

    def trace(self) -> tuple[Step, ...]:
        if self._steps is None:
            assert self._before is not None and self._f is not None and self._call is not None
            f, call = self._f, self._call
            step = Step(f.relpath, call.loc.line, call.loc.column, call_text(f, call))
            self._steps = self._before.trace() + (step,)
        return self._steps


class Analysis:
    def __init__(
        self, index: Index, catalog: Catalog, config: Config, jobs: tuple[Job, ...], world: World
    ) -> None:
        self.index = index
        self.catalog = catalog
        self.config = config
        self.jobs = jobs
        self.world = world
        self.hits: dict[tuple[str, str, int, int], Hit] = {}
        self._memo: dict[str, bool] = {}
        self._heavy_memo: dict[str, bool] = {}
        self._mapped: dict[str, bool] = {}
        self._resolved_decorators: dict[str, tuple[str, ...]] = {}
        self._disposers: list[str] | None = None
        self._effects: dict[str, frozenset[str]] = {}
        self._reaches_heavy: dict[str, bool] = {}
        self._closures: dict[str, frozenset[str]] = {}
        self._walks: dict[tuple[str, bool, bool], list] = {}
        self._job_globals: dict[str, frozenset[str]] = {}

    # --- shared helpers ----------------------------------------------------------------------

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
        key = (code, f.relpath, loc.line, loc.column)
        hit = self.hits.get(key)
        if hit is None:
            hit = self.hits[key] = Hit(code, f, loc, context, message, [], trace, fix)
        if job is not None and job not in hit.jobs:
            hit.jobs.append(job)

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
                or any(d in MEMO_DECORATORS for d in self.decorators(fq))
            )
            self._memo[fq] = cached
        return cached

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
            scope = None
            for base in c.bases:
                resolved = self.index.resolve(f.module, scope, base)
                if resolved in self.catalog.declarative_bases:
                    result = False  # this is the Base; its subclasses are mapped
                    break
                if self.catalog.base_factory(resolved) or (
                    resolved in self.index.classes
                    and (self.is_mapped(resolved) or self.is_base(resolved))
                ):
                    result = not abstract
                if resolved in self.catalog.table_bases and ("table", "True") in c.keywords:
                    result = True
            for d in c.decorators:
                if self.index.resolve(f.module, None, d.name) in self.catalog.mapping_decorators:
                    result = True
        self._mapped[cls_fq] = result
        return result

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

    def step(self, f: FileFacts, loc: Loc, text: str) -> Step:
        return Step(f.relpath, loc.line, loc.column, text)

    def job_step(self, job: Job) -> Step:
        f, fn = self.index.functions[job.fq]
        return self.step(f, fn.loc, f"def {fn.name}(...)  # job ({job.how})")

    # --- walking a job's path ----------------------------------------------------------------

    def walk(
        self, job: Job, unconditional: bool, into_memo: bool
    ) -> list[tuple[str, FileFacts, FunctionFact, _Path]]:
        """(fn fq, FileFacts, FunctionFact, path) for every function on the job's path, breadth first.

        Memoised per job: several rules walk the same path. The trace of each path is only
        spelt out (`path.trace()`) where a rule reports something.
        """
        key = (job.fq, unconditional, into_memo)
        cached = self._walks.get(key)
        if cached is not None:
            return cached
        out: list[tuple[str, FileFacts, FunctionFact, _Path]] = []
        seen = {job.fq}
        queue = deque([(job.fq, _Path(None, self.job_step(job)))])
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
                queue.append((callee, _Path(path, None, f, call)))
        self._walks[key] = out
        return out

    # --- rules -------------------------------------------------------------------------------

    def run(self) -> list[Hit]:
        for job in self.jobs:
            model = self.world.job_models.get(job.fq, "rq")
            self.frk103(job)
            if model in PER_JOB:
                parents = [p for p in self.world.job_parents.get(job.fq, []) if p.model in PER_JOB]
                if parents:
                    self.frk101(job, parents)
                    self.frk102(job, parents)
                    self.frk104(job, parents)
                    self.frk105(job, parents)
        self.frk201()
        self.frk202()
        self.frk3xx()
        return list(self.hits.values())

    def frk101(self, job: Job, parents: list[Parent]) -> None:
        lacking = [p for p in parents if job.module not in p.modules]
        found = [(p, self.heavy_closure(job.module, p.modules)) for p in lacking]
        found = [(p, reasons) for p, reasons in found if reasons]
        if not found:
            return
        reasons = found[0][1]
        f, fn = self.index.functions[job.fq]
        trace = reasons[0][1]
        shown = [what for what, _ in reasons[:3]] + (["..."] if len(reasons) > 3 else [])
        fix = self.prefork_fix(
            [p for p, _ in found], Prefork(imports=(job.module,)), f"import {job.module}"
        )
        message = (
            f"{fn.name} makes every work horse import {job.module}, which loads "
            f"{', '.join(shown)}; {_brief(fix.summary)}"
        )
        self.add(
            "FRK101", f, fn.loc, fn.qualname, job.fq, (self.job_step(job),) + trace, message, fix
        )

    def heavy_closure(self, module: str, loaded: set[str]) -> list[tuple[str, tuple[Step, ...]]]:
        """What makes importing `module` expensive, given what is already loaded: (reason, trace).

        Heavy libraries first, then ORM models, then heavy module-level calls.
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
                if heavy is not None and heavy not in libraries:
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
                if what is not None:
                    step = self.step(f, call.loc, call_text(f, call))
                    reasons.append(
                        (2, f"{_callee(call, target)}() at import of {f.relpath}", trace(mod, step))
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
        ):  # one entry for all model modules: "the ORM models of app/a.py and 9 more modules"
            first = models[0]
            merged = (1, f"{first[1]} and {len(models) - 1} more modules", first[2])
            reasons = [r for r in reasons if r[0] != 1]
            reasons.insert(sum(1 for r in reasons if r[0] == 0), merged)
        return [(what, trace) for _, what, trace in reasons]

    def orm_use(self, job: Job) -> tuple[tuple[Step, ...], set[str]] | None:
        """How the job's path uses the ORM (trace to the first use) and the mapped classes' modules."""
        first: tuple[Step, ...] | None = None
        modules: set[str] = set()
        f0, fn0 = self.index.functions[job.fq]
        for _, ann in fn0.params:
            if ann:
                cls = self.mapped_prefix(self.index.resolve(f0.module, None, ann))
                if cls:
                    modules.add(cls.rpartition(".")[0])
                    first = first or (self.job_step(job),)
        for fq, f, fn, path in self.walk(job, unconditional=False, into_memo=True):
            for call, target in self.index.callees(fq):
                classes = [self.mapped_prefix(target)]
                classes += [
                    self.mapped_prefix(self.index.resolve(f.module, fn, a))
                    for a in call.args
                    if a and not a.startswith('"')
                ]
                for cls in classes:
                    if cls:
                        modules.add(cls.rpartition(".")[0])
                        if first is None:
                            first = path.trace() + (self.step(f, call.loc, call_text(f, call)),)
        if first is None:
            return None
        return first, modules

    def frk102(self, job: Job, parents: list[Parent]) -> None:
        use = self.orm_use(job)
        if use is None:
            return
        trace, modules = use
        f, fn = self.index.functions[job.fq]
        lacking = [p for p in parents if not any(modules <= snapshot for snapshot in p.configured)]
        if not lacking:
            return
        imports = tuple(dict.fromkeys((job.module, *sorted(modules))))
        fix = self.prefork_fix(
            lacking, Prefork(imports=imports, calls=(CONFIGURE_CALL,)), "call configure_mappers()"
        )
        message = (
            f"{fn.name} configures SQLAlchemy mappers in every work horse; {_brief(fix.summary)}"
        )
        self.add("FRK102", f, fn.loc, fn.qualname, job.fq, trace, message, fix)

    def frk103(self, job: Job) -> None:
        for fq, f, fn, path in self.walk(job, unconditional=True, into_memo=False):
            for call, target in self.index.callees(fq):
                if call.conditional:
                    continue
                what = self.catalog.heavy_call(target)
                if what is None:
                    continue
                callee = self.index.call_target(target)
                if callee is not None and self.reaches_heavy_call(callee):
                    continue  # `create_app()`: reported once, at the heavy call inside it
                name = _callee(call, target)
                message = (
                    f"{name}() {what} on every run of {{jobs}}; do it once: at module level, "
                    f"or in a memoised loader warmed in the worker parent"
                )
                text = call_text(f, call)
                site_trace = path.trace() + (self.step(f, call.loc, text),)
                self.add(
                    "FRK103",
                    f,
                    call.loc,
                    fn.qualname,
                    job.fq,
                    site_trace,
                    message,
                    self.memo_fix(f, fn, call, text),
                )

    def reaches_heavy_call(self, fq: str) -> bool:
        """Whether running `fq` makes, unconditionally and outside any cache, a catalog heavy call."""
        return self._reaches_heavy_work(fq, self._reaches_heavy, unconditional=True, imports=False)

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

    def memo_fix(self, f: FileFacts, fn: FunctionFact, call: CallFact, text: str) -> Fix:
        """A memoised getter that makes this very call, used in place of it and warmed before the fork."""
        stored = next(
            (
                a.target
                for a in fn.assigns
                if a.loc.line == call.loc.line and a.value.startswith(call.callee)
            ),
            "",
        )
        noun = stored if stored.isidentifier() else call.callee.rpartition(".")[2].lower()
        getter = f"get_{noun.strip('_') or 'resource'}"
        use = f"{stored} = {getter}()" if stored.isidentifier() else f"{getter}()"
        code = (
            "import functools\n\n\n"
            "@functools.lru_cache(maxsize=None)\n"
            f"def {getter}():\n"
            f"    return {text}\n\n\n"
            f"# in {fn.qualname}(): {use}\n"
            f'# warm it before the fork: [tool.forklint.prefork] calls = ["{f.module}:{getter}"]'
        )
        return Fix(
            f"move `{text}` into a memoised {getter}() in {f.relpath}, call it from {fn.name}(), "
            f"and warm it before the fork",
            code,
        )

    def frk104(self, job: Job, parents: list[Parent]) -> None:
        for _fq, f, fn, path in self.walk(job, unconditional=False, into_memo=False):
            for imp in fn.imports:
                found = [(p, self.heavy_import(job, p, imp)) for p in parents]
                lacking = [(p, heavy) for p, heavy in found if heavy is not None]
                if not lacking:
                    continue
                module, shown, via = lacking[0][1]  # type: ignore[misc]
                fix = self.prefork_fix(
                    [p for p, _ in lacking], Prefork(imports=(module,)), f"import {module}"
                )
                message = f"`{imp.text}` loads {shown} in every work horse of {{jobs}}; {_brief(fix.summary)}"
                self.add(
                    "FRK104",
                    f,
                    imp.loc,
                    fn.qualname,
                    job.fq,
                    path.trace() + (self.step(f, imp.loc, imp.text),) + via,
                    message,
                    fix,
                )

    def heavy_import(
        self, job: Job, parent: Parent, imp: ImportFact
    ) -> tuple[str, str, tuple[Step, ...]] | None:
        """(module to preload, what makes it heavy, trace past the import) for a heavy function-level import."""
        heavy = self.catalog.heavy_module(imp.module)
        if heavy is not None:
            # `from matplotlib import pyplot`: pyplot is the heavy part when the catalog says so
            sub = f"{imp.module}.{imp.name}" if imp.name else ""
            module = sub if sub in self.catalog.heavy_module_names else imp.module
            return None if module in parent.modules else (module, heavy, ())
        project = [m for m in self.index.imported_modules(imp) if m in self.index.modules]
        if not project or project[-1] in parent.modules:
            return None
        module = project[-1]
        # what the horse has loaded anyway: the parent's modules and the job's own module closure
        loaded = parent.modules | self.module_closure(job.module)
        if module in loaded:
            return None
        reasons = self.heavy_closure(module, loaded)
        if not reasons:
            return None
        shown = [what for what, _ in reasons[:3]] + (["..."] if len(reasons) > 3 else [])
        return module, ", ".join(shown), reasons[0][1]

    def does_heavy_work(self, fq: str) -> bool:
        """Whether calling `fq` reaches a heavy call or a heavy import, conditionally or not."""
        return self._reaches_heavy_work(fq, self._heavy_memo, unconditional=False, imports=True)

    def frk105(self, job: Job, parents: list[Parent]) -> None:
        for fq, f, fn, path in self.walk(job, unconditional=False, into_memo=False):
            fills = [
                (call, self.index.call_target(target), True)
                for call, target in self.index.callees(fq)
            ]
            reads = list(fn.reads)
            # `SCORER.model.predict(x)` reads SCORER.model on the way to the call
            reads += [
                CallFact(c.callee.rpartition(".")[0], c.loc, (), (), c.conditional)
                for c in fn.calls
                if c.callee.count(".") >= 2 and "(" not in c.callee and "[" not in c.callee
            ]
            fills += [
                (read, self.index.resolve(f.module, fn, read.callee), False) for read in reads
            ]
            for site, callee, called in fills:
                if callee is None or callee not in self.index.functions:
                    continue
                if not (self.is_memoised(callee) if called else self.is_cached_property(callee)):
                    continue
                if not self.does_heavy_work(callee):
                    continue
                mf, mfn = self.index.functions[callee]
                lacking = [p for p in parents if callee not in p.warmed]
                if not lacking:
                    continue
                required = [p for p, _ in mfn.params if p not in ("self", "cls")]
                if called and not required and not mfn.cls:
                    table = Prefork(imports=(mf.module,), calls=(f"{mf.module}:{mfn.qualname}",))
                    fix = self.prefork_fix(lacking, table, f"call {mfn.name}()")
                else:
                    what = f"{site.callee}()" if called else site.callee
                    fix = self.prefork_fix(lacking, Prefork(imports=(mf.module,)), f"fill {what}")
                kind = "memoised" if called else "a cached_property"
                message = (
                    f"{mfn.name} is {kind}, but the cache is filled in every work horse, so every run "
                    f"of {{jobs}} pays for it; {_brief(fix.summary)}"
                )
                text = call_text(f, site) if called else site.callee
                self.add(
                    "FRK105",
                    f,
                    _spanning(site.loc, text) if called else site.loc,
                    fn.qualname,
                    job.fq,
                    path.trace() + (self.step(f, site.loc, text),),
                    message,
                    fix,
                )

    def is_cached_property(self, fq: str) -> bool:
        return any(d.endswith("cached_property") for d in self.decorators(fq))

    def is_query(self, target: str) -> bool:
        if self.catalog.engine_connect(target) or self.catalog.is_session_query(target):
            return True
        cls = self.mapped_prefix(target.rpartition(".")[0])
        if cls is not None and any(
            target.startswith(f"{cls}.{q}.") for q in self.catalog.class_queries
        ):
            return True
        return self.django_query(target)

    def django_query(self, target: str) -> bool:
        """`Model.objects....` on a Django model: every manager call that reaches the database."""
        head, sep, _ = target.partition(".objects.")
        return (
            bool(sep)
            and head in self.index.classes
            and bool(self.index.subclass_of(head, self.catalog.django_models))
        )

    def is_dbapi_connect(self, target: str) -> bool:
        return self.catalog.fork_unsafe(target) == "database connection" and target.endswith(
            "connect"
        )

    def frk201(self) -> None:
        for module, f in self.index.modules.items():
            for call, target in self.index.module_calls(module):
                if self.is_query(target) or self.is_dbapi_connect(target):
                    message = (
                        f"{_callee(call, target)}() talks to the database while {f.relpath} is imported; "
                        "move it into a function that runs when the value is needed"
                    )
                    self.add("FRK201", f, call.loc, "", None, (), message, None)

    def mapped_classes(self) -> list[tuple[str, FileFacts, ClassFact]]:
        """The application's mapped classes (test modules' throw-away models are not the app's)."""
        out = []
        for cls_fq, (f, c) in self.index.classes.items():
            if not is_test_module(f.relpath) and self.is_mapped(cls_fq):
                out.append((cls_fq, f, c))
        return out

    def frk202(self) -> None:
        mapped = self.mapped_classes()
        if not mapped:
            return
        for module, f in self.index.modules.items():
            for call, target in self.index.module_calls(module):
                if not self.catalog.configure(target):
                    continue
                loaded = {module}
                for imp in f.imports:
                    if (imp.loc.line, imp.loc.column) < (call.loc.line, call.loc.column):
                        for name in self.index.imported_modules(imp):
                            loaded |= self.module_closure(name)
                missing = [
                    (cls_fq, cf, c)
                    for cls_fq, cf, c in mapped
                    if cf.module not in loaded
                    or (cf.module == module and c.loc.line > call.loc.line)
                ]
                if not missing:
                    continue
                names = ", ".join(c.name for _, _, c in missing[:3]) + (
                    " ..." if len(missing) > 3 else ""
                )
                message = (
                    f"configure_mappers() runs before {names} {'is' if len(missing) == 1 else 'are'} "
                    f"defined or imported, so it configures nothing; call it after every model module is imported"
                )
                self.add("FRK202", f, call.loc, "", None, (), message, None)

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

    def frk3xx(self) -> None:
        child_resets = self.child_reset_effects()
        for parent in self.world.parents:
            if parent.model not in FORKING:
                continue
            jobs = [fq for fq, ps in self.world.job_parents.items() if any(p is parent for p in ps)]
            if not jobs:
                continue
            effects = set(child_resets)
            for reset in (*self.world.global_resets, *parent.resets):
                effects |= self.reset_effects(reset)
            for site in parent.sites:
                self.site_rules(parent, site, jobs, effects)

    # --- what after-fork code resets -------------------------------------------------------------
    # An effect is "*" (code forklint cannot see), "engine:<global>" / "engine:*" (a pool disposed),
    # "global:<module.name>" (a module global reassigned or called on), "kind:<client kind>" (a new
    # fork-unsafe client created).

    def reset_effects(self, reset: Reset) -> frozenset[str]:
        if reset.opaque:
            return frozenset({"*"})
        return self.function_effects(reset.function) if reset.function else frozenset()

    def function_effects(self, fq: str) -> frozenset[str]:
        """What calling `fq` resets in the child, through everything it calls."""
        cached = self._effects.get(fq)
        if cached is not None:
            return cached
        effects: set[str] = set()
        seen = {fq}
        stack = [fq]
        while stack:
            current = stack.pop()
            entry = self.index.functions.get(current)
            if entry is None:
                continue
            f, fn = entry
            for a in fn.assigns:
                name = self.global_of(f.module, fn, a.target, assigned=True)
                if name:
                    effects.add(f"global:{name}")
            for call, target in self.index.callees(current):
                receiver = call.callee.rpartition(".")[0]
                name = self.global_of(f.module, fn, receiver) if receiver else None
                if name:
                    effects.add(f"global:{name}")
                if self.catalog.dispose(target):
                    effects.add(f"engine:{name or '*'}")
                kind = self.catalog.fork_unsafe(target)
                if kind is not None:
                    effects.add(f"kind:{kind}")
                callee = self.index.call_target(target)
                if callee is not None and callee not in seen:
                    seen.add(callee)
                    stack.append(callee)
        result = frozenset(effects)
        self._effects[fq] = result
        return result

    def global_of(
        self, module: str, fn: FunctionFact | None, dotted: str, assigned: bool = False
    ) -> str | None:
        """The module global ("app.db.engine") a dotted expression written in `fn` starts with."""
        head, _, rest = dotted.partition(".")
        if not head or not head.isidentifier() or head in ("self", "cls"):
            return None
        if fn is not None and not (assigned and not rest):
            local = self.index.local_bindings(module, fn).get(head)
            if local is not None and local.kind != "fq" and head not in fn.memo_globals:
                return None
        if assigned and not rest:
            return f"{module}.{head}"  # `global client; client = ...`
        binding = None
        if fn is not None:  # `import app.db` inside the handler, then `app.db.client = ...`
            local = self.index.local_bindings(module, fn).get(head)
            binding = local if local is not None and local.kind == "fq" else None
        if binding is None:
            binding = self.index.module_bindings(module).get(head)
        if binding is None:
            return None
        if binding.kind == "value":
            return f"{module}.{head}"
        target = binding.target
        if target in self.index.modules:  # `import app.db` ... `app.db.engine.dispose()`
            parts = rest.split(".")
            for n in range(len(parts), 0, -1):
                candidate = ".".join([target, *parts[:n]])
                if candidate.rpartition(".")[0] in self.index.modules:
                    return candidate
            return None
        return target if target.rpartition(".")[0] in self.index.modules else None

    def child_reset_effects(self) -> frozenset[str]:
        """Pools disposed with close=False on a job's path or in a horse-side method."""
        effects: set[str] = set()
        for job in self.jobs:
            for fq, f, fn, _trace in self.walk(job, unconditional=False, into_memo=True):
                for call, target in self.index.callees(fq):
                    if self.catalog.dispose(target) and ("close", "False") in call.kwargs:
                        receiver = call.callee.rpartition(".")[0]
                        name = self.global_of(f.module, fn, receiver) if receiver else None
                        effects.add(f"engine:{name or '*'}")
        return frozenset(effects)

    def site_global(self, site: Site) -> tuple[str | None, FunctionFact | None]:
        """The module global a pre-fork site's value is stored in, and the function it is written in."""
        f = self.index.modules[site.module]
        fn = next((fn for fn in f.functions if any(c is site.call for c in fn.calls)), None)
        assigns = fn.assigns if fn is not None else f.assigns
        for a in assigns:
            if a.loc.line == site.call.loc.line and a.value.startswith(site.call.callee):
                return self.global_of(site.module, fn, a.target, assigned=True), fn
        return None, fn

    def jobs_using(self, name: str, jobs: list[str]) -> list[str]:
        """The jobs whose path touches the module global `name` (all of them when none visibly does)."""
        by_fq = {j.fq: j for j in self.jobs}
        using = [fq for fq in jobs if fq in by_fq and name in self.job_globals(by_fq[fq])]
        return using or jobs

    def job_globals(self, job: Job) -> frozenset[str]:
        cached = self._job_globals.get(job.fq)
        if cached is not None:
            return cached
        names: set[str] = set()
        for fq, f, fn, _trace in self.walk(job, unconditional=False, into_memo=True):
            for call, _target in self.index.callees(fq):
                for dotted in (call.callee, *call.args, *(v for _, v in call.kwargs)):
                    name = self.global_of(f.module, fn, dotted) if dotted else None
                    if name:
                        names.add(name)
            for read in fn.reads:
                name = self.global_of(f.module, fn, read.callee)
                if name:
                    names.add(name)
        result = frozenset(names)
        self._job_globals[job.fq] = result
        return result

    def site_rules(self, parent: Parent, site: Site, jobs: list[str], effects: set[str]) -> None:
        f = self.index.modules[site.module]
        everything = "*" in effects
        context = self.context_of(f, site.call)
        name = _callee(site.call, site.target)
        where = parent.label
        if self.is_query(site.target) and not everything and not self.engine_reset(site, effects):
            engine = _receiver(site.call.callee) or "engine"
            message = (
                f"{name}() connects a pool in the worker parent ({where}) before it forks, and every child "
                f"inherits its open sockets; reset it in each child with {engine}.dispose(close=False)"
            )
            resets = self.dispose_functions()
            if resets:
                fix = Fix(
                    f"call {resets[0].partition(':')[2]}() in every work horse: "
                    f'[tool.forklint.prefork] after-fork = ["{resets[0]}"]',
                    f'[tool.forklint.prefork]\nafter-fork = ["{resets[0]}"]',
                    prefork=Prefork(after_fork=(resets[0],)),
                )
            else:
                fix = Fix(
                    "drop the inherited pool in every child (close=False leaves the parent's connections alone)",
                    f"import os\n\nos.register_at_fork(after_in_child=lambda: {engine}.dispose(close=False))",
                )
            for job in jobs:
                self.add("FRK301", f, site.call.loc, context, job, site.trace, message, fix)
        thread = self.catalog.thread_start(site.target)
        if thread is not None:
            message = (
                f"{name}() starts a {thread} in the worker parent ({where}) before it forks; the children "
                "do not have it and may deadlock on its locks; start it after the fork"
            )
            fix = Fix("start the thread after the fork (an after-fork hook) or inside the job", "")
            for job in jobs:
                self.add("FRK302", f, site.call.loc, context, job, site.trace, message, fix)
        client = self.catalog.fork_unsafe(site.target)
        holder, _fn = self.site_global(site) if client is not None else (None, None)
        if client is not None and not everything and not _client_reset(holder, client, effects):
            if holder is not None:
                jobs = self.jobs_using(holder, jobs)
            message = (
                f"{name}() creates a {client} in the worker parent ({where}) before it forks, and every "
                "child shares its sockets; create it after the fork (in the job or a memoised getter)"
            )
            fix = Fix(
                "create the client lazily in the child, e.g. in a functools.lru_cache getter",
                f"@functools.lru_cache(maxsize=None)\ndef get_client():\n    return {call_text(f, site.call)}",
            )
            for job in jobs:
                self.add("FRK303", f, site.call.loc, context, job, site.trace, message, fix)

    def engine_reset(self, site: Site, effects: set[str]) -> bool:
        """Whether an after-fork reset disposes the pool this site connected (any pool when unnamed)."""
        receiver = _receiver(site.call.callee)
        _holder, fn = self.site_global(site)
        name = self.global_of(site.module, fn, receiver) if receiver else None
        if "engine:*" in effects or (name is not None and f"engine:{name}" in effects):
            return True
        return name is None and any(e.startswith("engine:") for e in effects)

    def dispose_functions(self) -> list[str]:
        """Project functions without parameters that dispose of a pool with close=False: after-fork candidates."""
        if self._disposers is None:
            self._disposers = []
            for fq, (f, fn) in self.index.functions.items():
                if fn.cls or fn.params or "." in fn.qualname:
                    continue
                for call, target in self.index.callees(fq):
                    if self.catalog.dispose(target) and ("close", "False") in call.kwargs:
                        self._disposers.append(f"{f.module}:{fn.qualname}")
                        break
        return self._disposers

    def context_of(self, f: FileFacts, call: CallFact) -> str:
        for fn in f.functions:
            if any(c is call for c in fn.calls):
                return fn.qualname
        return ""

    # --- fixes -------------------------------------------------------------------------------

    def prefork_fix(self, parents: list[Parent], table: Prefork, action: str) -> Fix:
        """The concrete change for this project, in every worker parent that lacks it: lines in a
        start-up function, a worker_init handler for Celery, or [tool.forklint.prefork] entries for
        PreforkWorker (with the command line that runs it).

        `action` is what the parents must do, as a verb phrase: "import app.tasks", "call get_model()".
        """
        entries = []
        if table.imports:
            entries.append("imports = [" + ", ".join(f'"{m}"' for m in table.imports) + "]")
        if table.calls:
            entries.append("calls = [" + ", ".join(f'"{c}"' for c in table.calls) + "]")
        toml = "\n".join(["[tool.forklint.prefork]", *entries])
        parts = [_parent_fix(p, table, action, entries) for p in parents]
        if len(parts) == 1 and parents[0].startup is not None:
            summary = parts[0][0]
        else:
            summary = f"{action} in the worker parent: " + "; and ".join(
                part for part, _, _ in parts
            )
        codes = [code for _, code, _ in parts if code]
        if any(uses_table for _, _, uses_table in parts):
            codes.insert(0, toml)
        return Fix(summary, "\n\n".join(codes), prefork=table)


def _parent_fix(
    parent: Parent, table: Prefork, action: str, entries: list[str]
) -> tuple[str, str, bool]:
    """(summary part, code, whether it needs the [tool.forklint.prefork] table) for one parent."""
    lines = [f"import {m}" for m in table.imports if m not in parent.modules]
    for entry in table.calls:
        module, _, func = entry.partition(":")
        lines.append(f"from {module} import {func.split('.')[0]}")
    lines += [f"{entry.partition(':')[2]}()" for entry in table.calls]
    startup = parent.startup
    if startup is not None:
        where = (
            f"{startup.relpath}:{startup.function}()"
            if startup.function and startup.function != "__main__"
            else startup.relpath
        )
        code = f"# {where}, before {startup.work_text}:\n" + "\n".join(lines)
        if startup.work_text.startswith("Worker."):
            code += (
                f"\n# or, with the [tool.forklint.prefork] table: use forklint.rq.PreforkWorker "
                f"instead of Worker in {where}\n# from forklint.rq import PreforkWorker"
            )
        summary = f"{action} in {where} before {startup.work_text}"
        if startup.work_text.startswith("Worker."):
            summary += " (or use forklint.rq.PreforkWorker instead of Worker there)"
        return summary, code, False
    if parent.framework == "celery":
        body = "\n".join(f"    {line}" for line in lines) or "    pass"
        code = (
            "from celery.signals import worker_init\n\n\n"
            "@worker_init.connect\n"
            f"def prefork(**kwargs):\n{body}"
        )
        return (
            f"{action} in a worker_init handler, which runs in the parent before the pool forks",
            code,
            False,
        )
    if parent.prefork_table:
        return f"add {'; '.join(entries)} to [tool.forklint.prefork]", "", True
    command = parent.command
    if command is None:
        run = "rq worker -w forklint.rq.PreforkWorker"
        return (
            f"run `{run}` with [tool.forklint.prefork] {'; '.join(entries)}",
            f"# the worker command (Procfile, Dockerfile...)\n{run}",
            True,
        )
    where = f"{command.path}:{command.line}"
    if command.worker_class in (None, "rq.Worker", "rq.worker.Worker"):
        run = with_prefork_worker(command.text)
        return (
            f"run `{run}` ({where}) with [tool.forklint.prefork] {'; '.join(entries)}",
            f"# {where}\n{run}",
            True,
        )
    mixin = f"class YourWorker(forklint.rq.PreforkMixin, {command.worker_class})"
    return (
        f"make {command.worker_class} ({where}) run [tool.forklint.prefork] {'; '.join(entries)}: "
        f"{mixin}",
        f"# {where}: pass this class to --worker-class\n{mixin}: ...",
        True,
    )


def _spanning(loc: Loc, text: str) -> Loc:
    """`loc` widened to the whole call text when that text is on the call's line."""
    if "\n" in text or loc.end_line != loc.line:
        return loc
    return Loc(loc.line, loc.column, loc.line, max(loc.end_column, loc.column + len(text)))


def _client_reset(holder: str | None, kind: str, effects: set[str]) -> bool:
    """A client is reset by code that reassigns, closes or re-creates the global holding it."""
    if holder is not None:
        return f"global:{holder}" in effects
    return f"kind:{kind}" in effects


def _receiver(callee: str) -> str:
    """ "engine" for "engine.connect", "" when the receiver is not a plain name."""
    receiver = callee.rpartition(".")[0]
    return receiver if receiver and "(" not in receiver and "[" not in receiver else ""


def _callee(call: CallFact, target: str) -> str:
    """The callee as written ("engine.connect"), else as resolved."""
    return call.callee or target.removesuffix("()") or "call"


def _brief(summary: str) -> str:
    """The fix for a one-line message: what to do, without every start-up it applies to (the fix
    section lists those)."""
    if len(summary) <= 120:
        return summary
    head, sep, _ = summary.partition(": ")
    return head if sep else summary


def _job_names(jobs: list[str]) -> str:
    return ", ".join(j.rpartition(".")[2] for j in jobs)


def to_findings(hits: list[Hit], rule_meta, sources: dict[str, list[str]]) -> list[Finding]:
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


__all__ = ["Analysis", "FunctionFact", "to_findings"]
