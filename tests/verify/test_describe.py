"""How a failed job's error is summarised in one line."""

from __future__ import annotations

from forklint.verify.runner import describe as _describe

SQLALCHEMY_TRACEBACK = """Traceback (most recent call last):
  File "/app/shop/tasks.py", line 18, in record_event
    session.commit()
sqlalchemy.exc.OperationalError: (sqlite3.OperationalError) no such table: event
[SQL: INSERT INTO event (kind) VALUES (?)]
(Background on this error at: https://sqlalche.me/e/20/e3q8)
"""


def test_exception_line_not_trailing_hint() -> None:
    assert _describe(SQLALCHEMY_TRACEBACK) == (
        "sqlalchemy.exc.OperationalError: (sqlite3.OperationalError) no such table: event"
    )


def test_plain_message_and_signal() -> None:
    assert _describe("ValueError: boom") == "ValueError: boom"
    killed = "Work-horse terminated unexpectedly; waitpid returned 9 (signal 9); "
    assert _describe(killed) == "work horse killed by signal 9 (SIGKILL)"
