"""The PostgreSQL store: the same contract as SQLite, for agents on several hosts.

SQLite serializes writers with one file lock; here writers serialize per key
instead, so unrelated keys never wait on each other. A read-modify-write takes
a transaction-scoped advisory lock per key (sorted, so two writers never
deadlock) before reading: that covers keys that do not exist yet, which a row
lock cannot, so two first writes of one key never both see "absent". Reads
then lock the row (``FOR UPDATE``) so cleanup skips a row being rewritten. The
lock and the read travel in one message, the write and the COMMIT in another:
two round trips per write (``transaction``).

Keys are ``COLLATE "C"``: byte order, as in SQLite, so prefix ranges and
pagination cursors mean the same on both backends. Timestamps are epoch
seconds in DOUBLE PRECISION (SQLite's REAL); payloads are BYTEA.

A ``schema`` query parameter (``postgresql://u@h/db?schema=team_a``) selects
the schema holding the tables (created if missing; default
``memory_lifecycle``), so several stores or test runs share one database
without seeing each other. Connections come from a small pool because the
MCP server runs its tools on worker threads.

Every call is bounded by the URL's ``timeout`` (seconds, default 10): waiting for a
pooled connection and running on it together, also when the server stops answering
on an open connection (``deadline``: a watchdog cuts the call off, the
connection is discarded). A call that needs a new connection opens it itself
(``pool``), so when the database cannot be reached it fails within about libpq's
``connect_timeout`` (5 s, or ``timeout`` if less, unless the URL sets it) with a
"cannot reach" error, and the first call after the server is back succeeds at once
(no reconnection loop backing off meanwhile). A connection that sat idle is checked
before use, within the same bound, so one a server restart closed is replaced, not
reported.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, suppress

import psycopg
from psycopg import errors as pg_errors

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
from lifecycle.store.postgres import schema, search, vectors, wire
from lifecycle.store.postgres.changelog import LOG_GONE
from lifecycle.store.postgres.connections import PostgresConnections
from lifecycle.store.postgres.coordination import PostgresCoordination
from lifecycle.store.postgres.rows import COLUMNS as _COLUMNS
from lifecycle.store.postgres.rows import row_from as _row
from lifecycle.store.postgres.rows import scalar
from lifecycle.store.postgres.transaction import Held, PostgresTransaction
from lifecycle.store.text_index import Query, SearchDoc

SWEEP_BATCH = 10_000  # expired rows deleted per statement (and transaction)
_GET = f"SELECT {_COLUMNS} FROM entries WHERE key = %s"


class PostgresStore(PostgresConnections, PostgresCoordination):
    """Values and metadata in one PostgreSQL schema, shared by every host that reaches it:
    the contract's queries (the pool is ``connections``', the change log and locks
    ``coordination``'s)."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        with self._errors():
            self._migrate()
            self._pool = self._new_pool()

    def _migrate(self) -> None:
        """Create the schema and apply pending migrations, one opener at a time."""
        with psycopg.connect(self._conninfo, **self._connect_kwargs) as conn:  # type: ignore[arg-type]
            self._configure(conn)
            self._space = schema.migrate(conn, self.schema)

    # ------------------------------------------------------------ contract

    def transaction(self, keys: Sequence[str] = ()) -> AbstractContextManager[PostgresTransaction]:
        # two round trips: BEGIN + lock + read, then write + COMMIT (see transaction)
        return Held(self._connection(), self._prepare, keys)

    def get(self, key: str) -> Row | None:
        with self._connection() as conn:
            try:
                rows = wire.execute_prepared(conn, conn.transformer, b"ml_get", _GET, (key,))
            except pg_errors.InvalidSqlStatementName:  # deallocated: see ``transaction``
                self._prepare(conn)
                rows = wire.execute_prepared(conn, conn.transformer, b"ml_get", _GET, (key,))
        return _row(rows[0]) if rows else None

    def list_rows(
        self, prefix: str, after: str | None, limit: int, now: float, tags: Sequence[str] = ()
    ) -> list[Row]:
        low = max(prefix, after) if after is not None else prefix
        op = ">" if after is not None and after >= prefix else ">="
        tagged, tag_params = search.tagged_condition(tags)
        query = (
            f"SELECT {_COLUMNS} FROM entries WHERE key {op} %s AND key < %s AND NOT tombstone "
            f"AND (expires_at IS NULL OR expires_at > %s){tagged} ORDER BY key LIMIT %s"
        )
        with self._connection() as conn:
            rows = conn.execute(
                query, (low, prefix + PREFIX_END, now, *tag_params, limit)
            ).fetchall()
        return [_row(r) for r in rows]

    def newest_rows(self, prefix: str, limit: int, now: float) -> list[Row]:
        query, key_range = newest_statement(prefix)
        with self._connection() as conn:
            rows = conn.execute(query, (*key_range, now, limit)).fetchall()
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

    def vectors(self) -> vectors.PostgresVectors:
        return vectors.PostgresVectors(self)

    def iter_rows(self, include_tombstones: bool = True) -> Iterator[Row]:
        where = "" if include_tombstones else "AND NOT tombstone"
        last = ""
        while True:
            with self._connection() as conn:
                batch = conn.execute(
                    f"SELECT {_COLUMNS} FROM entries WHERE key > %s {where} ORDER BY key LIMIT 500",
                    (last,),
                ).fetchall()
            if not batch:
                return
            for r in batch:
                yield _row(r)
            last = batch[-1][0]

    def keys_with_prefix(self, prefix: str, limit: int) -> list[str]:
        with self._connection() as conn:
            rows = conn.execute(
                "SELECT key FROM entries WHERE key >= %s AND key < %s AND NOT tombstone "
                "ORDER BY key LIMIT %s",
                (prefix, prefix + PREFIX_END, limit),
            ).fetchall()
        return [r[0] for r in rows]

    def delete_expired(
        self,
        now: float,
        strategies: Sequence[str],
        prefix: str = "",
        sample: int = 100,
        limit: int | None = None,
    ) -> SweepResult:
        # in batches of SWEEP_BATCH rows, a transaction each, those that expired first:
        # every call is bounded by the store's timeout, and a million expired rows in one
        # statement would not be; ``limit`` bounds the whole call (a hook's sweep)
        def batch(wanted: int, rows: int) -> tuple[SweepResult, int]:
            return self._sweep_batch(now, strategies, prefix, wanted, rows)

        return sweep_in_batches(batch, sample, limit, SWEEP_BATCH)

    def _sweep_batch(
        self, now: float, strategies: Sequence[str], prefix: str, sample: int, batch: int
    ) -> tuple[SweepResult, int]:
        """One transaction of a sweep: the ``batch`` rows that expired first, and how many
        rows it deleted."""
        args = sweep_arguments(now, strategies, prefix, sample, batch)
        with self._write() as conn:
            rows = conn.execute(sweep_statement(bool(prefix)), args).fetchall()
            if any(key is not None or not tombstone for _, tombstone, _, key in rows):
                conn.execute("SELECT pg_notify(%s, '')", (self.channel,))
        by_policy: dict[str, int] = {}
        tombstones = deleted = 0
        keys: list[str] = []
        for policy, tombstone, count, key in rows:
            deleted += count
            if key is not None:
                keys.append(key)
            elif tombstone:
                tombstones += count
            else:
                by_policy[policy] = by_policy.get(policy, 0) + count
        return SweepResult(by_policy, tombstones, keys), deleted

    def find_expired(
        self,
        now: float,
        strategies: Sequence[str],
        prefix: str = "",
        sample: int = 100,
        limit: int | None = None,
    ) -> SweepResult:
        cond = "expires_at <= %(now)s AND (tombstone OR cleanup = ANY(%(strategies)s))"
        if prefix:
            cond += " AND key >= %(low)s AND key < %(high)s"
        # the ``limit`` rows that expired first, as a sweep takes them (LIMIT NULL: all)
        found = (
            f"(SELECT key, policy, tombstone FROM entries WHERE {cond} "
            "ORDER BY expires_at LIMIT %(limit)s) AS found"
            if limit is not None
            else f"entries AS found WHERE {cond}"
        )
        where = "WHERE" if limit is not None else "AND"
        query = (
            f"SELECT policy, tombstone, COUNT(*), NULL FROM {found} "
            "GROUP BY policy, tombstone "
            "UNION ALL "
            f"(SELECT NULL, FALSE, 0, key FROM {found} {where} NOT tombstone "
            "ORDER BY key LIMIT %(sample)s)"
        )
        args = {
            "now": now,
            "strategies": list(strategies),
            "low": prefix,
            "high": prefix + PREFIX_END,
            "sample": sample,
            "limit": limit,
        }
        with self._connection() as conn:
            rows = conn.execute(query, args).fetchall()
        by_policy: dict[str, int] = {}
        tombstones = 0
        keys: list[str] = []
        for policy, tombstone, count, key in rows:
            if key is not None:
                keys.append(key)
            elif tombstone:
                tombstones += count
            else:
                by_policy[policy] = count
        return SweepResult(by_policy, tombstones, keys)

    def delete_expired_key(self, key: str, now: float) -> bool:
        query = (
            "WITH gone AS (DELETE FROM entries WHERE key = %(key)s AND expires_at <= %(now)s "
            f"RETURNING key, policy, tombstone) {LOG_GONE} "
            "SELECT tombstone, pg_notify(%(channel)s, '') FROM gone"
        )
        with self._write() as conn:
            gone = conn.execute(query, {"key": key, "now": now, "channel": self.channel})
            return gone.fetchone() is not None

    def stats(self, now: float) -> list[PolicyStats]:
        query = (
            "SELECT policy, COUNT(*), COALESCE(SUM(size_bytes), 0)::bigint, "
            "COALESCE(SUM(octet_length(payload)), 0)::bigint, "
            "COUNT(*) FILTER (WHERE codec <> 'json'), "
            "COUNT(*) FILTER (WHERE expires_at <= %s), "
            "MIN(expires_at) FILTER (WHERE expires_at > %s) "
            "FROM entries WHERE NOT tombstone GROUP BY policy ORDER BY policy"
        )
        with self._connection() as conn:
            rows = conn.execute(query, (now, now)).fetchall()
        return [PolicyStats(*r) for r in rows]

    def count_tombstones(self) -> int:
        with self._connection() as conn:
            return int(scalar(conn.execute("SELECT COUNT(*) FROM entries WHERE tombstone")))

    def expiry_buckets(self, start: float, width: float, count: int) -> list[ExpiryBucket]:
        query = (
            "SELECT LEAST(floor((expires_at - %s) / %s)::int, %s) AS bucket, policy, COUNT(*) "
            "FROM entries WHERE expires_at >= %s AND expires_at < %s AND NOT tombstone "
            "GROUP BY bucket, policy ORDER BY bucket, policy"
        )
        end = start + width * count
        with self._connection() as conn:
            rows = conn.execute(query, (start, width, count - 1, start, end)).fetchall()
        return [ExpiryBucket(*r) for r in rows]

    def reset(self) -> int:
        with self._write() as conn:
            conn.execute("DELETE FROM op_ids")
            conn.execute("DELETE FROM changes")  # a cursor from before gets "compacted"
            conn.execute(
                "UPDATE counters SET value = (SELECT value FROM counters WHERE name = "
                "'revision') WHERE name = 'compacted'"
            )
            count: int = conn.execute("DELETE FROM entries").rowcount
            return count

    def applied_ops(self, keys: Sequence[str]) -> dict[str, dict[str, float]]:
        out: dict[str, dict[str, float]] = {}
        with self._connection() as conn:
            rows = conn.execute(
                "SELECT key, op_id, applied_at FROM op_ids WHERE key = ANY(%s)", (list(keys),)
            ).fetchall()
        for key, op, ts in rows:
            out.setdefault(key, {})[op] = ts
        return out

    def purge_ops(self, before: float, limit: int | None = None) -> int:
        args: tuple[float, ...] = (before,)
        if limit is None:
            query = "DELETE FROM op_ids WHERE applied_at < %s"
        else:  # the oldest, chosen once (an array) and deleted by address (a TID scan)
            query = (
                "DELETE FROM op_ids WHERE ctid = ANY(ARRAY(SELECT ctid FROM op_ids "
                "WHERE applied_at < %s ORDER BY applied_at LIMIT %s))"
            )
            args = (before, limit)
        with self._connection() as conn:
            return conn.execute(query, args).rowcount

    def get_meta(self, name: str) -> str | None:
        with self._connection() as conn:
            r = conn.execute("SELECT value FROM meta WHERE name = %s", (name,)).fetchone()
        return r[0] if r else None

    def set_meta(self, name: str, value: str) -> None:
        with self._connection() as conn:
            conn.execute(
                "INSERT INTO meta VALUES (%s, %s) "
                "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                (name, value),
            )

    def take_turn(self, name: str, holder: str, now: float, duration: float) -> bool:
        # One statement: the upsert's row lock decides between concurrent takers.
        with self._connection() as conn:
            r = conn.execute(
                "INSERT INTO leases VALUES (%s, %s, %s) ON CONFLICT (name) DO UPDATE SET "
                "holder = excluded.holder, expires_at = excluded.expires_at "
                "WHERE leases.holder = excluded.holder OR leases.expires_at <= %s "
                "RETURNING holder",
                (name, holder, now + duration, now),
            ).fetchone()
        return r is not None

    def end_turn(self, name: str, holder: str) -> None:
        with self._connection() as conn:
            conn.execute("DELETE FROM leases WHERE name = %s AND holder = %s", (name, holder))

    def size_bytes(self) -> int | None:
        """Every table of the schema with its indexes and TOAST. Deleted rows' space is
        reused by later writes once autovacuum has passed, but stays allocated (only
        ``VACUUM FULL``, which locks the table, returns it to the operating system)."""
        with self._connection() as conn:
            size = scalar(
                conn.execute(
                    "SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0)::bigint "
                    "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE n.nspname = %s AND c.relkind IN ('r', 'p', 'm')",
                    (self.schema,),
                )
            )
        return int(size)

    def read_only(self) -> str | None:
        """None: the server decides (a read-only server refuses writes with its own error,
        which the store reports as one line)."""
        return None

    def give_back_space(self) -> None:
        """Nothing to do: autovacuum makes deleted rows' space, their search index (GIN)
        entries included, reusable, and ANALYZE keeps the planner's numbers fresh. Unlike
        SQLite's FTS5, a GIN index keeps no deletion markers that searches must skip:
        vacuum removes dead entries from it. (A table's files do not shrink; only ``VACUUM
        FULL``, which locks the table, returns that space to the operating system.)"""

    def compact(self) -> None:
        """Nothing to do: PostgreSQL's autovacuum makes deleted rows' space reusable."""

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._close_listener()
        self._watchdog.close()
        with suppress(Exception):
            self._pool.close()


