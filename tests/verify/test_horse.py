"""The horse-side probe on its own, in a fresh interpreter (it patches the import machinery)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

SCRIPT = """
import json, sys
from forklint.verify.horse import Probe

probe = Probe(["jinja2.Environment", "sqlalchemy.create_engine", "sqlalchemy.engine.create_engine",
               "sqlalchemy.MetaData.reflect", "pickle.load", "importlib.import_module"])
probe.install()
import importlib
import jinja2
from sqlalchemy import MetaData, create_engine

jinja2.Environment()  # before the window: the worker parent's own work, not counted

probe.open_window()  # the fork moment
import email.mime.text  # a module imported after the fork
from sqlalchemy import ForeignKey
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

class Base(DeclarativeBase):
    pass

class Parent(Base):
    __tablename__ = "parent"
    id: Mapped[int] = mapped_column(primary_key=True)
    children: Mapped[list["Child"]] = relationship()

class Child(Base):
    __tablename__ = "child"
    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[int] = mapped_column(ForeignKey("parent.id"))

Parent(children=[Child()])  # configures the mappers
Parent()  # already configured: no second run

class Custom(jinja2.Environment):
    pass

Custom()
engine = create_engine("sqlite://")
MetaData().reflect(engine)
importlib.import_module("json")
m = probe.close_window("job-1", None)
print(json.dumps({"heavy": m.heavy_calls, "mappers": m.mappers_configured, "modules": m.modules,
                  "count": m.imports_after_fork, "import_ms": m.import_ms, "wall": m.wall_ms}))
"""


def test_probe_counts_what_happens_in_the_window():
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(SCRIPT)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)
    assert seen["heavy"] == {
        "jinja2.Environment": 1,  # the subclass's construction, through the wrapped __init__
        "sqlalchemy.create_engine": 1,  # one function, two catalog names: reported under the shorter
        "sqlalchemy.MetaData.reflect": 1,
        "pickle.load": 0,
        "importlib.import_module": 1,
    }
    # sqlalchemy.orm was first imported inside the window: the mapper events were hooked then.
    assert "sqlalchemy.orm" in seen["modules"]
    assert seen["mappers"] == 1
    assert "email.mime.text" in seen["modules"]
    assert "sqlalchemy.engine" not in seen["modules"]  # imported before the window, by the parent
    assert seen["count"] == len(seen["modules"])
    assert 0 < seen["import_ms"] <= seen["wall"]


NESTED = """
import functools, json, sys
from forklint.verify.horse import Probe

probe = Probe(["yaml.safe_load", "yaml.load", "pickle.loads"], watch=["loaders:templates",
              "loaders:Registry.build", "loaders:light", "loaders:missing"])
probe.install()
sys.path.insert(0, sys.argv[1])
import loaders

probe.open_window()
loaders.templates()
loaders.templates()  # a cache hit: called, but makes no heavy call
loaders.Registry.build()
loaders.light()
import yaml
yaml.safe_load("b: 2")  # the job's own call, outside any watched function
m = probe.close_window("job-1", None)
print(json.dumps({"heavy": m.heavy_calls, "calls": m.watched_calls, "inside": m.watched_heavy,
                  "cache": loaders.templates.cache_info().hits}))
"""

LOADERS = """
import functools
import pickle

import yaml


@functools.lru_cache(maxsize=1)
def templates():
    return yaml.safe_load("a: 1")  # PyYAML's safe_load calls yaml.load: one heavy call


class Registry:
    @classmethod
    def build(cls):
        return pickle.loads(pickle.dumps(templates()))


def light():
    return 1
"""


def test_probe_counts_outermost_calls_and_the_findings_functions(tmp_path):
    (tmp_path / "loaders.py").write_text(textwrap.dedent(LOADERS))
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(NESTED), str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)
    # safe_load's inner yaml.load is not counted again.
    assert seen["heavy"] == {"yaml.safe_load": 2, "yaml.load": 0, "pickle.loads": 1}
    # "loaders:missing" does not exist: nothing wrapped, nothing reported.
    # templates(): twice from the job, once from Registry.build (a cache hit there too).
    assert seen["calls"] == {
        "loaders:templates": 3,
        "loaders:Registry.build": 1,
        "loaders:light": 1,
    }
    assert seen["inside"] == {
        "loaders:templates": {"yaml.safe_load": 1},
        "loaders:Registry.build": {"pickle.loads": 1},
        "loaders:light": {},
    }
    assert seen["cache"] == 2  # the lru_cache controls still work through the wrapper
