"""The embedded SQLite store: one file, many processes.

WAL lets readers run beside one writer; every read-modify-write takes the
write lock up front with ``BEGIN IMMEDIATE`` so two writers never both read
the old value; the busy timeout makes a writer wait its turn instead of
failing, and the writers' gate (``gate``) makes the turns come in
order. Each thread gets its own connection, because the MCP server runs sync
tools on worker threads.

The files are private to the user and watched while open (``files``): a
write transaction first checks that the path still names the file its connection
opened, so a store deleted under a running server is reopened, loudly, instead of
acknowledging writes into an unlinked file. Space freed by deletes goes back to
the filesystem: new stores use incremental auto-vacuum, run at the end of each
cleanup (``give_back_space``), and ``compact`` converts a store made before that,
once.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TypeVar

from lifecycle.errors import StoreBusyError, StoreError, clip_text
from lifecycle.store.base import ExpiryBucket, PolicyStats, Row, SearchHit, SweepResult
from lifecycle.store.sqlite import changelog, gate, search, space, vectors
from lifecycle.store.sqlite import files as db_files
from lifecycle.store.sqlite import read_only as read_only_open
from lifecycle.store.sqlite.changelog import SQLiteCoordination
from lifecycle.store.sqlite.files import DATABASE, DATABASE_AND_WAL, FileIdentity
from lifecycle.store.sqlite.rows import COLUMNS as _COLUMNS
from lifecycle.store.sqlite.rows import row_from as _row
from lifecycle.store.text_index import Query, SearchDoc

MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE entries (
        id INTEGER PRIMARY KEY,
        key TEXT NOT NULL UNIQUE,
        policy TEXT NOT NULL,
        strategy TEXT NOT NULL,
        cleanup TEXT NOT NULL,
        codec TEXT NOT NULL,
        payload BLOB NOT NULL,
        size_bytes INTEGER NOT NULL,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL,
        expires_at REAL,
        ttl_seconds REAL,
        actor TEXT NOT NULL,
        tombstone INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX entries_expires_at ON entries(expires_at) WHERE expires_at IS NOT NULL;
    CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE leases (name TEXT PRIMARY KEY, holder TEXT NOT NULL, expires_at REAL NOT NULL);
    """,
    # op ids applied per key, remembered for a time window rather than a count per key
    """
    CREATE TABLE op_ids (
        key TEXT NOT NULL,
        op_id TEXT NOT NULL,
        applied_at REAL NOT NULL,
        PRIMARY KEY (key, op_id)
    ) WITHOUT ROWID;
    CREATE INDEX op_ids_applied_at ON op_ids(applied_at);
    """,
)

# Migrations by version; a tuple holds statements that contain ';' (triggers). Versions
# are applied when missing, not only above the highest, so a branch's migration merged
# after a later one still runs. (3 is the revisions branch's.)
NUMBERED: dict[int, str | tuple[str, ...]] = {
    **dict(enumerate(MIGRATIONS, start=1)),
    3: changelog.MIGRATION,  # revisions, the change log, locks (changelog.py)
    4: search.MIGRATION,  # the full-text index (search.py)
    5: search.SWEEP_MIGRATION,  # sweeps unindex set-based (search.py)
    6: vectors.MIGRATION,  # embeddings for semantic search (vectors.py)
}
# Migrations a store opened read-only can go without: reads do not depend on them.
READS_WITHOUT = frozenset({5, 6})

BUSY_TIMEOUT_SECONDS = 60.0
FILE_CHECK_SECONDS = 1.0  # how stale a read may be after the file was replaced
_TOP = "\U0010ffff"  # above every other character: the end of a prefix range
_SELECT_ONE = f"SELECT {_COLUMNS} FROM entries WHERE key = ?"

log = logging.getLogger("memory_lifecycle.store")


