"""A PostgreSQL read-modify-write in two round trips.

The CRDT merge runs in Python (``lifecycle.entries.transitions``), so a write is a read, a
merge, then a write, with the key locked in between. Done statement by statement
that cost five round trips (``BEGIN``, the per-key advisory lock, ``SELECT … FOR
UPDATE``, the write, ``COMMIT``), each paying the client's and the server's
per-message work. Here the statements travel in two simple-protocol messages,
each several statements answered at once:

1. ``BEGIN; EXECUTE ml_lock1(k); EXECUTE ml_read1(k); EXECUTE ml_ops1(k)``:
   the advisory lock, then the row ``FOR UPDATE``, then the key's applied op ids.
   Each statement of a message runs after the one before it has finished, with a
   snapshot of its own, so the read sees every write committed by a writer the
   lock waited for: two first writes of one key never both see "absent".
2. ``EXECUTE ml_record_ops(…); EXECUTE ml_put1(…); COMMIT``: the op ids, the
   row, the revision counter, the change log entry and the NOTIFY, and the
   commit, which therefore follows the counter's increment with no round trip
   in between (``changelog`` explains why the counter orders commits).

The statements are prepared once per pooled connection (``prepare_script``, run
when the pool opens the connection), so the server plans them once, not per
write: the write's common-table expression costs more to plan than to run.
Parameters are bound client-side (psycopg's ``ClientCursor``) because a simple-
protocol message carries no separate parameters; every value is quoted or typed
by psycopg, and each ``EXECUTE`` argument is then converted to the prepared
statement's declared type.

The key's op ids come with the read (up to ``OPS_PREFETCH``; a key with more is
asked again per op id), so an idempotent write (``op_id``) costs no extra round
trip. Keys a caller touches without announcing them are locked and read on
first touch, one round trip each; a guarded write (``lock``) reads the lock row
in one more. A transaction that wrote nothing (a refused write, a delete of an
absent key) ends with ``_RELEASE`` in its second message instead.
"""

from __future__ import annotations

import operator
import sys
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager, suppress
from types import TracebackType
from typing import Any

import psycopg
from psycopg import abc as pg_abc
from psycopg import errors as pg_errors
from psycopg.adapt import Transformer
from psycopg.pq import TransactionStatus

from lifecycle.store.base import Row
from lifecycle.store.postgres import changelog, coordination, search, wire
from lifecycle.store.postgres.changelog import PendingChange
from lifecycle.store.postgres.rows import COLUMNS, row_values
from lifecycle.store.postgres.rows import row_from as _row

OPS_PREFETCH = 64  # op ids read with a key; a key with more asks per op id

_UPSERT = (
    f"INSERT INTO entries ({COLUMNS}{{}}) "
    f"VALUES ({', '.join(['%s'] * len(COLUMNS.split(', ')))}{{}}) "
    "ON CONFLICT (key) DO UPDATE SET policy=excluded.policy, strategy=excluded.strategy, "
    "cleanup=excluded.cleanup, codec=excluded.codec, payload=excluded.payload, "
    "size_bytes=excluded.size_bytes, created_at=excluded.created_at, "
    "updated_at=excluded.updated_at, expires_at=excluded.expires_at, "
    "ttl_seconds=excluded.ttl_seconds, actor=excluded.actor, tombstone=excluded.tombstone, "
    "tags=excluded.tags, revision=excluded.revision{}"
)
_UPSERT_INDEXED = _UPSERT.format(", search", ",%s::tsvector", ", search=excluded.search")
_UPSERT_KEEP = _UPSERT.format("", "", "")
_OP_APPLIED = "SELECT 1 FROM op_ids WHERE key = %s AND op_id = %s"
_LOCK_ONE = "EXECUTE ml_lock1(%s); EXECUTE ml_read1(%s); EXECUTE ml_ops1(%s)"
# Ends a transaction that wrote nothing (a refused or lost write, a delete of nothing).
# Its row locks gave it a transaction id, so a plain COMMIT would wait for the
# write-ahead log to reach the disk, for nothing worth keeping; a ROLLBACK would not
# wait, but psycopg answers one by deallocating the connection's prepared statements.
_RELEASE: list[tuple[str, tuple[()]]] = [
    ("SET LOCAL synchronous_commit TO off", ()),
    ("COMMIT", ()),
]


