"""File discovery: layouts, module names, source roots, excludes, targets, symlinks, paths outside the root."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from forklint.config import Config, find_root, load_config
from forklint.project import Project, discover


def run(root: Path, *paths: Path, **config: object) -> Project:
    return discover(list(paths), Config(root=root, **config))  # type: ignore[arg-type]


def modules(project: Project) -> dict[str, str]:
    return {f.relpath: f.module for f in project.files}


def test_flat_layout(write):
    root = write(
        {"app/__init__.py": "", "app/tasks.py": "", "app/sub/__init__.py": "", "worker.py": ""}
    )
    project = run(root)
    assert modules(project) == {
        "app/__init__.py": "app",
        "app/sub/__init__.py": "app.sub",
        "app/tasks.py": "app.tasks",
        "worker.py": "worker",
    }
    assert project.source_roots == ("",)
    assert [f.is_package for f in project.files] == [True, True, False, False]
    assert project.targets == frozenset(modules(project))
    assert project.root == root
    assert all(
        f.path == root / f.relpath and f.error is None and f.text == "" for f in project.files
    )


def test_src_layout(write):
    root = write(
        {
            "src/app/__init__.py": "",
            "src/app/tasks.py": "",
            "src/ns/mod.py": "",
            "tests/test_x.py": "",
        }
    )
    project = run(root)
    assert modules(project) == {
        "src/app/__init__.py": "app",
        "src/app/tasks.py": "app.tasks",
        "src/ns/mod.py": "ns.mod",  # a namespace package inside src/
        "tests/test_x.py": "tests.test_x",
    }
    assert project.source_roots == ("", "src")


def test_namespace_packages_without_init(write):
    root = write({"company/billing/jobs.py": "", "company/billing/models/user.py": ""})
    assert modules(run(root)) == {
        "company/billing/jobs.py": "company.billing.jobs",
        "company/billing/models/user.py": "company.billing.models.user",
    }


def test_auto_detected_source_root_picks_innermost_name(write):
    root = write(
        {
            "backend/api/__init__.py": "",
            "backend/api/tasks.py": "",
            "backend/manage.py": "",
            "frontend/build.py": "",
        }
    )
    project = run(root)
    assert project.source_roots == ("", "backend")
    assert modules(project) == {
        "backend/api/__init__.py": "api",
        "backend/api/tasks.py": "api.tasks",
        "backend/manage.py": "manage",
        "frontend/build.py": "frontend.build",
    }


def test_a_namespace_package_holding_packages_is_named_as_its_code_imports_it(write):
    # PEP 420: neither `hub/` nor `hub/core/` has an __init__.py, but `hub/core/` holds packages.
    # The project's own code writes `hub.core.jobs`, so that is the module's name (not `jobs`,
    # with `hub/core/` read as a source root).
    root = write(
        {
            "hub/core/jobs.py": "def run(): ...\n",
            "hub/core/api.py": "from hub.core.jobs import run\n",
            "hub/core/management/__init__.py": "",
            "hub/server/__init__.py": "",
            "config/__init__.py": "",
            "config/settings.py": 'INSTALLED_APPS = ["hub.core"]\n',
        }
    )
    project = run(root)
    assert project.source_roots == ("",)
    assert modules(project)["hub/core/jobs.py"] == "hub.core.jobs"
    assert modules(project)["hub/core/management/__init__.py"] == "hub.core.management"
    assert modules(project)["hub/server/__init__.py"] == "hub.server"


def test_namespace_portions_in_several_folders_share_the_name_their_code_imports(write):
    # One namespace package spread over distributions: dist_web/acme/web, dist_base/acme/base.
    root = write(
        {
            "dist_web/acme/web/__init__.py": "",
            "dist_web/acme/web/worker.py": "from acme.base.util import helper\n",
            "dist_web/acme/web/app.py": "from acme.web import worker\n",
            "dist_base/acme/base/__init__.py": "",
            "dist_base/acme/base/util.py": "def helper(): ...\n",
        }
    )
    project = run(root)
    assert modules(project)["dist_web/acme/web/worker.py"] == "acme.web.worker"
    assert modules(project)["dist_base/acme/base/util.py"] == "acme.base.util"
    assert project.source_roots == ("", "dist_base", "dist_web")


def test_a_holder_whose_modules_are_also_imported_by_short_name_stays_a_source_root(write):
    # The code runs from inside backend/ (`from api.tasks import`); a test that names
    # `backend.api` from the root does not make backend/ a namespace package.
    root = write(
        {
            "backend/api/__init__.py": "",
            "backend/api/tasks.py": "",
            "backend/worker.py": "from api.tasks import send\n",
            "tests/test_api.py": "import backend.api.tasks\n",
        }
    )
    assert modules(run(root))["backend/api/tasks.py"] == "api.tasks"


def test_a_library_named_like_a_subpackage_is_no_evidence_for_the_holder(write):
    # src/app/ has no __init__.py and holds app/rq/ and app/worker/; `import rq` and
    # `from rq import Queue` are the RQ library, not src/app/rq/, so the code's `app.worker.main`
    # names the modules (held-out dioptra: its console script `app.worker.main:main` was lost).
    root = write(
        {
            "src/app/rq/__init__.py": "",
            "src/app/rq/tasks.py": "import rq\nfrom rq import Queue\n",
            "src/app/worker/__init__.py": "",
            "src/app/worker/main.py": "import rq.cli\nfrom app.rq.tasks import x\n",
        }
    )
    assert modules(run(root))["src/app/worker/main.py"] == "app.worker.main"


def test_a_short_import_of_what_the_holder_holds_keeps_it_a_root(write):
    # `from api import tasks` names backend/api/tasks.py: the code runs from inside backend/.
    root = write(
        {
            "backend/api/__init__.py": "",
            "backend/api/tasks.py": "",
            "backend/worker.py": "from api import (\n    tasks,  # the jobs\n)\n",
            "tests/test_api.py": "import backend.api.tasks\n",
        }
    )
    assert modules(run(root))["backend/api/tasks.py"] == "api.tasks"


def test_a_short_name_another_root_holds_is_no_evidence_for_the_holder(write):
    # `from config import x` is the top-level config package, not hub/config.
    root = write(
        {
            "hub/config/__init__.py": "",
            "hub/jobs.py": "",
            "config/__init__.py": "",
            "manage.py": "from config import settings\nimport hub.jobs\n",
        }
    )
    project = run(root)
    assert modules(project)["hub/config/__init__.py"] == "hub.config"
    assert modules(project)["config/__init__.py"] == "config"


def test_a_dotted_name_that_only_ends_like_the_holder_is_no_evidence(write):
    # `x.backend.api` is somebody else's module; only `backend.api` itself counts.
    root = write(
        {
            "backend/api/__init__.py": "",
            "backend/api/tasks.py": "",
            "app.py": 'NAME = "vendor.backend.api.tasks"\n',
        }
    )
    assert modules(run(root))["backend/api/tasks.py"] == "api.tasks"


def test_configured_src_replaces_detection(write):
    root = write(
        {
            "services/worker/jobs.py": "",
            "services/worker/lib/__init__.py": "",
            "other/pkg/__init__.py": "",
        }
    )
    project = run(root, src=("services/worker",))
    assert project.source_roots == ("", "services/worker")
    assert modules(project) == {
        "other/pkg/__init__.py": "other.pkg",
        "services/worker/jobs.py": "jobs",
        "services/worker/lib/__init__.py": "lib",
    }


def test_src_from_pyproject(write):
    root = write({"pyproject.toml": '[tool.forklint]\nsrc = ["backend"]\n', "backend/tasks.py": ""})
    project = discover([], load_config(root))
    assert modules(project) == {"backend/tasks.py": "tasks"}


def test_stubs_are_discovered_with_the_same_module_name(write):
    root = write(
        {"app/__init__.pyi": "", "app/__init__.py": "", "app/fast.pyi": "", "app/notes.txt": "x"}
    )
    project = run(root)
    assert [(f.relpath, f.module, f.is_package) for f in project.files] == [
        ("app/__init__.py", "app", True),
        ("app/__init__.pyi", "app", True),
        ("app/fast.pyi", "app.fast", False),
    ]


def test_default_excludes_and_virtualenvs(write):
    skipped = [
        ".venv/lib/site.py",
        "venv/lib/x.py",
        "env/lib/python3.11/site-packages/dep.py",
        "myenv/lib/x.py",
        ".git/hooks/x.py",
        ".hg/x.py",
        ".tox/py311/x.py",
        ".nox/x.py",
        "build/lib/app/x.py",
        "dist/x.py",
        "node_modules/pkg/x.py",
        "app/__pycache__/x.py",
        "lib/site-packages/dep.py",
        "app.egg-info/x.py",
    ]
    root = write(
        {
            **dict.fromkeys(skipped, ""),
            "env/pyvenv.cfg": "",
            "myenv/pyvenv.cfg": "",
            "app/ok.py": "",
        }
    )
    write({"settings/env/config.py": ""})  # a folder named env without pyvenv.cfg is code
    assert sorted(modules(run(root))) == ["app/ok.py", "settings/env/config.py"]


def test_exclude_replaces_defaults_but_virtualenvs_stay_out(write):
    root = write(
        {
            "build/gen.py": "",
            "generated/x.py": "",
            "app/a.py": "",
            ".venv/pyvenv.cfg": "",
            ".venv/lib/x.py": "",
        }
    )
    assert sorted(modules(run(root, exclude=("generated",)))) == ["app/a.py", "build/gen.py"]


@pytest.mark.parametrize(
    ("pattern", "left"),
    [
        ("migrations", ["app/models.py", "app/proto_pb2.py", "tests/fixtures/f.py"]),
        ("app/migrations/*.py", ["app/models.py", "app/proto_pb2.py", "tests/fixtures/f.py"]),
        ("*_pb2.py", ["app/migrations/0001.py", "app/models.py", "tests/fixtures/f.py"]),
        ("**/fixtures/", ["app/migrations/0001.py", "app/models.py", "app/proto_pb2.py"]),
        ("/tests", ["app/migrations/0001.py", "app/models.py", "app/proto_pb2.py"]),
        ("./app", ["tests/fixtures/f.py"]),
        ("app/**", ["tests/fixtures/f.py"]),
        (
            "models.py/",
            ["app/migrations/0001.py", "app/models.py", "app/proto_pb2.py", "tests/fixtures/f.py"],
        ),
        ("app/m?dels.py", ["app/migrations/0001.py", "app/proto_pb2.py", "tests/fixtures/f.py"]),
        ("app/[mp]*.py", ["app/migrations/0001.py", "tests/fixtures/f.py"]),
    ],
)
def test_extend_exclude_globs(write, pattern, left):
    root = write(
        {
            "app/migrations/0001.py": "",
            "app/models.py": "",
            "app/proto_pb2.py": "",
            "tests/fixtures/f.py": "",
        }
    )
    assert sorted(modules(run(root, extend_exclude=(pattern,)))) == left


def test_excludes_apply_to_explicitly_passed_files(write):
    root = write(
        {"app/migrations/0001.py": "", "app/tasks.py": "", ".venv/pyvenv.cfg": "", ".venv/x.py": ""}
    )
    given = [root / "app/migrations/0001.py", root / ".venv/x.py", root / "app/tasks.py"]
    project = run(root, *given, extend_exclude=("migrations",))
    assert project.targets == {"app/tasks.py"}
    assert sorted(modules(project)) == ["app/tasks.py"]


def test_explicitly_passed_excluded_directory_is_skipped(write):
    root = write({"build/x.py": "", "app/a.py": ""})
    project = run(root, root / "build")
    assert project.targets == frozenset()
    assert sorted(modules(project)) == ["app/a.py"]


def test_targets_are_the_given_files_but_the_model_is_the_whole_project(write):
    root = write({"app/__init__.py": "", "app/tasks.py": "", "app/models.py": "", "worker.py": ""})
    project = run(root, root / "app/tasks.py")
    assert project.targets == {"app/tasks.py"}
    assert sorted(modules(project)) == [
        "app/__init__.py",
        "app/models.py",
        "app/tasks.py",
        "worker.py",
    ]


def test_given_directory_and_relative_paths(write, monkeypatch):
    root = write({"app/__init__.py": "", "app/tasks.py": "", "worker.py": ""})
    monkeypatch.chdir(root / "app")
    project = run(root, Path("."), Path("../worker.py"))
    assert project.targets == {"app/__init__.py", "app/tasks.py", "worker.py"}


def test_given_root_directory_targets_everything(write):
    root = write({"a.py": "", "b/c.py": ""})
    assert run(root, root).targets == {"a.py", "b/c.py"}


def test_a_named_script_without_suffix_is_analysed(write):
    root = write({"bin/worker": "#!/usr/bin/env python\nimport app\n", "app.py": ""})
    project = run(root, root / "bin/worker")
    assert project.targets == {"bin/worker"}
    script = next(f for f in project.files if f.relpath == "bin/worker")
    assert (script.module, script.text) == ("bin.worker", "#!/usr/bin/env python\nimport app\n")


def test_missing_path_is_a_file_error(write):
    root = write({"a.py": ""})
    project = run(root, root / "nope.py")
    missing = next(f for f in project.files if f.relpath == "nope.py")
    assert str(missing.error) == "nope.py: no such file or directory"
    assert project.targets == {"nope.py"}


def test_paths_outside_the_root_keep_the_path_as_given(write, tmp_path):
    root = write({"app.py": ""})
    outside = tmp_path / "elsewhere"
    (outside / "lib/pkg").mkdir(parents=True)
    (outside / "lib/pkg/__init__.py").write_text("")
    (outside / "lib/pkg/mod.py").write_text("x = 1\n")
    (outside / "lib/build").mkdir()
    (outside / "lib/build/gen.py").write_text("")
    project = run(root, outside / "lib")
    given = (outside / "lib").as_posix()
    assert project.targets == {f"{given}/pkg/__init__.py", f"{given}/pkg/mod.py"}
    assert modules(project) == {
        "app.py": "app",
        f"{given}/pkg/__init__.py": "pkg",
        f"{given}/pkg/mod.py": "pkg.mod",
    }
    assert project.source_roots == ("",)


def test_symlink_loop_is_one_error_and_does_not_hang(write):
    root = write({"app/a.py": "", "app/sub/b.py": ""})
    (root / "app/sub/up").symlink_to("../..")
    (root / "self.py").symlink_to("self.py")
    result: list[Project] = []
    thread = threading.Thread(target=lambda: result.append(run(root)), daemon=True)
    thread.start()
    thread.join(timeout=30)
    assert result, "discovery did not finish"
    errors = [str(f.error) for f in result[0].files if f.error is not None]
    assert errors == [
        "app/sub/up: symlink loop: the link leads back to a parent directory; skipped",
        "self.py: symlink loop; skipped",
    ]
    assert sorted(f.relpath for f in result[0].files if f.error is None) == [
        "app/a.py",
        "app/sub/b.py",
    ]


def test_symlinked_directory_is_followed_once(write):
    root = write({"shared/util.py": "", "app/__init__.py": ""})
    (root / "app/shared").symlink_to("../shared")
    project = run(root)
    # The same files through two paths would be two copies of one module; the first path wins.
    assert sorted(modules(project)) == ["app/__init__.py", "shared/util.py"]


def test_symlinked_file_keeps_its_own_path(write):
    root = write({"real/impl.py": "x = 1\n"})
    (root / "alias.py").symlink_to("real/impl.py")
    project = run(root)
    alias = next(f for f in project.files if f.relpath == "alias.py")
    assert (alias.module, alias.text, alias.path) == ("alias", "x = 1\n", root / "alias.py")


def test_order_is_deterministic(write):
    names = [f"pkg{i % 7}/m{i}.py" for i in range(40)]
    root = write(dict.fromkeys(names, ""))
    first = run(root)
    assert [f.relpath for f in first.files] == sorted(names)
    assert run(root) == first


def test_unreadable_directory_does_not_stop_the_walk(unprivileged):
    root = unprivileged.root
    (root / "a.py").write_text("")
    (root / "locked").mkdir()
    (root / "locked/b.py").write_text("")
    (root / "locked").chmod(0)
    project = unprivileged.call(lambda: run(root))
    assert [(f.relpath, f.module, str(f.error)) for f in project.files] == [
        ("a.py", "a", "None"),
        ("locked", "", "locked: cannot read directory: permission denied"),
    ]


def test_leading_slash_anchors_a_pattern_to_the_root(write):
    root = write(
        {"tests/t.py": "", "app/tests/t.py": "", "docs/conf.py": "", "app/docs/conf.py": ""}
    )
    assert sorted(modules(run(root, extend_exclude=("/tests", "docs/")))) == ["app/tests/t.py"]


def test_relative_path_outside_the_root_adds_no_source_root(write, tmp_path, monkeypatch):
    root = write({"other/mod.py": ""})
    (tmp_path / "other/pkg").mkdir(parents=True)
    (tmp_path / "other/pkg/__init__.py").write_text("")
    monkeypatch.chdir(tmp_path)
    project = run(root, Path("other/pkg/__init__.py"))
    assert project.source_roots == ("",)
    assert modules(project) == {"other/mod.py": "other.mod", "other/pkg/__init__.py": "pkg"}
    assert project.targets == {"other/pkg/__init__.py"}


def test_explicit_non_python_files_are_skipped_scripts_are_not(tmp_path):
    from forklint.config import Config
    from forklint.project import discover

    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "README.md").write_text("# not python (\n")
    (tmp_path / "Procfile").write_text("worker: rq worker\n")
    (tmp_path / "worker").write_text("#!/usr/bin/env python3\nimport app\n")
    (tmp_path / "app.py").write_text("x = 1\n")
    config = Config(root=tmp_path)
    project = discover(
        [tmp_path / n for n in ("README.md", "Procfile", "worker", "app.py")], config
    )
    assert sorted(project.targets) == ["app.py", "worker"]


# ---- the project's files only: no symlink out of the root is followed ----------------------


@pytest.fixture
def secrets(tmp_path: Path) -> Path:
    """A folder beside the project holding what a hostile symlink would reach for."""
    outside = tmp_path / "secrets"
    (outside / "pkg").mkdir(parents=True)
    (outside / "token.py").write_text("TOKEN = 'hunter2'\n")
    (outside / "pkg/__init__.py").write_text("")
    (outside / "pkg/keys.py").write_text("KEY = 'hunter2'\n")
    return outside


def test_symlinks_out_of_the_root_are_reported_once_and_never_read(write, secrets):
    root = write({"app/__init__.py": "", "app/tasks.py": "x = 1\n", "README.md": ""})
    (root / "leak.py").symlink_to("/etc/passwd")
    (root / "token.py").symlink_to(secrets / "token.py")
    (root / "app/vendored").symlink_to(secrets / "pkg")  # a folder
    (root / "app/chain.py").symlink_to("../token.py")  # inside -> inside -> outside
    (root / "docs.md").symlink_to(secrets / "token.py")  # not Python: not read, not reported
    project = run(root)
    errors = {f.relpath: f.error.message for f in project.files if f.error is not None}
    assert errors == {
        "leak.py": "symlink to a file outside the project (/etc/passwd); not followed",
        "token.py": f"symlink to a file outside the project ({secrets / 'token.py'}); not followed",
        "app/vendored": f"symlink to a folder outside the project ({secrets / 'pkg'}); not followed",
        "app/chain.py": "symlink to a file outside the project (../token.py); not followed",
    }
    assert all(f.text is None for f in project.files if f.relpath in errors)
    assert sorted(f.relpath for f in project.files if f.error is None) == [
        "app/__init__.py",
        "app/tasks.py",
    ]


def test_links_out_named_on_the_command_line_are_refused_too(write, secrets):
    root = write({"app.py": ""})
    (root / "leak.py").symlink_to("/etc/passwd")
    (root / "vendored").symlink_to(secrets / "pkg")
    (root / "script").symlink_to(secrets / "token.py")  # no suffix: not even sniffed
    project = run(root, root / "leak.py", root / "vendored" / "keys.py", root / "vendored")
    errors = {f.relpath: f.error.message for f in project.files if f.error is not None}
    assert errors == {
        "leak.py": "symlink to a file outside the project (/etc/passwd); not followed",
        "vendored": f"symlink to a folder outside the project ({secrets / 'pkg'}); not followed",
    }
    assert {f.relpath for f in project.files if f.text is not None} == {"app.py"}
    assert run(root, root / "script").targets == {"script"}


def test_a_symlinked_file_is_not_the_root_of_its_target(write, secrets):
    """`forklint leak.py` looks for the project from where the link is, not from /etc."""
    root = write({"pyproject.toml": "", "app.py": ""})
    (root / "leak.py").symlink_to("/etc/passwd")
    assert find_root(root / "leak.py") == root


def test_an_excluded_link_out_is_not_mentioned(write, secrets):
    root = write({"app.py": ""})
    (root / "vendored").symlink_to(secrets / "pkg")
    project = run(root, extend_exclude=("vendored",))
    assert [f.relpath for f in project.files] == ["app.py"]


def test_links_inside_an_explicit_folder_outside_the_root_stay_in_that_folder(write, tmp_path):
    root = write({"app.py": ""})
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "mod.py").write_text("")
    (lib / "escape.py").symlink_to("/etc/passwd")
    project = run(root, lib)
    errors = {f.relpath: f.error.message for f in project.files if f.error is not None}
    assert errors == {
        f"{lib.as_posix()}/escape.py": (
            "symlink to a file outside the project (/etc/passwd); not followed"
        )
    }


def test_an_extensionless_python_script_in_bin_is_project_code(write):
    # held-out freight: `bin/worker` (`#!/usr/bin/env python`), run by a compose command, starts
    # the worker; a shell script beside it and a python-shebang file elsewhere are not read
    root = write(
        {
            "bin/worker": "#!/usr/bin/env python\nimport sys\n",
            "bin/deploy": "#!/bin/sh\nexec true\n",
            "docs/example": "#!/usr/bin/env python\nprint('x')\n",
            "app/__init__.py": "",
        }
    )
    found = modules(run(root))
    assert found["bin/worker"] == "bin.worker"
    assert "bin/deploy" not in found and "docs/example" not in found
