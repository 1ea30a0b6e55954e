"""Highlight ranges cover the whole anchored construct, not just its first token."""

from __future__ import annotations

from pathlib import Path

from forklint.api import check
from forklint.config import load_config
from tests.engine.conftest import write_files


def test_function_level_import_range_covers_the_statement(tmp_path: Path) -> None:
    write_files(
        tmp_path,
        {
            "pyproject.toml": "",
            "app/__init__.py": "",
            "app/tasks.py": """
                from rq.decorators import job


                @job("default")
                def crunch(path):
                    import pandas as pd  # the heavy import
                    return pd.read_csv(path).shape
                """,
        },
    )
    report = check([tmp_path], load_config(tmp_path))
    (finding,) = [f for f in report.findings if f.code == "FRK104"]
    line = finding.source_line
    assert line[finding.column - 1 : finding.end_column - 1] == "import pandas as pd"
