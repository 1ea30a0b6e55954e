"""Per-file facts: positions, scopes, conditions and the patterns the rules rely on."""

from __future__ import annotations

import pickle
import textwrap
import warnings

from forklint.facts import extract


def facts(source: str, module: str = "app.tasks", is_package: bool = False):
    return extract(
        textwrap.dedent(source).lstrip("\n"), module, module.replace(".", "/") + ".py", is_package
    )


def test_positions_of_calls_defs_imports_and_decorators():
    f = facts(
        """
        import os, numpy as np
        from . import models
        from ..lib.util import helper as h


        @app.task(
            bind=True,
        )
        async def work(self, x: "Event", y=1):
            value = h(x)
            return other(
                np.zeros(3), os.path.join("a", "b"),
            ).chain().more()
    """,
        module="app.sub.tasks",
    )
    (fn,) = f.functions
    assert (fn.name, fn.loc.line, fn.loc.column, fn.loc.end_column) == ("work", 9, 11, 15)
    assert fn.params == (("self", ""), ("x", "Event"), ("y", ""))
    (deco,) = fn.decorators
    assert (deco.name, deco.called, deco.kwargs, deco.loc.line, deco.loc.column) == (
        "app.task",
        True,
        (("bind", "True"),),
        6,
        2,
    )
    calls = {(c.callee, c.loc.line, c.loc.column) for c in fn.calls}
    assert calls == {
        ("h", 10, 13),
        ("other().chain().more", 11, 12),
        ("other().chain", 11, 12),
        ("other", 11, 12),
        ("np.zeros", 12, 9),
        ("os.path.join", 12, 22),
    }
    imports = [(i.module, i.name, i.bound, i.loc.line, i.loc.column) for i in f.imports]
    assert imports == [
        ("os", None, "os", 1, 1),
        ("numpy", None, "np", 1, 1),
        ("app.sub", "models", "models", 2, 1),
        ("app.lib.util", "helper", "h", 3, 1),
    ]


def test_package_relative_imports_resolve_from_the_package_itself():
    f = facts("from .tasks import work\nfrom . import db\n", module="app", is_package=True)
    assert [(i.module, i.name) for i in f.imports] == [("app.tasks", "work"), ("app", "db")]


def test_conditions_lambdas_main_block_and_type_checking():
    f = facts("""
        from typing import TYPE_CHECKING

        if TYPE_CHECKING:
            import pandas

        setup()
        cb = lambda: never()


        def job(flag):
            always()
            if flag:
                sometimes()
            x = maybe() if flag else other()
            y = first() or second()
            for item in items():
                each(item)
            while flag:
                looping()
            try:
                tried()
            except Exception:
                failed()


        if __name__ == "__main__":
            import worker

            main()
    """)
    assert [i.module for i in f.imports] == ["typing"]
    assert [c.callee for c in f.calls] == ["setup"]
    assert [c.callee for c in f.main_calls] == ["main"]
    assert [i.module for i in f.main_imports] == ["worker"]
    conditional = {c.callee: c.conditional for c in f.functions[0].calls}
    assert conditional == {
        "always": False,
        "sometimes": True,
        "maybe": True,
        "other": True,
        "first": False,
        "second": True,
        "items": False,
        "each": False,
        "looping": True,
        "tried": False,
        "failed": True,
    }


def test_memoised_global_loader_and_assignments():
    f = facts("""
        from functools import partial
        import joblib

        _model = None
        load = partial(joblib.load, "m.joblib")


        def get_model():
            global _model
            if _model is None:
                _model = load()
            return _model


        class Repo:
            table = "t"

            def __init__(self):
                self.engine = create_engine("x")
    """)
    get_model = next(fn for fn in f.functions if fn.name == "get_model")
    assert get_model.memo_globals == ("_model",)
    assert {(a.target, a.value) for a in f.assigns} == {("_model", "None"), ("load", "joblib.load")}
    init = next(fn for fn in f.functions if fn.qualname == "Repo.__init__")
    assert init.cls == "Repo"
    assert [(a.target, a.value) for a in init.assigns] == [("self.engine", "create_engine()")]
    (repo,) = f.classes
    assert repo.methods == ("__init__",) and [(a.target, a.value) for a in repo.assigns] == [
        ("table", '"t"')
    ]


def test_class_body_calls_run_at_import():
    f = facts("""
        class Settings(Base, metaclass=Meta, table=True):
            value = engine.connect().scalar("SELECT 1")
    """)
    assert [c.callee for c in f.calls] == ["engine.connect().scalar", "engine.connect"]
    (cls,) = f.classes
    assert cls.bases == ("Base",) and cls.keywords == (("metaclass", "Meta"), ("table", "True"))


def test_syntax_error_position_and_deep_nesting_are_values():
    broken = facts("def f():\n    print 'x'\n")
    assert broken.syntax_error is not None and broken.syntax_error[:2] == (2, 5)
    deep = facts("x = " + "-" * 1000 + "1\n")
    assert deep.syntax_error is None
    assert deep.error is None or "nested" in deep.error.message


def test_syntax_error_position_prints_no_warnings():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        broken = facts("y = 1if 1else 0\ndef f(:\n    pass\n")
    assert broken.syntax_error is not None and broken.syntax_error[0] == 2
    assert [str(w.message) for w in caught] == []


def test_facts_are_picklable():
    f = facts("import os\n\n\n@job\ndef f():\n    os.getcwd()\n")
    assert pickle.loads(pickle.dumps(f)) == f


def test_odd_layouts_keep_positions_in_step():
    f = facts('''
        x = """
        def not_a_function(): pass
        """; y = (1,
              2)
        if x: z = call_a()
        else: z = call_b()
        class K: pass
        def g(): return \\
            call_c()
    ''')
    assert [(c.callee, c.loc.line) for c in f.calls] == [("call_a", 5), ("call_b", 6)]
    g = next(fn for fn in f.functions if fn.name == "g")
    assert g.loc.line == 8 and [(c.callee, c.loc.line, c.loc.column) for c in g.calls] == [
        ("call_c", 9, 5)
    ]


def test_libcst_positions_fallback_agrees_with_the_fast_path():
    import libcst

    from forklint.facts import _extract_with_libcst_positions

    source = textwrap.dedent("""
        import os


        @deco(
            1,
        )
        def f(a, b=(
            2)):
            x = g(a) if a else h(
                b)
            try:
                pass
            except ValueError:
                k = os.path.join("a", "b")
            else:
                m()
            finally:
                n()
            return x


        class C(object):
            def meth(self): return self.other()
    """).lstrip("\\n")
    fast = extract(source, "m", "m.py", False)
    slow = _extract_with_libcst_positions(libcst.parse_module(source), source, "m", "m.py", False)
    assert fast == slow
