"""`forklint prefork` prints the fix plan: the command lines and the Python start-ups that fork a
stock worker, switched to the pre-fork worker, then the table."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from forklint import api, cli

SHOP = Path(__file__).resolve().parents[2] / "examples" / "shop"
STOCK_LINE = "Worker([Queue("


@pytest.fixture
def shop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "shop"
    shutil.copytree(SHOP, root, ignore=shutil.ignore_patterns("var", "__pycache__", "*.db"))
    monkeypatch.chdir(root)
    monkeypatch.delenv("FORKLINT_CACHE_DIR", raising=False)
    return root


def run(*args: str) -> Result:
    return CliRunner().invoke(cli.main, list(args), catch_exceptions=False)


def header(result: Result) -> list[str]:
    """The comment lines above the printed table."""
    assert result.exit_code == 0, result.output
    assert "[tool.forklint.prefork]" in result.stdout, result.stdout
    return [line for line in result.stdout.splitlines() if line.startswith("#")]


def use_worker(root: Path, replacement: str, extra: str) -> None:
    """Make shop/worker.py:main() run `replacement` (imported or defined by `extra`) instead of Worker."""
    worker = root / "shop" / "worker.py"
    text = worker.read_text(encoding="utf-8")
    assert STOCK_LINE in text
    text = text.replace(STOCK_LINE, f"{replacement}([Queue(")
    text = text.replace(
        "from rq import Queue, Worker\n", f"from rq import Queue, Worker\n{extra}\n"
    )
    worker.write_text(text, encoding="utf-8")


def test_shop_lists_the_procfile_and_the_python_start_up(shop: Path) -> None:
    lines = header(run("prefork"))
    procfile = [i for i, line in enumerate(lines) if "Procfile:1:" in line]
    startup = [i for i, line in enumerate(lines) if "shop/worker.py:main():" in line]
    assert len(procfile) == 1 and len(startup) == 1, lines
    assert procfile[0] < startup[0]  # command lines first, then Python start-ups
    assert "build forklint.rq.PreforkWorker instead of Worker" in lines[startup[0]]
    assert "+worker: rq worker -w forklint.rq.PreforkWorker default" in lines[procfile[0] + 3]
    # the same plan as `forklint check` prints
    check = run("check", "--no-cache").stdout
    plan = check[check.index("Fix plan") :].splitlines()
    assert [line for line in plan if "Procfile:1:" in line or "shop/worker.py:main()" in line] == [
        line.removeprefix("#   ") for line in lines if "Procfile:1:" in line or "main():" in line
    ]


def test_a_start_up_already_on_prefork_worker_is_not_listed(shop: Path) -> None:
    use_worker(shop, "PreforkWorker", "from forklint.rq import PreforkWorker")
    lines = header(run("prefork"))
    assert any("Procfile:1:" in line for line in lines), lines
    assert not any("shop/worker.py" in line for line in lines), lines
    assert api.check([shop]).startups == ()


def test_a_simple_worker_start_up_is_not_listed(shop: Path) -> None:
    use_worker(shop, "SimpleWorker", "from rq import SimpleWorker")
    assert api.check([shop]).startups == ()


def test_a_project_worker_subclass_gets_the_mixin(shop: Path) -> None:
    use_worker(shop, "ShopWorker", "\n\nclass ShopWorker(Worker):\n    pass\n")
    (startup,) = api.check([shop]).startups
    assert startup.startswith("shop/worker.py:main(): put forklint.rq.PreforkMixin first")
    assert "ShopWorker (shop/worker.py)" in startup


def test_json_output_has_no_start_up_hints(shop: Path) -> None:
    result = run("check", "--format", "json", "--no-cache")
    assert result.exit_code == 1, result.output
    assert "startups" not in json.loads(result.stdout)
    assert "shop/worker.py:main(): use" not in result.stdout
