"""The embedded SQLite store: one file, many processes.

WAL lets readers run beside one writer; every read-modify-write takes the
write lock up front with ``BEGIN IMMEDIATE`` so two writers never both read
the old value; the busy timeout makes a writer wait its turn instead of
failing. Each thread gets its own connection, because the MCP server runs
sync tools on worker threads.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, TypeVar

from ..errors import StoreBusyError, StoreError
from . import sqlite_coord
from .base import PolicyStats, Row, SweepResult
from .sqlite_coord import SQLiteCoordination

_COLUMNS = (
    "key, policy, strategy, cleanup, codec, payload, size_bytes, created_at, updated_at, "
    "expires_at, ttl_seconds, actor, tombstone, revision"
)

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
    # revisions, the change log, locks (lifecycle/store/sqlite_coord.py)
    sqlite_coord.MIGRATION,
)

BUSY_TIMEOUT_SECONDS = 60.0
_SELECT_ONE = f"SELECT {_COLUMNS} FROM entries WHERE key = ?"


def _row(r: Sequence[Any]) -> Row:
    head = (r[0], r[1], r[2], r[3], r[4], bytes(r[5]), r[6], r[7], r[8], r[9], r[10], r[11])
    return Row(*head, tombstone=bool(r[12]), revision=r[13])


class SQLiteTransaction:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self.revisions: dict[str, int] = {}

    def get(self, key: str) -> Row | None:
        r = self._conn.execute(_SELECT_ONE, (key,)).fetchone()
        return _row(r) if r else None

    def put(self, row: Row, *, change: bool = True) -> None:
        revision = row.revision
        if change:
            op = "delete" if row.tombstone else "put"
            revision = sqlite_coord.log_change(self._conn, self.revisions, row.key, op, row.policy)
        self._conn.execute(
            f"INSERT INTO entries ({_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?) "
            "ON CONFLICT(key) DO UPDATE SET policy=excluded.policy, strategy=excluded.strategy, "
            "cleanup=excluded.cleanup, codec=excluded.codec, payload=excluded.payload, "
            "size_bytes=excluded.size_bytes, created_at=excluded.created_at, "
            "updated_at=excluded.updated_at, expires_at=excluded.expires_at, "
            "ttl_seconds=excluded.ttl_seconds, actor=excluded.actor, tombstone=excluded.tombstone, "
            "revision=excluded.revision",
            (
                row.key,
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
                revision,
            ),
        )

    def remove(self, key: str, op: str = "delete") -> bool:
        found = self._conn.execute("SELECT policy FROM entries WHERE key = ?", (key,)).fetchone()
        if found is None:
            return False
        sqlite_coord.log_change(self._conn, self.revisions, key, op, found[0])
        return self._conn.execute("DELETE FROM entries WHERE key = ?", (key,)).rowcount > 0

    def held_lock(self, name: str, now: float) -> int | None:
        return sqlite_coord.held_lock(self._conn, name, now)

    def op_applied(self, key: str, op_id: str) -> bool:
        found = self._conn.execute(
            "SELECT 1 FROM op_ids WHERE key = ? AND op_id = ?", (key, op_id)
        ).fetchone()
        return found is not None

    def record_ops(self, key: str, ops: Mapping[str, float]) -> None:
        if ops:
            self._conn.executemany(
                "INSERT INTO op_ids VALUES (?, ?, ?) ON CONFLICT(key, op_id) "
                "DO UPDATE SET applied_at = MAX(applied_at, excluded.applied_at)",
                [(key, op, ts) for op, ts in ops.items()],
            )


_T = TypeVar("_T")


class _Immediate:
    """``BEGIN IMMEDIATE`` … ``COMMIT``, rollback on any exception, driver errors mapped;
    yields the connection. A class rather than a generator context manager: it sits on
    every write's hot path."""

    __slots__ = ("_conn", "_store")

    def __init__(self, store: SQLiteStore) -> None:
        self._store = store
        self._conn: sqlite3.Connection | None = None

    def _begin(self) -> sqlite3.Connection:
        conn = self._conn = self._store._conn()
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError:
            with self._store._errors():
                self._store._retry_busy(lambda: conn.execute("BEGIN IMMEDIATE"))
        return conn

    def __enter__(self) -> sqlite3.Connection:
        return self._begin()

    def __exit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        conn = self._conn
        assert conn is not None
        if exc is None:
            with self._store._errors():
                try:
                    conn.execute("COMMIT")
                except sqlite3.OperationalError:
                    self._store._retry_busy(lambda: conn.execute("COMMIT"))
            return
        with self._store._errors():
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error):
                raise exc


class SQLiteWriteTransaction(_Immediate):
    """The contract's transaction: the same, yielding rows instead of the connection."""

    __slots__ = ()

    def __enter__(self) -> SQLiteTransaction:  # type: ignore[override]
        return SQLiteTransaction(self._begin())