def prepare_script(space: int, channel: str) -> str:
    """``PREPARE`` of every statement a write transaction runs by name, as one script;
    ``space`` (the schema's advisory-lock space) and ``channel`` are the store's own."""
    statements: dict[str, tuple[str, str]] = {
        "ml_lock1": ("text", f"SELECT pg_advisory_xact_lock({int(space)}, hashtext($1))"),
        "ml_read1": ("text", f"SELECT {COLUMNS} FROM entries WHERE key = $1 FOR UPDATE"),
        "ml_get": ("text", f"SELECT {COLUMNS} FROM entries WHERE key = $1"),  # ``get``'s
        "ml_ops1": (
            "text",
            f"SELECT key, op_id FROM op_ids WHERE key = $1 LIMIT {OPS_PREFETCH + 1}",
        ),
        # several keys: the locks in hash order, the same order in every writer
        "ml_lockn": (
            "text[]",
            f"SELECT pg_advisory_xact_lock({int(space)}, h) FROM "
            "(SELECT DISTINCT hashtext(k) AS h FROM unnest($1) AS k ORDER BY h) AS s",
        ),
        "ml_readn": ("text[]", f"SELECT {COLUMNS} FROM entries WHERE key = ANY($1) FOR UPDATE"),
        "ml_opsn": ("text[], bigint", "SELECT key, op_id FROM op_ids WHERE key = ANY($1) LIMIT $2"),
        "ml_record_ops": (
            "text[], text[], float8[]",
            "INSERT INTO op_ids SELECT * FROM unnest($1, $2, $3) ON CONFLICT (key, op_id) "
            "DO UPDATE SET applied_at = GREATEST(op_ids.applied_at, excluded.applied_at)",
        ),
        **changelog.prepared(channel),
    }
    return ";\n".join(
        f"PREPARE {name}({types}) AS {body}" for name, (types, body) in statements.items()
    )


def _params(row: Row) -> tuple[Any, ...]:
    return (*row_values(row), list(row.tags) or None, row.revision)


def _search(row: Row) -> str | None:
    return None if row.tombstone or row.search is None else search.render(row.search)


def _indexed(row: Row) -> bool:
    """Whether a put writes the row's index entry: a row built by the entry rules carries
    its text, a tombstone has none; a row re-put as it was read keeps its entry."""
    return row.tombstone or row.search is not None


Statement = tuple[str, Sequence[Any]]

_FIELDS = operator.attrgetter(*Row.field_names())


def _copy(row: Row) -> Row:
    """A copy the caller may change without changing the transaction's (``copy.copy``
    goes through ``__reduce__`` and a generator: several times slower, on every write)."""
    return Row(*_FIELDS(row))


