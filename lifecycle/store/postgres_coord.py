"""PostgreSQL's half of the coordination primitives: revisions, the change log, locks.

The hard part is the change feed. PostgreSQL commits transactions in an order
unrelated to when they drew a number from a sequence: transaction A draws 10,
B draws 11, B commits, a reader sees 11 and moves its cursor past 10, then A
commits 10, and the reader never sees it. We close that gap by making commit
order equal revision order: the revision counter is a row (``counters``) that
a writer increments as the very last statement before COMMIT, and the row lock
it takes is held until the commit is visible. The next writer's increment waits
for it, so revision N+1 is never visible before revision N, and a reader that
sees revision N (in one snapshot, with the counter) has seen every change up to
it. The price is that the last statement and the COMMIT of writers are
serialized store-wide; everything before (per-key locks, reads, merges) still
runs in parallel, and the increment, the row writes, the log and the NOTIFY go
in one round trip (``FLUSH``). A rolled-back transaction rolls its increment
back too, so revisions have no gaps either.

(The alternative we weighed, recording ``pg_current_xact_id()`` with each change
and only handing out changes older than the oldest transaction in flight, keeps
commits parallel but orders the feed by transaction id, not by revision, so the
cursor could not be the plain revision the contract asks for.)

Waiting: writers ``NOTIFY`` (delivered only on commit); one listener thread per
store holds a dedicated connection that ``LISTEN``s and wakes every waiter of
this process. Waits also wake at least every ``SAFETY_POLL_SECONDS``, so a lost
listener connection costs latency, never a missed change.

Locks draw their fencing tokens from another counter row, taken first in the
acquiring transaction: acquisitions are serialized, so tokens grow in the order
locks were granted, across every lock of the store.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Mapping
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg import sql

from ..errors import StoreError
from .base import Change, ChangePage, LockState, Row

log = logging.getLogger("memory_lifecycle.store")

SAFETY_POLL_SECONDS = 1.0
LISTENER_START_SECONDS = 5.0
LISTENER_RETRY_SECONDS = 1.0

MIGRATION = """
ALTER TABLE entries ADD COLUMN revision BIGINT NOT NULL DEFAULT 0;
CREATE TABLE counters (name TEXT PRIMARY KEY, value BIGINT NOT NULL);
WITH numbered AS (SELECT key, row_number() OVER (ORDER BY key) AS n FROM entries)
UPDATE entries SET revision = numbered.n FROM numbered WHERE entries.key = numbered.key;
INSERT INTO counters SELECT 'revision', COUNT(*) FROM entries;
INSERT INTO counters SELECT 'compacted', COUNT(*) FROM entries;
INSERT INTO counters VALUES ('lock_token', 0);
CREATE TABLE changes (
    revision BIGINT PRIMARY KEY,
    key TEXT COLLATE "C" NOT NULL,
    op TEXT NOT NULL,
    policy TEXT COLLATE "C" NOT NULL
);
CREATE TABLE locks (
    name TEXT COLLATE "C" PRIMARY KEY,
    owner TEXT NOT NULL,
    token BIGINT NOT NULL,
    expires_at DOUBLE PRECISION NOT NULL
);
"""
# Entries stored before revisions existed get one each, and the log starts compacted
# at that point: a watcher cannot ask for history nobody recorded.

_ENTRY_COLUMNS = (
    "key, policy, strategy, cleanup, codec, payload, size_bytes, created_at, updated_at, "
    "expires_at, ttl_seconds, actor, tombstone"
)
_ARRAY_TYPES = (
    "text[]",
    "text[]",
    "text[]",
    "text[]",
    "text[]",
    "bytea[]",
    "bigint[]",
    "float8[]",
    "float8[]",
    "float8[]",
    "float8[]",
    "text[]",
    "bool[]",
)
_UPDATES = ", ".join(f"{c}=excluded.{c}" for c in _ENTRY_COLUMNS.split(", ")[1:])

# One round trip writes every logged change of a transaction: the revision counter
# (whose row lock serializes commits, see above), the rows, the deletions, the log
# and the NOTIFY. Removed keys come with NULL row columns and upsert = false.
FLUSH = f"""
WITH rev AS (
    UPDATE counters SET value = value + %(n)s WHERE name = 'revision'
    RETURNING value - %(n)s AS base
), d AS (
    SELECT * FROM unnest(
        {", ".join(f"%({i})s::{t}" for i, t in enumerate(_ARRAY_TYPES))},
        %(op)s::text[], %(upsert)s::bool[]
    ) WITH ORDINALITY AS d({_ENTRY_COLUMNS}, op, upsert, n)
), up AS (
    INSERT INTO entries ({_ENTRY_COLUMNS}, revision)
    SELECT {", ".join(f"d.{c}" for c in _ENTRY_COLUMNS.split(", "))}, rev.base + d.n
    FROM d, rev WHERE d.upsert
    ON CONFLICT (key) DO UPDATE SET {_UPDATES}, revision = excluded.revision
), gone AS (
    DELETE FROM entries WHERE key IN (SELECT d.key FROM d WHERE NOT d.upsert)
), logged AS (
    INSERT INTO changes (revision, key, op, policy)
    SELECT rev.base + d.n, d.key, d.op, d.policy FROM d, rev
)
SELECT base, pg_notify(%(channel)s, '') FROM rev
"""

# The same for the common case, one key written (not removed): plain parameters, which
# PostgreSQL plans and runs several times faster than 15 one-element arrays.
FLUSH_ONE = f"""
WITH rev AS (
    UPDATE counters SET value = value + 1 WHERE name = 'revision' RETURNING value
), up AS (
    INSERT INTO entries ({_ENTRY_COLUMNS}, revision)
    SELECT {", ".join(["%s"] * len(_ARRAY_TYPES))}, rev.value FROM rev
    ON CONFLICT (key) DO UPDATE SET {_UPDATES}, revision = excluded.revision
), logged AS (
    INSERT INTO changes (revision, key, op, policy) SELECT rev.value, %s, %s, %s FROM rev
)
SELECT value, pg_notify(%s, '') FROM rev
"""

# Appended to a ``WITH gone AS (DELETE ... RETURNING key, policy, tombstone)``: logs an
# ``expire`` change for every live row it removed (purged tombstones were logged as
# deletes already), in key order, taking the counter only when there is one.
LOG_GONE = """
, live AS (
    SELECT key, policy, row_number() OVER (ORDER BY key) AS n FROM gone WHERE NOT tombstone
), rev AS (
    UPDATE counters SET value = value + (SELECT COUNT(*) FROM live)
    WHERE name = 'revision' AND EXISTS (SELECT 1 FROM live)
    RETURNING value - (SELECT COUNT(*) FROM live) AS base
), logged AS (
    INSERT INTO changes (revision, key, op, policy)
    SELECT rev.base + live.n, live.key, 'expire', live.policy FROM live, rev
)
"""

_HEAD = "SELECT value FROM counters WHERE name = 'revision'"


def channel_name(schema: str) -> str:
    """The NOTIFY channel of one schema: short, lower case, safe as an identifier."""
    return "memory_lifecycle_" + hashlib.sha256(schema.encode()).hexdigest()[:16]


PendingChange = tuple[str, str, "Row | None"]  # op, policy, the row to write (None: remove)


def flush_changes(
    conn: psycopg.Connection, changes: Mapping[str, PendingChange], channel: str
) -> dict[str, int]:
    """Write and log ``changes`` in one statement; return each key's new revision."""
    keys = list(changes)
    if len(keys) == 1 and changes[keys[0]][2] is not None:
        op, policy, row = changes[keys[0]]
        assert row is not None
        found = conn.execute(FLUSH_ONE, (*_values(row), row.key, op, policy, channel)).fetchone()
        assert found is not None
        return {row.key: int(found[0])}
    columns: list[list[Any]] = [[] for _ in _ARRAY_TYPES]
    for key in keys:
        _, policy, row = changes[key]
        values = _values(row) if row is not None else [key, policy, *[None] * 11]
        for column, value in zip(columns, values, strict=True):
            column.append(value)
    args: dict[str, Any] = {str(i): column for i, column in enumerate(columns)}
    args.update(
        n=len(keys),
        op=[changes[k][0] for k in keys],
        upsert=[changes[k][2] is not None for k in keys],
        channel=channel,
    )
    found = conn.execute(FLUSH, args).fetchone()
    assert found is not None
    base = int(found[0])
    return {key: base + i for i, key in enumerate(keys, start=1)}