_INSERT = (
    f"INSERT INTO entries (id, {_COLUMNS}, search_key, search_body) "
    "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
)
_UPDATE = (
    "UPDATE entries SET policy=?, strategy=?, cleanup=?, codec=?, payload=?, size_bytes=?, "
    "created_at=?, updated_at=?, expires_at=?, ttl_seconds=?, actor=?, tombstone=?, tags=?, "
    "revision=?, search_key=?, search_body=? WHERE id=?"
)
_SELECT_FOR_WRITE = f"SELECT {_COLUMNS}, {search.SELECT_INDEXED} FROM entries WHERE key = ?"
_SELECT_MANY_FOR_WRITE = (
    f"SELECT {_COLUMNS}, {search.SELECT_INDEXED} FROM entries "
    "WHERE key IN (SELECT value FROM json_each(?))"
)
_TOPS = f"SELECT (SELECT COALESCE(MAX(id), 0) FROM entries), ({changelog.HEAD})"
_LOG = "INSERT INTO changes (revision, key, op, policy) VALUES (?, ?, ?, ?)"
_RECORD_OPS = (
    "INSERT INTO op_ids VALUES (?, ?, ?) ON CONFLICT(key, op_id) "
    "DO UPDATE SET applied_at = MAX(applied_at, excluded.applied_at)"
)
_MISSING = object()


