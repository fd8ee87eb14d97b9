"""SQLite's half of the coordination primitives: revisions, the change log, locks.

SQLite has one writer at a time (``BEGIN IMMEDIATE``), so a revision is simply the
next row of the change log: ``changes.revision`` is the table's rowid, which SQLite
makes one more than the largest present, and the head revision is that largest
one. The log is never left empty once it has a row (compaction keeps the newest,
``reset`` keeps the last as a marker below the compaction point), so a revision is
never handed out twice. (``AUTOINCREMENT`` would say the same by keeping the mark in
``sqlite_sequence``, at the price of one more page written by every commit: about
5 µs a write here.) Commit order is revision order, so a reader that sees revision
N has seen everything before it.

Waiting costs no I/O: ``PRAGMA data_version`` reads a counter in the WAL index
(shared memory) that moves whenever another connection commits, so a waiter polls
it every ``POLL_SECONDS`` (about 100 µs of CPU a second) instead of re-running a
query.
"""

from __future__ import annotations

import time

from lifecycle.store.base import Change, ChangePage, LockState
from lifecycle.store.sqlite.driver import sqlite3

TYPE_CHECKING = False  # typing's flag without importing typing
if TYPE_CHECKING:
    from contextlib import AbstractContextManager

POLL_SECONDS = 0.01

MIGRATION = """
ALTER TABLE entries ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
CREATE TABLE changes (
    revision INTEGER PRIMARY KEY,
    key TEXT NOT NULL,
    op TEXT NOT NULL,
    policy TEXT NOT NULL
);
CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE locks (
    name TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    token INTEGER NOT NULL,
    expires_at REAL NOT NULL
) WITHOUT ROWID;
UPDATE entries SET revision = id;
INSERT INTO changes SELECT MAX(id), '', 'put', '' FROM entries HAVING MAX(id) IS NOT NULL;
INSERT INTO counters SELECT 'compacted', COALESCE(MAX(id), 0) FROM entries;
INSERT INTO counters VALUES ('lock_token', 0)
"""
# Entries stored before revisions existed get one each (their row id), and the log
# starts compacted at that point (a marker row holds the head): a watcher cannot ask
# for history nobody recorded.

HEAD = "SELECT COALESCE(MAX(revision), 0) FROM changes"
_COMPACTED = "SELECT value FROM counters WHERE name = 'compacted'"


def held_lock(conn: sqlite3.Connection, name: str, now: float) -> int | None:
    found = conn.execute(
        "SELECT token FROM locks WHERE name = ? AND expires_at > ?", (name, now)
    ).fetchone()
    return None if found is None else int(found[0])


def log_expired(conn: sqlite3.Connection, where: str, params: tuple[object, ...]) -> int:
    """Log an ``expire`` change for each live row ``where`` selects, before it is deleted
    (tombstones were already logged as deletes: purging one changes nothing visible);
    how many. They get the revisions just above the head before, in key order (``ORDER BY
    +key`` sorts what ``where`` found: ordering by the key index instead would walk every
    row of the store to find the expired ones)."""
    cur = conn.execute(
        "INSERT INTO changes (key, op, policy) SELECT key, 'expire', policy FROM entries "
        f"WHERE {where} AND tombstone = 0 ORDER BY +key",
        params,
    )
    return cur.rowcount


def forget_history(conn: sqlite3.Connection) -> None:
    """Drop the log (reset): a cursor from before it gets "compacted", not a gap. The
    newest row stays, below the compaction point, so its revision is never reused."""
    conn.execute(f"UPDATE counters SET value = ({HEAD}) WHERE name = 'compacted'")
    conn.execute(f"DELETE FROM changes WHERE revision < ({HEAD})")


class Snapshot:
    """``SQLiteCoordination._snapshot()``: ``BEGIN`` on enter, ``COMMIT`` on exit, sqlite3's
    errors (the block's too) as the engine's. A class, not a ``contextlib.contextmanager``
    generator: contextlib is ~3M instructions of every hook."""

    __slots__ = ("_conn", "_errors")

    def __init__(self, conn: sqlite3.Connection, errors: AbstractContextManager[None]) -> None:
        self._conn = conn
        self._errors = errors

    def __enter__(self) -> sqlite3.Connection:
        with self._errors:
            self._conn.execute("BEGIN")
        return self._conn

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: object
    ) -> None:
        with self._errors:
            if self._conn.in_transaction:
                self._conn.execute("COMMIT")
        self._errors.__exit__(kind, exc, tb)  # type: ignore[arg-type]  # the block's error


