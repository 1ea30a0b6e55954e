"""The project index: modules, symbols, import resolution, class hierarchy and the call graph."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace

from forklint.facts import CallFact, ClassFact, FileFacts, FunctionFact, ImportFact

_HEAD = re.compile(r"[A-Za-z_]\w*")
_MAX_DEPTH = 24


@dataclass(frozen=True)
class Binding:
    kind: str  # "fq" (a def, class or import: `target` is a dotted name), "value" (an assignment), "param"
    target: str


@dataclass(frozen=True)
class Step:
    """One hop of a path through the project: where it is and what it says."""

    path: str  # relpath of the file (a source file, pyproject.toml, Procfile...)
    line: int
    column: int
    text: str


class Index:
    def __init__(self, facts: Iterable[FileFacts]) -> None:
        self.modules: dict[str, FileFacts] = {}
        for f in facts:
            if f.module and f.module not in self.modules:
                self.modules[f.module] = f
        _resolve_script_siblings(self.modules)
        self.functions: dict[str, tuple[FileFacts, FunctionFact]] = {}
        self.classes: dict[str, tuple[FileFacts, ClassFact]] = {}
        self._bindings: dict[str, dict[str, Binding]] = {}
        self._local: dict[str, dict[str, Binding]] = {}
        self._nested: dict[str, set[str]] = {}
        for mod, f in self.modules.items():
            for fn in f.functions:
                fq = f"{mod}.{fn.qualname}"
                self.functions.setdefault(fq, (f, fn))
                parent, _, name = fn.qualname.rpartition(".")
                if parent and fn.cls != parent:
                    self._nested.setdefault(f"{mod}.{parent}", set()).add(name)
            for c in f.classes:
                self.classes.setdefault(f"{mod}.{c.qualname}", (f, c))
        self._resolve_cache: dict[tuple[str, str, str], str] = {}
        self._mro_cache: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {}
        self._attribute_cache: dict[tuple[str, str], str] = {}
        self._imported: dict[ImportFact, tuple[str, ...]] = {}
        self._callees: dict[str, tuple[tuple[CallFact, str], ...]] = {}
        self._in_progress: set[tuple[str, str, str]] = set()
        self._star_in_progress: set[str] = set()

    # --- bindings --------------------------------------------------------------------------

    def module_bindings(self, module: str) -> dict[str, Binding]:
        cached = self._bindings.get(module)
        if cached is not None:
            return cached
        out: dict[str, Binding] = {}
        f = self.modules.get(module)
        if f is not None:
            for a in (*f.assigns, *f.main_assigns):
                out.setdefault(a.target, Binding("value", a.value))
            for imp in (*f.imports, *f.main_imports):
                if imp.name == "*":
                    for name, b in self._star(imp.module).items():
                        # A circular star import hands the module its own names back
                        # (`from models import *` where models did `from app import db`): the
                        # same object, so the module's own binding stays.
                        if b.kind == "fq" and b.target == f"{module}.{name}":
                            continue
                        out[name] = b
                    continue
                out[imp.bound] = Binding("fq", _import_target(imp))
            for c in f.classes:
                if "." not in c.qualname:
                    out[c.name] = Binding("fq", f"{module}.{c.qualname}")
            for fn in f.functions:
                if "." not in fn.qualname:
                    out[fn.name] = Binding("fq", f"{module}.{fn.qualname}")
        self._bindings[module] = out
        return out

    def _star(self, module: str) -> dict[str, Binding]:
        if module not in self.modules or module in self._star_in_progress:
            return {}
        self._star_in_progress.add(module)
        try:
            return {k: v for k, v in self.module_bindings(module).items() if not k.startswith("_")}
        finally:
            self._star_in_progress.discard(module)

    def local_bindings(self, module: str, fn: FunctionFact) -> dict[str, Binding]:
        key = f"{module}.{fn.qualname}"
        cached = self._local.get(key)
        if cached is not None:
            return cached
        out: dict[str, Binding] = {}
        for name, ann in fn.params:
            out[name] = Binding("param", ann)
        for a in fn.assigns:
            if a.target in fn.memo_globals:
                continue
            if "." not in a.target and _head(a.value) != a.target:
                out.setdefault(a.target, Binding("value", a.value))
        for imp in fn.imports:
            if imp.name != "*":
                out[imp.bound] = Binding("fq", _import_target(imp))
        for name in self._nested.get(key, ()):
            out[name] = Binding("fq", f"{key}.{name}")
        self._local[key] = out
        return out

    def nested_functions(self, fq: str) -> list[FunctionFact]:
        """The functions defined inside function `fq`, at any depth (a decorator's wrapper)."""
        out: list[FunctionFact] = []
        todo = [fq]
        while todo:
            parent = todo.pop()
            for name in sorted(self._nested.get(parent, ())):
                child = f"{parent}.{name}"
                entry = self.functions.get(child)
                if entry is not None:
                    out.append(entry[1])
                    todo.append(child)
        return out

    # --- resolution --------------------------------------------------------------------------

    def resolve(self, module: str, fn: FunctionFact | None, name: str, depth: int = 0) -> str:
        """Fully qualified form of a dotted name as written in `fn` (or at module level) of `module`.

        Project names come back as "pkg.mod.func" / "pkg.mod.Class.method"; external ones as
        imported ("joblib.load", "sqlalchemy.create_engine().connect"); "" when unknown.
        """
        if not name or depth > _MAX_DEPTH:
            return ""
        key = (module, fn.qualname if fn is not None else "", name)
        cached = self._resolve_cache.get(key)
        if cached is not None:
            return cached
        if key in self._in_progress:
            return ""
        self._in_progress.add(key)
        try:
            result = self._resolve(module, fn, name, depth)
        finally:
            self._in_progress.discard(key)
        self._resolve_cache[key] = result
        return result

    def _resolve(self, module: str, fn: FunctionFact | None, name: str, depth: int) -> str:
        m = _HEAD.match(name)
        if m is None:
            return ""
        head, rest = m.group(), name[m.end() :]
        if fn is not None:
            if fn.cls and head in ("self", "cls"):
                cls_fq = f"{module}.{fn.cls}"
                return self.member(cls_fq, ("()" if head == "self" else "") + rest, depth + 1)
            if fn.cls and head == "super" and rest.startswith("()"):
                return self.super_member(f"{module}.{fn.cls}", rest[2:], depth + 1)
            b = self.local_bindings(module, fn).get(head)
            if b is None and "." in fn.qualname:
                # a nested function sees its enclosing function's names
                outer_q = fn.qualname.rpartition(".")[0]
                outer = self.functions.get(f"{module}.{outer_q}")
                if outer is not None and outer[1].cls != outer_q:
                    return self.resolve(module, outer[1], name, depth + 1)
            if b is not None:
                return self._bound(module, fn, b, rest, depth)
        b = self.module_bindings(module).get(head)
        if b is not None:
            return self._bound(module, None, b, rest, depth)
        return name  # a builtin or an undefined global: keep it as written

    def _bound(
        self, module: str, fn: FunctionFact | None, b: Binding, rest: str, depth: int
    ) -> str:
        if b.kind == "fq":
            return self.canonical(b.target + rest, depth + 1)
        if b.kind == "param":
            if not b.target:
                return ""
            base = self.resolve(module, fn, b.target, depth + 1)
            return self.canonical(f"{base}(){rest}", depth + 1) if base else ""
        value = b.target
        if not value:
            return ""
        base = self.resolve(module, fn, value, depth + 1)
        if not base:
            return ""
        return self.canonical(base + rest, depth + 1) if rest else base

    def string_constant(
        self, module: str, fn: FunctionFact | None, name: str, depth: int = 0
    ) -> str | None:
        """The dotted string literal a plain name is bound to, as described (`'"app.tasks.run"'`):
        `JOB: Final[str] = "app.tasks.run"` in this module, in `fn`, or imported from a project
        module. None for anything else."""
        if depth > _MAX_DEPTH or not _HEAD.fullmatch(name):
            return None
        b = self.local_bindings(module, fn).get(name) if fn is not None else None
        if b is None:
            fn, b = None, self.module_bindings(module).get(name)
        if b is None or b.kind == "param":
            return None
        if b.kind == "value":
            if b.target.startswith('"'):
                return b.target
            return self.string_constant(module, fn, b.target, depth + 1)
        owner, _, attr = b.target.rpartition(".")
        if owner in self.modules:
            return self.string_constant(owner, None, attr, depth + 1)
        return None

    def canonical(self, fq: str, depth: int = 0) -> str:
        """Follow project modules' bindings so re-exports and aliases reach the definition."""
        if depth > _MAX_DEPTH or not fq:
            return fq
        stop = len(fq)
        for ch in "([":
            i = fq.find(ch)
            if i != -1:
                stop = min(stop, i)
        dotted_part = fq[:stop]
        parts = dotted_part.split(".")
        for n in range(len(parts), 0, -1):
            mod = ".".join(parts[:n])
            if mod not in self.modules:
                continue
            remainder = fq[len(mod) :]
            if not remainder:
                return fq
            sub = remainder[1:] if remainder.startswith(".") else ""
            if not sub:
                return fq
            head = _HEAD.match(sub)
            if head is None:
                return fq
            if f"{mod}.{head.group()}" in self.modules and head.group() not in self.module_bindings(
                mod
            ):
                continue
            bindings = self.module_bindings(mod)
            b = bindings.get(head.group())
            if b is None:
                return fq
            if b.kind == "fq" and b.target == f"{mod}.{head.group()}":
                rest = sub[head.end() :]
                if b.target in self.classes and rest:
                    return self.member(b.target, rest, depth + 1)
                return fq
            return self._bound(mod, None, b, sub[head.end() :], depth + 1)
        return fq

    # --- classes -----------------------------------------------------------------------------

    def mro(self, cls_fq: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """(project classes in method-resolution order, external bases) of a project class."""
        cached = self._mro_cache.get(cls_fq)
        if cached is not None:
            return cached
        self._mro_cache[cls_fq] = ((cls_fq,), ())  # cycle guard
        project: list[str] = [cls_fq]
        external: list[str] = []
        entry = self.classes.get(cls_fq)
        if entry is not None:
            f, c = entry
            for base in c.bases:
                resolved = self.resolve(f.module, self._scope_fn(f, c), base)
                if resolved in self.classes:
                    sub_project, sub_external = self.mro(resolved)
                    project += [p for p in sub_project if p not in project]
                    external += [e for e in sub_external if e not in external]
                elif resolved and resolved not in external:
                    external.append(resolved)
        result = (tuple(project), tuple(external))
        self._mro_cache[cls_fq] = result
        return result

    def _scope_fn(self, f: FileFacts, c: ClassFact) -> FunctionFact | None:
        """Classes defined in functions resolve their bases in the function's scope."""
        parent = c.qualname.rpartition(".")[0]
        if not parent:
            return None
        entry = self.functions.get(f"{f.module}.{parent}")
        return entry[1] if entry is not None else None

    def subclass_of(self, cls_fq: str, names: frozenset[str] | set[str]) -> str | None:
        """The external base in `names` that `cls_fq` (a project class or an external name) derives from."""
        if cls_fq in names:
            return cls_fq
        if cls_fq not in self.classes:
            return None
        _, external = self.mro(cls_fq)
        for e in external:
            if e in names:
                return e
        return None

    def find_method(self, cls_fq: str, name: str, skip_self: bool = False) -> str | None:
        project, _ = self.mro(cls_fq)
        for c in project[1:] if skip_self else project:
            entry = self.classes.get(c)
            if entry is not None and name in entry[1].methods:
                return f"{c}.{name}"
        return None

    def member(self, cls_fq: str, rest: str, depth: int = 0) -> str:
        """Resolve `rest` (".attr...", "().method...") on a project class."""
        instance = rest.startswith("()")
        tail = rest[2:] if instance else rest
        m = re.match(r"\.([A-Za-z_]\w*)", tail)
        if m is None:
            return cls_fq + rest
        name, after = m.group(1), tail[m.end() :]
        method = self.find_method(cls_fq, name)
        if method is not None:
            if after.startswith("()") and self._is_factory(method) and depth < _MAX_DEPTH:
                # `Service.build().load()`: a classmethod factory returns an instance of its class
                return self.member(cls_fq, after, depth + 1)
            return method + after
        if instance:
            value = self._instance_attribute(cls_fq, name, depth)
            if value:
                return self.canonical(value + after, depth + 1)
            _, external = self.mro(cls_fq)
            if external:
                return f"{external[0]}(){tail}"
        return cls_fq + rest

    def _is_factory(self, method_fq: str) -> bool:
        entry = self.functions.get(method_fq)
        return entry is not None and any(d.name == "classmethod" for d in entry[1].decorators)

    def super_member(self, cls_fq: str, rest: str, depth: int = 0) -> str:
        m = re.match(r"\.([A-Za-z_]\w*)", rest)
        if m is None:
            return ""
        method = self.find_method(cls_fq, m.group(1), skip_self=True)
        if method is not None:
            return method + rest[m.end() :]
        _, external = self.mro(cls_fq)
        return f"{external[0]}(){rest}" if external else ""

    def _instance_attribute(self, cls_fq: str, name: str, depth: int) -> str:
        key = (cls_fq, name)
        cached = self._attribute_cache.get(key)
        if cached is None:
            cached = self._attribute_cache[key] = self._find_instance_attribute(cls_fq, name, depth)
        return cached

    def _find_instance_attribute(self, cls_fq: str, name: str, depth: int) -> str:
        """What `self.name` holds: the value first assigned to it in a method of the class's MRO."""
        project, _ = self.mro(cls_fq)
        target = f"self.{name}"
        for c in project:
            entry = self.classes.get(c)
            if entry is None:
                continue
            f, cf = entry
            for method in cf.methods:
                fn_entry = self.functions.get(f"{c}.{method}")
                if fn_entry is None:
                    continue
                for a in fn_entry[1].assigns:
                    if a.target == target and a.value:
                        return self.resolve(f.module, fn_entry[1], a.value, depth + 1)
        return ""

    # --- call graph --------------------------------------------------------------------------

    def callees(self, fn_fq: str) -> tuple[tuple[CallFact, str], ...]:
        """Every call of a project function with its resolved target."""
        cached = self._callees.get(fn_fq)
        if cached is not None:
            return cached
        entry = self.functions.get(fn_fq)
        if entry is None:
            return ()
        f, fn = entry
        out = tuple((c, self.resolve(f.module, fn, c.callee)) for c in fn.calls)
        self._callees[fn_fq] = out
        return out

    def defining_module(self, dotted: str) -> str | None:
        """The project module that importing `dotted` (`app.jobs.MediaJob`, `app.jobs:MediaJob`,
        `app.rq_settings`) loads: a class's or function's module, or the module itself."""
        fq = self.canonical(dotted.replace(":", "."))
        if fq in self.classes:
            return self.classes[fq][0].module
        if fq in self.functions:
            return self.functions[fq][0].module
        if fq in self.modules:
            return fq
        parent = fq.rpartition(".")[0]
        return parent if parent in self.modules else None

    def call_target(self, target: str) -> str | None:
        """The project function a resolved call runs: a function, a method, or a class's __init__."""
        if target in self.functions:
            return target
        if target in self.classes:
            return self.find_method(target, "__init__")
        return None

    def module_calls(self, module: str) -> tuple[tuple[CallFact, str], ...]:
        key = f"<module>{module}"
        cached = self._callees.get(key)
        if cached is not None:
            return cached
        f = self.modules.get(module)
        out = tuple((c, self.resolve(module, None, c.callee)) for c in f.calls) if f else ()
        self._callees[key] = out
        return out

    def imported_modules(self, imp: ImportFact) -> tuple[str, ...]:
        """Modules an import statement loads (parent packages first)."""
        cached = self._imported.get(imp)
        if cached is None:
            cached = self._imported[imp] = self._imported_modules(imp)
        return cached

    def _imported_modules(self, imp: ImportFact) -> tuple[str, ...]:
        names: list[str] = []
        if not imp.module:
            return ()
        parts = imp.module.split(".")
        for i in range(1, len(parts) + 1):
            names.append(".".join(parts[:i]))
        if imp.name and imp.name != "*":
            sub = f"{imp.module}.{imp.name}"
            if sub in self.modules:
                names.append(sub)
        return tuple(names)

    def package_parents(self, module: str) -> tuple[str, ...]:
        parts = module.split(".")
        return tuple(".".join(parts[:i]) for i in range(1, len(parts)))


def _resolve_script_siblings(modules: dict[str, FileFacts]) -> None:
    """Imports of a module's sibling by its bare name, in a folder that is no package.

    Such a file runs as a script from its folder (`cd svc; python worker.py`), and Python puts
    that folder first on sys.path: `from app import conn` in svc/worker.py is svc/app.py, whatever
    else is named `app`. Rewritten in place to the sibling's module name.
    """
    named = {m.rsplit(".", cut)[0] for m in modules for cut in range(m.count(".") + 1)}
    for mod, f in list(modules.items()):
        folder = mod.rpartition(".")[0]
        if not folder or folder in modules or f.is_package:
            continue

        def sibling(imp: ImportFact, folder: str = folder, mod: str = mod) -> ImportFact:
            head = imp.module.partition(".")[0]
            if not head:
                return imp
            if imp.name is None and imp.bound == head and "." in imp.module:
                return imp  # `import app.jobs` binds `app`: left as it is
            target = f"{folder}.{head}"
            if target == mod or target not in named:
                return imp
            return imp._replace(module=f"{folder}.{imp.module}")

        imports = tuple(map(sibling, f.imports))
        main_imports = tuple(map(sibling, f.main_imports))
        functions = tuple(
            fn._replace(imports=tuple(map(sibling, fn.imports))) if fn.imports else fn
            for fn in f.functions
        )
        if (imports, main_imports, functions) != (f.imports, f.main_imports, f.functions):
            modules[mod] = replace(
                f, imports=imports, main_imports=main_imports, functions=functions
            )


def _import_target(imp: ImportFact) -> str:
    if imp.name is None:
        return imp.module if imp.bound != imp.module.split(".")[0] else imp.bound
    return f"{imp.module}.{imp.name}" if imp.module else imp.name


def _head(value: str) -> str:
    m = _HEAD.match(value)
    return m.group() if m else ""