def _values(row: Row) -> list[Any]:
    return [
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
        bool(row.tombstone),
    ]


def held_lock(conn: psycopg.Connection, name: str, now: float) -> int | None:
    found = conn.execute(
        "SELECT token, expires_at FROM locks WHERE name = %s FOR SHARE", (name,)
    ).fetchone()
    return int(found[0]) if found is not None and found[1] > now else None


class ChangeListener:
    """One LISTEN connection per store, started on the first wait, waking every waiter."""

    def __init__(self, conninfo: str, channel: str) -> None:
        self._conninfo = conninfo
        self._channel = channel
        self._generation = 0
        self._cond = threading.Condition()
        self._ready = threading.Event()
        self._closed = False
        self._thread: threading.Thread | None = None

    def token(self) -> int:
        self._start()
        with self._cond:
            return self._generation

    def wait(self, token: int, timeout: float) -> bool:
        with self._cond:
            self._cond.wait_for(lambda: self._generation != token or self._closed, timeout)
            return self._generation != token

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=2 * SAFETY_POLL_SECONDS)

    def _start(self) -> None:
        with self._cond:
            if self._thread is None and not self._closed:
                self._thread = threading.Thread(
                    target=self._run, name="memory-lifecycle-listen", daemon=True
                )
                self._thread.start()
        # a LISTEN must be in place before the caller reads, or a change between its read
        # and the LISTEN would only be noticed by the safety poll
        self._ready.wait(LISTENER_START_SECONDS)

    def _bump(self) -> None:
        with self._cond:
            self._generation += 1
            self._cond.notify_all()

    def _run(self) -> None:
        while not self._closed:
            try:
                with psycopg.connect(self._conninfo, autocommit=True, connect_timeout=10) as conn:
                    conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self._channel)))
                    self._bump()  # (re)connected: anything may have happened meanwhile
                    self._ready.set()
                    while not self._closed:
                        for _ in conn.notifies(timeout=SAFETY_POLL_SECONDS / 2):
                            self._bump()
            except psycopg.Error as exc:
                self._ready.set()  # waiters fall back to the safety poll meanwhile
                log.warning("change listener lost its connection (%s); reconnecting", exc)
                time.sleep(LISTENER_RETRY_SECONDS)