class SQLiteTransaction:
    """Writes rows and, beside them, their index entries (``search``) and change-log
    rows, in bulk.

    Why it looks the way it does: a batch of 1,000 writes used to cost four statements
    per row (read, change-log insert, upsert, index insert), and the statement calls, not
    SQLite's own work, were most of a bulk load. So:

    * the keys announced to ``SQLiteStore.transaction`` are read in one query at the
      first ``get`` of one of them (each prefetched row is handed out once; a second
      ``get`` of the key reads it again, seeing this transaction's writes);
    * ``put`` only computes its rows and queues them; the queue is written with one
      ``executemany`` per table when the transaction commits, or earlier, before any
      read that could see a queued row (a ``get`` or ``remove`` of a queued key);
    * so no statement has to report an id, the transaction hands them out itself:
      a new entry gets the next ``entries.id`` and a change the next revision, as
      SQLite would (one more than the largest present; under ``BEGIN IMMEDIATE``
      nobody else can insert meanwhile).

    What a ``get`` read of a row's index entry is remembered, so a ``put`` that leaves
    the text as it was does no index work and costs no extra read."""

    def __init__(self, conn: sqlite3.Connection, keys: Sequence[str] = ()) -> None:
        self._conn = conn
        self._indexed: dict[str, search.Indexed | None] = {}
        self.revisions: dict[str, int] = {}
        self._announced: Sequence[str] | None = keys if len(keys) > 1 else None
        self._prefetched: dict[str, Row | None] = {}
        self._next_id = 0  # 0: not read yet
        self._next_revision = 0
        self._queued_keys: set[str] = set()
        self._inserts: list[tuple[object, ...]] = []
        self._updates: list[tuple[object, ...]] = []
        self._index_ops: list[tuple[object, ...]] = []
        self._changes: dict[int, tuple[str, str, str]] = {}
        self._ops: list[tuple[str, str, float]] = []
        self._queued_ops: set[tuple[str, str]] = set()

    # ------------------------------------------------------------ reads

    def get(self, key: str) -> Row | None:
        if self._announced is not None:
            self._prefetch(self._announced)
        found = self._prefetched.pop(key, _MISSING)
        if found is not _MISSING:
            return found  # type: ignore[return-value]
        if key in self._queued_keys:
            self.flush()
        r = self._conn.execute(_SELECT_FOR_WRITE, (key,)).fetchone()
        if r is None:
            self._indexed[key] = None
            return None
        self._indexed[key] = (r[-3], r[-2], r[-1], r[13])
        return _row(r)

    def _prefetch(self, keys: Sequence[str]) -> None:
        """Read every announced key in one query (absent ones as ``None``)."""
        self._announced = None
        unique = list(dict.fromkeys(keys))
        prefetched = dict.fromkeys(unique)
        indexed: dict[str, search.Indexed | None] = dict.fromkeys(unique)
        rows = self._conn.execute(_SELECT_MANY_FOR_WRITE, (json.dumps(unique),)).fetchall()
        for r in rows:
            indexed[r[0]] = (r[-3], r[-2], r[-1], r[13])
            prefetched[r[0]] = _row(r)
        self._prefetched = prefetched
        self._indexed.update(indexed)

    def _indexed_now(self, key: str) -> search.Indexed | None:
        found = self._indexed.get(key, _MISSING)
        if found is _MISSING:
            self.get(key)
            found = self._indexed[key]
        return found  # type: ignore[return-value]

    # ------------------------------------------------------------ writes (queued)

    def put(self, row: Row, *, change: bool = True) -> None:
        """Write ``row``; a ``change`` is logged and gets the next store revision (a
        policy re-applied to a row is not a change and keeps the row's revision)."""
        key = row.key
        if key in self._queued_keys:
            self.flush()  # one queued write per key: the second one updates the first
        self._prefetched.pop(key, None)  # a later get must see this write
        revision = row.revision
        if change:
            revision = self._log_change(key, "delete" if row.tombstone else "put", row.policy)
        old = self._indexed_now(key)
        if row.tombstone:
            text: tuple[str | None, str | None] = (None, None)
        elif row.search is not None:
            text = search.render(row.search)
        else:  # a row re-put as it was read keeps its text
            text = (old[1], old[2]) if old is not None else (None, None)
        tags = search.tags_text(row.tags)
        values = (
            row.policy,
            row.strategy,
            row.cleanup,
            row.codec,
            row.payload,
            row.size_bytes,
            row.created_at,
            row.updated_at,
            row.expires_at,
            row.ttl_seconds,
            row.actor,
            int(row.tombstone),
            tags,
            revision,
            *text,
        )
        if old is not None:
            row_id = old[0]
            self._updates.append((*values, row_id))
        else:
            row_id = self._new_id()
            self._inserts.append((row_id, key, *values))
        new = (row_id, *text, tags)
        self._index_ops += search.sync_ops(old, new)
        self._indexed[key] = new
        self._queued_keys.add(key)

    def _new_id(self) -> int:
        if not self._next_id:
            self._read_tops()
        row_id = self._next_id
        self._next_id += 1
        return row_id

    def _read_tops(self) -> None:
        """The next entry id and the next revision, in one statement (both are the
        largest present plus one, as SQLite itself would hand them out)."""
        top_id, head = self._conn.execute(_TOPS).fetchone()
        # only what is not counted yet: queued rows are not in the tables
        self._next_id = self._next_id or int(top_id) + 1
        self._next_revision = self._next_revision or int(head) + 1

    def _log_change(self, key: str, op: str, policy: str) -> int:
        """One revision per key per transaction: a second change of the key rewrites the
        first's log row (queued, or already written)."""
        revision = self.revisions.get(key)
        if revision is not None:
            if revision in self._changes:
                self._changes[revision] = (key, op, policy)
            else:
                self._conn.execute(
                    "UPDATE changes SET op = ?, policy = ? WHERE revision = ?",
                    (op, policy, revision),
                )
            return revision
        if not self._next_revision:
            self._read_tops()
        revision = self.revisions[key] = self._next_revision
        self._next_revision += 1
        self._changes[revision] = (key, op, policy)
        return revision

    def remove(self, key: str, op: str = "delete") -> bool:
        self._prefetched.pop(key, None)
        if key in self._queued_keys:
            self.flush()
        found = self._conn.execute("SELECT policy FROM entries WHERE key = ?", (key,)).fetchone()
        if found is None:
            return False
        self._log_change(key, op, found[0])
        self._indexed[key] = None  # the delete trigger removes the index entry
        return self._conn.execute("DELETE FROM entries WHERE key = ?", (key,)).rowcount > 0

    def flush(self) -> None:
        """Write what is queued: one ``executemany`` per table, in this order (``execute``
        for a lone row: a single write is the common case, and it costs less)."""
        conn = self._conn
        changes = [(revision, *logged) for revision, logged in self._changes.items()]
        for statement, rows in (
            (_UPDATE, self._updates),
            (_INSERT, self._inserts),
            (search.INDEX_OP, self._index_ops),
            (_LOG, changes),
            (_RECORD_OPS, self._ops),
        ):
            if len(rows) == 1:
                conn.execute(statement, rows[0])
            elif rows:
                conn.executemany(statement, rows)
        self._updates, self._inserts, self._index_ops, self._changes = [], [], [], {}
        self._ops, self._queued_ops, self._queued_keys = [], set(), set()

    # ------------------------------------------------------------ other tables

    def held_lock(self, name: str, now: float) -> int | None:
        return changelog.held_lock(self._conn, name, now)

    def op_applied(self, key: str, op_id: str) -> bool:
        if (key, op_id) in self._queued_ops:
            return True
        found = self._conn.execute(
            "SELECT 1 FROM op_ids WHERE key = ? AND op_id = ?", (key, op_id)
        ).fetchone()
        return found is not None

    def record_ops(self, key: str, ops: Mapping[str, float]) -> None:
        for op, ts in ops.items():
            self._ops.append((key, op, ts))
            self._queued_ops.add((key, op))


