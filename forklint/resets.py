"""What crosses the fork and what resets it: pre-fork call sites, after-fork code and what it touches.

An *effect* of after-fork code is "*" (code forklint cannot see), "engine:<global>" /
"engine:*" (a pool disposed), "django:*" (Django's connections closed), "global:<module.name>" (a module global reassigned or called
on) or "kind:<client kind>" (a new fork-unsafe client created).
"""

from __future__ import annotations

import re

from dataclasses import dataclass
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from forklint.facts import FunctionFact
from forklint.jobs import Job
from forklint.findings import Prefork
from forklint.world import FORKING, Parent, Reset, Site, preloaded

if TYPE_CHECKING:  # evidence.py builds the one Resets of a run
    from forklint.evidence import Evidence


@dataclass(frozen=True)
class PreforkSite:
    """A call the parent makes before it forks, the jobs its children run, and what resets them."""

    parent: Parent
    site: Site
    jobs: tuple[str, ...]
    effects: frozenset[str]
    closed: bool = False  # what it made is closed again (`conn.close()`) before the fork


class Resets:
    """After-fork resets and the pre-fork sites they answer, for the FRK3xx rules."""

    def __init__(self, ev: Evidence) -> None:
        self.ev = ev
        self.index = ev.index
        self.catalog = ev.catalog
        self._effects: dict[str, frozenset[str]] = {}
        self._job_globals: dict[str, frozenset[str]] = {}
        self._disposers: list[str] | None = None
        self._sites: list[PreforkSite] | None = None
        self._preloaded_sites: dict[tuple[int, Prefork], list[PreforkSite]] = {}
        self._preloads: dict[tuple[int, Prefork], Parent] = {}
        self._child_resets: frozenset[str] | None = None
        self.engines = EngineQuestions(self)

    def sites(self) -> list[PreforkSite]:
        """Every call a forking parent makes before the fork, with its jobs and its children's resets."""
        if self._sites is not None:
            return self._sites
        out: list[PreforkSite] = []
        for parent in self.ev.world.parents:
            if parent.model in FORKING:
                out += self._parent_sites(parent, parent)
        self._sites = out
        return out

    def preloaded(self, parent: Parent, table: Prefork) -> list[PreforkSite]:
        """The sites `parent` would newly run before the fork if it also did `table` (what a
        pre-fork fix would bring across the fork), as `sites()` gives them."""
        key = (id(parent), table)
        cached = self._preloaded_sites.get(key)
        if cached is None:
            cached = self._parent_sites(parent, self.preload(parent, table))
            self._preloaded_sites[key] = cached
        return cached

    def preload(self, parent: Parent, table: Prefork) -> Parent:
        """`parent` as it would be after also doing `table` (forklint.world.preloaded)."""
        key = (id(parent), table)
        cached = self._preloads.get(key)
        if cached is None:
            cached = self._preloads[key] = preloaded(self.index, self.catalog, parent, table)
        return cached

    def _parent_sites(self, parent: Parent, run: Parent) -> list[PreforkSite]:
        """The relevant sites of `run` (the parent, or what it would also run), with the jobs of
        `parent` and what its children reset."""
        world = self.ev.world
        jobs = tuple(fq for fq, ps in world.job_parents.items() if any(p is parent for p in ps))
        if not jobs:
            return []
        if self._child_resets is None:
            self._child_resets = self.child_reset_effects()
        effects = set(self._child_resets)
        for reset in (*world.global_resets, *run.resets):
            effects |= self.reset_effects(reset)
        frozen = frozenset(effects)
        # only what surely runs before the fork (a call under a condition may never run),
        # and only the calls the FRK3xx rules are about
        later = self._disposals_after(run)
        closes = self._closes(run)
        out: list[PreforkSite] = []
        for position, site in enumerate(run.sites):
            if site.conditional or not self._relevant(site):
                continue
            # a pool the parent itself disposes before forking holds no connection to inherit
            closed = self._closed_later(site, position, closes)
            out.append(PreforkSite(parent, site, jobs, frozen | later[position], closed))
        return out

    def _relevant(self, site: Site) -> bool:
        target = site.target
        return bool(
            self.catalog.thread_start(target)
            or self.catalog.fork_unsafe(target)
            or self.ev.is_query(target)
        )

    def _closes(self, parent: Parent) -> dict[tuple[str, str], list[int]]:
        """Positions of `x.close()`-like calls in the parent, by (module, receiver as written)."""
        out: dict[tuple[str, str], list[int]] = {}
        for position, site in enumerate(parent.sites):
            receiver, _, method = site.call.callee.rpartition(".")
            if method in _CLOSES and receiver and not site.conditional:
                out.setdefault((site.module, receiver), []).append(position)
        return out

    def _closed_later(
        self, site: Site, position: int, closes: dict[tuple[str, str], list[int]]
    ) -> bool:
        """Whether the object the call at `position` makes is closed by a later call of the
        parent (`conn = connect(...)` ... `conn.close()` in the same scope)."""
        f = self.index.modules[site.module]
        fn = next((fn for fn in f.functions if any(c is site.call for c in fn.calls)), None)
        assigns = fn.assigns if fn is not None else f.assigns
        stored = next(
            (
                a.target
                for a in assigns
                if a.loc.line == site.call.loc.line and a.value.startswith(site.call.callee)
            ),
            None,
        )
        if stored is None:  # `worker.start()`: the object the method was called on
            stored = receiver_name(site.call.callee) or None
        if stored is None:
            return False
        # `with ThreadPoolExecutor() as pool: pool.map(...)`: the block shuts the pool down
        calls = fn.calls if fn is not None else f.calls
        if any(
            a.target == stored
            and any(
                c.managed and c.loc.line == a.loc.line and a.value.startswith(c.callee)
                for c in calls
            )
            for a in assigns
        ):
            return True
        return any(p > position for p in closes.get((site.module, stored), ()))

    def _disposals_after(self, parent: Parent) -> list[frozenset[str]]:
        """For each position, the pools the parent disposes after it, before the fork."""
        out: list[frozenset[str]] = [frozenset()] * len(parent.sites)
        seen: frozenset[str] = frozenset()
        for position in range(len(parent.sites) - 1, -1, -1):
            out[position] = seen
            site = parent.sites[position]
            if site.conditional or not self.catalog.dispose(site.target):
                continue
            receiver = site.call.callee.rpartition(".")[0]
            fn = next(
                (
                    fn
                    for fn in self.index.modules[site.module].functions
                    if any(c is site.call for c in fn.calls)
                ),
                None,
            )
            name = self.global_of(site.module, fn, receiver) if receiver else None
            seen = seen | {f"engine:{name or '*'}"}
        return out

    # --- what after-fork code resets -----------------------------------------------------------

    def reset_effects(self, reset: Reset) -> frozenset[str]:
        if reset.opaque:
            return frozenset({"*"})
        if reset.django:
            return frozenset({"django:*"})
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
                if self.catalog.dispose(target) or self.catalog.engine_factory(target):
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

    def child_reset_effects(self) -> frozenset[str]:
        """Pools disposed with close=False on a job's path or in a horse-side method."""
        effects: set[str] = set()
        for job in self.ev.jobs:
            for fq, f, fn, _path in self.ev.walk(job, unconditional=False, into_memo=True):
                for call, target in self.index.callees(fq):
                    if self.catalog.dispose(target) and ("close", "False") in call.kwargs:
                        receiver = call.callee.rpartition(".")[0]
                        name = self.global_of(f.module, fn, receiver) if receiver else None
                        effects.add(f"engine:{name or '*'}")
        return frozenset(effects)

    def engine_reset(self, site: Site, effects: frozenset[str]) -> bool:
        """Whether an after-fork reset disposes the pool this site connected (any pool when unnamed)."""
        receiver = receiver_name(site.call.callee)
        _holder, fn = self.site_global(site)
        name = self.engines.connected_engine(site)
        if name is None:
            name = self.global_of(site.module, fn, receiver) if receiver else None
            if name is not None and self.catalog.session_prefix(site.target) is not None:
                name = None  # a session's engine is not named where it is used: any pool counts
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

    # --- module globals ------------------------------------------------------------------------

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

    def site_global(self, site: Site) -> tuple[str | None, FunctionFact | None]:
        """The module global a pre-fork site's value is stored in, and the function it is written in."""
        f = self.index.modules[site.module]
        fn = next((fn for fn in f.functions if any(c is site.call for c in fn.calls)), None)
        assigns = fn.assigns if fn is not None else f.assigns
        for a in assigns:
            if a.loc.line == site.call.loc.line and a.value.startswith(site.call.callee):
                return self.global_of(site.module, fn, a.target, assigned=True), fn
        return None, fn

    def jobs_using(self, name: str, jobs: tuple[str, ...]) -> tuple[str, ...]:
        """The jobs whose path touches the module global `name`, or a global made from it at
        module level (`db = client.test`, `agents = db.agent`); none visibly does: none.

        A value read out of it (`version = db.command(...)["version"]`) is data, not the client:
        jobs that only read such values and make their own clients share nothing.
        """
        by_fq = {j.fq: j for j in self.ev.jobs}
        names = self._made_from(name)
        return tuple(fq for fq in jobs if fq in by_fq and names & self.job_globals(by_fq[fq]))

    def _made_from(self, name: str) -> frozenset[str]:
        module, _, short = name.rpartition(".")
        f = self.index.modules.get(module)
        made = {short}
        if f is not None:
            for a in f.assigns:  # in the order they run
                head = re.split(r"[.(\[]", a.value, maxsplit=1)[0]
                if head in made and "[" not in a.value and "." not in a.target:
                    made.add(a.target)
        return frozenset(f"{module}.{n}" for n in made)

    def job_globals(self, job: Job) -> frozenset[str]:
        cached = self._job_globals.get(job.fq)
        if cached is not None:
            return cached
        names: set[str] = set()
        for fq, f, fn, _path in self.ev.walk(job, unconditional=False, into_memo=True):
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


