"""One SQLite connection per thread, kept on the file the path names, and SQLite's
errors turned into the engine's.

Each thread gets its own connection, because the MCP server runs sync tools on worker
threads. A connection is checked at most once a ``FILE_CHECK_SECONDS`` (a write
transaction checks every time, ``transaction``) against the file now at the path:
a store deleted or replaced under a running process is reopened, loudly. A store that
cannot be written (read-only mount, full disk) is opened read-only and says why.
Its own module, under the same name as PostgreSQL's pool (``postgres/connections.py``),
so the store class holds the queries only."""

from __future__ import annotations

import _thread  # threading's local and Lock without importing threading
import os
import time
from collections.abc import Callable

from lifecycle.basics.lazy_logging import get_logger
from lifecycle.basics.suppress import suppress
from lifecycle.errors import StoreBusyError, StoreError
from lifecycle.store.sqlite import files as db_files
from lifecycle.store.sqlite import gate, space
from lifecycle.store.sqlite import read_only as read_only_open
from lifecycle.store.sqlite.driver import sqlite3
from lifecycle.store.sqlite.files import FileIdentity
from lifecycle.store.url import plain_path

TYPE_CHECKING = False  # typing's flag without importing typing
if TYPE_CHECKING:
    from typing import TypeVar

BUSY_TIMEOUT_SECONDS = 60.0
FILE_CHECK_SECONDS = 1.0  # how stale a read may be after the file was replaced

log = get_logger("memory_lifecycle.store")

if TYPE_CHECKING:
    _T = TypeVar("_T")


class _ThreadState(_thread._local):  # what threading.local is
    conn: sqlite3.Connection | None = None
    files: FileIdentity
    next_check = 0.0
    read_only = False  # ``conn`` was opened read-only because writing could not work


class StoreErrors:
    """``SQLiteConnections._errors()``: raises the engine's error for a sqlite3 database
    error in its block, from it (``_store_error`` says which); anything else passes. A
    class, not a ``contextlib.contextmanager`` generator: contextlib is ~3M instructions
    of every hook."""

    __slots__ = ("_owner",)

    def __init__(self, owner: SQLiteConnections) -> None:
        self._owner = owner

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: object, exc: BaseException | None, tb: object) -> None:
        if isinstance(exc, sqlite3.DatabaseError):
            raise self._owner._store_error(exc) from exc


