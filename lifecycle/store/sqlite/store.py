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

import os
from collections.abc import Callable, Iterator, Sequence

from lifecycle.basics.lazy_logging import get_logger
from lifecycle.errors import StoreError, clip_text
from lifecycle.store import newest
from lifecycle.store.base import (
    PREFIX_END,
    ExpiryBucket,
    PolicyStats,
    Row,
    SearchHit,
    SweepResult,
    sweep_in_batches,
)
from lifecycle.store.sqlite import changelog, schema, search, space, vectors
from lifecycle.store.sqlite import files as db_files
from lifecycle.store.sqlite.changelog import SQLiteCoordination
from lifecycle.store.sqlite.connections import BUSY_TIMEOUT_SECONDS, SQLiteConnections
from lifecycle.store.sqlite.driver import sqlite3
from lifecycle.store.sqlite.rows import COLUMNS as _COLUMNS
from lifecycle.store.sqlite.rows import row_from as _row
from lifecycle.store.sqlite.transaction import ConnectionWrite, SQLiteWriteTransaction
from lifecycle.store.text_index import Query, SearchDoc

SWEEP_BATCH = 10_000  # expired rows deleted per transaction (about 0.1-0.3 s here)
_SELECT_ONE = f"SELECT {_COLUMNS} FROM entries WHERE key = ?"
_LOGGED_BY_POLICY = "SELECT policy, COUNT(*) FROM changes WHERE revision > ? GROUP BY policy"
_LOGGED_KEYS = "SELECT key FROM changes WHERE revision > ? ORDER BY revision LIMIT ?"

log = get_logger("memory_lifecycle.store")


