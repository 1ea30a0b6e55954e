"""Redis URLs that do not parse as URLs: the password stays masked, a bad option is one line.

Found when measuring issue 12: a password with an unescaped `/`, `?` or `#`, or a broken IPv6
host, was printed in clear (urlsplit cannot find the user-info, and redis-py quotes a piece of
it as the "port"); an unknown query option (`?PassWord=`) ended in `internal error: TypeError`.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hostile_helpers import forklint

from forklint.verify.secrets import mask_url, scrub, secrets_of
from tests.projects import write_files

ODD_URLS = [
    ("redis://:s3cretpw/tail@127.0.0.1:1/0", "redis://:***@127.0.0.1:1/0"),
    ("redis://:s3cretpw#tail@127.0.0.1:1/0", "redis://:***@127.0.0.1:1/0"),
    ("redis://:s3cretpw?tail@127.0.0.1:1/0", "redis://:***@127.0.0.1:1/0"),
    ("redis://user:s3cretpw/tail@127.0.0.1:1/0", "redis://user:***@127.0.0.1:1/0"),
    ("redis://:s3cretpw@[::1", "redis://:***@[::1"),
]


@pytest.mark.parametrize(("url", "shown"), ODD_URLS)
def test_a_url_the_parser_misreads_is_masked_from_its_text(url, shown):
    assert mask_url(url) == shown
    # the pieces redis-py may quote back ("port ... as 's3cretpw'") are secrets too
    assert "s3cretpw" not in scrub(f"{url}: value 's3cretpw'", secrets_of(url))


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("redis://:secret@127.0.0.1:1/0", "redis://:***@127.0.0.1:1/0"),
        ("redis://u:p%40ss@h:1/0?db=0", "redis://u:***@h:1/0?db=0"),
        ("redis://h:1/0?PassWord=s3cretpw", "redis://h:1/0?PassWord=***"),
        ("redis://user@h:1/0", "redis://user@h:1/0"),
        ("unix:///tmp/r.sock?db=1", "unix:///tmp/r.sock?db=1"),
    ],
)
def test_well_formed_urls_keep_their_shape(url, shown):
    assert mask_url(url) == shown


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write_files(
        tmp_path,
        {"pyproject.toml": "", "app/__init__.py": "", "app/jobs.py": "def ok():\n    return 1\n"},
    )


@pytest.mark.parametrize(
    ("url", "needle"),
    [
        *((url, f"cannot reach Redis at {shown}") for url, shown in ODD_URLS),
        (
            "redis://127.0.0.1:1/0?PassWord=s3cretpw",
            "cannot use --redis-url redis://127.0.0.1:1/0?PassWord=***: ",
        ),
    ],
)
def test_verify_says_one_line_without_the_password(project, url, needle):
    done = forklint("verify", "app.jobs:ok", "-n", "1", "--redis-url", url, cwd=project)
    out = (done.stdout + done.stderr).decode("utf-8", "backslashreplace")
    assert done.returncode == 2, out
    assert "Traceback" not in out and "internal error" not in out, out
    assert "s3cretpw" not in out, out
    lines = done.stderr.decode().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"forklint verify: {needle}"), out
