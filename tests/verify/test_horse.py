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
