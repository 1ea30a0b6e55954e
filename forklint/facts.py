"""Per-file facts: parse a file once with libcst and keep imports, definitions and calls as plain data."""

from __future__ import annotations

import bisect
import dataclasses
import re
import symtable
import sys
import warnings
from dataclasses import dataclass

from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

from forklint.findings import FileError


# The facts of a file are tuples (NamedTuple), and unpickle as plain tuples do: no instance dict
# and no Python call per object. A run with one changed file loads the cached facts of every other
# file, hundreds of thousands of them, and this halves the time that takes.
_T = TypeVar("_T", bound=tuple)


def _tuple_pickled(cls: type[_T]) -> type[_T]:
    def __reduce__(self: tuple) -> tuple[Any, ...]:
        return (tuple.__new__, (cls, tuple(self)))

    cls.__reduce__ = __reduce__  # type: ignore[assignment,method-assign]
    return cls


@_tuple_pickled
class Loc(NamedTuple):
    line: int  # 1-based
    column: int  # 1-based
    end_line: int
    end_column: int  # 1-based, exclusive


@_tuple_pickled
class ImportFact(NamedTuple):
    module: str  # absolute module imported from ("numpy", "app.models"); "" when unresolvable
    name: str | None  # the imported attribute for `from m import name`; None for `import m`
    bound: str  # the local name bound ("np", "Event", "os" for `import os.path`)
    loc: Loc
    conditional: bool  # under if/try/except: may not run every time
    text: str  # "import numpy as np"


@_tuple_pickled
class CallFact(NamedTuple):
    callee: str  # dotted as written; "()" marks a call result: "Worker().work", "self.load", "" if not a name
    loc: Loc  # of the callee's leftmost name chain
    args: tuple[
        str, ...
    ]  # positional args described: dotted name, '"literal"', callee + "()", "[...]", ""
    kwargs: tuple[tuple[str, str], ...]  # (keyword, described value)
    conditional: bool  # under if/else/except/while/and/or: not on every run of its scope
    managed: bool = False  # a `with` item: its context manager exits when the block ends
    evaluated: bool = False  # its value is used up where it stands: iterated, tested, indexed
    # the names its arguments are made of (`os.path.join(ROOT, name)` -> os, ROOT, name); "*" when
    # there are too many to list
    names: tuple[str, ...] = ()


@_tuple_pickled
class AssignFact(NamedTuple):
    target: str  # "model", "self.engine", "Base"
    value: str  # described value: dotted name, callee + "()", '"literal"'; partial(f) is described as f
    loc: Loc
    conditional: bool


@_tuple_pickled
class DecoratorFact(NamedTuple):
    name: str  # dotted callee of the decorator: "app.task" for both @app.task and @app.task(bind=True)
    called: bool
    args: tuple[str, ...]
    kwargs: tuple[tuple[str, str], ...]
    loc: Loc


@_tuple_pickled
class FunctionFact(NamedTuple):
    qualname: str  # within the module: "record_event", "MyWorker.perform_job", "outer.inner"
    name: str
    loc: Loc  # of the name
    cls: str | None  # qualname of the class for methods
    decorators: tuple[DecoratorFact, ...]
    params: tuple[tuple[str, str], ...]  # (name, described annotation); `*args` as ("*args", "")
    calls: tuple[CallFact, ...]
    imports: tuple[ImportFact, ...]  # function-level imports
    assigns: tuple[AssignFact, ...]
    memo_globals: tuple[str, ...]  # globals filled by the "global X; if X is None: X = ..." pattern
    reads: tuple[
        CallFact, ...
    ] = ()  # attribute reads ("self.model", "SERVICE.client"): cached_property fills
    returns: tuple[str, ...] = ()  # described values of its `return`/`yield` statements
    defaults: tuple[tuple[str, str], ...] = ()  # (parameter, described default value)


@_tuple_pickled
class ClassFact(NamedTuple):
    qualname: str
    name: str
    loc: Loc
    bases: tuple[str, ...]  # described
    keywords: tuple[tuple[str, str], ...]  # metaclass=..., table=True
    decorators: tuple[DecoratorFact, ...]
    calls: tuple[CallFact, ...]  # class-body calls (run at import)
    assigns: tuple[AssignFact, ...]
    methods: tuple[str, ...]  # method names


@dataclass(frozen=True)
class FileFacts:
    module: str
    relpath: str
    is_package: bool
    imports: tuple[ImportFact, ...] = ()  # module level (run at import)
    calls: tuple[
        CallFact, ...
    ] = ()  # module level, class bodies included, `__main__` block excluded
    assigns: tuple[AssignFact, ...] = ()  # module level
    main_calls: tuple[CallFact, ...] = ()  # under `if __name__ == "__main__":`
    main_imports: tuple[ImportFact, ...] = ()
    main_assigns: tuple[AssignFact, ...] = ()
    reads: tuple[CallFact, ...] = ()  # module-level attribute reads
    functions: tuple[FunctionFact, ...] = ()
    classes: tuple[ClassFact, ...] = ()
    syntax_error: tuple[int, int, str] | None = None  # (line, column, message)
    error: FileError | None = None


# --- positions -------------------------------------------------------------------------------
# libcst's PositionProvider re-generates the whole module; instead, a regex pass over the text
# finds where each logical line starts, and statements consume logical lines in source order.

_BLANK = " \t\f"
# A run of plain characters, then one token: a string, a comment, a bracket, a line continuation,
# a newline, or a stray backslash or quote (z). The plain run is one character class (a C loop),
# so the engine does not try every alternative at every character: three times faster.
_TOKENS = re.compile(
    r"""[^'"#()\[\]{}\\\r\n]*(?:"""
    r"""(?P<s>'''[^'\\]*(?:(?:\\.|'(?!''))[^'\\]*)*'''"""
    r'''|"""[^"\\]*(?:(?:\\.|"(?!""))[^"\\]*)*"""'''
    r"""|'[^'\\\n]*(?:\\.[^'\\\n]*)*'|"[^"\\\n]*(?:\\.[^"\\\n]*)*")"""
    r"|(?P<c>#[^\r\n]*)|(?P<o>[(\[{])|(?P<x>[)\]}])|(?P<b>\\\r?\n)|(?P<n>\r\n|\n|\r)|(?P<z>[\\'\"]))",
    re.DOTALL,
)
_S, _C, _O, _X, _B, _N, _Z = range(1, 8)


