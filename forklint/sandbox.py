"""Parse in budgeted worker processes: a parser crash, hang or blow-up costs one file only."""

from __future__ import annotations

import faulthandler
import gc
import math
import os
import pickle
import resource
import signal
import socket
import sys
import tempfile
import time
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from typing import IO

from forklint.facts import FileFacts, extract, screen
from forklint.findings import FileError

DEFAULT_SECONDS = 10.0
DEFAULT_MEMORY_MB = 1024

# A second worker pays for its fork when there is at least this much source to parse (libcst
# parses some 400 KB a second, a worker starts in about 20 ms).
_BYTES_PER_WORKER = 128 * 1024
# Past its CPU budget a worker is stopped by the kernel (SIGXCPU). One that uses no CPU (stopped,
# or starved by a machine far busier than its cores) is stopped by the parent after this much
# wall time: three budgets and a grace.
_WALL_FACTOR = 3.0
_WALL_GRACE = 5.0
_GC_THRESHOLDS = (100_000, 50, 100)

# Messages from a worker, after a one-byte tag.
_VERDICT = b"V"  # CPython's SyntaxError, sent before libcst runs so that a libcst crash keeps it
_FACTS = b"F"  # the FileFacts, pickled (also what the cache stores)
_OUT_OF_MEMORY = b"M"  # a MemoryError at the budget; the worker exits after sending it


@dataclass(frozen=True)
class Budget:
    """What parsing one file may cost: CPU seconds (CPython's screen, libcst and the fact walk) and
    the memory it may add to its worker."""

    seconds: float = DEFAULT_SECONDS
    memory_mb: int = DEFAULT_MEMORY_MB


@dataclass(frozen=True)
class Work:
    text: str
    module: str
    relpath: str
    is_package: bool


@dataclass(frozen=True)
class Parsed:
    facts: FileFacts
    payload: bytes | None  # the facts pickled, for the cache; None when the outcome may not repeat


