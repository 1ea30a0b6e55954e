"""Each rule's documented examples, run as real projects: the findings are exactly the annotated ones."""

from __future__ import annotations

import pytest

from forklint.config import load_config
from forklint.ruledocs import RuleExample, all_rules

CASES = [
    pytest.param(code, example, id=f"{code}-{number}-{'valid' if example.valid else 'invalid'}")
    for code, rule in all_rules().items()
    for number, example in enumerate(rule.examples, start=1)
]


def _materialise(example: RuleExample, root) -> None:
    for relpath, content in example.files:
        path = root / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")


@pytest.mark.parametrize(("code", "example"), CASES)
def test_example(code, example, tmp_path):
    # Imported here so that, while the engine is missing, only these tests fail (not collection).
    from forklint.api import check

    _materialise(example, tmp_path)
    report = check([tmp_path], load_config(tmp_path))

    # Compared: the rule's own code, and any other code the example announces (an example may
    # show two rules at once, e.g. FRK202's trap leaves FRK102 standing).
    codes = {code} | {expected[0] for expected in example.expected}
    found = {(f.code, f.path, f.line, f.column) for f in report.findings if f.code in codes}
    assert found == example.expected, example.title
    if not any(expected[0] == "FRK001" for expected in example.expected):
        assert not report.errors, example.title