def _logical_line_starts(text: str) -> list[int]:
    starts: list[int] = []
    append = starts.append
    pending = True
    depth = 0
    prev = 0
    for m in _TOKENS.finditer(text):
        kind = m.lastindex
        begin = m.start(kind)
        if pending and begin > prev:
            rest = text[prev:begin].lstrip(_BLANK)
            if rest:
                append(begin - len(rest))
                pending = False
        prev = m.end()
        if kind == _N:
            if depth == 0:
                pending = True
            continue
        if kind == _C or kind == _B:
            continue
        if pending:
            append(begin)
            pending = False
        if kind == _O:
            depth += 1
        elif kind == _X and depth:
            depth -= 1
    if pending and text[prev:].strip(_BLANK + "\r\n"):
        starts.append(prev + len(text[prev:]) - len(text[prev:].lstrip(_BLANK)))
    return starts


class _PositionsOutOfStep(Exception):
    """The logical-line scan and the parse disagree (exotic syntax): positions fall back to libcst."""


class _Locator:
    """Hands out logical-line regions in order and finds names inside them."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.starts = _logical_line_starts(text)
        self.index = 0
        self.region_end = 0
        self.cursor = 0

    def next_line(self) -> int:
        if self.index >= len(self.starts):
            raise _PositionsOutOfStep
        start = self.starts[self.index]
        self.index += 1
        self.region_end = (
            self.starts[self.index] if self.index < len(self.starts) else len(self.text)
        )
        self.cursor = start
        return start

    def find(self, pattern: re.Pattern[str], strict: bool = False) -> tuple[int, int]:
        m = pattern.search(self.text, self.cursor, self.region_end)
        if m is None:
            if strict:
                return None  # type: ignore[return-value]
            return self.cursor, self.cursor + 1
        self.cursor = m.start() + 1
        return m.start(), m.end()

    def statement_end(self, start: int) -> int:
        """Where the simple statement starting at `start` ends on its first line (for a highlight
        that covers `from x import y`, not just `from`): before `;`, a comment or the newline."""
        text = self.text
        newline = text.find("\n", start, self.region_end)
        stop = newline if newline != -1 else self.region_end
        for mark in (";", "#"):
            cut = text.find(mark, start, stop)
            if cut != -1:
                stop = cut
        while stop > start and text[stop - 1] in " \t\r\\":
            stop -= 1
        return stop

    def find_name(
        self, dotted: str, paren: bool = False, strict: bool = False
    ) -> tuple[int, int] | None:
        """The next occurrence of a dotted name (whitespace allowed around dots) in the current line.

        Plain string search: compiling a regex per name cost more than parsing the file.
        """
        text, limit = self.text, self.region_end
        parts = dotted.split(".")
        first = parts[0]
        i = text.find(first, self.cursor, limit)
        while i != -1:
            prev = text[i - 1] if i > 0 else " "
            if not (prev.isalnum() or prev == "_" or prev == "."):
                j = i + len(first)
                ok = True
                for part in parts[1:]:
                    while j < limit and text[j] in _GAP:
                        j += 1
                    if j >= limit or text[j] != ".":
                        ok = False
                        break
                    j += 1
                    while j < limit and text[j] in _GAP:
                        j += 1
                    if not text.startswith(part, j):
                        ok = False
                        break
                    j += len(part)
                if ok and not (j < len(text) and (text[j].isalnum() or text[j] == "_")):
                    k = j
                    while paren and k < limit and text[k] in " \t":
                        k += 1
                    if not paren or (k < limit and text[k] == "("):
                        self.cursor = i + 1
                        return i, j
            i = text.find(first, i + 1, limit)
        if strict:
            return None
        return self.cursor, self.cursor + 1

    def find_text(self, literal: str) -> tuple[int, int]:
        i = self.text.find(literal, self.cursor, self.region_end)
        if i == -1:
            return self.cursor, self.cursor + 1
        self.cursor = i + 1
        return i, i + len(literal)

    def after_keyword(self, keyword: str) -> None:
        i = self.text.find(keyword, self.cursor, self.region_end)
        if i != -1:
            self.cursor = i + len(keyword)

    def skip(self, pattern: re.Pattern[str]) -> None:
        """Move past the next match (an assignment operator) so value names are not found in targets."""
        m = pattern.search(self.text, self.cursor, self.region_end)
        if m is not None:
            self.cursor = m.end()

    def done(self) -> None:
        if self.index != len(self.starts):
            raise _PositionsOutOfStep


class _Lines:
    """Offset -> (line, column), both 1-based."""

    def __init__(self, text: str) -> None:
        self.offsets = [0] + [m.end() for m in re.finditer(r"\r\n|\n|\r", text)]

    def loc(self, start: int, end: int) -> Loc:
        line = bisect.bisect_right(self.offsets, start)
        end_line = bisect.bisect_right(self.offsets, end - 1) if end > start else line
        return Loc(
            line, start - self.offsets[line - 1] + 1, end_line, end - self.offsets[end_line - 1] + 1
        )


_GAP = " \t\\\r\n"
_ASSIGN_OP = re.compile(r"(?<![=!<>:])=(?!=)")
_AUG_OP = re.compile(r"(?:\*\*|//|>>|<<|[-+*/%&|^@])=")
_IMPORT = re.compile(r"\bimport\b")
_FROM = re.compile(r"\bfrom\b")


# --- describing expressions ------------------------------------------------------------------

# Strings kept in descriptions: dotted paths ("app.tasks:run") and command names ("worker-pool").
_DOTTED = re.compile(r"[\w.:-]{1,200}\Z")
_PARTIALS = frozenset({"partial", "functools.partial"})


def dotted(node: cst.CSTNode) -> str:
    """Dotted name of a Name/Attribute chain, with "()" for calls and "[]" for subscripts; "" otherwise."""
    t = type(node)
    if t is cst.Name:
        return node.value  # type: ignore[attr-defined]
    if t is cst.Attribute:
        head = dotted(node.value)  # type: ignore[attr-defined]
        return f"{head}.{node.attr.value}" if head else ""  # type: ignore[attr-defined]
    if t is cst.Call:
        head = dotted(node.func)  # type: ignore[attr-defined]
        return f"{head}()" if head else ""
    if t is cst.Subscript:
        head = dotted(node.value)  # type: ignore[attr-defined]
        return f"{head}[]" if head else ""
    return ""


def _string(node: cst.CSTNode) -> str | None:
    if type(node) is cst.SimpleString:
        raw = node.value  # type: ignore[attr-defined]
        if raw[:1] in "'\"" and "\\" not in raw and raw[:3] not in ("'''", '"""'):
            return raw[1:-1]
    return None


