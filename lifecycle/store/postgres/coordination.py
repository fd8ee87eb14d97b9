"""PostgreSQL's store methods for revisions, the change log and locks.

How revisions keep commit order is in ``changelog``, how waiters are woken
in ``postgres_listen``. Locks draw their fencing tokens from another counter row,
taken first (and alone) by the acquiring transaction: acquisitions are serialized,
so tokens grow in the order locks were granted, across every lock of the store.
"""

from __future__ import annotations

import threading
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

import psycopg

from lifecycle.errors import StoreError
from lifecycle.store.base import Change, ChangePage, LockState
from lifecycle.store.postgres.listen import SAFETY_POLL_SECONDS, ChangeListener, channel_name
from lifecycle.store.postgres.rows import HEAD, scalar

_COMPACTED = "SELECT value FROM counters WHERE name = 'compacted'"


def held_lock(conn: psycopg.Connection, name: str, now: float) -> int | None:
    found = conn.execute(
        "SELECT token, expires_at FROM locks WHERE name = %s FOR SHARE", (name,)
    ).fetchone()
    return int(found[0]) if found is not None and found[1] > now else None


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

        _connect_kwargs: dict[str, object]
        _timeout: float

        def _deadline(
            self, conn: psycopg.Connection, deadline: float
        ) -> AbstractContextManager[None]: ...

    _listener: ChangeListener | None = None

    @property
    def channel(self) -> str:
        return channel_name(self.schema)

    # ------------------------------------------------------------ revisions and changes

    def current_revision(self) -> int:
        with self._connection() as conn:
            return int(scalar(conn.execute(HEAD)))

    def read_changes(self, after: int, prefix: str, limit: int) -> ChangePage:
        # one statement, one snapshot: the head, the compaction point and the rows agree
        query = (
            "SELECT h.head, h.compacted, c.revision, c.key, c.op, c.policy FROM "
            f"(SELECT ({HEAD}) AS head, "
            "(SELECT value FROM counters WHERE name = 'compacted') AS compacted) AS h "
            "LEFT JOIN LATERAL (SELECT * FROM changes WHERE revision > %s AND key >= %s "
            "AND key < %s ORDER BY revision LIMIT %s) AS c ON TRUE ORDER BY c.revision"
        )
        with self._connection() as conn:
            rows = conn.execute(query, (after, prefix, prefix + "\U0010ffff", limit + 1)).fetchall()
        head, compacted = int(rows[0][0]), int(rows[0][1])
        found = [Change(int(r[2]), r[3], r[4], r[5]) for r in rows if r[2] is not None]
        return ChangePage(found[:limit], head, compacted, complete=len(found) <= limit)

    def compact_changes(self, keep: int, limit: int | None = None) -> int:
        with self._write() as conn:
            cutoff = int(scalar(conn.execute(HEAD))) - keep
            # with ``limit``, the oldest ``limit`` revisions past the mark (no gaps here)
            mark, args = (
                ("%s", (cutoff,)) if limit is None else ("LEAST(%s, value + %s)", (cutoff, limit))
            )
            compacted = conn.execute(
                f"UPDATE counters SET value = {mark} "
                "WHERE name = 'compacted' AND value < %s RETURNING value",
                (*args, cutoff),
            ).fetchone()
            if compacted is None:
                return 0
            return conn.execute(
                "DELETE FROM changes WHERE revision <= %s", (int(compacted[0]),)
            ).rowcount

    def trim_backlog(self, before: float, keep: int, limit: int) -> int:
        with self._connection() as conn:
            ops, changes = _row(
                conn.execute(
                    "SELECT (SELECT COUNT(*) FROM (SELECT 1 FROM op_ids WHERE applied_at < %s "
                    f"LIMIT %s) AS old), ({HEAD}) - %s - ({_COMPACTED})",
                    (before, limit, keep),
                )
            )
        return min(int(ops) + max(int(changes), 0), limit)

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
                self._listener = ChangeListener(
                    self._conninfo,
                    self.channel,
                    self._connect_kwargs,
                    self._deadline,
                    self._timeout,
                )
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
            token = scalar(
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
            return int(scalar(conn.execute("SELECT value FROM counters WHERE name = 'lock_token'")))


def _row(cursor: psycopg.Cursor[Any]) -> Any:
    row = cursor.fetchone()
    assert row is not None
    return row


__all__ = ["PostgresCoordination", "held_lock"]