class PostgresTransaction:
    """Row state for the announced keys is fetched in one message, under lock; writes are
    buffered and sent with the COMMIT, so a write of one key or of a batch costs two
    round trips. Revisions are assigned in that last message (see
    ``changelog``), so ``revisions`` is filled only once the transaction commits."""

    def __init__(
        self, conn: psycopg.Connection, prepare: Callable[[psycopg.Connection], None]
    ) -> None:
        self._conn = conn
        # the pooled connection's own (``connections.PooledConnection``), else a new one
        self._tx: pg_abc.Transformer = getattr(conn, "transformer", None) or Transformer(conn)
        self._prepare = prepare  # (re)creates the prepared statements on ``conn``
        self._begun = False  # BEGIN goes with the first message, if one is ever sent
        self._wrote = False  # a write reached the server: only ROLLBACK may end it now
        self._known: dict[str, Row | None] = {}  # current state of locked keys
        self._applied: dict[str, set[str] | None] = {}  # op ids per key (None: too many)
        self._dirty: dict[str, Row] = {}  # pending metadata rewrites, not logged
        self._changes: dict[str, PendingChange] = {}  # pending logged changes
        self._ops: dict[tuple[str, str], float] = {}  # pending op ids, with their times
        self.revisions: dict[str, int] = {}

    def _send(self, statements: Sequence[Statement]) -> list[list[Any]]:
        """Run ``statements`` in one simple-protocol message (one round trip), after a
        BEGIN if the transaction has not begun; return each statement's rows."""
        query = "; ".join(sql for sql, _ in statements)
        args = [arg for _, params in statements for arg in params]
        return self._run(query, args)

    def _run(self, query: str, args: Sequence[Any]) -> list[list[Any]]:
        """``_send`` of statements already joined into ``query`` (``wire``: psycopg's
        lower layer, the cursor's work without its generality)."""
        begin = not self._begun
        if begin:
            query = f"BEGIN; {query}" if query else "BEGIN"
        try:
            results = wire.execute(self._conn, self._tx, query, args)
        except pg_errors.InvalidSqlStatementName:
            if not begin:
                raise
            # psycopg deallocates every prepared statement of a connection after a
            # ROLLBACK it runs or sees (a rule of its own statement cache), ours
            # included: prepare them again and send the first message once more
            self._conn.execute("ROLLBACK")
            self._prepare(self._conn)
            results = wire.execute(self._conn, self._tx, query, args)
        self._begun = True
        return results[1:] if begin else results  # BEGIN's (no rows) left out

    def lock(self, keys: Sequence[str]) -> None:
        if len(keys) == 1 and keys[0] in self._known:  # every get/put of a locked key
            return
        todo = sorted(set(keys) - self._known.keys())
        if not todo:
            return
        limit = OPS_PREFETCH * len(todo)
        if len(todo) == 1:  # the common case, in its simplest (fastest) form
            key = todo[0]
            _, rows, ops = self._run(_LOCK_ONE, (key, key, key))
        else:
            _, rows, ops = self._send(
                [
                    ("EXECUTE ml_lockn(%s)", (todo,)),
                    ("EXECUTE ml_readn(%s)", (todo,)),
                    ("EXECUTE ml_opsn(%s, %s)", (todo, limit + 1)),
                ]
            )
        self._known.update(dict.fromkeys(todo))
        self._known.update((r[0], _row(r)) for r in rows)
        if len(ops) > limit:
            self._applied.update(dict.fromkeys(todo))
            return
        applied: dict[str, set[str] | None] = {key: set() for key in todo}
        for key, op in ops:
            found = applied[key]
            assert found is not None
            found.add(op)
        self._applied.update(applied)

    def get(self, key: str) -> Row | None:
        self.lock([key])  # a key the caller did not announce is locked on first touch
        found = self._known[key]
        return None if found is None else _copy(found)

    def put(self, row: Row, *, change: bool = True) -> None:
        self.lock([row.key])
        row = self._known[row.key] = _copy(row)
        if change or row.key in self._changes:
            self._changes[row.key] = ("delete" if row.tombstone else "put", row.policy, row)
            self._dirty.pop(row.key, None)
        else:
            self._dirty[row.key] = row

    def remove(self, key: str, op: str = "delete") -> bool:
        existing = self.get(key)
        if existing is None:
            return False
        self._known[key] = None
        self._dirty.pop(key, None)
        self._changes[key] = (op, existing.policy, None)
        return True

    def held_lock(self, name: str, now: float) -> int | None:
        if not self._begun:
            self._send([])
        return coordination.held_lock(self._conn, name, now)

    def op_applied(self, key: str, op_id: str) -> bool:
        self.lock([key])
        if (key, op_id) in self._ops:
            return True
        known = self._applied.get(key)
        if known is not None:
            return op_id in known
        return bool(self._send([(_OP_APPLIED, (key, op_id))])[0])

    def record_ops(self, key: str, ops: Mapping[str, float]) -> None:
        self.lock([key])
        for op, ts in ops.items():
            self._ops[key, op] = max(ts, self._ops.get((key, op), ts))

    def commit(self) -> None:
        """Send what is pending and COMMIT, in one message; nothing at all when the
        transaction never reached the server."""
        if self._dirty:  # metadata rewrites (a policy re-applied): not logged, rare
            self._wrote = True
            rows = list(self._dirty.values())
            indexed = [(*_params(r), _search(r)) for r in rows if _indexed(r)]
            kept = [_params(r) for r in rows if not _indexed(r)]
            for statement, batch in ((_UPSERT_INDEXED, indexed), (_UPSERT_KEEP, kept)):
                if batch:
                    self._conn.cursor().executemany(statement, batch)
            self._dirty.clear()
        statements: list[Statement] = []
        if self._ops:
            keys = [key for key, _ in self._ops]
            ops = [op for _, op in self._ops]
            times = list(self._ops.values())
            statements.append(("EXECUTE ml_record_ops(%s, %s, %s)", (keys, ops, times)))
        changes = list(self._changes)
        if changes:  # last before COMMIT: from here to COMMIT, writers take turns
            statements.append(changelog.flush_statement(self._changes))
        if not self._begun and not statements:
            return
        if not statements and not self._wrote:
            self._send(_RELEASE)
            return
        self._wrote = True
        if len(statements) == 1:  # one key's write, the common case
            sql, args = statements[0]
            results = self._run(f"{sql}; COMMIT", args)
        else:
            results = self._send([*statements, ("COMMIT", ())])
        if changes:
            base = int(results[-2][0][0])
            self.revisions.update((key, base + i) for i, key in enumerate(changes, start=1))
        self._changes.clear()
        self._ops.clear()

    def rollback(self) -> None:
        """End the transaction without its writes (after an error, or a refused write).
        Before any write reached the server it has only read and locked, so ending it
        as ``_RELEASE`` does is the same, and does not make psycopg drop the
        connection's prepared statements as a ROLLBACK does (see ``_send``)."""
        status = self._conn.pgconn.transaction_status
        if status == TransactionStatus.IDLE:
            return
        clean = status == TransactionStatus.INTRANS and not self._wrote
        with suppress(psycopg.Error):  # a broken connection: the pool discards it
            if clean:
                self._send(_RELEASE)
            else:
                self._conn.execute("ROLLBACK")