class SQLiteStore(SQLiteConnections, SQLiteCoordination):
    """One SQLite file holding values and metadata: the contract's queries (the
    connections are ``connections``', the change log and locks ``changelog``'s)."""

    def __init__(self, path: str | os.PathLike[str], busy_timeout: float = BUSY_TIMEOUT_SECONDS):
        super().__init__(path, busy_timeout)
        self._swept = 0  # index entries deleted by sweeps since the space was given back
        self._migrate()

    def _migrate(self) -> None:
        """Apply the migrations this store lacks; a store that has them all is not written
        (reads must work where nothing can be written)."""
        pending = self._migrations_pending()
        if not pending:
            return
        if pending <= schema.READS_WITHOUT and self.read_only() is not None:
            log.info("store %s: read-only, migrations %s wait for a writer", self.path, pending)
            return
        with self._write() as conn:
            schema.apply_missing(conn)

    def _migrations_pending(self) -> set[int]:
        conn = self._conn()
        try:
            done = schema.applied(conn)
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):
                return set(schema.NUMBERED)
            with self._errors():
                raise
        return set(schema.NUMBERED) - done

    def _write(self) -> ConnectionWrite:
        return ConnectionWrite(self)

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
        params = (low, prefix + PREFIX_END, now, *tag_params, limit)
        with self._errors():
            rows = self._conn().execute(sql, params).fetchall()
        return [_row(r) for r in rows]

    def newest_rows(self, prefix: str, limit: int, now: float) -> list[Row]:
        live = "tombstone = 0 AND (expires_at IS NULL OR expires_at > ?)"
        order = "ORDER BY revision DESC LIMIT ?"
        if prefix in newest.INDEXED:
            # the planner would take the key index and sort the whole range: name the
            # partial index (its range spelled as the index spells it, which it must be)
            indexed = (
                f"SELECT {_COLUMNS} FROM entries INDEXED BY {newest.index_name(prefix)} "
                f"WHERE {newest.range_condition(prefix)} AND {live} {order}"
            )
            try:
                return [_row(r) for r in self._conn().execute(indexed, (now, limit))]
            except sqlite3.OperationalError as exc:
                if "no such index" not in str(exc):  # (else: a store opened read-only
                    with self._errors():  # before migration 7: sort the range below)
                        raise
        sql = f"SELECT {_COLUMNS} FROM entries WHERE key >= ? AND key < ? AND {live} {order}"
        with self._errors():
            rows = self._conn().execute(sql, (prefix, prefix + PREFIX_END, now, limit)).fetchall()
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
            self, query, prefix=prefix, tags=tags, now=now, after=after, limit=limit, top=PREFIX_END
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
                    (prefix, prefix + PREFIX_END, limit),
                )
                .fetchall()
            )
        return [k for (k,) in rows]

    def delete_expired(
        self,
        now: float,
        strategies: Sequence[str],
        prefix: str = "",
        sample: int = 100,
        limit: int | None = None,
    ) -> SweepResult:
        # those that expired first, in transactions of SWEEP_BATCH rows at most: each
        # holds the write lock briefly (hooks and writers wait their turn behind it),
        # and ``limit`` bounds the whole call (a hook's sweep)
        def batch(wanted: int, rows: int) -> tuple[SweepResult, int]:
            return self._sweep_batch(now, strategies, prefix, wanted, rows)

        return sweep_in_batches(batch, sample, limit, SWEEP_BATCH)

    def _sweep_batch(
        self, now: float, strategies: Sequence[str], prefix: str, sample: int, batch: int
    ) -> tuple[SweepResult, int]:
        """One transaction of a sweep: the ``batch`` rows that expired first (the expiry
        index's order), and how many rows it deleted."""
        where, params = _expired_condition(now, strategies, prefix)
        chosen = f"id IN (SELECT id FROM entries WHERE {where} ORDER BY expires_at, id LIMIT ?)"
        chosen_params = (*params, batch)
        with self._write() as conn:
            if not conn.execute(f"SELECT 1 FROM entries WHERE {where} LIMIT 1", params).fetchone():
                return SweepResult({}, 0, []), 0
            # what was deleted is counted from the change-log rows the sweep writes anyway
            # (consecutive revisions, in key order), not by another pass over the expired rows
            live = changelog.log_expired(conn, chosen, chosen_params)
            first = conn.execute(changelog.HEAD).fetchone()[0] - live
            by_policy: dict[str, int] = dict(
                conn.execute(_LOGGED_BY_POLICY, (first,)).fetchall() if live else ()
            )
            keys = (
                conn.execute(_LOGGED_KEYS, (first, sample)).fetchall()
                if live and sample > 0
                else []
            )
            deleted = search.delete_rows(conn, chosen, chosen_params)
        self._swept += live  # index entries gone: see give_back_space
        return SweepResult(by_policy, deleted - live, [k for (k,) in keys]), deleted

    def find_expired(
        self,
        now: float,
        strategies: Sequence[str],
        prefix: str = "",
        sample: int = 100,
        limit: int | None = None,
    ) -> SweepResult:
        where, params = _expired_condition(now, strategies, prefix)
        source = "entries"
        if limit is not None:  # the ``limit`` rows that expired first, as a sweep takes them
            source = f"(SELECT * FROM entries WHERE {where} ORDER BY expires_at, id LIMIT ?)"
            where, params = "1", (*params, limit)
        with self._errors():
            conn = self._conn()
            counts = conn.execute(
                f"SELECT policy, tombstone, COUNT(*) FROM {source} WHERE {where} "
                "GROUP BY policy, tombstone",
                params,
            ).fetchall()
            # ``+key``: sort what the expiry index found, not walk the key index
            keys = (
                conn.execute(
                    f"SELECT key FROM {source} WHERE {where} AND tombstone = 0 "
                    "ORDER BY +key LIMIT ?",
                    (*params, sample),
                ).fetchall()
                if sample > 0
                else []
            )
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
        self.give_back_space()
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

    def purge_ops(self, before: float, limit: int | None = None) -> int:
        with self._write() as conn:
            params: tuple[float, ...] = (before,)
            if limit is None:
                sql = "DELETE FROM op_ids WHERE applied_at < ?"
            else:  # the oldest, through op_ids_applied_at (which carries the primary key)
                sql = (
                    "DELETE FROM op_ids WHERE (key, op_id) IN (SELECT key, op_id FROM op_ids "
                    "WHERE applied_at < ? ORDER BY applied_at LIMIT ?)"
                )
                params = (before, limit)
            count: int = conn.execute(sql, params).rowcount
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

    def take_turn(self, name: str, holder: str, now: float, duration: float) -> bool:
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

    def end_turn(self, name: str, holder: str) -> None:
        with self._write() as conn:
            conn.execute("DELETE FROM leases WHERE name = ? AND holder = ?", (name, holder))

    def size_bytes(self) -> int | None:
        return db_files.size_on_disk(self.path)

    # ------------------------------------------------------------ giving space back

    def give_back_space(self) -> None:
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
        """Maintenance (in its turn): convert a store made before incremental
        auto-vacuum, once, else give free space back."""
        conn = self._conn()
        with self._errors():
            if not space.needs_conversion(conn):
                space.give_back(conn, self._busy_ms)
                return
            space.convert(conn, self.path, self._busy_ms)


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
        params += (prefix, prefix + PREFIX_END)
    return where, params
