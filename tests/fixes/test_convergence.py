"""`check --fix --unsafe-fixes` once, on the example shop and on every `invalid` example of the rule
docs: no fixable finding is left, every Python file still compiles, and a second run changes
nothing (no fix loops)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from fix_helpers import analyse, fixable, run, snapshot

from forklint.ruledocs import RuleExample, all_rules

SHOP = Path(__file__).resolve().parents[2] / "examples" / "shop"
INVALID = [
    pytest.param(example, id=f"{code}-{number}")
    for code, rule in all_rules().items()
    for number, example in enumerate(rule.examples, start=1)
    if not example.valid
]


def _compiles(text: bytes) -> bool:
    try:
        compile(text, "<file>", "exec", dont_inherit=True)
    except SyntaxError:
        return False
    return True


def converges(root: Path) -> dict[str, bytes]:
    """Apply every fix once; check what the issue asks of the result; return the files before."""
    before = snapshot(root)
    result = run(root, "--fix", "--unsafe-fixes", "--format", "concise")
    assert result.exit_code in (0, 1), result.output
    after = snapshot(root)
    for path, data in after.items():
        if path.endswith(".py") and _compiles(before.get(path, b"")):
            assert _compiles(data), f"{path} no longer compiles:\n{data.decode()}"
    report = analyse(root)
    left = [(f.code, f.path, f.line, f.fix.summary) for f in fixable(report)]  # type: ignore[union-attr]
    assert left == [], result.output
    again = run(root, "--fix", "--unsafe-fixes")
    assert snapshot(root) == after, again.output
    assert "changing no file" in again.stderr or not again.stderr.strip(), again.stderr
    return before


@pytest.mark.parametrize("example", INVALID)
def test_rule_doc_example_converges(example: RuleExample, tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    for relpath, content in example.files:
        path = tmp_path / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
    converges(tmp_path)


def test_shop_converges_to_no_findings(tmp_path: Path) -> None:
    root = tmp_path / "shop"
    shutil.copytree(SHOP, root, ignore=shutil.ignore_patterns("var", "__pycache__"))
    before = converges(root)
    assert analyse(root).findings == ()
    changed = {p for p, data in snapshot(root).items() if before.get(p) != data}
    assert changed == {"pyproject.toml", "Procfile", "shop/worker.py"}
