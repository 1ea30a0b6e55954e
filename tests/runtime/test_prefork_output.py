"""`forklint prefork` prints command lines taken from the project's files with control characters escaped."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from forklint import cli
from tests.projects import write_files


def test_procfile_escape_sequences_are_not_sent_to_the_terminal(
    tmp_path: Path, monkeypatch
) -> None:
    root = write_files(
        tmp_path / "proj",
        {
            "pyproject.toml": '[project]\nname = "demo"\n',
            "Procfile": "worker: rq worker \x1b[2J\x1b]0;pwned\x07 default\n",
            "app/__init__.py": "",
            "app/tasks.py": "import sqlalchemy\n\n\ndef job():\n    return sqlalchemy.__name__\n",
            "app/enqueue.py": "from rq import Queue\n\nfrom app.tasks import job\n\nQueue().enqueue(job)\n",
        },
    )
    monkeypatch.chdir(root)
    result = CliRunner().invoke(cli.main, ["prefork"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.output and "\x07" not in result.output
    assert "rq worker -w forklint.rq.PreforkWorker \\x1b[2J\\x1b]0;pwned\\x07 default" in result.output
