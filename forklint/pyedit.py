"""Python source edits with libcst: find nodes by position, ask what names are in scope, and write
changes as small text edits so that every other byte (formatting, comments) stays as it was."""

from __future__ import annotations

import builtins
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import libcst as cst
from libcst.metadata import (
    BuiltinScope,
    GlobalScope,
    MetadataWrapper,
    PositionProvider,
    Scope,
    ScopeProvider,
)

_BUILTINS = frozenset(dir(builtins))


@dataclass(frozen=True)
class TextEdit:
    """Replace text[start:end] with `content` (offsets in characters)."""

    start: int
    end: int
    content: str


class CannotEdit(Exception):
    """The change cannot be written safely here; the message says why (it becomes advice)."""


class PySource:
    """One parsed Python file: positions, scopes and parents of its nodes, for building edits."""

    def __init__(self, text: str) -> None:
        self.text = text
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                self.module = cst.parse_module(text)
        except cst.ParserSyntaxError as exc:
            raise CannotEdit(f"the file does not parse ({exc.message})") from None
        self._wrapper = MetadataWrapper(self.module, unsafe_skip_copy=True)
        self.positions = self._wrapper.resolve(PositionProvider)
        # Parents and the nodes of each kind in one walk over `children` (libcst's
        # ParentNodeProvider costs a full visitor pass); scopes only when a fix asks.
        self.parents: dict[cst.CSTNode, cst.CSTNode] = {}
        self._by_type: dict[type, list[cst.CSTNode]] = {}
        stack: list[cst.CSTNode] = [self.module]
        while stack:
            node = stack.pop()
            self._by_type.setdefault(type(node), []).append(node)
            for child in node.children:
                self.parents[child] = node
                stack.append(child)
        self._scopes: Mapping[cst.CSTNode, Scope | None] | None = None
        self._of_kind: dict[type, list[cst.CSTNode]] = {}
        self.newline = self.module.default_newline
        self.indent = self.module.default_indent
        self._used: set[str] | None = None
        self._line_starts = [0]
        for i, ch in enumerate(text):
            if ch == "\n":
                self._line_starts.append(i + 1)

    # --- positions -------------------------------------------------------------------------

    def offset(self, line: int, column0: int) -> int:
        """Offset of a 1-based line and 0-based column."""
        if line - 1 >= len(self._line_starts):
            return len(self.text)
        return min(self._line_starts[line - 1] + column0, len(self.text))

    def span(self, node: cst.CSTNode) -> tuple[int, int]:
        where = self.positions[node]
        return (
            self.offset(where.start.line, where.start.column),
            self.offset(where.end.line, where.end.column),
        )

    def line_start(self, line: int) -> int:
        return self.offset(line, 0)

    def code(self, node: cst.CSTNode) -> str:
        return self.module.code_for_node(node)

    # --- finding nodes ---------------------------------------------------------------------

    @property
    def scopes(self) -> Mapping[cst.CSTNode, Scope | None]:
        if self._scopes is None:
            self._scopes = self._wrapper.resolve(ScopeProvider)
        return self._scopes

    def nodes(self, kind: type[cst.CSTNode]) -> Iterator[cst.CSTNode]:
        """The nodes of `kind` (and its subclasses), in source order."""
        found = self._of_kind.get(kind)
        if found is None:
            found = [
                n
                for t, ns in self._by_type.items()
                if issubclass(t, kind)
                for n in ns
                if n in self.positions
            ]
            found.sort(key=lambda n: (self.positions[n].start.line, self.positions[n].start.column))
            self._of_kind[kind] = found
        return iter(found)

    def call_at(self, line: int, column: int, text: str = "") -> cst.Call | None:
        """The call whose callee starts at this 1-based position (the one written as `text`)."""
        found = [
            node
            for node in self.nodes(cst.Call)
            if (self.positions[node].start.line, self.positions[node].start.column + 1)
            == (line, column)
        ]
        if not found:
            return None
        exact = [n for n in found if self.code(n) == text]
        if exact:
            return exact[0]  # type: ignore[return-value]
        return min(found, key=lambda n: len(self.code(n)))  # type: ignore[return-value]

    def function(self, qualname: str) -> cst.FunctionDef | None:
        """The function (or method) with this qualified name in the module."""
        for node in self.nodes(cst.FunctionDef):
            if self.qualname(node) == qualname:
                return node  # type: ignore[return-value]
        return None

    def class_def(self, qualname: str) -> cst.ClassDef | None:
        for node in self.nodes(cst.ClassDef):
            if self.qualname(node) == qualname:
                return node  # type: ignore[return-value]
        return None

    def qualname(self, node: cst.CSTNode) -> str:
        parts = []
        current: cst.CSTNode | None = node
        while current is not None and not isinstance(current, cst.Module):
            if isinstance(current, (cst.FunctionDef, cst.ClassDef)):
                parts.append(current.name.value)
            current = self.parents.get(current)
        return ".".join(reversed(parts))

    def enclosing(self, node: cst.CSTNode, kinds: tuple[type, ...]) -> cst.CSTNode | None:
        current = self.parents.get(node)
        while current is not None and not isinstance(current, kinds):
            current = self.parents.get(current)
        return current

    def top_statement(self, node: cst.CSTNode) -> cst.CSTNode:
        """The module-level statement that holds `node`."""
        current = node
        while True:
            parent = self.parents.get(current)
            if parent is None or isinstance(parent, cst.Module):
                return current
            current = parent

    def statement_in(self, node: cst.CSTNode, body_owner: cst.CSTNode | None) -> cst.CSTNode:
        """The statement directly in `body_owner`'s body (the module when None) holding `node`."""
        current = node
        while True:
            parent = self.parents.get(current)
            if parent is None:
                return current
            if isinstance(current, (cst.SimpleStatementLine, cst.BaseCompoundStatement)):
                owner = self.enclosing(current, (cst.FunctionDef, cst.Module))
                if (body_owner is None and isinstance(owner, cst.Module)) or owner is body_owner:
                    return current
            current = parent

    def main_block(self) -> cst.If | None:
        """The `if __name__ == "__main__":` block at module level, if any."""
        for statement in self.module.body:
            if isinstance(statement, cst.If) and "__main__" in self.code(statement.test):
                return statement
        return None

    # --- names -----------------------------------------------------------------------------

    def module_scope(self) -> GlobalScope:
        scope = self.scopes[self.module]
        assert isinstance(scope, GlobalScope)
        return scope

    def used_names(self) -> set[str]:
        """Every name the file binds or reads (a new global must clash with none of them); the
        parts of a dotted module name in an import (`pybossa` in `from pybossa.core import x`)
        bind nothing and do not count."""
        if self._used is None:
            skipped: set[int] = set()
            for node in self.nodes(cst.ImportFrom):
                if node.module is not None:  # type: ignore[attr-defined]
                    skipped |= {id(n) for n in _names_in(node.module)}  # type: ignore[attr-defined]
            for node in self.nodes(cst.ImportAlias):
                if node.asname is not None:  # type: ignore[attr-defined]
                    skipped |= {id(n) for n in _names_in(node.name)}  # type: ignore[attr-defined]
                else:  # `import a.b` binds `a` only
                    skipped |= {id(n) for n in _names_in(node.name)[1:]}  # type: ignore[attr-defined]
            self._used = {
                node.value  # type: ignore[attr-defined]
                for node in self.nodes(cst.Name)
                if id(node) not in skipped
            }
        return self._used

    def global_binding(self, name: str) -> str | None:
        """What a module-level name is bound to: "import:functools", "from:rq:Worker", "other",
        or None when the module does not bind it."""
        scope = self.module_scope()
        if name not in scope:
            return None
        kinds = set()
        for assignment in scope[name]:
            if isinstance(assignment.scope, BuiltinScope):
                return None
            node = getattr(assignment, "node", None)
            kinds.add(self._import_binding(node, name) if node is not None else "other")
        return kinds.pop() if len(kinds) == 1 else "other"

    def _import_binding(self, node: cst.CSTNode, name: str) -> str:
        if isinstance(node, cst.Import):
            for alias in node.names:
                dotted = self.code(alias.name)
                bound = alias.asname.name.value if alias.asname else dotted.split(".")[0]  # type: ignore[union-attr]
                if bound == name:
                    return f"import:{dotted if alias.asname else dotted.split('.')[0]}"
        if isinstance(node, cst.ImportFrom) and not isinstance(node.names, cst.ImportStar):
            module = ("." * len(node.relative)) + (self.code(node.module) if node.module else "")
            for alias in node.names:
                imported = self.code(alias.name)
                bound = alias.asname.name.value if alias.asname else imported  # type: ignore[union-attr]
                if bound == name:
                    return f"from:{module}:{imported}"
        return "other"

    def resolves_to(self, expression: cst.BaseExpression) -> str | None:
        """The dotted name a Name/Attribute refers to through the module's imports ("rq.Worker")."""
        parts = []
        node = expression
        while isinstance(node, cst.Attribute):
            parts.append(node.attr.value)
            node = node.value
        if not isinstance(node, cst.Name):
            return None
        scope = self.scopes.get(node)
        if scope is None or node.value not in scope:
            return None
        assignments = list(scope[node.value])
        if len(assignments) != 1 or not isinstance(assignments[0].scope, GlobalScope):
            return None
        binding = self._import_binding(getattr(assignments[0], "node", None), node.value)
        if binding.startswith("import:"):
            head = binding.partition(":")[2]
        elif binding.startswith("from:"):
            _, module, imported = binding.split(":", 2)
            head = f"{module}.{imported}"
        else:
            return None
        return ".".join([head, *reversed(parts)])

    def free_names(self, node: cst.CSTNode) -> list[cst.Name]:
        """The names `node` reads (not attribute names, keywords or names it binds itself)."""
        out: list[cst.Name] = []

        class Reads(cst.CSTVisitor):
            def visit_Attribute(self, attribute: cst.Attribute) -> bool:
                attribute.value.visit(self)
                return False

            def visit_Arg(self, arg: cst.Arg) -> bool:
                arg.value.visit(self)
                return False

            def visit_Name(self, name: cst.Name) -> None:
                out.append(name)

        node.visit(Reads())
        return out

    def is_global_name(self, name: cst.Name) -> bool:
        """Whether `name` reads a module-level binding or a builtin (in scope anywhere in the file)."""
        scope = self.scopes.get(name)
        if scope is None:
            return False
        if name.value not in scope:
            return name.value in _BUILTINS
        assignments = list(scope[name.value])
        if not assignments:
            return name.value in _BUILTINS
        return all(isinstance(a.scope, (GlobalScope, BuiltinScope)) for a in assignments)

    def fresh_name(self, wanted: str, taken: set[str]) -> str:
        """`wanted`, or `wanted_2`..., clashing with no name of the file nor `taken`."""
        used = self.used_names() | taken
        name = wanted
        number = 2
        while name in used or name in _BUILTINS:
            name = f"{wanted}_{number}"
            number += 1
        return name

    # --- where new code goes ---------------------------------------------------------------

    def before_statement(self, statement: cst.CSTNode) -> int:
        """Offset where code placed before a module-level statement goes: after the blank lines
        above it, before the comments that introduce it."""
        start_line = self.positions[statement].start.line
        decorators = getattr(statement, "decorators", ())
        if decorators:  # a def's position starts at `def`, after its decorators
            start_line = min(start_line, self.positions[decorators[0]].start.line)
        leading = list(getattr(statement, "leading_lines", ()))
        comments = 0
        for empty in reversed(leading):
            if empty.comment is None:
                break
            comments += 1
        return self.line_start(start_line - comments)

    def module_end(self) -> int:
        """Offset where code appended to the module goes: before the `__main__` block, else at the end."""
        main = self.main_block()
        if main is not None:
            return self.before_statement(main)
        return len(self.text)

    def import_point(self) -> int:
        """Offset at the start of the line after the module's last top-level import that comes
        before its first definition (so after `monkey.patch_all()` when imports follow it),
        else after the docstring and `__future__` imports; 0 in a module with neither."""
        last = None
        for statement in self.module.body:
            if isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
                break
            if isinstance(statement, cst.If) and "__main__" in self.code(statement.test):
                break
            if isinstance(statement, cst.SimpleStatementLine) and all(
                isinstance(s, (cst.Import, cst.ImportFrom)) for s in statement.body
            ):
                last = statement
            elif (
                last is None
                and statement is self.module.body[0]
                and isinstance(statement, cst.SimpleStatementLine)
                and len(statement.body) == 1
                and isinstance(statement.body[0], cst.Expr)
                and isinstance(statement.body[0].value, (cst.SimpleString, cst.ConcatenatedString))
            ):
                last = statement  # the docstring
        if last is None:
            return 0
        return self.line_start(self.positions[last].end.line + 1)

    def import_edit(self, lines: list[str]) -> TextEdit | None:
        """New import lines at the import point (None when there are none)."""
        if not lines:
            return None
        at = self.import_point()
        lead = (
            self.newline
            if at == len(self.text) and self.text and not self.text.endswith("\n")
            else ""
        )
        content = lead + "".join(line + self.newline for line in lines)
        if at == 0 and self.text and not self.text.startswith(("\n", "\r")):
            content += self.newline  # a blank line between new imports and the code below
        return TextEdit(at, at, content)

    def statement_indent(self, statement: cst.CSTNode) -> str:
        line = self.positions[statement].start.line
        start = self.line_start(line)
        text = self.text[start : start + 200]
        return text[: len(text) - len(text.lstrip(" \t"))]

    def appended_block(self, at: int, block: str) -> TextEdit:
        """`block` (top-level code ending in a newline) inserted at `at`, a line start, with two
        blank lines between it and the code around it."""
        nl = self.newline
        before, after = self.text[:at], self.text[at:]
        lead = ""
        if before and not before.endswith("\n"):
            lead, before = nl, before + "\n"
        if before.strip():
            code = before.rstrip(" \t\r\n")
            blanks = before[len(code) :].count("\n") - 1
            lead += nl * max(0, 2 - blanks)
        tail = ""
        if after.strip():
            rest = after.lstrip(" \t\r\n")
            tail = nl * max(0, 2 - after[: len(after) - len(rest)].count("\n"))
        return TextEdit(at, at, lead + block + tail)