def available_cores() -> int:
    """CPUs this process may run on: its affinity mask, capped by a cgroup (container) CPU quota."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    try:
        with open("/sys/fs/cgroup/cpu.max", encoding="ascii") as handle:
            quota, period = handle.read().split()[:2]
        if quota != "max":
            cores = min(cores, max(1, math.ceil(int(quota) / int(period))))
    except (OSError, ValueError):
        pass
    return max(1, cores)


def default_workers(work: Sequence[Work]) -> int:
    """One worker per available core when there is enough to parse to gain from it, else one."""
    size = sum(len(w.text) for w in work)
    return max(1, min(available_cores(), len(work), size // _BYTES_PER_WORKER))


def parse_in_process(work: Work) -> FileFacts:
    """Where no process can be forked (Windows): parse here, with no budget and no crash guard."""
    return extract(work.text, work.module, work.relpath, work.is_package)


# ---- the parent side ------------------------------------------------------------------------


@dataclass
class _Worker:
    pid: int
    conn: Connection
    stderr: IO[bytes]  # what the worker's native code printed before dying (Rust's alloc failure)
    parsed: int = 0  # files finished, so a memory failure in a used worker can be retried fresh
    job: tuple[int, Work] | None = None
    started: float = 0.0
    verdict: tuple[int, int, str] | None = None


@dataclass
class ParserPool:
    """Up to `size` forked workers fed one file at a time; a worker that dies is replaced.

    Each worker runs with RLIMIT_AS (its size at start plus the memory budget) and, per file,
    RLIMIT_CPU (the CPU it has used plus the time budget), so the kernel stops a runaway parse;
    the parent only classifies how a worker ended and moves on. Files are parsed in the order
    submitted (largest first keeps the last file from running alone).
    """

    size: int
    budget: Budget = field(default_factory=Budget)
    _queue: deque[tuple[int, Work]] = field(default_factory=deque)
    _idle: list[_Worker] = field(default_factory=list)
    _busy: dict[Connection, _Worker] = field(default_factory=dict)
    _done: list[tuple[int, Parsed]] = field(default_factory=list)
    # facts received but not yet unpickled: the worker gets its next file first
    _received: list[tuple[int, bytes]] = field(default_factory=list)
    _retried: set[int] = field(default_factory=set)
    _pending: int = 0
    _start_error: str | None = None

    def __enter__(self) -> ParserPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def submit(self, key: int, work: Work) -> None:
        self._queue.append((key, work))
        self._pending += 1
        self._dispatch()

    def poll(self, timeout: float | None = 0.0) -> list[tuple[int, Parsed]]:
        """Results that arrived within `timeout` seconds (None: until at least one arrives)."""
        self._dispatch()
        if self._busy and not (self._done or self._received):
            now = time.monotonic()
            wall = self._wall_limit()
            until = min(w.started + wall for w in self._busy.values()) - now
            wait_for = max(0.0, until) if timeout is None else max(0.0, min(timeout, until))
            for conn in wait(list(self._busy), wait_for):
                self._receive(self._busy[conn])  # type: ignore[index]
            now = time.monotonic()
            for worker in [w for w in self._busy.values() if now - w.started > wall]:
                self._stop(worker)
                self._failed(worker, f"parsing did not finish within {wall:g} s", cacheable=False)
            self._dispatch()
        for key, body in self._received:
            self._done.append((key, Parsed(pickle.loads(body), body)))
        self._received.clear()
        done, self._done = self._done, []
        self._pending -= len(done)
        return done

    def drain(self) -> Iterator[tuple[int, Parsed]]:
        """Every remaining result, as they arrive."""
        while self._pending:
            yield from self.poll(None)

    def close(self) -> None:
        """End every worker: idle ones see their pipe close; busy ones (an interrupted run) are killed."""
        for worker in list(self._busy.values()):
            self._stop(worker)
        for worker in self._idle:
            worker.conn.close()
            _reap(worker.pid)
            worker.stderr.close()
        self._idle.clear()
        self._busy.clear()

    # -- internals

    def _wall_limit(self) -> float:
        return self.budget.seconds * _WALL_FACTOR + _WALL_GRACE

    def _dispatch(self) -> None:
        while self._queue:
            worker = self._idle.pop() if self._idle else None
            if worker is None:
                if len(self._busy) >= self.size:
                    return
                worker = self._start()
                if worker is None:
                    self._refuse_all()
                    return
            key, work = self._queue.popleft()
            try:
                worker.conn.send_bytes(pickle.dumps(work, protocol=pickle.HIGHEST_PROTOCOL))
            except OSError:  # it died while idle (killed from outside): the file never started
                self._queue.appendleft((key, work))
                self._retire(worker)
                continue
            worker.job, worker.started, worker.verdict = (key, work), time.monotonic(), None
            self._busy[worker.conn] = worker

    def _start(self) -> _Worker | None:
        libc_for_workers()
        try:
            parent_end, child_end = socket.socketpair()
        except OSError as exc:
            self._start_error = exc.strerror or type(exc).__name__
            return None
        try:
            stderr = tempfile.TemporaryFile(prefix="forklint-parser-")
            parent = os.getpid()
            pid = os.fork()
        except OSError as exc:
            self._start_error = exc.strerror or type(exc).__name__
            parent_end.close()
            child_end.close()
            return None
        if pid == 0:  # pragma: no cover - the child never returns into the caller
            status = 70
            try:
                parent_end.close()
                for other in [*self._idle, *self._busy.values()]:
                    other.conn.close()  # or a worker would keep its siblings' pipes open
                _serve(Connection(child_end.detach()), self.budget, stderr.fileno(), parent)
                status = 0
            finally:
                os._exit(status)
        child_end.close()
        return _Worker(pid, Connection(parent_end.detach()), stderr)

    def _refuse_all(self) -> None:
        reason = f"not analysed: cannot start a parser process ({self._start_error})"
        while self._queue:
            key, work = self._queue.popleft()
            facts = FileFacts(
                work.module, work.relpath, work.is_package, error=FileError(work.relpath, reason)
            )
            self._done.append((key, Parsed(facts, None)))

    def _receive(self, worker: _Worker) -> None:
        try:
            data = worker.conn.recv_bytes()
        except (EOFError, OSError):
            self._died(worker)
            return
        tag, body = data[:1], data[1:]
        if tag == _VERDICT:
            worker.verdict = pickle.loads(body)
            return
        if tag == _OUT_OF_MEMORY:
            _reap(worker.pid)
            self._memory_failure(worker)
            return
        assert worker.job is not None
        key, _ = worker.job
        self._received.append((key, body))
        del self._busy[worker.conn]
        worker.job, worker.parsed = None, worker.parsed + 1
        self._idle.append(worker)

    def _died(self, worker: _Worker) -> None:
        status = _reap(worker.pid)
        if os.WIFSIGNALED(status):
            number = os.WTERMSIG(status)
            if number == signal.SIGXCPU:
                seconds = f"{self.budget.seconds:g}"
                self._failed(worker, f"parsing took more than {seconds} s of CPU (parse-timeout)")
            elif number == signal.SIGABRT and b"memory allocation" in _tail(worker.stderr):
                self._memory_failure(worker)
            elif number == signal.SIGKILL:  # not ours: the kernel's OOM killer, or a user
                self._failed(worker, "the parser process was killed (SIGKILL)", cacheable=False)
            else:
                self._failed(worker, f"the parser crashed ({signal.Signals(number).name})")
        else:
            code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else status
            self._failed(worker, f"the parser process exited with status {code}", cacheable=False)

    def _memory_failure(self, worker: _Worker) -> None:
        assert worker.job is not None
        key, work = worker.job
        if worker.parsed and key not in self._retried:
            # Earlier files may have left the heap fragmented: one more try in a fresh worker.
            self._retried.add(key)
            self._queue.appendleft((key, work))
            self._retire(worker)
            return
        megabytes = self.budget.memory_mb
        self._failed(worker, f"parsing needs more than {megabytes} MB of memory (parse-memory)")

    def _failed(self, worker: _Worker, why: str, *, cacheable: bool = True) -> None:
        """The worker ended on its file: CPython's SyntaxError if it gave one, else `why`."""
        assert worker.job is not None
        key, work = worker.job
        if worker.verdict is not None:
            facts = FileFacts(
                work.module, work.relpath, work.is_package, syntax_error=worker.verdict
            )
        else:
            error = FileError(work.relpath, f"not analysed: {why}")
            facts = FileFacts(work.module, work.relpath, work.is_package, error=error)
        payload = pickle.dumps(facts, protocol=pickle.HIGHEST_PROTOCOL) if cacheable else None
        self._done.append((key, Parsed(facts, payload)))
        self._retire(worker)

    def _stop(self, worker: _Worker) -> None:
        try:
            os.kill(worker.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self._retire(worker)

    def _retire(self, worker: _Worker) -> None:
        self._busy.pop(worker.conn, None)
        if worker in self._idle:
            self._idle.remove(worker)
        worker.conn.close()
        _reap(worker.pid)
        worker.stderr.close()


def _reap(pid: int) -> int:
    try:
        return os.waitpid(pid, 0)[1]
    except ChildProcessError:
        return 0


def _tail(stderr: IO[bytes]) -> bytes:
    try:
        stderr.seek(0, os.SEEK_END)
        stderr.seek(max(0, stderr.tell() - 4096))
        return stderr.read()
    except OSError:
        return b""


# ---- the worker side ------------------------------------------------------------------------


def _serve(
    conn: Connection, budget: Budget, stderr_fd: int, parent: int
) -> None:  # pragma: no cover
    """The worker's loop: one file in, its facts out, until the parent closes the pipe."""
    # Native code (libcst's Rust parser) may print before it dies, and a fault handler inherited
    # from the parent would dump a traceback: keep both off the user's terminal.
    faulthandler.disable()
    os.dup2(stderr_fd, 2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.close(devnull)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _die_with_parent(parent)
    _set_limit(resource.RLIMIT_CORE, 0)  # a crash or SIGXCPU must not write a core file
    size = _address_space()
    if size is not None:
        _set_limit(resource.RLIMIT_AS, size + budget.memory_mb * 1024 * 1024)
    # What the worker inherited stays shared with the parent only if the collector never walks it.
    gc.freeze()
    gc.set_threshold(*_GC_THRESHOLDS)  # libcst's trees are acyclic; see api._fewer_collections
    fault = _test_hook()
    while True:
        try:
            work: Work = pickle.loads(conn.recv_bytes())
        except EOFError:
            return
        usage = resource.getrusage(resource.RUSAGE_SELF)
        used = usage.ru_utime + usage.ru_stime
        _set_limit(resource.RLIMIT_CPU, math.ceil(used + min(budget.seconds, 2.0**40)))
        try:
            if fault is not None:
                fault(work, "start")
            verdict = screen(work.text)
            if isinstance(verdict, tuple):
                conn.send_bytes(_VERDICT + pickle.dumps(verdict))
            if fault is not None:
                fault(work, "screened")
            facts = extract(work.text, work.module, work.relpath, work.is_package, verdict=verdict)
        except MemoryError:
            conn.send_bytes(_OUT_OF_MEMORY)
            return
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:  # noqa: BLE001 - e.g. a Rust panic (a BaseException) in libcst
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            error = FileError(work.relpath, f"not analysed: the parser failed: {reason}")
            facts = FileFacts(work.module, work.relpath, work.is_package, error=error)
        conn.send_bytes(_FACTS + pickle.dumps(facts, protocol=pickle.HIGHEST_PROTOCOL))


def _set_limit(which: int, soft: int) -> None:  # pragma: no cover - child
    import resource

    _, hard = resource.getrlimit(which)
    soft = min(soft, 2**62)  # a budget of "forever" is still a number the kernel takes
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    try:
        resource.setrlimit(which, (soft, hard))
    except (ValueError, OSError):
        pass  # a platform without this limit: the wall-clock backstop still applies


def _address_space() -> int | None:  # pragma: no cover - child
    """This process's virtual size (Linux); RLIMIT_AS counts what it inherited from the parent."""
    try:
        with open("/proc/self/statm", "rb") as handle:  # bytes: no codec to import here
            pages = int(handle.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return pages * os.sysconf("SC_PAGE_SIZE")


_LIBC: list = []  # libc, loaded by the parent before it forks (a worker may not read the stdlib)


def libc_for_workers() -> None:
    """Load libc in the parent, so that a worker needs no import to call prctl (a run dropped to
    another user may not be able to read the interpreter's own modules)."""
    if _LIBC or not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        _LIBC.append(ctypes.CDLL(None, use_errno=True))
    except (ImportError, OSError):
        _LIBC.append(None)


def _die_with_parent(parent: int) -> None:  # pragma: no cover - child
    """Linux: a worker dies with the run that started it, even one killed with SIGKILL."""
    if not sys.platform.startswith("linux") or not _LIBC or _LIBC[0] is None:
        return
    try:
        _LIBC[0].prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent died before the call took effect
        os._exit(0)


def _test_hook():  # pragma: no cover - child
    """FORKLINT_TEST_PARSER_FAULT="segv:NAME,hang:NAME,...": the worker really faults (a real
    signal, a real busy loop, real allocations) on files whose path ends with NAME, so the tests
    can prove what no known input reaches any more. Tests only."""
    spec = os.environ.get("FORKLINT_TEST_PARSER_FAULT")
    if not spec:
        return None
    faults = [item.split(":", 1) for item in spec.split(",") if ":" in item]

    def fault(work: Work, stage: str) -> None:
        for kind, name in faults:
            if not work.relpath.endswith(name):
                continue
            if kind == "segv-after-screen" and stage == "screened":
                os.kill(os.getpid(), signal.SIGSEGV)
            if stage != "start":
                continue
            if kind == "segv":
                os.kill(os.getpid(), signal.SIGSEGV)
            elif kind == "abort":
                os.abort()
            elif kind == "exit":
                os._exit(3)
            elif kind == "stop":
                os.kill(os.getpid(), signal.SIGSTOP)
            elif kind == "hang":
                while True:
                    pass
            elif kind == "memory":
                hoard = []
                while True:
                    hoard.append(bytearray(16 * 1024 * 1024))

    return fault


__all__ = ["Budget", "ParserPool", "Parsed", "Work", "available_cores", "default_workers"]