_CLOSES = frozenset({"close", "disconnect", "shutdown", "stop", "dispose", "join"})


def report_sites(
    ev: Evidence,
    code: str,
    answer: Callable[[Evidence, PreforkSite], tuple[Any, ...] | None],
) -> None:
    """Record `code` at each pre-fork site its rule's `answer` speaks of: (message, fix) for
    every job of the site's parent, or (message, fix, jobs) for those jobs only."""
    for found in ev.resets.sites():
        answered = answer(ev, found)
        if answered is None:
            continue
        message, fix, *rest = answered
        jobs = rest[0] if rest else found.jobs
        site = found.site
        f = ev.index.modules[site.module]
        context = ev.context_of(f, site.call)
        for job in jobs:
            ev.add(code, f, site.call.loc, context, job, site.trace, message, fix)


def client_reset(holder: str | None, kind: str, effects: frozenset[str]) -> bool:
    """A client is reset by code that reassigns, closes or re-creates the global holding it."""
    if holder is not None:
        return f"global:{holder}" in effects
    return f"kind:{kind}" in effects


def receiver_name(callee: str) -> str:
    """ "engine" for "engine.connect", "" when the receiver is not a plain name."""
    receiver = callee.rpartition(".")[0]
    return receiver if receiver and "(" not in receiver and "[" not in receiver else ""


