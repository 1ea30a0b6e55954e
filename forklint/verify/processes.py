"""Every process verify starts: in a session (and process group) of its own, registered before a signal
can get between its start and its clean-up, and killed with everything it started on every way out.

Ctrl-C and SIGTERM raise `Interrupted` once, at the first signal; the handler then blocks both
signals for good, so the clean-up that follows cannot be cut short by a second or third one
arriving microseconds later (what `timeout` and process managers send). Children also ask the kernel
to kill them when verify dies (PR_SET_PDEATHSIG, Linux): a SIGKILLed verify leaves nothing either.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(BaseException):
    """SIGINT or SIGTERM reached verify; raised once, where verify was, so that its clean-up runs."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


@dataclass
class _Child:
    label: str  # "Redis", "the import probe", "the rq.Worker worker"
    pid: int  # also its session and process group id (start_new_session)
    process: subprocess.Popen[Any] | None


_children: list[_Child] = []
_first_signal: int | None = None


_settled = False  # everything is stopped: a signal is only remembered
_critical = False  # starting a child: the signal is raised once it is registered
_raised = False


def _on_signal(signum: int, frame: object) -> None:
    global _first_signal, _raised
    if _first_signal is not None:
        return  # already stopping: a second signal changes nothing
    _first_signal = signum
    # Blocked from now on (children started after this would inherit the mask, but none is: verify
    # only cleans up once a signal came).
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_BLOCK, set(_SIGNALS))
    if not _settled and not _critical:
        _raised = True
        raise Interrupted(signum)


@contextlib.contextmanager
def _registering() -> Iterator[None]:
    """A signal arriving while a child starts is raised only once the child is registered.

    Not a blocked signal mask: a child inherits the mask across exec, and a worker that cannot
    receive SIGTERM cannot be shut down warmly.
    """
    global _critical, _raised
    _critical = True
    try:
        yield
    finally:
        _critical = False
        if _first_signal is not None and not _raised and not _settled:
            _raised = True
            raise Interrupted(_first_signal)


def settle() -> None:
    """Everything is stopped: from now on a signal is only remembered (first_signal), not raised."""
    global _settled
    _settled = True


def first_signal() -> int | None:
    return _first_signal


@contextlib.contextmanager
def handling_signals() -> Iterator[None]:
    """SIGINT and SIGTERM raise Interrupted (once) inside the block."""
    global _first_signal, _settled, _raised
    _first_signal, _settled, _raised = None, False, False
    previous = {signum: signal.signal(signum, _on_signal) for signum in _SIGNALS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


@contextlib.contextmanager
def uninterrupted() -> Iterator[None]:
    """Hold SIGINT and SIGTERM while starting or stopping a process; the mask is restored after, so
    signals blocked by a first one stay blocked."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, set(_SIGNALS))
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def spawn(label: str, args: list[str], **popen: Any) -> subprocess.Popen[Any]:
    """Start a child in a session of its own and register it before any signal is let through."""
    with _registering():
        process = subprocess.Popen(args, start_new_session=True, **popen)
        _children.append(_Child(label, process.pid, process))
    return process


@contextlib.contextmanager
def adopting(label: str) -> Iterator[Callable[[int], None]]:
    """Start a process elsewhere (the embedded Redis) and register it with the callable given:

    with adopting("Redis") as adopt:
        server.start()
        adopt(server.pid)
    """
    with _registering():
        yield lambda pid: _children.append(_Child(label, pid, None))


def stop(process: subprocess.Popen[Any], grace: float = 0.0) -> None:
    """Stop a child and its whole session (a worker's horses too); SIGTERM first when `grace`."""
    with uninterrupted():
        if grace and process.poll() is None:
            process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(grace)
        kill_session(process.pid)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(5)
        if process.poll() is None:
            process.kill()
            process.wait()
        # Horses left behind by a worker that died on its own, killed or not.
        kill_session(process.pid)


def stop_all() -> tuple[list[str], list[str]]:
    """Kill every registered child's session; (labels stopped, survivors as "label (pids)")."""
    stopped, survivors = [], []
    with uninterrupted():
        for child in _children:
            if child.process is not None:
                stop(child.process)
            else:
                kill_session(child.pid)
            left = session_members(child.pid)
            if left:
                survivors.append(f"{child.label} ({', '.join(map(str, left))})")
            else:
                stopped.append(child.label)
        _children.clear()
    return list(dict.fromkeys(stopped)), survivors


def forget(pid: int) -> None:
    """A child stopped cleanly on the normal path."""
    _children[:] = [c for c in _children if c.pid != pid]


def kill_session(sid: int) -> None:
    for _ in range(100):
        members = session_members(sid)
        if not members:
            return
        for pid in members:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.02)


def session_members(sid: int) -> list[int]:
    """Live processes of session `sid` (Linux /proc; elsewhere the process group only)."""
    proc = Path("/proc")
    if not proc.is_dir():
        try:
            os.killpg(sid, 0)
        except (ProcessLookupError, PermissionError):
            return []
        return [sid]
    members = []
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # Fields after the parenthesised command: state ppid pgrp session ...
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[3]) == sid and fields[0] != "Z":
            members.append(int(entry.name))
    return members