def describe(node: cst.CSTNode) -> str:
    t = type(node)
    if t is cst.Name or t is cst.Attribute:
        return dotted(node)
    if t is cst.Call:
        head = dotted(node.func)  # type: ignore[attr-defined]
        if head in _PARTIALS and node.args:  # type: ignore[attr-defined]
            return describe(node.args[0].value)  # type: ignore[attr-defined]
        return f"{head}()" if head else ""
    if t is cst.SimpleString:
        s = _string(node)
        return f'"{s}"' if s is not None and _DOTTED.match(s) else ""
    if t is cst.Integer:
        return node.value  # type: ignore[attr-defined]
    if t is cst.List or t is cst.Tuple or t is cst.Set:
        return "[" + ",".join(describe(e.value) for e in node.elements) + "]"  # type: ignore[attr-defined]
    if t is cst.Subscript:
        return dotted(node)
    if t is cst.FormattedString or t is cst.BinaryOperation:
        return _computed_dotted(node)
    return ""


def described_string(described: str) -> str | None:
    """The text of a string literal as `describe` writes it (`'"gpu"'` -> `gpu`); None else."""
    if len(described) >= 2 and described.startswith('"') and described.endswith('"'):
        return described[1:-1]
    return None


_PREFIX = re.compile(r"[A-Za-z_][\w.]*\.\Z")


def _computed_dotted(node: cst.CSTNode) -> str:
    """`f"app.tasks.{name}"` or `"app.tasks." + name`: a dotted name ending in a variable,
    described `+app.tasks.+name` (never read as a literal: it does not start with a quote)."""
    if type(node) is cst.FormattedString:
        parts = node.parts  # type: ignore[attr-defined]
        if (
            len(parts) != 2
            or type(parts[0]) is not cst.FormattedStringText
            or type(parts[1]) is not cst.FormattedStringExpression
            or parts[1].conversion is not None
            or parts[1].format_spec is not None
        ):
            return ""
        prefix, tail = parts[0].value, parts[1].expression
    else:
        if type(node.operator) is not cst.Add:  # type: ignore[attr-defined]
            return ""
        prefix, tail = _string(node.left), node.right  # type: ignore[attr-defined]
    if prefix is None or not _PREFIX.match(prefix) or type(tail) is not cst.Name:
        return ""
    return f"+{prefix}+{tail.value}"


def _is_plain(name: str) -> bool:
    return bool(name) and "(" not in name and "[" not in name


def _leftmost_chain(node: cst.CSTNode) -> cst.CSTNode | None:
    """The Name/Attribute chain (or string) a call expression starts with, for locating it."""
    while True:
        t = type(node)
        if t is cst.Call:
            node = node.func  # type: ignore[attr-defined]
        elif t is cst.Subscript:
            node = node.value  # type: ignore[attr-defined]
        elif t is cst.Attribute:
            inner = node.value  # type: ignore[attr-defined]
            if type(inner) in (cst.Name, cst.Attribute) and _is_plain(dotted(inner)):
                return node
            node = inner
        elif t is cst.Name or t is cst.SimpleString:
            return node
        else:
            return None


# --- the walk --------------------------------------------------------------------------------

_SKIP_FIELD = re.compile(
    r"whitespace|lpar|rpar|comma|semicolon|equal|colon|operator|star|dot|leading_lines|header|footer|indent|^asynchronous$|^lines_after|^newline|^default_|^encoding$|^has_trailing|^start$|^end$|^keyword$|^walrus$|^trailing"
)
_FIELDS: dict[type, tuple[str, ...]] = {}


def _fields(t: type) -> tuple[str, ...]:
    names = _FIELDS.get(t)
    if names is None:
        names = _FIELDS[t] = tuple(
            f.name for f in dataclasses.fields(t) if not _SKIP_FIELD.search(f.name)
        )
    return names


if TYPE_CHECKING:
    import libcst as cst
else:
    # libcst is imported where a file is parsed (a parser worker), not by a run that only loads
    # cached facts: `cst` and the node tuples below are set by _load_libcst().
    cst: Any = None
_LEAVES: tuple[type, ...] = ()


def _load_libcst() -> None:
    global cst, _LEAVES
    if cst is not None:
        return
    import libcst

    cst = libcst
    _LEAVES = (cst.Name, cst.SimpleString, cst.Integer, cst.Float, cst.Imaginary, cst.Ellipsis)


class _Scope:
    def __init__(self) -> None:
        self.calls: list[
            tuple[str, int, int, tuple[str, ...], tuple[tuple[str, str], ...], bool]
        ] = []
        self.imports: list[tuple] = []
        self.assigns: list[tuple] = []
        self.globals: set[str] = set()
        self.memo: list[str] = []
        self.reads: list[tuple[str, int, int, bool]] = []
        self.returns: list[str] = []
        # local -> the names its latest value was computed from, when that value is a call's
        self.fetched: dict[str, set[str]] = {}