# --- for fixes: which engine a site connects, which functions dispose it, who imports a global ---
# (forklint.fixes asks these to name the object a reset resets; engine_reset() above asks
# connected_engine() too, so that a reset of that engine is what clears the finding.)

_ENGINE_FACTORIES = ("sqlalchemy.create_engine", "sqlalchemy.engine.create_engine")
_BIND_KEYWORDS = ("bind", "engine")


class EngineQuestions:
    """Which module global holds the engine a pre-fork call connects, and who else holds it."""

    def __init__(self, resets: Resets) -> None:
        self.resets = resets
        self.index = resets.index
        self._engines: list[str] | None = None

    def engines(self) -> list[str]:
        """Module globals assigned `create_engine(...)` ("app.db.engine"): at module level, or in
        a function of the module when the module also binds the name (`engine = None` filled
        by a `configure_engine()`)."""
        if self._engines is None:
            found: list[str] = []
            for module, f in self.index.modules.items():
                names = {a.target for a in f.assigns if a.target.isidentifier()}
                scopes = [(None, f.assigns)] + [(fn, fn.assigns) for fn in f.functions]
                for fn, assigns in scopes:
                    for a in assigns:
                        if (
                            a.target.isidentifier()
                            and (fn is None or a.target in names)
                            and a.value.endswith("()")
                            and self.index.resolve(module, fn, a.value[:-2]) in _ENGINE_FACTORIES
                        ):
                            found.append(f"{module}.{a.target}")
            self._engines = list(dict.fromkeys(found))
        return self._engines

    def connected_engine(self, site: Site) -> str | None:
        """The engine global `site` connects: its receiver, the engine a metadata call or a
        session is bound to, else the project's only engine; None when forklint cannot tell."""
        engines = self.engines()
        _holder, fn = self.resets.site_global(site)
        call = site.call
        receiver = receiver_name(call.callee)
        candidates = []
        if call.callee.rpartition(".")[2] in ("create_all", "reflect", "drop_all"):
            candidates += [v for k, v in call.kwargs if k in _BIND_KEYWORDS]
            candidates += list(call.args[:1])
        if receiver:
            candidates.append(receiver)
        for name in candidates:
            found = self._engine_of(site.module, fn, name, 0)
            if found is not None:
                return found
        return engines[0] if len(engines) == 1 else None

    def _engine_of(self, module: str, fn: FunctionFact | None, name: str, depth: int) -> str | None:
        if depth > 4 or not name:
            return None
        name = name.removesuffix("()")
        if fn is not None and name.isidentifier():  # a local: `with Session() as session`
            for a in fn.assigns:
                if a.target == name and a.value != name:
                    return self._engine_of(module, fn, a.value, depth + 1)
        held = self.resets.global_of(module, fn, name)
        if held is None:
            return None
        if held in self.engines():
            return held
        owner, _, attribute = held.rpartition(".")
        f = self.index.modules.get(owner)
        if f is None:
            return None
        for a in f.assigns:  # `Session = sessionmaker(bind=engine)`, `db = scoped_session(Session)`
            if a.target != attribute:
                continue
            for call in f.calls:
                if call.loc.line != a.loc.line:
                    continue
                for value in [v for k, v in call.kwargs if k in _BIND_KEYWORDS] + list(
                    call.args[:1]
                ):
                    found = self._engine_of(owner, None, value, depth + 1)
                    if found is not None:
                        return found
        return None

    def disposer_of(self, engine: str) -> str | None:
        """A function without parameters in the engine's module that disposes exactly that engine
        with close=False ("app.db.dispose_pool")."""
        module = engine.rpartition(".")[0]
        for entry in self.resets.dispose_functions():
            owner, _, name = entry.partition(":")
            fq = f"{owner}.{name}"
            if owner == module and f"engine:{engine}" in self.resets.function_effects(fq):
                return fq
        return None

    def importers_of(self, holder: str) -> list[str]:
        """Files that bind the module global `holder` under their own name (`from app.db import
        client`): they keep the old object when the module's global is assigned again."""
        module, _, name = holder.rpartition(".")
        out = []
        for other, f in self.index.modules.items():
            if other == module:
                continue
            imports = [*f.imports, *f.main_imports, *(i for fn in f.functions for i in fn.imports)]
            if any(i.module == module and i.name == name for i in imports):
                out.append(f.relpath)
        return out
