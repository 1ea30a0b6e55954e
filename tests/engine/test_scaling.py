"""Whole-program work grows with the project, not with its square: caches that keep it so."""

from __future__ import annotations

from forklint.facts import extract
from forklint.index import Index


class _CountingDict(dict):
    """A dict that counts lookups through .get (the index's symbol table)."""

    gets = 0

    def get(self, key, default=None):  # type: ignore[override]
        _CountingDict.gets += 1
        return super().get(key, default)


def _test_class(methods: int) -> str:
    lines = ["class Base:", "    def setUp(self):", "        self.client = make()", ""]
    lines += ["class Suite(Base):"]
    for i in range(methods):
        lines += [f"    def test_{i}(self):", "        self.client.get()", ""]
    return "\n".join(lines) + "\n"


def _lookups(methods: int) -> int:
    index = Index([extract(_test_class(methods), "suite", "suite.py", False)])
    counting = _CountingDict(index.functions)
    index.functions = counting
    _CountingDict.gets = 0
    for fq in list(counting):
        index.callees(fq)
    return _CountingDict.gets


def test_instance_attribute_lookup_is_linear_in_the_methods_of_a_class():
    # `self.client.get()` in every test method: what `self.client` holds is looked up once per
    # class, not by scanning every method of the class again for every method that uses it
    small, large = _lookups(100), _lookups(400)
    assert large < 6 * small