class PostgresCoordination:
    """The store methods for revisions, the change log and locks (mixed into
    ``PostgresStore``, which provides the connection pool)."""

    if TYPE_CHECKING:
        _conninfo: str
        _lock: threading.Lock
        _closed: bool
        schema: str
        url: str

        def _connection(self) -> AbstractContextManager[psycopg.Connection]: ...

        def _write(self) -> AbstractContextManager[psycopg.Connection]: ...

    _listener: ChangeListener | None = None

    @property
    def channel(self) -> str:
        return channel_name(self.schema)

    # ------------------------------------------------------------ revisions and changes

    def current_revision(self) -> int:
        with self._connection() as conn:
            return int(_scalar(conn.execute(_HEAD)))

    def read_changes(self, after: int, prefix: str, limit: int) -> ChangePage:
        # one statement, one snapshot: the head, the compaction point and the rows agree
        query = (
            "SELECT h.head, h.compacted, c.revision, c.key, c.op, c.policy FROM "
            f"(SELECT ({_HEAD}) AS head, "
            "(SELECT value FROM counters WHERE name = 'compacted') AS compacted) AS h "
            "LEFT JOIN LATERAL (SELECT * FROM changes WHERE revision > %s AND key >= %s "
            "AND key < %s ORDER BY revision LIMIT %s) AS c ON TRUE ORDER BY c.revision"
        )
        with self._connection() as conn:
            rows = conn.execute(query, (after, prefix, prefix + "\U0010ffff", limit + 1)).fetchall()
        head, compacted = int(rows[0][0]), int(rows[0][1])
        found = [Change(int(r[2]), r[3], r[4], r[5]) for r in rows if r[2] is not None]
        return ChangePage(found[:limit], head, compacted, complete=len(found) <= limit)

    def compact_changes(self, keep: int) -> int:
        with self._write() as conn:
            cutoff = int(_scalar(conn.execute(_HEAD))) - keep
            compacted = conn.execute(
                "UPDATE counters SET value = %s WHERE name = 'compacted' AND value < %s "
                "RETURNING value",
                (cutoff, cutoff),
            ).fetchone()
            if compacted is None:
                return 0
            return conn.execute("DELETE FROM changes WHERE revision <= %s", (cutoff,)).rowcount

    def change_token(self) -> int:
        return self._change_listener().token()

    def wait_for_change(self, token: int, timeout: float) -> bool:
        listener = self._change_listener()
        return listener.wait(token, min(timeout, SAFETY_POLL_SECONDS)) or (
            timeout > SAFETY_POLL_SECONDS  # a safety wakeup: the caller re-reads
        )

    def _change_listener(self) -> ChangeListener:
        with self._lock:  # one per store, whichever thread waits first
            if self._closed:
                raise StoreError(f"store {self.url} is closed", path=self.url)
            if self._listener is None:
                self._listener = ChangeListener(self._conninfo, self.channel)
            return self._listener

    def _close_listener(self) -> None:
        if self._listener is not None:
            self._listener.close()

    # ------------------------------------------------------------ locks

    def acquire_lock(self, name: str, owner: str, now: float, ttl: float) -> LockState:
        with self._write() as conn:
            # the gate first, alone: the next statement's snapshot then sees every lock
            # change committed by the acquirer we waited for
            conn.execute("SELECT value FROM counters WHERE name = 'lock_token' FOR UPDATE")
            held = conn.execute(
                "SELECT owner, token, expires_at FROM locks WHERE name = %s", (name,)
            ).fetchone()
            if held is not None and held[2] > now:
                if held[0] != owner:
                    return LockState(name, held[0], None, held[2], acquired=False)
                conn.execute("UPDATE locks SET expires_at = %s WHERE name = %s", (now + ttl, name))
                return LockState(name, owner, int(held[1]), now + ttl)
            token = _scalar(
                conn.execute(
                    "WITH t AS (UPDATE counters SET value = value + 1 WHERE name = 'lock_token' "
                    "RETURNING value) INSERT INTO locks SELECT %s, %s, t.value, %s FROM t "
                    "ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, "
                    "token = excluded.token, expires_at = excluded.expires_at RETURNING token",
                    (name, owner, now + ttl),
                )
            )
        return LockState(name, owner, int(token), now + ttl)

    def release_lock(self, name: str, token: int, now: float) -> bool:
        with self._write() as conn:
            gone = conn.execute(
                "DELETE FROM locks WHERE name = %s AND token = %s RETURNING expires_at",
                (name, token),
            ).fetchone()
            if gone is not None:
                conn.execute("SELECT pg_notify(%s, '')", (self.channel,))  # wake waiters
        return gone is not None and gone[0] > now

    def list_locks(self, now: float) -> list[LockState]:
        with self._connection() as conn:
            rows = conn.execute(
                "SELECT name, owner, token, expires_at FROM locks WHERE expires_at > %s "
                "ORDER BY name",
                (now,),
            ).fetchall()
        return [LockState(n, o, int(t), e) for n, o, t, e in rows]

    def last_lock_token(self) -> int:
        with self._connection() as conn:
            return int(
                _scalar(conn.execute("SELECT value FROM counters WHERE name = 'lock_token'"))
            )


def _scalar(cursor: psycopg.Cursor[Any]) -> Any:
    row = cursor.fetchone()
    assert row is not None
    return row[0]


__all__ = [
    "FLUSH",
    "FLUSH_ONE",
    "LOG_GONE",
    "MIGRATION",
    "ChangeListener",
    "PostgresCoordination",
    "channel_name",
    "flush_changes",
    "held_lock",
]