class SQLiteConnections:
    """The connection plumbing of ``SQLiteStore``: per-thread connections, the writers'
    gate, busy retries and error mapping."""

    def __init__(self, path: str | os.PathLike[str], busy_timeout: float = BUSY_TIMEOUT_SECONDS):
        self.path = plain_path(os.fspath(path))  # as str(Path(path)) spells it
        self.url = f"sqlite:///{self.path}"
        self._busy_timeout = busy_timeout
        self._busy_ms = int(busy_timeout * 1000)
        self._local = _ThreadState()
        self._conns: list[sqlite3.Connection] = []
        self._conns_lock = _thread.allocate_lock()
        self._closed = False
        self._read_only: str | None = None  # why the last connection opened read-only
        self._gate = gate.WriterGate(self.path, busy_timeout)
        self._prepare_files()

    def _prepare_files(self) -> None:
        try:
            db_files.prepare(self.path)
        except OSError as exc:
            where = exc.filename or os.path.dirname(self.path) or "."
            raise StoreError(
                f"cannot create the store {where}: {exc.strerror}; choose a writable --memory-dir",
                path=str(where),
            ) from exc

    def _conn(self) -> sqlite3.Connection:
        """This thread's connection, reopened if the file at the path changed (checked at
        most once a ``FILE_CHECK_SECONDS`` here; write transactions check every time)."""
        local = self._local
        conn = local.conn
        if conn is not None:
            now = time.monotonic()
            if now < local.next_check:
                return conn
            if local.read_only:  # writable again (space freed, remounted)? try, once a second
                self._drop_connection()
                return self._connect()
            moved = local.files.changed()
            if moved is None:
                local.next_check = now + FILE_CHECK_SECONDS
                return conn
            return self._reopen(moved)
        return self._connect()

    def _connect(self) -> sqlite3.Connection:
        if self._closed:
            raise StoreError(f"store {self.path} is closed", path=str(self.path))
        if self._local.conn is None and not os.path.exists(self.path):
            # deleted while this thread had no connection: other threads will notice
            # on their own; here a fresh store is made as a first open would
            log.error("%s was deleted while this process had the store open", self.path)
            return self._recreate()
        files = FileIdentity(self.path)
        read_only = False
        try:
            conn = self._open_writable()
        except sqlite3.OperationalError as exc:
            if not read_only_open.cannot_write(exc) or not self._has_data():
                with self._errors():
                    raise
            with self._errors():
                conn = read_only_open.open_read_only(self.path, self._busy_timeout)
            read_only = True
            self._read_only = db_files.unwritable(self.path) or f"SQLite said: {exc}"
            log.info("store %s: opened read-only (%s)", self.path, self._read_only)
        else:
            self._read_only = None
        self._local.conn = conn
        self._local.files = files
        self._local.read_only = read_only
        self._local.next_check = time.monotonic() + FILE_CHECK_SECONDS
        with self._conns_lock:
            self._conns.append(conn)
        return conn

    def _open_writable(self) -> sqlite3.Connection:
        """A connection set up for writing, writing nothing itself unless the store is new
        (or not yet in WAL mode): opening a store only to read must work where nothing
        can be written (a read-only mount, a full disk)."""
        conn = sqlite3.connect(
            self.path, timeout=self._busy_timeout, isolation_level=None, check_same_thread=False
        )
        try:
            conn.execute(f"PRAGMA busy_timeout = {self._busy_ms}")
            new = conn.execute("PRAGMA page_count").fetchone()[0] == 0
            if new:  # auto-vacuum is chosen before the first table (compact() converts others)
                conn.execute(f"PRAGMA auto_vacuum = {space.AUTO_VACUUM_INCREMENTAL}")
            if new or conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                self._retry_busy(lambda: conn.execute("PRAGMA journal_mode = WAL"))
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute(f"PRAGMA journal_size_limit = {space.JOURNAL_SIZE_LIMIT}")
        except BaseException:
            conn.close()
            raise
        return conn

    def _has_data(self) -> bool:
        """Whether the file holds a database (one that cannot be opened for writing is
        then opened read-only; an empty one is a store still to be made)."""
        try:
            return os.stat(self.path).st_size > 0
        except OSError:
            return False

    def read_only(self) -> str | None:
        return self._read_only or db_files.unwritable(self.path)

    def _read_only_error(self, exc: BaseException | None = None) -> StoreError:
        why = self.read_only() or (f"SQLite said: {exc}" if exc else "it cannot be written")
        return StoreError(
            f"store {self.path} is read-only ({why}); the write was not stored: "
            + read_only_open.fix_for(why),
            path=str(self.path),
        )

    def _reopen(self, moved: str) -> sqlite3.Connection:
        """The store file changed under this connection: open the file now at the path."""
        log.error(
            "%s while this process had the store open; reopening %s (writes from now on "
            "go to the file at that path)",
            moved,
            self.path,
        )
        self._drop_connection()
        return self._recreate()

    def _recreate(self) -> sqlite3.Connection:
        self._prepare_files()
        self._local.conn = None
        self._local.next_check = 0.0
        self._migrate()  # a new, empty file needs the tables (opens this thread's connection)
        conn = self._local.conn
        assert conn is not None
        return conn

    def _drop_connection(self) -> None:
        conn, self._local.conn = self._local.conn, None
        if conn is None:
            return
        with self._conns_lock, suppress(ValueError):
            self._conns.remove(conn)
        with suppress(sqlite3.Error):
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            conn.close()

    def _begin(self, conn: sqlite3.Connection) -> sqlite3.Connection:
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError:
            self._begin_again(conn)
        return conn

    def _begin_again(self, conn: sqlite3.Connection) -> None:
        """``BEGIN IMMEDIATE`` once more after it failed: retried while the store is busy,
        any other failure raised as the engine's error."""
        with self._errors():
            self._retry_busy(lambda: conn.execute("BEGIN IMMEDIATE"))

    def _retry_busy(self, fn: Callable[[], _T]) -> _T:
        """Retry what the busy handler does not cover (e.g. switching to WAL)."""
        deadline = time.monotonic() + self._busy_timeout
        delay = 0.001
        while True:
            try:
                return fn()
            except sqlite3.OperationalError as exc:
                if not busy(exc):
                    raise
                if time.monotonic() > deadline:
                    raise
                time.sleep(delay)
                delay = min(delay * 2, 0.05)

    def _errors(self) -> StoreErrors:
        """Turn sqlite3's exceptions into the engine's, once, at the store boundary."""
        return StoreErrors(self)

    def _store_error(self, exc: sqlite3.DatabaseError) -> StoreError:
        """The engine's error for sqlite3's ``exc`` (``StoreErrors`` raises it)."""
        if isinstance(exc, sqlite3.OperationalError):
            if read_only_open.cannot_write(exc) and self.read_only() is not None:
                return self._read_only_error(exc)
            if busy(exc):
                return StoreBusyError(
                    f"store {self.path} stayed locked for over {self._busy_timeout:g} s: {exc}; "
                    "another process holds a long write transaction",
                    path=str(self.path),
                )
            if "disk is full" in str(exc) or "disk I/O error" in str(exc):
                fix = "free disk space" if "full" in str(exc) else "check the disk (full?)"
                return StoreError(
                    f"store {self.path}: {exc}; the write was not stored: {fix} and retry",
                    path=str(self.path),
                )
            return StoreError(f"store {self.path}: {exc}", path=str(self.path))
        return StoreError(
            f"store {self.path} is unreadable: {exc}; restore it or point --memory-dir elsewhere",
            path=str(self.path),
        )

    def _migrate(self) -> None:
        """Give the file the tables it lacks (``SQLiteStore`` does, from ``schema``):
        a file made anew under a running store needs them."""
        raise NotImplementedError

    def close(self) -> None:
        """Stop handing out connections and let go of them. Each is closed when its last
        user drops it (refcounting), never here under a thread that may be running a
        statement on it: a long-poll or an abandoned tool call can be mid-query while a
        server shuts down, and closing a connection under it crashes the interpreter.
        The calling thread's own connection is closed at once: nothing else can be using
        it, and a file it kept open would confuse SQLite's locks if the same file is then
        opened under another name (a store restored over another one)."""
        self._closed = True
        with self._conns_lock:
            self._conns = []
        own, self._local = self._local.conn, _ThreadState()
        if own is not None:
            with suppress(sqlite3.Error):
                own.close()
        self._gate.close()


def busy(error: sqlite3.OperationalError) -> bool:
    """Whether SQLite failed only because another connection held the lock."""
    return "locked" in str(error) or "busy" in str(error)
