"""SQLite's write transactions: ``BEGIN IMMEDIATE`` on the bare connection
(``ConnectionWrite``), and the contract's transaction (``SQLiteWriteTransaction``)
whose rows (``SQLiteTransaction``) queue their writes and flush them in bulk.

Every read-modify-write takes the write lock up front with ``BEGIN IMMEDIATE``, so two
writers never both read the old value; the writers' gate (``gate``) makes the turns
come in order. Its own module, under the same name as PostgreSQL's
(``postgres/transaction.py``)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from lifecycle.basics.suppress import suppress
from lifecycle.errors import StoreError
from lifecycle.store.base import Row
from lifecycle.store.sqlite import changelog, search
from lifecycle.store.sqlite.connections import SQLiteConnections, busy
from lifecycle.store.sqlite.driver import sqlite3
from lifecycle.store.sqlite.new_rows import NewRows
from lifecycle.store.sqlite.rows import COLUMNS as _COLUMNS
from lifecycle.store.sqlite.rows import row_from as _row

_INSERT = (
    f"INSERT INTO entries (id, {_COLUMNS}, search_key, search_body) "
    "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
)
# a new live row with no expiry, TTL or tags (``insert_new``): those columns are NULL, the
# tombstone flag is its default 0
_INSERT_BARE = (
    "INSERT INTO entries (id, key, policy, strategy, cleanup, codec, payload, size_bytes, "
    "created_at, updated_at, actor, revision, search_key, search_body) "
    "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
)
_UPDATE = (
    "UPDATE entries SET policy=?, strategy=?, cleanup=?, codec=?, payload=?, size_bytes=?, "
    "created_at=?, updated_at=?, expires_at=?, ttl_seconds=?, actor=?, tombstone=?, tags=?, "
    "revision=?, search_key=?, search_body=? WHERE id=?"
)
# the common row, written with nothing NULL to bind (see _BLOB): live, an expiry, no TTL
# override, no tags (``put`` picks it; the columns written are the same)
_UPDATE_LIVE = (
    "UPDATE entries SET policy=?, strategy=?, cleanup=?, codec=?, payload=?, size_bytes=?, "
    "created_at=?, updated_at=?, expires_at=?, ttl_seconds=NULL, actor=?, tombstone=0, "
    "tags=NULL, revision=?, search_key=?, search_body=? WHERE id=?"
)
_INSERT_LIVE = (
    "INSERT INTO entries (id, key, policy, strategy, cleanup, codec, payload, size_bytes, "
    "created_at, updated_at, expires_at, actor, revision, search_key, search_body) "
    "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
)
_SELECT_FOR_WRITE = f"SELECT {_COLUMNS}, {search.SELECT_INDEXED} FROM entries WHERE key = ?"
# the same, plus the largest entry id and revision, for the first read of a transaction:
# a lone write then reads everything it needs in one statement (a row of NULLs and the
# two numbers when the key is absent)
_SELECT_FIRST_FOR_WRITE = (
    f"SELECT {_COLUMNS}, {search.SELECT_INDEXED}, h.top, h.head FROM (SELECT "
    f"(SELECT COALESCE(MAX(id), 0) FROM entries) AS top, ({changelog.HEAD}) AS head) AS h "
    "LEFT JOIN entries ON key = ?"
)
_SELECT_MANY_FOR_WRITE = (
    f"SELECT {_COLUMNS}, {search.SELECT_INDEXED} FROM entries "
    "WHERE key IN (SELECT value FROM json_each(?))"
)
_HIGHEST_ID_AND_REVISION = f"SELECT (SELECT COALESCE(MAX(id), 0) FROM entries), ({changelog.HEAD})"
_INDEX_NEW = "INSERT INTO search(rowid, k, body) VALUES (?, ?, ?)"
# ``search.INDEX_OP``'s delete of an entry without tags, with nothing NULL to bind
_INDEX_DELETE = "INSERT INTO search(search, rowid, k, body) VALUES ('delete', ?, ?, ?)"
_LOG = "INSERT INTO changes (revision, key, op, policy) VALUES (?, ?, ?, ?)"
_RECORD_OPS = (
    "INSERT INTO op_ids VALUES (?, ?, ?) ON CONFLICT(key, op_id) "
    "DO UPDATE SET applied_at = MAX(applied_at, excluded.applied_at)"
)
_MISSING = object()
# _BLOB: payloads are bound as ``bytearray``, which sqlite3 writes as the same BLOB as
# ``bytes``; for ``bytes`` (and ``None``) it first looks for an adapter, and the failed
# ``PrepareProtocol.__adapt__`` lookup formats an AttributeError: ~3k instructions a value.


class SQLiteTransaction(NewRows):
    """Writes rows and, beside them, their index entries (``search``) and change-log
    rows, in bulk (a batch's new rows: ``NewRows``).

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
        self._updates_live: list[tuple[object, ...]] = []  # ``put``'s common rows (_UPDATE_LIVE)
        self._inserts_live: list[tuple[object, ...]] = []  # (_INSERT_LIVE)
        self._index_deletes: list[tuple[object, ...]] = []  # ``put``'s, without tags
        self._index_ops: list[tuple[object, ...]] = []
        self._inserts_bare: list[tuple[object, ...]] = []  # ``insert_new``'s, nothing NULL
        self._index_new: list[tuple[int, str, str]] = []  # ``insert_new``'s, without tags
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
        if not (self._next_id or self._next_revision):
            r = self._conn.execute(_SELECT_FIRST_FOR_WRITE, (key,)).fetchone()
            self._next_id, self._next_revision = int(r[-2]) + 1, int(r[-1]) + 1
            if r[0] is None:
                self._indexed[key] = None
                return None
            self._indexed[key] = (r[15], r[16], r[17], r[13])
            return _row(r)
        r = self._conn.execute(_SELECT_FOR_WRITE, (key,)).fetchone()
        if r is None:
            self._indexed[key] = None
            return None
        self._indexed[key] = (r[15], r[16], r[17], r[13])
        return _row(r)

    def _prefetch(self, keys: Sequence[str]) -> None:
        """Read every announced key in one query (absent ones as ``None``)."""
        self._announced = None
        unique = list(dict.fromkeys(keys))
        prefetched = dict.fromkeys(unique)
        indexed: dict[str, search.Indexed | None] = dict.fromkeys(unique)
        rows = self._conn.execute(_SELECT_MANY_FOR_WRITE, (json.dumps(unique),)).fetchall()
        for r in rows:
            indexed[r[0]] = (r[15], r[16], r[17], r[13])
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
            if key in self.revisions or not self._next_revision:
                revision = self._log_change(key, "delete" if row.tombstone else "put", row.policy)
            else:  # (``_log_change``'s common case inline: a first change of the key)
                revision = self.revisions[key] = self._next_revision
                self._next_revision = revision + 1
                self._changes[revision] = (key, "delete" if row.tombstone else "put", row.policy)
        old = self._indexed.get(key, _MISSING)
        if old is _MISSING:
            old = self._indexed_now(key)
        if row.tombstone:
            text_key = text_body = None
        elif row.search is not None:
            text_key, text_body = search.render(row.search)
        elif old is not None:  # a row re-put as it was read keeps its text
            text_key, text_body = old[1], old[2]  # type: ignore[index]
        else:
            text_key = text_body = None
        tags = search.tags_text(row.tags) if row.tags else None
        expires_at = row.expires_at
        # the columns an update and an insert both set, in the statements' order; the
        # common live row (_UPDATE_LIVE, _INSERT_LIVE) without the ones it leaves NULL
        live = text_body is not None and text_key is not None and expires_at is not None
        live = live and tags is None and row.ttl_seconds is None
        if live:
            values: tuple[object, ...] = (
                row.policy,
                row.strategy,
                row.cleanup,
                row.codec,
                bytearray(row.payload),  # (as a BLOB, without an adapter lookup: see _BLOB)
                row.size_bytes,
                row.created_at,
                row.updated_at,
                expires_at,
                row.actor,
                revision,
                text_key,
                text_body,
            )
        else:
            values = (
                row.policy,
                row.strategy,
                row.cleanup,
                row.codec,
                bytearray(row.payload),
                row.size_bytes,
                row.created_at,
                row.updated_at,
                expires_at,
                row.ttl_seconds,
                row.actor,
                int(row.tombstone),
                tags,
                revision,
                text_key,
                text_body,
            )
        if old is not None:
            row_id = old[0]  # type: ignore[index]
            (self._updates_live if live else self._updates).append((*values, row_id))
        else:
            row_id = self._new_id()
            (self._inserts_live if live else self._inserts).append((row_id, key, *values))
        # the index entry from ``old`` to the new text, if they differ: the old one deleted,
        # the new one inserted, each by a statement binding no NULL where it can (see
        # _BLOB); ``flush`` runs deletes before inserts
        if old is None or old[1] != text_key or old[2] != text_body or old[3] != tags:  # type: ignore[index]
            if old is not None and old[1] is not None:  # type: ignore[index]
                if old[3]:  # type: ignore[index]
                    self._index_ops.append(("delete", *old[:3], search.tag_tokens(old[3])))  # type: ignore[index]
                else:
                    self._index_deletes.append(old[:3])  # type: ignore[index]
            if text_key is not None:
                if tags:
                    self._index_ops.append(
                        (None, row_id, text_key, text_body, search.tag_tokens(tags))
                    )
                else:
                    self._index_new.append((row_id, text_key, text_body))  # type: ignore[arg-type]
        self._indexed[key] = (row_id, text_key, text_body, tags)
        self._queued_keys.add(key)

    def _new_id(self) -> int:
        if not self._next_id:
            self._read_highest()
        row_id = self._next_id
        self._next_id += 1
        return row_id

    def _read_highest(self) -> None:
        """The next entry id and the next revision, in one statement (both are the
        largest present plus one, as SQLite itself would hand them out)."""
        top_id, head = self._conn.execute(_HIGHEST_ID_AND_REVISION).fetchone()
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
            self._read_highest()
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
        changes = self._changes
        for statement, rows in (
            (_UPDATE_LIVE, self._updates_live),
            (_UPDATE, self._updates),
            (_INSERT_LIVE, self._inserts_live),
            (_INSERT, self._inserts),
            (_INSERT_BARE, self._inserts_bare),
            (_INDEX_DELETE, self._index_deletes),  # (before any insert: see ``put``)
            (search.INDEX_OP, self._index_ops),
            (_INDEX_NEW, self._index_new),
        ):
            if rows:
                if len(rows) == 1:
                    conn.execute(statement, rows[0])
                else:
                    conn.executemany(statement, rows)
                rows.clear()
        if changes:
            if len(changes) == 1:
                for revision, (key, op, policy) in changes.items():
                    conn.execute(_LOG, (revision, key, op, policy))
            else:
                conn.executemany(
                    _LOG, [(revision, *logged) for revision, logged in changes.items()]
                )
            changes.clear()
        if self._ops:
            conn.executemany(_RECORD_OPS, self._ops)
            self._ops, self._queued_ops = [], set()
        self._queued_keys.clear()

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


class ConnectionWrite:
    """``BEGIN IMMEDIATE`` … ``COMMIT``, rollback on any exception, driver errors mapped;
    yields the connection.

    Under the write lock it first checks that the path still names the file this
    connection opened (reopening if not), and after COMMIT that it still did: a write
    that went into a deleted file is reported as lost, never acknowledged.
    A class rather than a generator context manager: it sits on every write's hot path.
    """

    __slots__ = ("_conn", "_store")

    def __init__(self, store: SQLiteConnections) -> None:
        self._store = store
        self._conn: sqlite3.Connection | None = None

    def _open(self) -> sqlite3.Connection:
        store = self._store
        conn = store._conn()
        local = store._local  # (after ``_conn``, which may open this thread's connection)
        if local.read_only:
            raise store._read_only_error()
        gate = store._gate
        gate.enter()  # writers queue here (gate), before SQLite's lock
        try:
            try:  # (``store._begin``, its first try spelled out: every write starts here)
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError:
                store._begin_again(conn)
            moved = local.files.database_changed()
            if moved is not None:
                with store._errors():
                    conn.execute("ROLLBACK")
                conn = store._begin(store._reopen(moved))
        except BaseException:
            gate.exit()
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
            try:
                conn.execute("COMMIT")
            except sqlite3.Error as error:
                _commit_failed(conn, store, error)  # retried while busy, else raised
            moved = store._local.files.committed_changed()
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


class SQLiteWriteTransaction(ConnectionWrite):
    """The contract's transaction: the same, yielding rows instead of the connection, and
    writing what the rows queued before it commits."""

    __slots__ = ("_keys", "_tx")

    def __init__(self, store: SQLiteConnections, keys: Sequence[str]) -> None:
        self._store = store  # (``ConnectionWrite.__init__``, spelled out: every write)
        self._conn = None
        self._keys = keys
        self._tx: SQLiteTransaction | None = None

    def __enter__(self) -> SQLiteTransaction:  # type: ignore[override]
        self._tx = SQLiteTransaction(self._open(), self._keys)
        return self._tx

    def __exit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        tx = self._tx
        if exc is None and tx is not None:
            try:
                tx.flush()
            except BaseException as error:
                super().__exit__(type(error), error, None)  # rolls back; maps driver errors
                raise
        try:  # (``ConnectionWrite.__exit__``, spelled out: one call fewer on every write)
            self._finish(exc)
        finally:
            self._store._gate.exit()


def _commit_failed(
    conn: sqlite3.Connection, store: SQLiteConnections, error: sqlite3.Error
) -> None:
    """COMMIT failed with ``error``: retried only while the store is busy; any other
    failure (a full disk) is raised as the engine's error for what SQLite said, after
    making sure the transaction is rolled back."""
    try:
        try:
            if not isinstance(error, sqlite3.OperationalError) or not busy(error):
                raise error
            if not conn.in_transaction:
                raise error
            store._retry_busy(lambda: conn.execute("COMMIT"))
        except sqlite3.Error:
            if conn.in_transaction:
                with suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
            raise
    except sqlite3.Error:
        with store._errors():
            raise
