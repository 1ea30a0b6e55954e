"""Suppression: noqa and forklint: ignore comments, select/ignore prefixes, per-file ignores."""

from __future__ import annotations

from forklint.config import Config
from forklint.suppress import selected, suppressed_by_comment

JOB = """
    import joblib
    from rq.decorators import job


    @job("q")
    def score():
        a = joblib.load("a")  # FRK103:9
        b = joblib.load("b")  # noqa: FRK103
        c = joblib.load("c")  # noqa
        d = joblib.load("d")  # forklint: ignore[FRK103]
        e = joblib.load("e")  # noqa: FRK101  # FRK103:9
        return a, b, c, d, e
"""


def test_comments_on_the_anchor_line(project):
    report = project.assert_expected({"app/__init__.py": "", "app/tasks.py": JOB}, codes={"FRK103"})
    assert len([f for f in report.findings if f.code == "FRK103"]) == 2


def test_comment_grammar():
    assert suppressed_by_comment("FRK103", "x()  # noqa: FRK101, FRK103")
    assert suppressed_by_comment("FRK103", "x()  # NOQA:FRK103")
    assert suppressed_by_comment("FRK103", "x()  # forklint: ignore")
    assert not suppressed_by_comment("FRK103", "x()  # noqa: FRK101")
    assert not suppressed_by_comment("FRK103", "x()  # forklint: ignore[FRK102]")
    assert not suppressed_by_comment("FRK103", "x()")


def test_select_and_ignore_prefixes_most_specific_wins():
    assert selected("FRK103", Config())
    assert not selected("FRK103", Config(select=("FRK2",)))
    assert selected("FRK103", Config(select=("FRK2",), extend_select=("FRK103",)))
    assert not selected("FRK103", Config(ignore=("FRK1",)))
    assert selected("FRK103", Config(select=("FRK103",), ignore=("FRK1",)))
    assert not selected("FRK103", Config(select=("FRK1",), ignore=("FRK103",)))
    assert not selected("FRK103", Config(select=("ALL",), ignore=("FRK",)))


def test_per_file_ignores_and_select_from_config(project):
    files = {
        "pyproject.toml": '[tool.forklint]\nignore = ["FRK101"]\n[tool.forklint.per-file-ignores]\n"app/legacy/*" = ["FRK103"]\n',
        "app/__init__.py": "",
        "app/legacy/__init__.py": "",
        "app/legacy/tasks.py": "import joblib\nimport pandas\nfrom rq.decorators import job\n\n\n@job('q')\ndef old():\n    joblib.load('x')\n",
        "app/tasks.py": "import joblib\nimport pandas\nfrom rq.decorators import job\n\n\n@job('q')\ndef new():\n    joblib.load('x')\n",
    }
    assert project.found(files) == {("FRK103", "app/tasks.py", 8, 5)}