class SQLiteCoordination:
    """The store methods for revisions, the change log and locks (mixed into
    ``SQLiteStore``; ``connections`` provides the connection plumbing)."""

    if TYPE_CHECKING:
        _closed: bool

        def _conn(self) -> sqlite3.Connection: ...

        def _errors(self) -> AbstractContextManager[None]: ...

        def _write(self) -> AbstractContextManager[sqlite3.Connection]: ...

    # ------------------------------------------------------------ revisions and changes

    def current_revision(self) -> int:
        with self._errors():
            return int(self._conn().execute(HEAD).fetchone()[0])

    def read_changes(self, after: int, prefix: str, limit: int) -> ChangePage:
        with self._snapshot() as conn:
            head = int(conn.execute(HEAD).fetchone()[0])
            compacted = int(conn.execute(_COMPACTED).fetchone()[0])
            rows = conn.execute(
                "SELECT revision, key, op, policy FROM changes WHERE revision > ? "
                "AND key >= ? AND key < ? ORDER BY revision LIMIT ?",
                (after, prefix, prefix + "\U0010ffff", limit + 1),
            ).fetchall()
        changes = [Change(int(r), k, op, p) for r, k, op, p in rows[:limit]]
        return ChangePage(changes, head, compacted, complete=len(rows) <= limit)

    def _snapshot(self) -> Snapshot:
        """A read transaction: under WAL its statements share one snapshot."""
        return Snapshot(self._conn(), self._errors())

    def compact_changes(self, keep: int, limit: int | None = None) -> int:
        keep = max(keep, 1)  # the newest row holds the head revision
        with self._write() as conn:
            cutoff = int(conn.execute(HEAD).fetchone()[0]) - keep
            compacted = int(conn.execute(_COMPACTED).fetchone()[0])
            if cutoff <= compacted:
                return 0
            if limit is not None:  # the oldest ``limit`` revisions (a range of the rowid)
                cutoff = min(cutoff, compacted + limit)
            dropped = conn.execute("DELETE FROM changes WHERE revision <= ?", (cutoff,)).rowcount
            conn.execute("UPDATE counters SET value = ? WHERE name = 'compacted'", (cutoff,))
        return int(dropped)

    def trim_backlog(self, before: float, keep: int, limit: int) -> int:
        with self._errors():
            ops, changes = (
                self._conn()
                .execute(
                    "SELECT (SELECT COUNT(*) FROM (SELECT 1 FROM op_ids WHERE applied_at < ? "
                    f"LIMIT ?)), ({HEAD}) - ? - ({_COMPACTED})",
                    (before, limit, max(keep, 1)),
                )
                .fetchone()
            )
        return min(int(ops) + max(int(changes), 0), limit)

    def change_token(self) -> int:
        with self._errors():
            return int(self._conn().execute("PRAGMA data_version").fetchone()[0])

    def wait_for_change(self, token: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self._errors():
            version = self._conn().execute  # (the hot loop: no per-poll lookups)
            while not self._closed:
                if version("PRAGMA data_version").fetchone()[0] != token:
                    return True
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                time.sleep(min(POLL_SECONDS, remaining))
        return False

    # ------------------------------------------------------------ locks

    def acquire_lock(self, name: str, owner: str, now: float, ttl: float) -> LockState:
        with self._write() as conn:
            held = conn.execute(
                "SELECT owner, token, expires_at FROM locks WHERE name = ?", (name,)
            ).fetchone()
            if held is not None and held[2] > now:
                if held[0] != owner:
                    return LockState(name, held[0], None, held[2], acquired=False)
                conn.execute("UPDATE locks SET expires_at = ? WHERE name = ?", (now + ttl, name))
                return LockState(name, owner, int(held[1]), now + ttl)
            token = conn.execute(
                "UPDATE counters SET value = value + 1 WHERE name = 'lock_token' RETURNING value"
            ).fetchone()[0]
            conn.execute(
                "INSERT INTO locks VALUES (?, ?, ?, ?) ON CONFLICT(name) DO UPDATE SET "
                "owner = excluded.owner, token = excluded.token, expires_at = excluded.expires_at",
                (name, owner, token, now + ttl),
            )
        return LockState(name, owner, int(token), now + ttl)

    def release_lock(self, name: str, token: int, now: float) -> bool:
        with self._write() as conn:
            gone = conn.execute(
                "DELETE FROM locks WHERE name = ? AND token = ? RETURNING expires_at", (name, token)
            ).fetchone()
        return gone is not None and gone[0] > now

    def list_locks(self, now: float) -> list[LockState]:
        with self._errors():
            rows = (
                self._conn()
                .execute(
                    "SELECT name, owner, token, expires_at FROM locks WHERE expires_at > ? "
                    "ORDER BY name",
                    (now,),
                )
                .fetchall()
            )
        return [LockState(n, o, int(t), e) for n, o, t, e in rows]

    def last_lock_token(self) -> int:
        with self._errors():
            found = (
                self._conn()
                .execute("SELECT value FROM counters WHERE name = 'lock_token'")
                .fetchone()
            )
        return int(found[0])


__all__ = ["HEAD", "MIGRATION", "POLL_SECONDS", "SQLiteCoordination"]