def sweep_statement(prefixed: bool) -> str:
    """One batch of the sweep (``batch`` rows at most, those that expired first: the
    expiry index's order), one statement: the DELETE's
    RETURNING feeds both the counts and the sample. FOR UPDATE SKIP LOCKED leaves rows a
    writer holds right now to the next sweep (it is probably renewing them), so a sweep
    never waits on, or deadlocks with, a writer; the outer WHERE repeats the test so a row
    renewed meanwhile stays. The planner picks the expiry index or the key range by their
    statistics (a key range holding few rows is the cheaper walk; autovacuum's ANALYZE
    keeps the numbers fresh), unlike SQLite's, which without statistics preferred the key
    range always. The chosen rows are a CTE, evaluated once (as an ``IN`` subquery the
    planner rescanned it per row, and each rescan skipped the rows this statement had
    just deleted and took the next ones: the batch deleted everything expired), and
    the DELETE finds them by their row address (a TID scan, O(batch)), not by joining
    them to every expired row again (a hash join over the whole backlog per batch)."""
    cond = "expires_at <= %(now)s AND (tombstone OR cleanup = ANY(%(strategies)s))"
    if prefixed:
        cond += " AND key >= %(low)s AND key < %(high)s"
    return (
        f"WITH chosen AS (SELECT ctid FROM entries WHERE {cond} "
        "ORDER BY expires_at LIMIT %(batch)s FOR UPDATE SKIP LOCKED), "
        "gone AS (DELETE FROM entries WHERE ctid = ANY (ARRAY(SELECT ctid FROM chosen)) "
        f"AND {cond} RETURNING key, policy, tombstone) "
        f"{LOG_GONE} "
        "SELECT policy, tombstone, COUNT(*), NULL FROM gone GROUP BY policy, tombstone "
        "UNION ALL "
        "(SELECT NULL, FALSE, 0, key FROM gone WHERE NOT tombstone LIMIT %(sample)s)"
    )


def sweep_arguments(
    now: float, strategies: Sequence[str], prefix: str, sample: int, batch: int = SWEEP_BATCH
) -> dict[str, object]:
    return {
        "batch": batch,
        "now": now,
        "strategies": list(strategies),
        "low": prefix,
        "high": prefix + PREFIX_END,
        "sample": sample,
    }


def newest_statement(prefix: str) -> tuple[str, tuple[str, ...]]:
    """``newest_rows``'s query (its parameters: the key range returned, then ``now`` and the
    limit). For an indexed prefix the range is spelled in literals, as its partial index
    spells it: the planner proves the index covers the query from them (a parameter
    proves nothing), and walks it backwards for the newest."""
    live = "NOT tombstone AND (expires_at IS NULL OR expires_at > %s)"
    order = "ORDER BY revision DESC LIMIT %s"
    key_range: tuple[str, ...] = ()
    if prefix in newest.INDEXED:
        where = newest.range_condition(prefix)
    else:
        where, key_range = "key >= %s AND key < %s", (prefix, prefix + PREFIX_END)
    return f"SELECT {_COLUMNS} FROM entries WHERE {where} AND {live} {order}", key_range
