"""Reading source files as the interpreter does: BOM, PEP 263 cookies, and one-line errors for the rest."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from forklint.config import Config
from forklint.project import MAX_FILE_BYTES, SourceFile, discover


def only_file(root: Path, relpath: str) -> SourceFile:
    project = discover([], Config(root=root))
    (found,) = [f for f in project.files if f.relpath == relpath]
    return found


@pytest.mark.parametrize(
    ("content", "text"),
    [
        (b"x = 1\n", "x = 1\n"),
        (b"\xef\xbb\xbfx = '\xc3\xa9'\n", "x = 'é'\n"),
        (b"# -*- coding: latin-1 -*-\nx = '\xe9'\n", "# -*- coding: latin-1 -*-\nx = 'é'\n"),
        (
            b"#!/usr/bin/env python\n# vim: set fileencoding=cp1252 :\nx = '\x80'\n",
            "#!/usr/bin/env python\n# vim: set fileencoding=cp1252 :\nx = '€'\n",
        ),
        (b"\xef\xbb\xbf# coding: utf-8\nx = 1\n", "# coding: utf-8\nx = 1\n"),
        (b"x = 1\r\ny = 2\r\n", "x = 1\r\ny = 2\r\n"),  # newlines are left to the parser
        (b"", ""),
    ],
    ids=[
        "utf8",
        "bom",
        "latin1-cookie",
        "cookie-on-line-2",
        "bom-and-utf8-cookie",
        "crlf",
        "empty",
    ],
)
def test_decodes_like_the_interpreter(write, content, text):
    root = write({"m.py": content})
    found = only_file(root, "m.py")
    assert (found.text, found.error) == (text, None)


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (b"x = 1\ny = '\xe9'\n", "m.py:2:6: cannot decode as utf-8 at byte 11"),
        (b"\xe9 = 1\n", "m.py:1:1: cannot decode as utf-8 at byte 0"),
        # A cookie on line 3 is only a comment: the file is UTF-8 and line 4 is not.
        (b"\n\n# coding: latin-1\nx = '\xe9'\n", "m.py:4:6: cannot decode as utf-8 at byte 25"),
        (b"\xef\xbb\xbfx = '\xe9'\n", "m.py:1:6: cannot decode as utf-8 at byte 8"),
        (b"x = 1\n\x00\n", "m.py:2:1: contains a NUL byte at byte 6; not Python source"),
        (
            b"# coding: klingon\nx = 1\n",
            "m.py:1: bad coding declaration (unknown encoding: klingon)",
        ),
        (
            b"\xef\xbb\xbf# coding: latin-1\n",
            "m.py:1: bad coding declaration (encoding problem: utf-8)",
        ),
        (b"# coding: ascii\nx = '\xc3\xa9'\n", "m.py:2:6: cannot decode as ascii at byte 21"),
        (b"x = '\xc3\xa9\xff'\n", "m.py:1:7: cannot decode as utf-8 at byte 7"),
    ],
    ids=[
        "utf8-line-2",
        "utf8-first-byte",
        "cookie-too-late",
        "bom-then-latin1",
        "nul",
        "unknown-cookie",
        "bom-vs-cookie",
        "ascii-cookie",
        "column-counts-characters",
    ],
)
def test_undecodable_files_are_one_line_errors(write, content, error):
    root = write({"m.py": content, "ok.py": "x = 1\n"})
    found = only_file(root, "m.py")
    assert found.text is None
    assert str(found.error) == error
    assert "\n" not in str(found.error)
    assert only_file(root, "ok.py").text == "x = 1\n"  # the run goes on


def test_unreadable_file(unprivileged):
    root = unprivileged.root
    (root / "secret.py").write_text("x = 1\n")
    (root / "secret.py").chmod(0)
    (root / "ok.py").write_text("y = 2\n")
    files = unprivileged.call(lambda: discover([], Config(root=root)).files)
    assert [(f.relpath, f.text, str(f.error)) for f in files] == [
        ("ok.py", "y = 2\n", "None"),
        ("secret.py", None, "secret.py: cannot read file: permission denied"),
    ]


def test_fifo_named_like_a_module_does_not_block(write):
    root = write({"ok.py": ""})
    os.mkfifo(root / "pipe.py")
    result: list[SourceFile] = []
    thread = threading.Thread(target=lambda: result.append(only_file(root, "pipe.py")), daemon=True)
    thread.start()
    thread.join(timeout=30)
    assert result, "reading a FIFO blocked"
    assert str(result[0].error) == "pipe.py: not a regular file (device, socket or FIFO); skipped"


def test_directory_named_like_a_module_is_walked(write):
    root = write({"weird.py/inner.py": "x = 1\n"})
    project = discover([root / "weird.py"], Config(root=root))
    assert [(f.relpath, f.module, f.error) for f in project.files] == [
        ("weird.py/inner.py", "weird.py.inner", None)
    ]


def test_dangling_symlink(write):
    root = write({"ok.py": ""})
    (root / "gone.py").symlink_to("nowhere.py")
    assert (
        str(only_file(root, "gone.py").error)
        == "gone.py: cannot read file: no such file or directory"
    )


def test_too_big_file_is_skipped_without_reading_it(write):
    root = write({"ok.py": ""})
    with open(root / "huge.py", "wb") as handle:  # sparse: costs no disk
        handle.truncate(MAX_FILE_BYTES + 1)
    assert str(only_file(root, "huge.py").error) == (
        f"huge.py: file is larger than 10 MB ({MAX_FILE_BYTES + 1} bytes); skipped"
    )
