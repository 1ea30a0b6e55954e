"""A committed symlink out of the project never makes forklint read, or print, what it points to."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hostile_helpers import forklint as run
from hostile_helpers import one_error_line

from forklint.commands import scan
from forklint.config import Config
from tests.projects import write_files

FORMATS = ("text", "concise", "json", "sarif", "github", "gitlab")
# Would be a syntax error (FRK001 prints the failing line) and a worker command line (prefork
# prints those): both ways content reaches the output if the file were read.
SECRET = "TOKEN-8c1f9e = ( # rq worker --with-secret-queue\n"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    outside = tmp_path / "home"
    outside.mkdir()
    (outside / "secret.py").write_text(SECRET, encoding="utf-8")
    (outside / "lib").mkdir()
    (outside / "lib/keys.py").write_text(SECRET, encoding="utf-8")
    root = write_files(
        tmp_path / "project",
        {
            "pyproject.toml": '[project]\nname = "demo"\n',
            "app/__init__.py": "",
            "app/tasks.py": "x = 1\n",
        },
    )
    (root / "leak.py").symlink_to(outside / "secret.py")
    (root / "vendored").symlink_to(outside / "lib")
    (root / "Procfile").symlink_to(outside / "secret.py")
    return root


@pytest.mark.parametrize("fmt", FORMATS)
def test_no_format_shows_a_linked_file(project: Path, fmt: str) -> None:
    done = run("check", "--format", fmt, cwd=project)
    everything = (done.stdout + done.stderr).decode("utf-8", "backslashreplace")
    assert done.returncode == 1, everything
    assert "TOKEN" not in everything and "secret-queue" not in everything
    # Said for each link to Python code (a file, a folder); the linked Procfile is not code.
    for link, what in (("leak.py", "a file"), ("vendored", "a folder")):
        assert link in everything and f"symlink to {what} outside the project" in everything
    assert "Procfile: symlink" not in everything
    if fmt == "text":
        assert done.stderr.decode().splitlines() == [
            "error: leak.py: symlink to a file outside the project "
            f"({project.parent / 'home' / 'secret.py'}); not followed",
            "error: vendored: symlink to a folder outside the project "
            f"({project.parent / 'home' / 'lib'}); not followed",
        ]
    if fmt == "sarif":
        notes = json.loads(done.stdout)["runs"][0]["invocations"][0]["toolExecutionNotifications"]
        assert [n["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for n in notes] == [
            "leak.py",
            "vendored",
        ]


def test_naming_the_link_does_not_read_it(project: Path) -> None:
    """What pre-commit or a shell glob would pass: the link itself, and a file through the folder link."""
    done = run("check", "leak.py", "vendored/keys.py", "app/tasks.py", cwd=project)
    everything = (done.stdout + done.stderr).decode()
    assert "TOKEN" not in everything
    assert everything.count("leak.py: symlink to a file outside the project") == 1
    assert everything.count("vendored: symlink to a folder outside the project") == 1


def test_prefork_does_not_read_a_linked_deployment_file(project: Path) -> None:
    done = run("prefork", cwd=project)
    assert done.returncode == 0, done.stderr
    assert b"secret-queue" not in done.stdout + done.stderr
    found, errors = scan(project, Config(root=project))
    assert found == () and errors == ()


def test_a_linked_pyproject_is_refused(project: Path) -> None:
    settings = project.parent / "home" / "settings.toml"
    settings.write_text('[tool.forklint]\nexclude = ["*"]\n', encoding="utf-8")
    (project / "pyproject.toml").unlink()
    (project / "pyproject.toml").symlink_to(settings)
    line = one_error_line(run("check", cwd=project))
    assert line == (
        f"forklint: {project / 'pyproject.toml'}: a symlink to a file outside the project "
        f"({settings}); forklint reads only the project's own files"
    )


def test_links_inside_the_project_are_still_followed(tmp_path: Path) -> None:
    root = write_files(tmp_path, {"pyproject.toml": "", "real/impl.py": "def f(:\n"})
    (root / "alias.py").symlink_to("real/impl.py")
    (root / "shared").symlink_to("real")
    done = run("check", "--format", "concise", "--quiet", cwd=root)
    assert done.stdout.decode().splitlines() == [
        "alias.py:1:7: FRK001 cannot parse alias.py: invalid syntax; the rest of the project was "
        "analysed without it",
        "real/impl.py:1:7: FRK001 cannot parse real/impl.py: invalid syntax; the rest of the "
        "project was analysed without it",
    ]


def test_a_config_or_baseline_in_the_project_that_links_out_is_refused(project: Path) -> None:
    home = project.parent / "home"
    (home / "docker.json").write_text('{"auths": {"x": {"auth": "c2VjcmV0"}}}', encoding="utf-8")
    (home / "settings.toml").write_text('[tool.forklint]\nselect = ["FRK9"]\n', encoding="utf-8")
    (project / "base.json").symlink_to(home / "docker.json")
    (project / "forklint.toml").symlink_to(home / "settings.toml")
    assert one_error_line(run("--baseline", "base.json", cwd=project)) == (
        f"forklint: base.json: a symlink to a file outside the project ({home / 'docker.json'}); "
        "forklint reads only the project's own files"
    )
    assert one_error_line(run("--config", "forklint.toml", cwd=project)) == (
        f"forklint: forklint.toml: a symlink to a file outside the project "
        f"({home / 'settings.toml'}); forklint reads only the project's own files"
    )
    # Named as what it is, a file outside the project, it is the user's to choose.
    outside = run("--baseline", str(home / "docker.json"), cwd=project)
    assert "not a forklint baseline" in one_error_line(outside)
