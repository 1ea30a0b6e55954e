"""What an FRK103/FRK104/FRK105 finding says a job does, as names the horses can count."""

from __future__ import annotations

import ast
import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from forklint.findings import Finding
from forklint.project import module_name


@dataclass(frozen=True)
class Target:
    """The callee of the finding's last step: "pickle.load" as written and resolved through the
    file's imports, and, when it names a function of a module, "pkg.mod:qualname" to watch."""

    dotted: str  # "" when the step holds no call
    function: str | None = None
    # FRK104: the modules the flagged import statement loads, read from the file (a statement
    # over several lines included), relative imports resolved.
    modules: tuple[str, ...] = ()


def target_of(finding: Finding, root: Path | None = None, src: Sequence[str] = ()) -> Target:
    """Resolve the finding's callee; without `root` only the text of the step is used."""
    if finding.code == "FRK104":
        return Target("", modules=_imports_at(finding, root, src) if root is not None else ())
    step = finding.trace[-1] if finding.trace else None
    text = step.text if step is not None else finding.source_line
    path = step.path if step is not None else finding.path
    written = _callee(text)
    if not written:
        return Target("")
    roots = ("", "src", *src)
    module = module_name(path, roots)[0]
    bindings = _bindings(root / path, module) if root is not None else {}
    head, _, rest = written.partition(".")
    if head in bindings:
        owner, qualname = bindings[head]
        qualname = ".".join(p for p in (qualname, rest) if p)
        dotted = ".".join(p for p in (owner, qualname) if p)
        return Target(dotted, f"{owner}:{qualname}" if qualname else None)
    # The memoised loader a FRK105 fix calls in the parent names the function exactly.
    fix_calls = finding.fix.prefork.calls if finding.fix and finding.fix.prefork else ()
    for entry in fix_calls:
        if entry.endswith((f":{written}", f".{written}")):
            return Target(entry.replace(":", "."), entry)
    return Target(written)


def _imports_at(finding: Finding, root: Path, src: Sequence[str]) -> tuple[str, ...]:
    """ "from a.b import c" -> ("a.b", "a.b.c") (c may be a submodule), for the import statement
    that holds the finding's line."""
    module = module_name(finding.path, ("", "src", *src))[0]
    tree = _parse(root / finding.path)
    if tree is None:
        return ()
    package = module if finding.path.endswith("__init__.py") else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if not isinstance(node, (ast.Import, ast.ImportFrom)):
            continue
        if not node.lineno <= finding.line <= (node.end_lineno or node.lineno):
            continue
        if isinstance(node, ast.Import):
            return tuple(alias.name for alias in node.names)
        base = _absolute(node, package)
        return (base, *(f"{base}.{alias.name}" for alias in node.names if alias.name != "*"))
    return ()


def _parse(path: Path) -> ast.Module | None:
    try:
        return ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
        return None


def _absolute(node: ast.ImportFrom, package: str) -> str:
    """The module a `from ... import` reads from, with its leading dots resolved against `package`."""
    if not node.level:
        return node.module or ""
    parts = package.split(".") if package else []
    parts = parts[: len(parts) - (node.level - 1)]
    return ".".join(p for p in (*parts, node.module or "") if p)


def _callee(text: str) -> str:
    """ "data = joblib.load(f)" -> "joblib.load"; "Model().predict(x)" -> "Model.predict"."""
    try:
        tree = ast.parse(text.strip().removesuffix(":"))
    except SyntaxError:
        return ""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            return _dotted(node.func)
    return ""


def _dotted(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        owner = _dotted(node.value)
        return f"{owner}.{node.attr}" if owner else ""
    if isinstance(node, ast.Call):
        return _dotted(node.func)
    return ""


def _bindings(path: Path, module: str) -> dict[str, tuple[str, str]]:
    """Local name -> (module, qualname in it), from the file's imports and top-level definitions."""
    tree = _parse(path)
    if tree is None:
        return {}
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: dict[str, tuple[str, str]] = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            found[node.name] = (module, node.name)
    # Imports anywhere in the file (a job's function-level `from pickle import load` included).
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    found[alias.asname] = (alias.name, "")
                else:
                    head = alias.name.partition(".")[0]
                    found[head] = (head, "")
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node, package)
            for alias in node.names:
                if alias.name != "*":
                    found[alias.asname or alias.name] = (base, alias.name)
    return found


def catalog_names(dotted: str, names: Sequence[str]) -> list[str]:
    """The catalog heavy-call names among `names` that `dotted` calls: the same name, or the same
    function reached through its package ("sqlalchemy.create_engine" for
    "sqlalchemy.engine.create_engine"); a "*" in a catalog name matches like a glob."""
    if not dotted:
        return []
    package, last = dotted.partition(".")[0], dotted.rpartition(".")[2]
    return [
        name
        for name in names
        if fnmatch.fnmatchcase(dotted, name)
        or (
            name.partition(".")[0] == package and fnmatch.fnmatchcase(last, name.rpartition(".")[2])
        )
    ]
