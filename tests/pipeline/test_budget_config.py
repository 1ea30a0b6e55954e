"""The parse budget: [tool.forklint] parse-timeout / parse-memory and the command-line options."""

from __future__ import annotations

import pytest

from forklint.api import parse_budget
from forklint.config import ConfigError, Config, parse_table
from forklint.sandbox import Budget


def test_defaults_and_settings(tmp_path):
    assert parse_budget(Config(root=tmp_path)) == Budget(10.0, 1024)
    config = parse_table({"parse-timeout": 2, "parse-memory": 300}, root=tmp_path)
    assert parse_budget(config) == Budget(2.0, 300)


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (
            {"parse-timeout": 0},
            "`tool.forklint.parse-timeout` must be a positive number of seconds",
        ),
        ({"parse-timeout": -1.5}, "must be a positive number of seconds"),
        ({"parse-timeout": True}, "must be a positive number of seconds"),
        ({"parse-timeout": "10s"}, "must be a positive number of seconds"),
        ({"parse-timeout": float("inf")}, "must be a positive number of seconds"),
        ({"parse-timeout": float("nan")}, "must be a positive number of seconds"),
        ({"parse-memory": 16}, "`tool.forklint.parse-memory` must be a whole number of megabytes"),
        ({"parse-memory": 512.5}, "must be a whole number of megabytes, at least 32"),
        ({"parse-memory": False}, "must be a whole number of megabytes, at least 32"),
    ],
)
def test_bad_values_are_one_line_errors(tmp_path, table, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_table(table, root=tmp_path)


def test_command_line_overrides_the_settings(tmp_path):
    from click.testing import CliRunner

    from forklint.cli import main

    (tmp_path / "pyproject.toml").write_text("[tool.forklint]\nparse-timeout = 2\n")
    result = CliRunner().invoke(
        main, ["check", "--show-config", "--parse-memory", "64", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    assert "parse-timeout = 2.0\n" in result.output and "parse-memory = 64\n" in result.output