class _Walker:
    def __init__(self, text: str, module: str, is_package: bool) -> None:
        self.text = text
        self.module = module
        self.is_package = is_package
        self.locator = _Locator(text)
        self.chain_pos: dict[int, tuple[int, int]] = {}
        self.module_scope = _Scope()
        self.main_scope = _Scope()
        self.functions: list[tuple] = []
        self.classes: list[tuple] = []
        self.managed: set[int] = set()  # ids of the Call nodes that are `with` items
        self.params: list[set[str]] = []  # the parameters of the functions being walked
        self.evaluated: set[int] = set()  # ids of the Call nodes whose value is used up at once

    # statements

    def block(self, body: cst.BaseSuite, scope: _Scope, cond: bool, ctx: tuple) -> None:
        if type(body) is cst.SimpleStatementSuite:
            for small in body.body:
                self.small(small, scope, cond, ctx)
            return
        for stmt in body.body:  # type: ignore[attr-defined]
            self.stmt(stmt, scope, cond, ctx)
            # `if cache: return cache` guards what follows: it runs only on some runs; so does
            # `if not app.config.get("METRICS_ENABLED"): return` (whether it runs is the
            # deployment's settings)
            if (
                not cond
                and type(stmt) is cst.If
                and (
                    _cache_guard(stmt)
                    or self.settings_guard(stmt)
                    or self.data_guard(stmt, scope, ctx)
                )
            ):
                cond = True

    def data_guard(self, node: cst.If, scope: _Scope, ctx: tuple) -> bool:
        """`rows = query(...).all()` then `if not rows: return`: what follows runs only when the
        run found data. A lookup made from the job's own arguments (`user = get(user_id)`, then
        `if user is None: return`) is a validation: the normal path goes on, every run."""
        if ctx[0] != "function" or not self.params or _early_return(node) is None:
            return False
        names = _test_names(node.test)
        if not names or any(n.split(".")[0] not in scope.fetched for n in names):
            return False
        params = self.params[-1]
        for name in names:
            reads = scope.fetched[name.split(".")[0]]
            if any(read.split(".")[0] in params for read in reads):
                return False  # made from the job's arguments: a validation
            if any(part in _SETTINGS_PARTS for read in reads for part in read.split(".")):
                return False  # a setting's value (`path = app.config.get(...)`): every run's
        return True

    def settings_guard(self, node: cst.If) -> bool:
        """`if not app.config.get("METRICS_ENABLED"): return`, `if settings.DISABLE_EMAILS:
        return`, `if not FLAG: return` with FLAG imported from a settings or config module: an
        early return on a setting; what follows runs only where the deployment switches it on."""
        if _early_return(node) is None:
            return False
        sources = {imp[2]: imp[0] for imp in self.module_scope.imports}  # bound name -> module
        for name in _test_names(node.test):
            origin = sources.get(name.split(".")[0], "")
            for part in (*name.split("."), *origin.split(".")):
                if part in _SETTINGS_PARTS:
                    return True
        return False

    def stmt(self, node: cst.CSTNode, scope: _Scope, cond: bool, ctx: tuple) -> None:
        t = type(node)
        loc = self.locator
        if t is cst.SimpleStatementLine:
            loc.next_line()
            for small in node.body:  # type: ignore[attr-defined]
                self.small(small, scope, cond, ctx)
        elif t is cst.FunctionDef:
            self.function(node, scope, ctx)  # type: ignore[arg-type]
        elif t is cst.ClassDef:
            self.klass(node, scope, cond, ctx)  # type: ignore[arg-type]
        elif t is cst.If:
            loc.next_line()
            self.if_(node, scope, cond, ctx)  # type: ignore[arg-type]
        elif t is cst.For:
            loc.next_line()
            self.evaluate(node.iter, scope, cond)  # type: ignore[attr-defined]
            self.expr(node.iter, scope, cond)  # type: ignore[attr-defined]
            self.loop_target(node.target, node.iter, scope)  # type: ignore[attr-defined]
            self.block(node.body, scope, cond, ctx)  # type: ignore[attr-defined]
            self.orelse(node.orelse, scope, ctx)  # type: ignore[attr-defined]
        elif t is cst.While:
            loc.next_line()
            self.evaluate(node.test, scope, cond)  # type: ignore[attr-defined]
            self.expr(node.test, scope, cond)  # type: ignore[attr-defined]
            self.block(node.body, scope, True, ctx)  # type: ignore[attr-defined]
            self.orelse(node.orelse, scope, ctx)  # type: ignore[attr-defined]
        elif t is cst.With:
            loc.next_line()
            for item in node.items:  # type: ignore[attr-defined]
                if type(item.item) is cst.Call:
                    self.managed.add(id(item.item))
                self.expr(item.item, scope, cond)
                if item.asname is not None and type(item.asname.name) is cst.Name:
                    self.assign(dotted(item.asname.name), item.item, scope, cond)
            self.block(node.body, scope, cond, ctx)  # type: ignore[attr-defined]
        elif t is cst.Try or t is cst.TryStar:
            loc.next_line()
            self.block(node.body, scope, cond, ctx)  # type: ignore[attr-defined]
            for handler in node.handlers:  # type: ignore[attr-defined]
                loc.next_line()
                self.block(handler.body, scope, True, ctx)
            self.orelse(node.orelse, scope, ctx)  # type: ignore[attr-defined]
            if node.finalbody is not None:  # type: ignore[attr-defined]
                loc.next_line()
                self.block(node.finalbody.body, scope, cond, ctx)  # type: ignore[attr-defined]
        elif t is cst.Match:
            loc.next_line()
            self.expr(node.subject, scope, cond)  # type: ignore[attr-defined]
            for case in node.cases:  # type: ignore[attr-defined]
                loc.next_line()
                self.block(case.body, scope, True, ctx)
        else:  # an unknown compound statement: keep the logical lines in step
            loc.next_line()
            body = getattr(node, "body", None)
            if isinstance(body, cst.BaseSuite):
                self.block(body, scope, True, ctx)

    def orelse(self, node: cst.CSTNode | None, scope: _Scope, ctx: tuple) -> None:
        if node is not None:
            self.locator.next_line()
            self.block(node.body, scope, True, ctx)  # type: ignore[attr-defined]

    def if_(self, node: cst.If, scope: _Scope, cond: bool, ctx: tuple) -> None:
        test = node.test
        kind = ctx[0]
        if kind == "module" and _is_main_test(test):
            self.block(node.body, self.main_scope, False, ("main",) + ctx[1:])
            if node.orelse is not None:
                self.else_chain(node.orelse, scope, ctx)
            return
        if kind == "module" and _has_main_conjunct(test):
            # `if __name__ == "__main__" and sys.argv[1:] == ["init"]:` runs only as a script, and
            # only sometimes: never at import
            self.expr(test, self.main_scope, True)
            self.block(node.body, self.main_scope, True, ("main",) + ctx[1:])
            if node.orelse is not None:
                self.else_chain(node.orelse, scope, ctx)
            return
        if _is_type_checking(test) or _never(test):
            # typing-only imports never run; nor does the body of `if False:` / `if 0:`
            self.block(node.body, _Scope(), True, ctx)
            if node.orelse is not None:
                self.else_chain(node.orelse, scope, ctx)
            return
        self.evaluate(test, scope, cond)
        self.expr(test, scope, cond)
        if kind == "function":
            name = _none_test_name(test)
            if name is not None and name in scope.globals:
                scope.memo.append(name)
        self.block(node.body, scope, True, ctx)
        if node.orelse is not None:
            self.else_chain(node.orelse, scope, ctx)

    def else_chain(self, node: cst.CSTNode, scope: _Scope, ctx: tuple) -> None:
        self.locator.next_line()
        if type(node) is cst.If:
            self.if_(node, scope, True, ctx)  # type: ignore[arg-type]
        else:
            self.block(node.body, scope, True, ctx)  # type: ignore[attr-defined]

    def decorators(self, decorators: tuple[cst.Decorator, ...] | list) -> tuple:
        out = []
        for deco in decorators:
            self.locator.next_line()
            expr = deco.decorator
            called = type(expr) is cst.Call
            target = expr.func if called else expr  # type: ignore[attr-defined]
            name = dotted(target)
            if name:
                self.locator.after_keyword("@")
                start, end = self.locator.find_name(name)  # type: ignore[misc]
            else:
                start, end = self.locator.cursor, self.locator.cursor + 1
            args, kwargs = _args(expr.args) if called else ((), ())  # type: ignore[attr-defined]
            out.append((name, called, args, kwargs, start, end))
        return tuple(out)

    def function(self, node: cst.FunctionDef, outer: _Scope, ctx: tuple) -> None:
        decorators = self.decorators(node.decorators)
        self.locator.next_line()
        name = node.name.value
        self.locator.after_keyword("def")
        start, end = self.locator.find_name(name)  # type: ignore[misc]
        kind, prefix, cls = ctx[0], ctx[1], ctx[2] if len(ctx) > 2 else None
        qualname = f"{prefix}.{name}" if prefix else name
        params = []
        defaults = []
        p = node.params
        for param in (*p.posonly_params, *p.params, *p.kwonly_params):
            if param.default is not None:
                defaults.append((param.name.value, describe(param.default)))
            ann = describe(param.annotation.annotation) if param.annotation is not None else ""
            ann = ann.strip('"')  # a string annotation names the class all the same
            if not ann and param.annotation is not None:
                s = _string(param.annotation.annotation)
                ann = s or ""
            params.append((param.name.value, ann))
        if isinstance(p.star_arg, cst.Param):  # `*args`, after the positional parameters
            params.insert(len(p.posonly_params) + len(p.params), ("*" + p.star_arg.name.value, ""))
        scope = _Scope()
        if kind == "class":
            outer_cls = cls
        else:
            outer_cls = None
        self.params.append({name for name, _ann in params if not name.startswith("*")})
        self.block(node.body, scope, False, ("function", qualname, None))
        self.params.pop()
        self.functions.append(
            (
                qualname,
                name,
                start,
                end,
                outer_cls,
                decorators,
                tuple(params),
                scope,
                tuple(defaults),
            )
        )

    def klass(self, node: cst.ClassDef, outer: _Scope, cond: bool, ctx: tuple) -> None:
        decorators = self.decorators(node.decorators)
        self.locator.next_line()
        name = node.name.value
        self.locator.after_keyword("class")
        start, end = self.locator.find_name(name)  # type: ignore[misc]
        for arg in (*node.bases, *node.keywords):
            self.expr(arg.value, outer, cond)
        bases = tuple(describe(a.value) for a in node.bases)
        keywords = tuple(
            (a.keyword.value, describe(a.value)) for a in node.keywords if a.keyword is not None
        )
        prefix = ctx[1] if ctx[0] in ("class", "function") else ""
        qualname = f"{prefix}.{name}" if prefix else name
        # the class body runs at import (module level) or when the enclosing function runs
        scope = _Scope() if ctx[0] != "function" else outer
        self.block(node.body, scope, cond, ("class", qualname, qualname))
        methods = []
        for stmt in node.body.body:  # type: ignore[attr-defined]
            if type(stmt) is cst.FunctionDef:
                methods.append(stmt.name.value)
        self.classes.append(
            (qualname, name, start, end, bases, keywords, decorators, scope, tuple(methods))
        )
        if ctx[0] != "function":
            target = self.module_scope if ctx[0] in ("module", "class") else self.main_scope
            target.calls.extend(scope.calls)
            target.imports.extend(scope.imports)

    def small(self, node: cst.CSTNode, scope: _Scope, cond: bool, ctx: tuple) -> None:
        t = type(node)
        if t is cst.Expr:
            value = node.value  # type: ignore[attr-defined]
            if type(value) is cst.Yield and isinstance(value.value, cst.BaseExpression):
                scope.returns.append(
                    describe(value.value)
                )  # a generator or @contextmanager's value
            self.expr(value, scope, cond)
        elif t is cst.Assign:
            value = node.value  # type: ignore[attr-defined]
            self.locator.skip(_ASSIGN_OP)
            self.expr(value, scope, cond)
            for target in node.targets:  # type: ignore[attr-defined]
                self.assign_target(target.target, value, scope, cond)
        elif t is cst.AnnAssign:
            value = node.value  # type: ignore[attr-defined]
            if value is not None:
                self.locator.skip(_ASSIGN_OP)
                self.expr(value, scope, cond)
                self.assign_target(node.target, value, scope, cond)  # type: ignore[attr-defined]
        elif t is cst.AugAssign:
            self.locator.skip(_AUG_OP)
            self.expr(node.value, scope, cond)  # type: ignore[attr-defined]
        elif t is cst.Import:
            self.import_(node, scope, cond)  # type: ignore[arg-type]
        elif t is cst.ImportFrom:
            self.import_from(node, scope, cond)  # type: ignore[arg-type]
        elif t is cst.Global:
            for n in node.names:  # type: ignore[attr-defined]
                scope.globals.add(n.name.value)
        elif t is cst.Return and node.value is not None:  # type: ignore[attr-defined]
            scope.returns.append(describe(node.value))  # type: ignore[attr-defined]
            self.expr(node.value, scope, cond)  # type: ignore[attr-defined]
        elif t is cst.Raise or t is cst.Assert or t is cst.Del:
            for f in _fields(t):
                child = getattr(node, f)
                if isinstance(child, cst.CSTNode):
                    self.expr(child, scope, cond)

    def assign_target(
        self, target: cst.CSTNode, value: cst.CSTNode, scope: _Scope, cond: bool
    ) -> None:
        t = type(target)
        if t is cst.Name or t is cst.Attribute:
            name = dotted(target)
            if name:
                self.assign(name, value, scope, cond)
        elif t is cst.Tuple or t is cst.List:
            for el in target.elements:  # type: ignore[attr-defined]
                self.assign_target(el.value, cst.Name("_unknown_"), scope, cond)

    def loop_target(self, target: cst.CSTNode, iterable: cst.CSTNode, scope: _Scope) -> None:
        """`for x in ITEMS:` binds x to an element, "ITEMS[*]"; `for f, n in ITEMS:` binds f to
        "ITEMS[*][0]" (an element's first item), n to "ITEMS[*][1]"."""
        source = dotted(iterable) if type(iterable) in (cst.Name, cst.Attribute) else ""
        if not source:
            return
        if type(target) is cst.Name:
            scope.assigns.append((target.value, f"{source}[*]", self.locator.cursor, True))  # type: ignore[attr-defined]
        elif type(target) in (cst.Tuple, cst.List):
            for i, element in enumerate(target.elements):  # type: ignore[attr-defined]
                if type(element.value) is cst.Name:
                    value = f"{source}[*][{i}]"
                    scope.assigns.append((element.value.value, value, self.locator.cursor, True))

    def assign(self, name: str, value: cst.CSTNode, scope: _Scope, cond: bool) -> None:
        if type(value) is cst.IfExp:  # `cls = SimpleWorker if os.name == "nt" else Worker`:
            # either, each under a condition
            for branch in (value.body, value.orelse):  # type: ignore[attr-defined]
                scope.assigns.append((name, describe(branch), self.locator.cursor, True))
            return
        scope.assigns.append((name, describe(value), self.locator.cursor, cond))
        if type(value) is cst.Call:
            scope.fetched[name] = _test_names(value)
        else:
            scope.fetched.pop(name, None)

    def import_(self, node: cst.Import, scope: _Scope, cond: bool) -> None:
        start, end = self.locator.find(_IMPORT)
        end = max(end, self.locator.statement_end(start))
        for alias in node.names:
            module = dotted(alias.name)
            if alias.asname is not None and type(alias.asname.name) is cst.Name:
                bound = alias.asname.name.value
                text = f"import {module} as {bound}"
            else:
                bound = module.split(".")[0]
                text = f"import {module}"
            scope.imports.append((module, None, bound, start, end, cond, text))

    def import_from(self, node: cst.ImportFrom, scope: _Scope, cond: bool) -> None:
        start, end = self.locator.find(_FROM)
        end = max(end, self.locator.statement_end(start))
        level = len(node.relative)
        written = dotted(node.module) if node.module is not None else ""
        module = _absolute(self.module, self.is_package, level, written)
        shown = "." * level + written
        if isinstance(node.names, cst.ImportStar):
            scope.imports.append((module, "*", "*", start, end, cond, f"from {shown} import *"))
            return
        for alias in node.names:
            name = dotted(alias.name)
            if alias.asname is not None and type(alias.asname.name) is cst.Name:
                bound = alias.asname.name.value
                text = f"from {shown} import {name} as {bound}"
            else:
                bound = name
                text = f"from {shown} import {name}"
            scope.imports.append((module, name, bound, start, end, cond, text))

    # expressions

    def expr(self, root: cst.CSTNode, scope: _Scope, cond: bool) -> None:
        """Record the calls in an expression, in source order.

        An explicit stack, not recursion: generated code nests thousands of deep (the implicit
        concatenation in pydoc_data/topics.py, long `a + b + ...` chains).
        """
        stack: list[tuple[cst.CSTNode, bool]] = [(root, cond)]
        pop, push = stack.pop, stack.append
        while stack:
            node, c = pop()
            t = type(node)
            if t in _LEAVES or t is cst.Lambda:  # a lambda's body runs later, if ever
                continue
            if t is cst.Call:
                self.call(node, scope, c)  # type: ignore[arg-type]
                for arg in reversed(node.args):  # type: ignore[attr-defined]
                    push((arg.value, c))
                func = node.func  # type: ignore[attr-defined]
                if not _is_plain(dotted(func)):  # a plain callee holds no call and is no read
                    push((func, c))
            elif t is cst.Attribute:
                name = dotted(node)
                if _is_plain(name):
                    start, end = self.locator.find_name(name)  # type: ignore[misc]
                    scope.reads.append((name, start, end, c))
                else:
                    push((node.value, c))  # type: ignore[attr-defined]
            elif t is cst.BooleanOperation:
                push((node.right, True))  # type: ignore[attr-defined]
                push((node.left, c))  # type: ignore[attr-defined]
            elif t is cst.CompFor:
                self.evaluate(node.iter, scope, c)  # type: ignore[attr-defined]
                children = [(node.target, c), (node.iter, c)]  # type: ignore[attr-defined]
                children += [(i.test, True) for i in node.ifs]  # type: ignore[attr-defined]
                if node.inner_for_in is not None:  # type: ignore[attr-defined]
                    children.append((node.inner_for_in, c))  # type: ignore[attr-defined]
                stack += reversed(children)
            elif t is cst.Subscript:
                elements = node.slice  # type: ignore[attr-defined]
                if len(elements) == 1 and type(elements[0].slice) is cst.Index:
                    self.evaluate(node.value, scope, c)  # type: ignore[attr-defined]
                for element in reversed(elements):
                    push((element.slice, c))
                push((node.value, c))  # type: ignore[attr-defined]
            elif t is cst.IfExp:  # in source order: body, test, orelse
                push((node.orelse, True))  # type: ignore[attr-defined]
                push((node.test, c))  # type: ignore[attr-defined]
                push((node.body, True))  # type: ignore[attr-defined]
            else:
                children: list[tuple[cst.CSTNode, bool]] = []
                for f in _fields(t):
                    child = getattr(node, f)
                    if isinstance(child, cst.CSTNode):
                        children.append((child, c))
                    elif type(child) is tuple or type(child) is list:
                        children += [(x, c) for x in child if isinstance(x, cst.CSTNode)]
                stack += reversed(children)

    def call(self, node: cst.Call, scope: _Scope, cond: bool) -> None:
        callee = dotted(node.func)
        chain = _leftmost_chain(node.func)
        if chain is None:
            start = self.locator.cursor
            end = start + 1
        else:
            key = id(chain)
            pos = self.chain_pos.get(key)
            if pos is None:
                if type(chain) is cst.SimpleString:
                    pos = self.locator.find_text(chain.value)  # type: ignore[attr-defined]
                elif (
                    chain is node.func
                ):  # a plain dotted callee: prefer the occurrence followed by "("
                    pos = self.locator.find_name(callee, paren=True, strict=True)
                    if pos is None:
                        pos = self.locator.find_name(callee)
                else:
                    pos = self.locator.find_name(dotted(chain))
                self.chain_pos[key] = pos
            start, end = pos
        args, kwargs = _args(node.args)
        flags = (id(node) in self.managed, id(node) in self.evaluated)
        scope.calls.append((callee, start, end, args, kwargs, cond, *flags, _arg_names(node.args)))

    def evaluate(self, node: cst.CSTNode, scope: _Scope, cond: bool) -> None:
        """Note a call whose value is used up where it stands (iterated, tested, indexed)."""
        if type(node) is cst.Call:
            self.evaluated.add(id(node))