@dataclass
class NewNames:
    """The names a run's edits add to one file: new globals (getters, handlers) and imports,
    so that two changes to the same file share an import and never reuse a global."""

    globals: set[str]
    imports: dict[str, str]  # bound name -> the import line that binds it

    def taken(self) -> set[str]:
        return self.globals | set(self.imports)


def new_global(source: PySource, wanted: str, names: NewNames) -> str:
    name = source.fresh_name(wanted, names.taken())
    names.globals.add(name)
    return name


def imported_name(
    source: PySource, module: str, name: str, names: NewNames
) -> tuple[str, str | None]:
    """(how to write `module.name` in this file, the import line to add or None).

    `from module import name` when the file has no `name` of its own (or another edit adds that
    very import); the binding it already has when it imports that very name; else an alias.
    """
    line = f"from {module} import {name}"
    binding = source.global_binding(name)
    if binding == f"from:{module}:{name}":
        return name, None
    if names.imports.get(name) == line:
        return name, line
    if binding is None and name not in source.used_names() and name not in names.taken():
        names.imports[name] = line
        return name, line
    alias = source.fresh_name(f"_{name}", names.globals)
    line = f"from {module} import {name} as {alias}"
    if names.imports.get(alias, line) != line:
        alias = source.fresh_name(f"_{name}", names.taken())
        line = f"from {module} import {name} as {alias}"
    names.imports[alias] = line
    return alias, line