class Held:
    """``PostgresStore.transaction``: a pooled connection held for one transaction (the
    call's ``_connection``, bounded by its deadline), the keys locked and read on entry,
    the transaction committed on a clean exit and rolled back otherwise. A class rather
    than a ``@contextmanager`` generator: every write goes through it."""

    __slots__ = ("_call", "_keys", "_prepare", "_tx")

    def __init__(
        self,
        call: AbstractContextManager[psycopg.Connection[Any]],
        prepare: Callable[[psycopg.Connection], None],
        keys: Sequence[str],
    ) -> None:
        self._call = call
        self._prepare = prepare
        self._keys = keys

    def __enter__(self) -> PostgresTransaction:
        conn = self._call.__enter__()
        tx = self._tx = PostgresTransaction(conn, self._prepare)
        try:
            tx.lock(self._keys)
        except BaseException:
            self._fail()
            raise
        return tx

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is not None:
            self._tx.rollback()
            self._call.__exit__(exc_type, exc, tb)  # raises the engine's error for psycopg's
            return
        try:
            self._tx.commit()
        except BaseException:
            self._fail()
            raise
        self._call.__exit__(None, None, None)

    def _fail(self) -> None:
        """Roll back after the exception being handled, and let the connection's call
        end with it (which raises the engine's error in its place for psycopg's)."""
        self._tx.rollback()
        self._call.__exit__(*sys.exc_info())