_NAME_BUDGET = 64


def _arg_names(args: tuple[cst.Arg, ...] | list) -> tuple[str, ...]:
    """The plain names the arguments are built from: heads of attribute chains, not their parts."""
    names: list[str] = []
    stack: list[cst.CSTNode] = [a.value for a in args]
    seen = 0
    while stack:
        seen += 1
        if seen > _NAME_BUDGET:
            return ("*",)
        node = stack.pop()
        t = type(node)
        if t is cst.Name:
            names.append(node.value)  # type: ignore[attr-defined]
        elif t is cst.Attribute:
            stack.append(node.value)  # type: ignore[attr-defined]
        elif t is cst.Lambda or t in _LEAVES:
            continue
        elif t is cst.Call:
            stack.append(node.func)  # type: ignore[attr-defined]
            stack.extend(a.value for a in node.args)  # type: ignore[attr-defined]
        else:
            for f in _fields(t):
                child = getattr(node, f)
                if isinstance(child, cst.CSTNode):
                    stack.append(child)
                elif type(child) is tuple or type(child) is list:
                    stack.extend(x for x in child if isinstance(x, cst.CSTNode))
    return tuple(dict.fromkeys(names))


def _args(args: tuple[cst.Arg, ...] | list) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
    pos: list[str] = []
    kw: list[tuple[str, str]] = []
    for arg in args:
        if arg.keyword is not None:
            kw.append((arg.keyword.value, describe(arg.value)))
        elif not arg.star:
            pos.append(describe(arg.value))
        elif arg.star == "*":  # `enqueue(*args)`: what the function's own `*args` holds
            pos.append("*" + describe(arg.value))
    return tuple(pos), tuple(kw)