_T = TypeVar("_T")


class _Immediate:
    """``BEGIN IMMEDIATE`` … ``COMMIT``, rollback on any exception, driver errors mapped;
    yields the connection.

    Under the write lock it first checks that the path still names the file this
    connection opened (reopening if not), and after COMMIT that it still did: a write
    that went into a deleted file is reported as lost, never acknowledged.
    A class rather than a generator context manager: it sits on every write's hot path.
    """

    __slots__ = ("_conn", "_store")

    def __init__(self, store: SQLiteStore) -> None:
        self._store = store
        self._conn: sqlite3.Connection | None = None

    def _open(self) -> sqlite3.Connection:
        store = self._store
        conn = store._conn()
        if store._local.read_only:
            raise store._read_only_error()
        store._gate.enter()  # writers queue here (gate), before SQLite's lock
        try:
            conn = store._begin(conn)
            moved = store._local.files.changed(DATABASE)
            if moved is not None:
                with store._errors():
                    conn.execute("ROLLBACK")
                conn = store._begin(store._reopen(moved))
        except BaseException:
            store._gate.exit()
            raise
        self._conn = conn
        return conn

    def __enter__(self) -> sqlite3.Connection:
        return self._open()

    def __exit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        try:
            self._finish(exc)
        finally:
            self._store._gate.exit()

    def _finish(self, exc: BaseException | None) -> None:
        conn = self._conn
        store = self._store
        assert conn is not None
        if exc is None:
            with store._errors():
                _commit(conn, store)
            moved = store._local.files.changed(DATABASE_AND_WAL)
            if moved is not None:
                store._reopen(moved)
                raise StoreError(
                    f"store {store.path}: {moved} while this write committed, so it went to "
                    "the old file and is lost; retry it (the store is reopened)",
                    path=str(store.path),
                )
            return
        with store._errors():
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error):
                raise exc


class SQLiteWriteTransaction(_Immediate):
    """The contract's transaction: the same, yielding rows instead of the connection, and
    writing what the rows queued before it commits."""

    __slots__ = ("_keys", "_tx")

    def __init__(self, store: SQLiteStore, keys: Sequence[str]) -> None:
        super().__init__(store)
        self._keys = keys
        self._tx: SQLiteTransaction | None = None

    def __enter__(self) -> SQLiteTransaction:  # type: ignore[override]
        self._tx = SQLiteTransaction(self._open(), self._keys)
        return self._tx

    def __exit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        if exc is None and self._tx is not None:
            try:
                self._tx.flush()
            except BaseException as error:
                super().__exit__(type(error), error, None)  # rolls back; maps driver errors
                raise
        super().__exit__(exc_type, exc, tb)


