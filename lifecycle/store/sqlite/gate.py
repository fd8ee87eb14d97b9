"""The writers' gate: writers of one SQLite store queue in the kernel instead of polling.

Why: when SQLite's write lock is taken, a writer's busy handler sleeps and retries
(1, 2, 5, … up to 100 ms between tries), so under many writing processes a writer that
keeps waking up just after someone else took the lock can wait seconds while later
writers go first (7.4 s for one store under 8 processes, issue 15). So every write
transaction first takes an exclusive ``flock`` on a sidecar file, ``<store>-writer``
(0600, like the store's other files): a blocked ``flock`` sleeps in the kernel and
is woken when the holder lets go, so a write waits for other writers, not for a timer
(not strictly in arrival order: Linux wakes every waiter and one wins). Measured
(bench/bench_fairness.py, bench/RESULTS.md): the slowest store of 8 processes went
from 0.5-1.2 s to 40-210 ms, at some throughput (about -15%).

What it is not: a lock anything relies on. ``BEGIN IMMEDIATE`` still takes SQLite's
write lock after the gate, so writers that do not take the gate (an older version,
the ``sqlite3`` shell) are still serialized correctly, only not queued. Hence every
way the gate can fail to work (no ``fcntl`` on this platform, a sidecar that cannot be
created, a filesystem without ``flock``) falls back to SQLite's busy handler alone,
today's behaviour, with one warning. Readers never take the gate.

Bounded: ``flock`` itself cannot time out, so a writer that has to wait does the
blocking ``flock`` on a helper thread and waits for it at most the store's busy
timeout. On timeout it raises ``StoreBusyError`` naming the gate; the helper stays
queued and, when it finally gets the gate, closes its descriptor (releasing it): a
later write of this thread opens a new one. Holding is per thread (each thread has
its own descriptor, so threads of one process queue like processes do) and
re-entrant (a write transaction that reopens the store runs the migrations inside it).
"""

from __future__ import annotations

import _thread  # threading's local and Lock; threading itself only for the helper thread
import errno
import os
from types import ModuleType

from lifecycle.basics.lazy_logging import get_logger
from lifecycle.basics.suppress import suppress
from lifecycle.errors import StoreBusyError
from lifecycle.store.sqlite.files import FILE_MODE, GATE

fcntl: ModuleType | None
try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: SQLite's busy handler alone
    fcntl = None

SUFFIX = GATE

log = get_logger("memory_lifecycle.store")


class _Descriptor:
    """An open gate file, closed when the last reference goes: a thread's ends with the
    thread or with the store (its ``WriterGate``), so opening and dropping stores does
    not leak descriptors."""

    __slots__ = ("fd",)

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def close(self) -> None:
        fd, self.fd = self.fd, -1
        if fd >= 0:
            with suppress(OSError):
                os.close(fd)  # (lets go of the gate, if held)

    def __del__(self) -> None:
        self.close()


class _Held(_thread._local):  # what threading.local is
    file: _Descriptor | None = None  # None: not open yet (or given up after a timeout)
    off = False  # the gate does not work here: SQLite's busy handler alone
    depth = 0


class WriterGate:
    """The gate of one store, for every thread of this process."""

    __slots__ = ("_local", "_path", "_timeout", "_warned")

    def __init__(self, db_path: str, timeout: float) -> None:
        self._path = f"{db_path}{SUFFIX}"
        self._timeout = timeout
        self._local = _Held()
        self._warned = fcntl is None

    @property
    def path(self) -> str:
        return self._path

    def enter(self) -> None:
        """Take the gate (waiting in line for it, at most the timeout)."""
        held = self._local
        if held.depth:
            held.depth += 1
            return
        if fcntl is not None and not held.off:
            file = held.file or self._open()
            if file is not None:
                try:
                    fcntl.flock(file.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    self._wait(file)
                except OSError as exc:  # a filesystem without flock
                    self._off(f"cannot lock it: {exc.strerror}")
        held.depth = 1

    def exit(self) -> None:
        """Let go (of the outermost hold)."""
        held = self._local
        held.depth -= 1
        if held.depth == 0 and held.file is not None and fcntl is not None:
            fcntl.flock(held.file.fd, fcntl.LOCK_UN)

    def close(self) -> None:
        """Close the calling thread's descriptor now (the store is closing): a store
        caught in a reference cycle would otherwise keep it open until the garbage
        collector runs. Other threads' close with their thread or with this gate; never
        under a thread that may hold it (its descriptor number could be reused)."""
        held = self._local
        if held.depth == 0 and held.file is not None:
            held.file.close()
            held.file = None

    def _open(self) -> _Descriptor | None:
        flags = os.O_RDWR | getattr(os, "O_CLOEXEC", 0)
        try:
            try:
                fd = os.open(self._path, flags | os.O_CREAT | os.O_EXCL, FILE_MODE)
                os.fchmod(fd, FILE_MODE)  # the mode given to open is filtered by the umask
            except FileExistsError:
                fd = os.open(self._path, flags)
        except OSError as exc:
            # on a read-only file system the write itself fails next, saying so: a warning
            # about fairness would only mislead
            self._off(f"cannot open it: {exc.strerror}", warn=exc.errno != errno.EROFS)
            return None
        file = self._local.file = _Descriptor(fd)
        return file

    def _off(self, why: str, warn: bool = True) -> None:
        if warn and not self._warned:
            self._warned = True
            log.warning(
                "writers' gate %s: %s; writers of this store wait by polling (SQLite's busy "
                "handler), which is correct but can be unfair under many writing processes",
                self._path,
                why,
            )
        self._local.off = True
        self._local.file = None

    def _wait(self, file: _Descriptor) -> None:
        """Block in ``flock`` on a helper thread, at most the timeout."""
        import threading

        assert fcntl is not None
        flock, fd = fcntl.flock, file.fd
        taken = threading.Event()
        guard = threading.Lock()
        abandoned = False
        error: list[OSError] = []

        def take() -> None:
            try:
                flock(fd, fcntl.LOCK_EX)
            except OSError as exc:
                error.append(exc)
            with guard:
                if abandoned:
                    file.close()  # lets go of the gate its writer no longer waits for
                else:
                    taken.set()

        threading.Thread(target=take, name="memory-lifecycle-writer-gate", daemon=True).start()
        if not taken.wait(self._timeout):
            with guard:
                if not taken.is_set():
                    abandoned = True
                    self._local.file = None  # the helper closes it; a new one next time
                    raise StoreBusyError(
                        f"waited over {self._timeout:g} s for the writers' gate {self._path}: "
                        "another writer of this store holds a long write transaction; retry, "
                        f"or find it (fuser {self._path})",
                        path=self._path,
                    )
        if error:
            self._off(f"cannot lock it: {error[0].strerror}")