def _absolute(module: str, is_package: bool, level: int, written: str) -> str:
    if level == 0:
        return written
    parts = module.split(".") if module else []
    if not is_package:
        parts = parts[:-1]
    if level - 1 > len(parts):
        return ""
    base = parts[: len(parts) - (level - 1)]
    if written:
        base.append(written)
    return ".".join(base)


def _early_return(node: cst.If) -> cst.Return | None:
    """The `return` that ends the body of `if ...:`, if it ends with one."""
    body = node.body
    statements = (
        body.body
        if type(body) is cst.SimpleStatementSuite
        # type: ignore[attr-defined]
        else (
            body.body[-1].body
            if body.body and type(body.body[-1]) is cst.SimpleStatementLine
            else ()  # type: ignore[attr-defined]
        )
    )
    if not statements or type(statements[-1]) is not cst.Return:
        return None
    return statements[-1]  # type: ignore[return-value]


_SETTINGS_PARTS = frozenset({"config", "settings", "conf", "environ", "getenv"})


def _cache_guard(node: cst.If) -> bool:
    """`if _model is not None: return _model`, `if key in CACHE: return CACHE[key]`: an early
    return of what the test looked at. A validation (`if not path: return None`) is not one."""
    returned_node = _early_return(node)
    if returned_node is None:
        return False
    value = returned_node.value
    while type(value) in (cst.Subscript, cst.Attribute) and not _is_plain(dotted(value)):
        value = value.value  # type: ignore[union-attr]
    if type(value) is cst.Subscript:
        value = value.value  # type: ignore[union-attr]
    returned = dotted(value) if value is not None else ""
    if not returned or not _is_plain(returned) or returned in ("None", "True", "False"):
        return False  # `if user is None: return None` returns no cached value: a validation
    return returned in _test_names(node.test)