def imported_module(source: PySource, module: str, names: NewNames) -> tuple[str, str | None]:
    """(how to write `module` in this file, the import line to add or None)."""
    head = module.split(".")[0]
    line = f"import {module}"
    binding = source.global_binding(head)
    if binding == f"import:{head}" and (module == head or _imports_dotted(source, module)):
        return module, None
    planned = names.imports.get(head)
    plain = planned is not None and planned.startswith(f"import {head}") and " as " not in planned
    if plain or (binding == f"import:{head}" and planned is None):
        # `import a.b` next to `import a.c` (planned or already there): both bind the package a
        names.imports.setdefault(head, line)
        return module, line
    if binding is None and head not in source.used_names() and head not in names.taken():
        names.imports[head] = line
        return module, line
    alias = "_" + module.replace(".", "_")
    line = f"import {module} as {alias}"
    if names.imports.get(alias, line) != line or alias in source.used_names():
        alias = source.fresh_name(alias, names.taken())
        line = f"import {module} as {alias}"
    names.imports[alias] = line
    return alias, line


def _imports_dotted(source: PySource, module: str) -> bool:
    for node in source.nodes(cst.Import):
        for alias in node.names:  # type: ignore[attr-defined]
            if alias.asname is None and source.code(alias.name) == module:
                return True
    return False


def _names_in(node: cst.CSTNode) -> list[cst.Name]:
    """The names of a dotted name, leftmost first."""
    out: list[cst.Name] = []
    while isinstance(node, cst.Attribute):
        out.append(node.attr)
        node = node.value
    if isinstance(node, cst.Name):
        out.append(node)
    return out[::-1]


def apply_text(text: str, edits: list[TextEdit]) -> str:
    for edit in sorted(edits, key=lambda e: (e.start, e.end), reverse=True):
        text = text[: edit.start] + edit.content + text[edit.end :]
    return text


def parses(text: str) -> bool:
    """Whether `text` is Python that compiles (nothing is run)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(text, "<fix>", "exec", dont_inherit=True)
    except (SyntaxError, ValueError):
        return False
    return True