class SQLiteStore(SQLiteCoordination):
    """One SQLite file holding values and metadata."""

    def __init__(self, path: str | os.PathLike[str], busy_timeout: float = BUSY_TIMEOUT_SECONDS):
        self.path = Path(path)
        self.url = f"sqlite:///{self.path}"
        self._busy_timeout = busy_timeout
        self._local = threading.local()
        self._conns: list[sqlite3.Connection] = []
        self._conns_lock = threading.Lock()
        self._closed = False
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(
                f"cannot create the store directory {self.path.parent}: {exc.strerror}; "
                "choose a writable --memory-dir",
                path=str(self.path.parent),
            ) from exc
        self._migrate()

    # ------------------------------------------------------------ connections

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            return conn
        if self._closed:
            raise StoreError(f"store {self.path} is closed", path=str(self.path))
        with self._errors():
            conn = sqlite3.connect(
                self.path,
                timeout=self._busy_timeout,
                isolation_level=None,
                check_same_thread=False,
            )
            conn.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout * 1000)}")
            self._retry_busy(lambda: conn.execute("PRAGMA journal_mode = WAL"))
            conn.execute("PRAGMA synchronous = NORMAL")
        self._local.conn = conn
        with self._conns_lock:
            self._conns.append(conn)
        return conn

    def _retry_busy(self, fn: Callable[[], _T]) -> _T:
        """Retry what the busy handler does not cover (e.g. switching to WAL)."""
        deadline = time.monotonic() + self._busy_timeout
        delay = 0.001
        while True:
            try:
                return fn()
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
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
            if "locked" in str(exc) or "busy" in str(exc):
                raise StoreBusyError(
                    f"store {self.path} stayed locked for over {self._busy_timeout:g} s: {exc}; "
                    "another process holds a long write transaction",
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
        with self._write() as conn:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations "
                "(version INTEGER PRIMARY KEY, applied_at REAL NOT NULL)"
            )
            done = conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")
            current = done.fetchone()[0]
            for version, script in enumerate(MIGRATIONS, start=1):
                if version <= current:
                    continue
                for statement in filter(str.strip, script.split(";")):
                    conn.execute(statement)
                conn.execute("INSERT INTO schema_migrations VALUES (?, ?)", (version, time.time()))

    def _write(self) -> _Immediate:
        return _Immediate(self)

    # ------------------------------------------------------------ contract

    def transaction(self, keys: Sequence[str] = ()) -> SQLiteWriteTransaction:
        return SQLiteWriteTransaction(self)

    def get(self, key: str) -> Row | None:
        conn = self._conn()
        try:
            r = conn.execute(_SELECT_ONE, (key,)).fetchone()
        except sqlite3.Error:
            with self._errors():
                raise
        return _row(r) if r else None

    def list_rows(self, prefix: str, after: str | None, limit: int, now: float) -> list[Row]:
        low = max(prefix, after) if after is not None else prefix
        op = ">" if after is not None and after >= prefix else ">="
        sql = (
            f"SELECT {_COLUMNS} FROM entries WHERE key {op} ? AND key < ? AND tombstone = 0 "
            "AND (expires_at IS NULL OR expires_at > ?) ORDER BY key LIMIT ?"
        )
        with self._errors():
            rows = self._conn().execute(sql, (low, prefix + "\U0010ffff", now, limit)).fetchall()
        return [_row(r) for r in rows]

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
        marks = ",".join("?" * len(strategies)) or "NULL"
        where = f"expires_at <= ? AND (tombstone = 1 OR cleanup IN ({marks}))"
        params: tuple[object, ...] = (now, *strategies)
        if prefix:
            where += " AND key >= ? AND key < ?"
            params += (prefix, prefix + "\U0010ffff")
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
            sqlite_coord.log_expired(conn, where, params)
            conn.execute(f"DELETE FROM entries WHERE {where}", params)
        by_policy = {p: n for p, t, n in counts if not t}
        return SweepResult(by_policy, sum(n for _, t, n in counts if t), [k for (k,) in keys])

    def delete_expired_key(self, key: str, now: float) -> bool:
        with self._write() as conn:
            sqlite_coord.log_expired(conn, "key = ? AND expires_at <= ?", (key, now))
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

    def reset(self) -> int:
        with self._write() as conn:
            conn.execute("DELETE FROM op_ids")
            sqlite_coord.forget_history(conn)
            return conn.execute("DELETE FROM entries").rowcount

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
            return conn.execute("DELETE FROM op_ids WHERE applied_at < ?", (before,)).rowcount

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
        total = 0
        for suffix in ("", "-wal"):
            with suppress(OSError):
                total += os.path.getsize(f"{self.path}{suffix}")
        return total

    def close(self) -> None:
        """Stop handing out connections and let go of them. Each is closed when its last
        user drops it (refcounting), never here under a thread that may be running a
        statement on it: a long-poll or an abandoned tool call can be mid-query while a
        server shuts down, and closing a connection under it crashes the interpreter."""
        self._closed = True
        with self._conns_lock:
            self._conns = []
        self._local = threading.local()