def _test_names(test: cst.CSTNode) -> set[str]:
    """The plain dotted names a condition reads (`_model`, `self.cache`, `CACHE`)."""
    names: set[str] = set()
    stack = [test]
    while stack and len(names) < 64:
        node = stack.pop()
        if type(node) in (cst.Name, cst.Attribute) and _is_plain(dotted(node)):
            names.add(dotted(node))
            continue
        for f in _fields(type(node)):
            child = getattr(node, f)
            if isinstance(child, cst.CSTNode):
                stack.append(child)
            elif type(child) is tuple or type(child) is list:
                stack.extend(x for x in child if isinstance(x, cst.CSTNode))
    return names


def _has_main_conjunct(test: cst.CSTNode) -> bool:
    """`__name__ == "__main__" and ...`: a main guard with more conditions."""
    while type(test) is cst.BooleanOperation and type(test.operator) is cst.And:  # type: ignore[attr-defined]
        if _is_main_test(test.left) or _has_main_conjunct(test.left):  # type: ignore[attr-defined]
            return True
        test = test.right  # type: ignore[attr-defined]
    return _is_main_test(test)


def _is_main_test(test: cst.CSTNode) -> bool:
    if type(test) is not cst.Comparison or len(test.comparisons) != 1:  # type: ignore[attr-defined]
        return False
    left, right = test.left, test.comparisons[0].comparator  # type: ignore[attr-defined]
    names = {dotted(left), dotted(right)}
    strings = {_string(left), _string(right)}
    return "__name__" in names and "__main__" in strings