def _commit(conn: sqlite3.Connection, store: SQLiteStore) -> None:
    """COMMIT, retried only while the store is busy: any other failure (a full disk) is
    reported as SQLite said it, after making sure the transaction is rolled back."""
    try:
        try:
            conn.execute("COMMIT")
        except sqlite3.OperationalError as error:
            if not _busy(error) or not conn.in_transaction:
                raise
            store._retry_busy(lambda: conn.execute("COMMIT"))
    except sqlite3.Error:
        if conn.in_transaction:
            with suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
        raise


def _busy(error: sqlite3.OperationalError) -> bool:
    return "locked" in str(error) or "busy" in str(error)


class _ThreadState(threading.local):
    conn: sqlite3.Connection | None = None
    files: FileIdentity
    next_check = 0.0
    read_only = False  # ``conn`` was opened read-only because writing could not work


class SQLiteStore(SQLiteCoordination):
    """One SQLite file holding values and metadata."""

    def __init__(self, path: str | os.PathLike[str], busy_timeout: float = BUSY_TIMEOUT_SECONDS):
        self.path = Path(path)
        self.url = f"sqlite:///{self.path}"
        self._busy_timeout = busy_timeout
        self._busy_ms = int(busy_timeout * 1000)
        self._local = _ThreadState()
        self._conns: list[sqlite3.Connection] = []
        self._conns_lock = threading.Lock()
        self._closed = False
        self._swept = 0  # index entries deleted by sweeps since the space was given back
        self._read_only: str | None = None  # why the last connection opened read-only
        self._gate = gate.WriterGate(self.path, busy_timeout)
        self._prepare_files()
        self._migrate()

    # ------------------------------------------------------------ connections

    def _prepare_files(self) -> None:
        try:
            db_files.prepare(self.path)
        except OSError as exc:
            where = exc.filename or self.path.parent
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
        if self._local.conn is None and not self.path.exists():
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
            return self.path.stat().st_size > 0
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
            with self._errors():
                self._retry_busy(lambda: conn.execute("BEGIN IMMEDIATE"))
        return conn

    def _retry_busy(self, fn: Callable[[], _T]) -> _T:
        """Retry what the busy handler does not cover (e.g. switching to WAL)."""
        deadline = time.monotonic() + self._busy_timeout
        delay = 0.001
        while True:
            try:
                return fn()
            except sqlite3.OperationalError as exc:
                if not _busy(exc):
                    raise
                if time.monotonic() > deadline:
                    raise
                time.sleep(delay)
                delay = min(delay * 2, 0.05)

    @contextmanager
    def _errors(self) -> Iterator[None]:
        """Turn sqlite3's exceptions into the engine's, once, at the store boundary."""
        try:
            yield
        except sqlite3.OperationalError as exc:
            if read_only_open.cannot_write(exc) and self.read_only() is not None:
                raise self._read_only_error(exc) from exc
            if _busy(exc):
                raise StoreBusyError(
                    f"store {self.path} stayed locked for over {self._busy_timeout:g} s: {exc}; "
                    "another process holds a long write transaction",
                    path=str(self.path),
                ) from exc
            if "disk is full" in str(exc) or "disk I/O error" in str(exc):
                fix = "free disk space" if "full" in str(exc) else "check the disk (full?)"
                raise StoreError(
                    f"store {self.path}: {exc}; the write was not stored: {fix} and retry",
                    path=str(self.path),
                ) from exc
            raise StoreError(f"store {self.path}: {exc}", path=str(self.path)) from exc
        except sqlite3.DatabaseError as exc:
            raise StoreError(
                f"store {self.path} is unreadable: {exc}; restore it or point "
                "--memory-dir elsewhere",
                path=str(self.path),
            ) from exc

    def _migrate(self) -> None:
        """Apply the migrations this store lacks; a store that has them all is not written
        (reads must work where nothing can be written)."""
        pending = self._migrations_pending()
        if not pending:
            return
        if pending <= READS_WITHOUT and self.read_only() is not None:
            log.info("store %s: read-only, migrations %s wait for a writer", self.path, pending)
            return
        with self._write() as conn:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations "
                "(version INTEGER PRIMARY KEY, applied_at REAL NOT NULL)"
            )
            done = {v for (v,) in conn.execute("SELECT version FROM schema_migrations")}
            for version, script in sorted(NUMBERED.items()):
                if version in done:
                    continue
                statements = script if isinstance(script, tuple) else script.split(";")
                for statement in filter(str.strip, statements):
                    conn.execute(statement)
                conn.execute("INSERT INTO schema_migrations VALUES (?, ?)", (version, time.time()))

    def _migrations_pending(self) -> set[int]:
        conn = self._conn()
        try:
            done = {v for (v,) in conn.execute("SELECT version FROM schema_migrations")}
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):
                return set(NUMBERED)
            with self._errors():
                raise
        return set(NUMBERED) - done

    def _write(self) -> _Immediate:
        return _Immediate(self)

    # ------------------------------------------------------------ contract

    def transaction(self, keys: Sequence[str] = ()) -> SQLiteWriteTransaction:
        return SQLiteWriteTransaction(self, keys)

    def get(self, key: str) -> Row | None:
        conn = self._conn()
        try:
            r = conn.execute(_SELECT_ONE, (key,)).fetchone()
        except sqlite3.Error:
            with self._errors():
                raise
        return _row(r) if r else None

    def list_rows(
        self, prefix: str, after: str | None, limit: int, now: float, tags: Sequence[str] = ()
    ) -> list[Row]:
        low = max(prefix, after) if after is not None else prefix
        op = ">" if after is not None and after >= prefix else ">="
        tagged, tag_params = search.tagged_condition(tags)
        sql = (
            f"SELECT {_COLUMNS} FROM entries WHERE key {op} ? AND key < ? AND tombstone = 0 "
            f"AND (expires_at IS NULL OR expires_at > ?){tagged} ORDER BY key LIMIT ?"
        )
        params = (low, prefix + _TOP, now, *tag_params, limit)
        with self._errors():
            rows = self._conn().execute(sql, params).fetchall()
        return [_row(r) for r in rows]

    def search(
        self,
        query: Query,
        *,
        prefix: str,
        tags: Sequence[str],
        now: float,
        after: tuple[float, str] | None,
        limit: int,
    ) -> list[SearchHit]:
        return search.search(
            self, query, prefix=prefix, tags=tags, now=now, after=after, limit=limit, top=_TOP
        )

    def index_pending(self, compute: Callable[[Row], SearchDoc], limit: int) -> int | None:
        return search.index_pending(self, compute, limit)

    def clear_search_index(self) -> None:
        search.clear(self)

    def vectors(self) -> vectors.SQLiteVectors:
        return vectors.SQLiteVectors(self)

    def iter_rows(self, include_tombstones: bool = True) -> Iterator[Row]:
        where = "" if include_tombstones else "WHERE tombstone = 0"
        last = ""
        while True:
            clause = f"{where} {'AND' if where else 'WHERE'} key > ?"
            with self._errors():
                batch = (
                    self._conn()
                    .execute(
                        f"SELECT {_COLUMNS} FROM entries {clause} ORDER BY key LIMIT 500", (last,)
                    )
                    .fetchall()
                )
            if not batch:
                return
            for r in batch:
                yield _row(r)
            last = batch[-1][0]

    def keys_with_prefix(self, prefix: str, limit: int) -> list[str]:
        with self._errors():
            rows = (
                self._conn()
                .execute(
                    "SELECT key FROM entries WHERE key >= ? AND key < ? AND tombstone = 0 "
                    "ORDER BY key LIMIT ?",
                    (prefix, prefix + "\U0010ffff", limit),
                )
                .fetchall()
            )
        return [k for (k,) in rows]

    def delete_expired(
        self, now: float, strategies: Sequence[str], prefix: str = "", sample: int = 100
    ) -> SweepResult:
        where, params = _expired_condition(now, strategies, prefix)
        with self._write() as conn:
            counts = conn.execute(
                f"SELECT policy, tombstone, COUNT(*) FROM entries WHERE {where} "
                "GROUP BY policy, tombstone",
                params,
            ).fetchall()
            if not counts:
                return SweepResult({}, 0, [])
            keys = conn.execute(
                f"SELECT key FROM entries WHERE {where} AND tombstone = 0 LIMIT ?",
                (*params, sample),
            ).fetchall()
            changelog.log_expired(conn, where, params)
            search.delete_rows(conn, where, params)
        by_policy = {p: n for p, t, n in counts if not t}
        self._swept += sum(by_policy.values())  # index entries gone: see _give_back
        return SweepResult(by_policy, sum(n for _, t, n in counts if t), [k for (k,) in keys])

    def find_expired(
        self, now: float, strategies: Sequence[str], prefix: str = "", sample: int = 100
    ) -> SweepResult:
        where, params = _expired_condition(now, strategies, prefix)
        with self._errors():
            conn = self._conn()
            counts = conn.execute(
                f"SELECT policy, tombstone, COUNT(*) FROM entries WHERE {where} "
                "GROUP BY policy, tombstone",
                params,
            ).fetchall()
            keys = conn.execute(
                f"SELECT key FROM entries WHERE {where} AND tombstone = 0 ORDER BY key LIMIT ?",
                (*params, sample),
            ).fetchall()
        by_policy = {p: n for p, t, n in counts if not t}
        return SweepResult(by_policy, sum(n for _, t, n in counts if t), [k for (k,) in keys])

    def delete_expired_key(self, key: str, now: float) -> bool:
        with self._write() as conn:
            changelog.log_expired(conn, "key = ? AND expires_at <= ?", (key, now))
            cur = conn.execute("DELETE FROM entries WHERE key = ? AND expires_at <= ?", (key, now))
            return cur.rowcount > 0

    def stats(self, now: float) -> list[PolicyStats]:
        sql = (
            "SELECT policy, COUNT(*), COALESCE(SUM(size_bytes), 0), "
            "COALESCE(SUM(LENGTH(payload)), 0), SUM(codec != 'json'), "
            "SUM(expires_at IS NOT NULL AND expires_at <= ?), "
            "MIN(CASE WHEN expires_at > ? THEN expires_at END) "
            "FROM entries WHERE tombstone = 0 GROUP BY policy ORDER BY policy"
        )
        with self._errors():
            rows = self._conn().execute(sql, (now, now)).fetchall()
        return [PolicyStats(*r) for r in rows]

    def count_tombstones(self) -> int:
        with self._errors():
            return (
                self._conn()
                .execute("SELECT COUNT(*) FROM entries WHERE tombstone = 1")
                .fetchone()[0]
            )

    def expiry_buckets(self, start: float, width: float, count: int) -> list[ExpiryBucket]:
        sql = (
            "SELECT MIN(CAST((expires_at - ?) / ? AS INTEGER), ?) AS bucket, policy, COUNT(*) "
            "FROM entries WHERE expires_at >= ? AND expires_at < ? AND tombstone = 0 "
            "GROUP BY bucket, policy ORDER BY bucket, policy"
        )
        end = start + width * count
        with self._errors():
            rows = self._conn().execute(sql, (start, width, count - 1, start, end)).fetchall()
        return [ExpiryBucket(*r) for r in rows]

    def reset(self) -> int:
        with self._write() as conn:
            conn.execute("DELETE FROM op_ids")
            changelog.forget_history(conn)
            count = search.delete_all(conn)
        self._swept += count
        self._give_back()
        return count

    def applied_ops(self, keys: Sequence[str]) -> dict[str, dict[str, float]]:
        out: dict[str, dict[str, float]] = {}
        for start in range(0, len(keys), 500):
            chunk = list(keys[start : start + 500])
            marks = ",".join("?" * len(chunk))
            with self._errors():
                rows = (
                    self._conn()
                    .execute(
                        f"SELECT key, op_id, applied_at FROM op_ids WHERE key IN ({marks})", chunk
                    )
                    .fetchall()
                )
            for key, op, ts in rows:
                out.setdefault(key, {})[op] = ts
        return out

    def purge_ops(self, before: float) -> int:
        with self._write() as conn:
            count: int = conn.execute("DELETE FROM op_ids WHERE applied_at < ?", (before,)).rowcount
            return count

    def get_meta(self, name: str) -> str | None:
        with self._errors():
            r = self._conn().execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
        return r[0] if r else None

    def set_meta(self, name: str, value: str) -> None:
        with self._write() as conn:
            conn.execute(
                "INSERT INTO meta VALUES (?, ?) "
                "ON CONFLICT(name) DO UPDATE SET value = excluded.value",
                (name, value),
            )

    def acquire_lease(self, name: str, holder: str, now: float, duration: float) -> bool:
        with self._write() as conn:
            r = conn.execute("SELECT holder, expires_at FROM leases WHERE name = ?", (name,))
            current = r.fetchone()
            if current and current[0] != holder and current[1] > now:
                return False
            conn.execute(
                "INSERT INTO leases VALUES (?, ?, ?) ON CONFLICT(name) DO UPDATE SET "
                "holder = excluded.holder, expires_at = excluded.expires_at",
                (name, holder, now + duration),
            )
            return True

    def release_lease(self, name: str, holder: str) -> None:
        with self._write() as conn:
            conn.execute("DELETE FROM leases WHERE name = ? AND holder = ?", (name, holder))

    def size_bytes(self) -> int | None:
        return db_files.size_on_disk(self.path)

    # ------------------------------------------------------------ giving space back

    def give_back_space(self) -> None:
        self._give_back()

    def _give_back(self) -> None:
        """After deletes, best effort (see ``space``): they are already committed.
        When this process's sweeps removed many index entries next to those left, the
        search index is rebuilt first (``search.optimize``), so the pages it held
        for them are among those returned."""
        swept, self._swept = self._swept, 0
        try:
            conn = self._conn()
            if space.worth_optimizing(conn, swept):
                with self._write() as conn:
                    search.optimize(conn)
            space.give_back(conn, self._busy_ms)
        except (sqlite3.Error, StoreError) as exc:
            self._swept += swept  # the next cleanup tries again
            log.warning("store %s: space not given back yet: %s", self.path, clip_text(str(exc)))

    def compact(self) -> None:
        """Maintenance (under its lease): convert a store made before incremental
        auto-vacuum, once, else give free space back."""
        conn = self._conn()
        with self._errors():
            if not space.needs_conversion(conn):
                space.give_back(conn, self._busy_ms)
                return
            space.convert(conn, self.path, self._busy_ms)

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


def _expired_condition(
    now: float, strategies: Sequence[str], prefix: str
) -> tuple[str, tuple[object, ...]]:
    """The rows a sweep takes: expired tombstones, and expired entries whose cleanup
    strategy is one of ``strategies``, under ``prefix``."""
    marks = ",".join("?" * len(strategies)) or "NULL"
    where = f"expires_at <= ? AND (tombstone = 1 OR cleanup IN ({marks}))"
    params: tuple[object, ...] = (now, *strategies)
    if prefix:
        # a filter on the expiry range, not a range of the key index: ``+key`` keeps the
        # planner off the key index, which would walk every row under the prefix,
        # expired or not (a hook's ``coordination/`` sweep grew with the store)
        where += " AND +key >= ? AND +key < ?"
        params += (prefix, prefix + _TOP)
    return where, params