def _is_type_checking(test: cst.CSTNode) -> bool:
    return dotted(test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING")


def _never(test: cst.CSTNode) -> bool:
    """`if False:`, `if 0:`: a block kept in the source that never runs (held-out ownphotos)."""
    t = type(test)
    return (t is cst.Name and test.value == "False") or (t is cst.Integer and test.value == "0")  # type: ignore[attr-defined]


def _none_test_name(test: cst.CSTNode) -> str | None:
    """X for `X is None` / `not X` tests."""
    t = type(test)
    if t is cst.Comparison and len(test.comparisons) == 1:  # type: ignore[attr-defined]
        comp = test.comparisons[0]  # type: ignore[attr-defined]
        if (
            type(comp.operator) is cst.Is
            and dotted(comp.comparator) == "None"
            and type(test.left) is cst.Name
        ):  # type: ignore[attr-defined]
            return test.left.value  # type: ignore[attr-defined]
    if (
        t is cst.UnaryOperation
        and type(test.operator) is cst.Not
        and type(test.expression) is cst.Name
    ):  # type: ignore[attr-defined]
        return test.expression.value  # type: ignore[attr-defined]
    return None


# --- assembling ------------------------------------------------------------------------------


_UNSCREENED = object()


def screen(text: str) -> tuple[int, int, str] | str | None:
    """What CPython's own compiler front end says of `text`: the authority on what is Python.

    `symtable` parses and builds the symbol table (what `import` would reject, in half the time
    of building the `ast` objects); nothing of the analysed file runs. Shapes it refuses for depth
    (thousands of chained operators or nested brackets) are the ones that crash or stall libcst.
    """
    try:
        with warnings.catch_warnings():  # "invalid escape sequence" and the like are not ours
            warnings.simplefilter("ignore")
            symtable.symtable(text, "<forklint>", "exec")
    except SyntaxError as error:
        return error.lineno or 1, max(error.offset or 1, 1), (error.msg or "invalid syntax")
    except RecursionError:
        return _too_deep()
    except MemoryError as error:
        if not str(error) and _memory_exhausted():
            raise  # the parse ran out of its memory budget: the sandbox reports it
        return _too_deep()  # "Parser stack overflowed - Python source too complex to parse"
    except ValueError:
        return None  # source-level problems (a NUL byte) are refused before parsing
    return None


def _too_deep() -> str:
    version = ".".join(map(str, sys.version_info[:2]))
    return f"nested too deeply for Python's own parser (Python {version} cannot compile it)"


def _memory_exhausted() -> bool:
    """True when this process is at its address-space limit: an empty MemoryError is then real
    (CPython 3.10 and 3.11 raise an empty one, too, when a source nests beyond their parser)."""
    try:
        import resource  # POSIX only, like the sandbox that sets the limit

        soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    except (ImportError, OSError, ValueError):
        return False
    if soft == resource.RLIM_INFINITY:
        return False
    try:
        with open("/proc/self/status", "rb") as status:
            peak = next(line for line in status if line.startswith(b"VmPeak:"))
        return int(peak.split()[1]) * 1024 >= soft - 64 * 1024 * 1024
    except (OSError, StopIteration, ValueError, IndexError):
        return True  # limited, and no way to tell: the limit is the likelier cause


def extract(
    text: str, module: str, relpath: str, is_package: bool, *, verdict: object = _UNSCREENED
) -> FileFacts:
    """Facts of one decoded file; syntax errors and parser limits come back as values.

    `verdict` is `screen(text)` when the caller already has it. FRK001 (`syntax_error`) only when
    CPython rejects the file; a file CPython compiles but libcst cannot parse is not analysed (an
    error line, not a syntax error), and one libcst parses although this Python rejects it (newer
    syntax) is analysed.
    """
    if verdict is _UNSCREENED:
        verdict = screen(text)
    if isinstance(verdict, str):
        return FileFacts(
            module, relpath, is_package, error=FileError(relpath, f"not analysed: {verdict}")
        )
    _load_libcst()
    try:
        tree = cst.parse_module(text)
    except cst.ParserSyntaxError as exc:
        if verdict is not None:
            return FileFacts(module, relpath, is_package, syntax_error=verdict)  # type: ignore[arg-type]
        # libcst's message lists every token it expected: no help to a reader of valid code.
        message = "not analysed: valid Python that libcst cannot parse"
        error = FileError(relpath, message, exc.raw_line, exc.raw_column + 1)
        return FileFacts(module, relpath, is_package, error=error)
    except RecursionError:
        return FileFacts(
            module,
            relpath,
            is_package,
            error=FileError(relpath, "not analysed: too deeply nested to parse"),
        )
    except MemoryError:
        raise  # over the memory budget: the sandbox says so
    except Exception as exc:  # noqa: BLE001 - libcst raises assorted errors on exotic input; never crash the run
        return FileFacts(
            module,
            relpath,
            is_package,
            error=FileError(relpath, f"not analysed: libcst failed: {exc}".splitlines()[0]),
        )
    try:
        walker = _Walker(text, module, is_package)
        for stmt in tree.body:
            walker.stmt(stmt, walker.module_scope, False, ("module", "", None))
        walker.locator.done()
    except _PositionsOutOfStep:
        return _extract_with_libcst_positions(tree, text, module, relpath, is_package)
    except RecursionError:
        return FileFacts(
            module,
            relpath,
            is_package,
            error=FileError(relpath, "not analysed: too deeply nested to analyse"),
        )
    return _assemble(walker, module, relpath, is_package)


def _extract_with_libcst_positions(
    tree: cst.Module, text: str, module: str, relpath: str, is_package: bool
) -> FileFacts:
    """Slow path for the rare file the logical-line scan cannot follow: libcst's own positions."""
    from libcst.metadata import MetadataWrapper, PositionProvider

    wrapper = MetadataWrapper(tree, unsafe_skip_copy=True)
    positions = wrapper.resolve(PositionProvider)
    lines = _Lines(text)
    kinds = (
        cst.SimpleStatementLine,
        cst.BaseCompoundStatement,
        cst.Decorator,
        cst.ExceptHandler,
        cst.ExceptStarHandler,
        cst.Else,
        cst.Finally,
        cst.MatchCase,
    )
    starts = [
        lines.offsets[rng.start.line - 1] + rng.start.column
        for node, rng in positions.items()
        if isinstance(node, kinds)
    ]
    walker = _Walker(text, module, is_package)
    walker.locator.starts = sorted(set(starts))
    try:
        for stmt in tree.body:
            walker.stmt(stmt, walker.module_scope, False, ("module", "", None))
    except _PositionsOutOfStep:
        return FileFacts(
            module,
            relpath,
            is_package,
            error=FileError(relpath, "not analysed: cannot locate statements"),
        )
    return _assemble(walker, module, relpath, is_package)


def _assemble(walker: _Walker, module: str, relpath: str, is_package: bool) -> FileFacts:
    lines = _Lines(walker.text)

    def calls(scope: _Scope) -> tuple[CallFact, ...]:
        return tuple(
            CallFact(c, lines.loc(s, e), a, k, cond, managed, evaluated, names)
            for c, s, e, a, k, cond, managed, evaluated, names in scope.calls
        )

    def reads(scope: _Scope) -> tuple[CallFact, ...]:
        return tuple(CallFact(r, lines.loc(s, e), (), (), cond) for r, s, e, cond in scope.reads)

    def imports(scope: _Scope) -> tuple[ImportFact, ...]:
        return tuple(
            ImportFact(m, n, b, lines.loc(s, e), cond, text)
            for m, n, b, s, e, cond, text in scope.imports
        )

    def assigns(scope: _Scope) -> tuple[AssignFact, ...]:
        return tuple(AssignFact(t, v, lines.loc(s, s + 1), cond) for t, v, s, cond in scope.assigns)

    def decorators(raw: tuple) -> tuple[DecoratorFact, ...]:
        return tuple(DecoratorFact(n, c, a, k, lines.loc(s, e)) for n, c, a, k, s, e in raw)

    functions = tuple(
        FunctionFact(
            q,
            n,
            lines.loc(s, e),
            cls,
            decorators(d),
            params,
            calls(sc),
            imports(sc),
            assigns(sc),
            tuple(dict.fromkeys(sc.memo)),
            reads(sc),
            tuple(sc.returns),
            defaults,
        )
        for q, n, s, e, cls, d, params, sc, defaults in walker.functions
    )
    classes = tuple(
        ClassFact(q, n, lines.loc(s, e), bases, kws, decorators(d), calls(sc), assigns(sc), methods)
        for q, n, s, e, bases, kws, d, sc, methods in walker.classes
    )
    ms, main = walker.module_scope, walker.main_scope
    return FileFacts(
        module,
        relpath,
        is_package,
        imports=imports(ms),
        calls=calls(ms),
        assigns=assigns(ms),
        main_calls=calls(main),
        main_imports=imports(main),
        main_assigns=assigns(main),
        reads=reads(ms),
        functions=functions,
        classes=classes,
    )
