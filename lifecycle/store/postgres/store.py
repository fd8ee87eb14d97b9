"""The PostgreSQL store: the same contract as SQLite, for agents on several hosts.

SQLite serializes writers with one file lock; here writers serialize per key
instead, so unrelated keys never wait on each other. A read-modify-write takes
a transaction-scoped advisory lock per key (sorted, so two writers never
deadlock) before reading: that covers keys that do not exist yet, which a row
lock cannot, so two first writes of one key never both see "absent". Reads
then lock the row (``FOR UPDATE``) so cleanup skips a row being rewritten. The
lock and the read travel in one message, the write and the COMMIT in another:
two round trips per write (``postgres_tx``).

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
on an open connection (``postgres_deadline``: a watchdog cuts the call off, the
connection is discarded). When the database cannot be reached, a call fails within
about libpq's ``connect_timeout`` (5 s, or ``timeout`` if less, unless the URL sets
it) with a "cannot reach" error,
instead of waiting for the pool's 30 s timeout; and the first call after the
server is back succeeds at once, instead of after the pool's reconnection
backoff. A call that finds no pooled connection within ``QUICK_WAIT_SECONDS``
probes the server with a direct connection: unreachable, it fails now (and
later calls probe before anything else); reachable after an outage, a fresh
pool replaces the one still backing off; reachable and merely busy, it keeps
waiting for the pool as before.
"""

from __future__ import annotations

import math
import re
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

import psycopg
import psycopg_pool
from psycopg import errors as pg_errors
from psycopg import sql

from lifecycle.errors import ConfigurationError, StoreBusyError, StoreError
from lifecycle.store.base import ExpiryBucket, PolicyStats, Row, SearchHit, SweepResult
from lifecycle.store.postgres import changelog, search, vectors
from lifecycle.store.postgres.changelog import LOG_GONE
from lifecycle.store.postgres.coordination import PostgresCoordination
from lifecycle.store.postgres.deadline import NoAnswer, Watchdog
from lifecycle.store.postgres.rows import COLUMNS as _COLUMNS
from lifecycle.store.postgres.rows import row_from as _row
from lifecycle.store.postgres.transaction import PostgresTransaction, prepare_script
from lifecycle.store.text_index import Query, SearchDoc
from lifecycle.store.url import redact_url

MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE entries (
        key TEXT COLLATE "C" PRIMARY KEY,
        policy TEXT COLLATE "C" NOT NULL,
        strategy TEXT NOT NULL,
        cleanup TEXT NOT NULL,
        codec TEXT NOT NULL,
        payload BYTEA NOT NULL,
        size_bytes BIGINT NOT NULL,
        created_at DOUBLE PRECISION NOT NULL,
        updated_at DOUBLE PRECISION NOT NULL,
        expires_at DOUBLE PRECISION,
        ttl_seconds DOUBLE PRECISION,
        actor TEXT NOT NULL,
        tombstone BOOLEAN NOT NULL DEFAULT FALSE
    );
    CREATE INDEX entries_expires_at ON entries (expires_at) WHERE expires_at IS NOT NULL;
    CREATE INDEX entries_policy ON entries (policy);
    CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE leases (
        name TEXT PRIMARY KEY,
        holder TEXT NOT NULL,
        expires_at DOUBLE PRECISION NOT NULL
    );
    """,
    # op ids applied per key, remembered for a time window rather than a count per key
    """
    CREATE TABLE op_ids (
        key TEXT COLLATE "C" NOT NULL,
        op_id TEXT COLLATE "C" NOT NULL,
        applied_at DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (key, op_id)
    );
    CREATE INDEX op_ids_applied_at ON op_ids (applied_at);
    """,
)

# Migrations by version, applied when missing (not only above the highest), so a
# branch's migration merged after a later one still runs. (3 is the revisions branch's.)
NUMBERED: dict[int, str] = {
    **dict(enumerate(MIGRATIONS, start=1)),
    3: changelog.MIGRATION,  # revisions, the change log, locks (changelog.py)
    4: search.MIGRATION,  # the full-text index (search.py)
    6: vectors.MIGRATION,  # embeddings for semantic search (vectors.py)
}

DEFAULT_SCHEMA = "memory_lifecycle"
DEFAULT_TIMEOUT_SECONDS = 10.0  # the URL's ``timeout``: the bound of every call
LOCK_TIMEOUT_SECONDS = 60.0  # a lock wait, like SQLite's busy timeout (if ``timeout`` allows)
CONNECT_TIMEOUT_SECONDS = 5  # libpq's connect_timeout, unless the URL sets its own
MIN_CONNECT_TIMEOUT_SECONDS = 2  # libpq's own minimum
QUICK_WAIT_SECONDS = 1.0  # a pooled connection normally comes at once; else probe
RECONNECT_GIVE_UP_SECONDS = 10.0
IDLE_CHECK_SECONDS = 2.0
SWEEP_BATCH = 10_000  # expired rows deleted per statement (and transaction)
DEFAULT_POOL_MIN = 1
DEFAULT_POOL_MAX = 8
_TOP = "\U0010ffff"  # above every other character in byte order, as in SQLite's ranges
_SCHEMA_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
_OUR_PARAMS = ("schema", "pool_min_size", "pool_max_size", "timeout")


def _scalar(cursor: psycopg.Cursor[Any]) -> Any:
    """The one value a one-row, one-column query returns."""
    row = cursor.fetchone()
    assert row is not None
    return row[0]


class PostgresStore(PostgresCoordination):
    """Values and metadata in one PostgreSQL schema, shared by every host that reaches it."""

    def __init__(self, url: str) -> None:
        self._password = urlsplit(url).password or ""
        self.url = self._scrub(redact_url(url))
        conninfo, schema, pool_min, pool_max, timeout = _parse_url(url, self.url)
        self.schema = schema
        self._conninfo = conninfo
        self._pool_sizes = (pool_min, pool_max)
        self._timeout = timeout
        self._watchdog = Watchdog(schema)
        self._connect_kwargs: dict[str, object] = {"autocommit": True}
        if "connect_timeout" not in psycopg.conninfo.conninfo_to_dict(conninfo):
            self._connect_kwargs["connect_timeout"] = max(
                MIN_CONNECT_TIMEOUT_SECONDS, min(CONNECT_TIMEOUT_SECONDS, math.ceil(timeout))
            )
        self._closed = False
        self._unreachable = False  # the last connection attempt failed: probe first
        self._lock = threading.Lock()
        self._last_used: weakref.WeakKeyDictionary[psycopg.Connection, float] = (
            weakref.WeakKeyDictionary()
        )
        with self._errors():
            self._migrate()
            self._pool = self._new_pool()

    def _new_pool(self) -> psycopg_pool.ConnectionPool:
        return psycopg_pool.ConnectionPool(
            self._conninfo,
            min_size=self._pool_sizes[0],
            max_size=self._pool_sizes[1],
            kwargs=self._connect_kwargs,
            configure=self._configure_pooled,
            check=self._check,
            timeout=self._timeout,
            # give up a reconnection loop soon: the next checkout starts a fresh attempt
            # instead of waiting out a backoff that doubles up to minutes
            reconnect_timeout=RECONNECT_GIVE_UP_SECONDS,
            name=f"memory-lifecycle:{self.schema}",
            num_workers=2,
            open=True,
        )

    # ------------------------------------------------------------ connections

    def _configure(self, conn: psycopg.Connection) -> None:
        """Every pooled connection sees only our schema and waits for locks like SQLite."""
        conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(self.schema)))
        conn.execute(f"SET lock_timeout = '{int(LOCK_TIMEOUT_SECONDS * 1000)}ms'")

    def _configure_pooled(self, conn: psycopg.Connection) -> None:
        """A pooled connection also prepares the write transaction's statements
        (``postgres_tx``): one message, when the pool opens the connection. Its statements
        and lock waits stop at the call's timeout on the server too, so work the client
        gave up on (``postgres_deadline``) does not run on."""
        limit = int(self._timeout * 1000)
        lock_limit = min(limit, int(LOCK_TIMEOUT_SECONDS * 1000))
        with self._deadline(conn, time.monotonic() + self._timeout):
            conn.execute(
                sql.SQL(
                    "SET search_path TO {}; SET lock_timeout = {}; SET statement_timeout = {}; "
                ).format(
                    sql.Identifier(self.schema),
                    sql.Literal(f"{lock_limit}ms"),
                    sql.Literal(f"{limit}ms"),
                )
            )
            self._prepare(conn)

    def _prepare(self, conn: psycopg.Connection) -> None:
        conn.execute(prepare_script(self._space, self.channel).encode())

    def _check(self, conn: psycopg.Connection) -> None:
        """Probe a connection that sat idle before handing it out: after a database
        restart the pool reconnects instead of failing the next call. Connections in
        steady use skip the round trip."""
        now = time.monotonic()
        if now - self._last_used.get(conn, 0.0) > IDLE_CHECK_SECONDS:
            try:
                with self._deadline(conn, now + self._timeout):
                    psycopg_pool.ConnectionPool.check_connection(conn)
            except NoAnswer:
                self._unreachable = True  # the waiting call says so (the pool hides this)
                raise

    @contextmanager
    def _deadline(self, conn: psycopg.Connection, deadline: float) -> Iterator[None]:
        """Run on ``conn`` until ``deadline`` at most (``postgres_deadline``): past it the
        watchdog shuts the socket and this raises ``NoAnswer``."""
        token = self._watchdog.arm(conn, deadline)
        message = f"no answer from the database within {self._timeout:g} s (the URL's timeout)"
        try:
            yield
        except psycopg.OperationalError as exc:
            if self._watchdog.disarm(token):
                raise NoAnswer(message) from exc
            raise
        except BaseException:
            self._watchdog.disarm(token)
            raise
        if self._watchdog.disarm(token):  # fired as the call ended: the connection is cut
            raise NoAnswer(message)

    def _scrub(self, text: str) -> str:
        """One line, no password: libpq's messages span lines and may echo the conninfo."""
        text = " ".join(text.split())
        for secret in {self._password, unquote(self._password)} - {""}:
            text = text.replace(secret, "***")
        return text

    @contextmanager
    def _errors(self) -> Iterator[None]:
        """Turn psycopg's exceptions into the engine's, once, at the store boundary."""
        try:
            yield
        except psycopg_pool.PoolTimeout as exc:
            raise StoreBusyError(
                f"store {self.url}: no database connection within {self._timeout:g} s "
                f"({self._scrub(str(exc))}): the server is unreachable, or all "
                "pool_max_size connections stayed busy; check the server, or raise "
                "pool_max_size in the store URL",
                path=self.url,
            ) from exc
        except (pg_errors.LockNotAvailable, pg_errors.DeadlockDetected) as exc:
            raise StoreBusyError(
                f"store {self.url} stayed locked for over "
                f"{min(self._timeout, LOCK_TIMEOUT_SECONDS):g} s: "
                f"{self._scrub(str(exc))}; another process holds a long write transaction",
                path=self.url,
            ) from exc
        except pg_errors.QueryCanceled as exc:
            raise StoreBusyError(
                f"store {self.url}: the database took over {self._timeout:g} s "
                f"({self._scrub(str(exc))}); it is overloaded, or raise timeout in the store URL",
                path=self.url,
            ) from exc
        except psycopg.OperationalError as exc:
            if self._closed:
                raise StoreError(f"store {self.url} is closed", path=self.url) from exc
            if exc.sqlstate is not None and not exc.sqlstate.startswith(("08", "57P")):
                raise StoreError(  # e.g. disk full: the server answered, so say what it said
                    f"store {self.url}: {self._scrub(str(exc))}", path=self.url
                ) from exc
            self._unreachable = True
            raise StoreError(
                f"store {self.url}: cannot reach the database: {self._scrub(str(exc))}; "
                "check the host, port, user and that the server is running",
                path=self.url,
            ) from exc
        except psycopg.Error as exc:
            raise StoreError(f"store {self.url}: {self._scrub(str(exc))}", path=self.url) from exc

    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection]:
        """A pooled connection for one call, all of it (the wait for the connection
        included) bounded by the store's ``timeout``."""
        if self._closed:
            raise StoreError(f"store {self.url} is closed", path=self.url)
        deadline = time.monotonic() + self._timeout
        with self._errors():
            pool, conn = self._checkout(deadline)
            try:
                with self._deadline(conn, deadline), conn:  # commit or roll back, keep open
                    yield conn
                    self._last_used[conn] = time.monotonic()
            finally:
                pool.putconn(conn)  # a connection cut off is broken: the pool discards it

    def _checkout(self, deadline: float) -> tuple[psycopg_pool.ConnectionPool, psycopg.Connection]:
        """A pooled connection by ``deadline``, failing fast when the server cannot be reached."""
        if self._unreachable:
            self._probe()
        for quick in (True, False):
            pool = self._pool
            left = max(deadline - time.monotonic(), 0.001)
            wait = min(QUICK_WAIT_SECONDS, self._timeout / 2, left) if quick else left
            try:
                return pool, pool.getconn(timeout=wait)
            except psycopg_pool.PoolTimeout as exc:
                if self._unreachable:  # the pooled connection's check got no answer
                    raise NoAnswer(
                        f"no answer from the database within {self._timeout:g} s"
                    ) from exc
                if not quick:
                    raise
            except psycopg_pool.PoolClosed:
                if pool is self._pool:  # the store closed, not a pool replaced meanwhile
                    raise
                continue
            self._probe()  # unreachable: raises now; reachable: the pool is busy, or replaced
        pool = self._pool  # replaced while this call waited on the old one: one more try
        return pool, pool.getconn(timeout=max(deadline - time.monotonic(), QUICK_WAIT_SECONDS))

    def _probe(self) -> None:
        """Connect directly: an unreachable server raises ("cannot reach", within the
        connect timeout); one that is back after an outage gets a fresh pool, because the
        old one would wait out its reconnection backoff. The pool is replaced before the
        outage is cleared, under the lock, so once per outage and never seen half done."""
        try:
            psycopg.connect(self._conninfo, **self._connect_kwargs).close()  # type: ignore[arg-type]
        except psycopg.OperationalError:
            self._unreachable = True
            raise
        if not self._unreachable:
            return
        with self._lock:
            if not self._unreachable or self._closed:
                return  # another thread replaced the pool already
            stale, self._pool = self._pool, self._new_pool()
            self._unreachable = False
        # closing waits for its workers: not on this caller's time
        threading.Thread(target=stale.close, kwargs={"timeout": 5.0}, daemon=True).start()

    @contextmanager
    def _write(self) -> Iterator[psycopg.Connection]:
        with self._connection() as conn, conn.transaction():
            yield conn

    def _migrate(self) -> None:
        """Create the schema and apply pending migrations, one opener at a time."""
        with psycopg.connect(self._conninfo, **self._connect_kwargs) as conn:  # type: ignore[arg-type]
            self._configure(conn)
            with conn.transaction():
                conn.execute(
                    "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                    (f"memory-lifecycle:migrate:{self.schema}",),
                )
                exists = conn.execute(
                    "SELECT 1 FROM pg_namespace WHERE nspname = %s", (self.schema,)
                ).fetchone()
                if not exists:
                    conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(self.schema)))
                conn.execute(
                    "CREATE TABLE IF NOT EXISTS schema_migrations "
                    "(version INTEGER PRIMARY KEY, applied_at DOUBLE PRECISION NOT NULL)"
                )
                done = {v for (v,) in conn.execute("SELECT version FROM schema_migrations")}
                for version, script in sorted(NUMBERED.items()):
                    if version in done:
                        continue
                    conn.execute(script)
                    conn.execute(
                        "INSERT INTO schema_migrations VALUES (%s, EXTRACT(EPOCH FROM now()))",
                        (version,),
                    )
                # a lock space keeps this schema's per-key advisory locks apart from others'
                self._space = _scalar(
                    conn.execute("SELECT hashtext(%s)", (f"memory-lifecycle:{self.schema}",))
                )

    # ------------------------------------------------------------ contract

    @contextmanager
    def transaction(self, keys: Sequence[str] = ()) -> Iterator[PostgresTransaction]:
        # two round trips: BEGIN + lock + read, then write + COMMIT (see postgres_tx)
        with self._connection() as conn:
            tx = PostgresTransaction(conn, self._prepare)
            try:
                tx.lock(keys)
                yield tx
                tx.commit()
            except BaseException:
                tx.rollback()
                raise

    def get(self, key: str) -> Row | None:
        with self._connection() as conn:
            r = conn.execute(f"SELECT {_COLUMNS} FROM entries WHERE key = %s", (key,)).fetchone()
        return _row(r) if r else None

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
            rows = conn.execute(query, (low, prefix + _TOP, now, *tag_params, limit)).fetchall()
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
                (prefix, prefix + _TOP, limit),
            ).fetchall()
        return [r[0] for r in rows]

    def delete_expired(
        self, now: float, strategies: Sequence[str], prefix: str = "", sample: int = 100
    ) -> SweepResult:
        # in batches of SWEEP_BATCH rows, a transaction each: every call is bounded by the
        # store's timeout, and a million expired rows in one statement would not be
        by_policy: dict[str, int] = {}
        tombstones = 0
        keys: list[str] = []
        while True:
            args = sweep_arguments(now, strategies, prefix, sample - len(keys))
            with self._write() as conn:
                rows = conn.execute(sweep_statement(bool(prefix)), args).fetchall()
                if any(key is not None or not tombstone for _, tombstone, _, key in rows):
                    conn.execute("SELECT pg_notify(%s, '')", (self.channel,))
            deleted = 0
            for policy, tombstone, count, key in rows:
                deleted += count
                if key is not None:
                    keys.append(key)
                elif tombstone:
                    tombstones += count
                else:
                    by_policy[policy] = by_policy.get(policy, 0) + count
            if deleted < SWEEP_BATCH:
                return SweepResult(by_policy, tombstones, keys)

    def find_expired(
        self, now: float, strategies: Sequence[str], prefix: str = "", sample: int = 100
    ) -> SweepResult:
        cond = "expires_at <= %(now)s AND (tombstone OR cleanup = ANY(%(strategies)s))"
        if prefix:
            cond += " AND key >= %(low)s AND key < %(high)s"
        query = (
            f"SELECT policy, tombstone, COUNT(*), NULL FROM entries WHERE {cond} "
            "GROUP BY policy, tombstone "
            "UNION ALL "
            f"(SELECT NULL, FALSE, 0, key FROM entries WHERE {cond} AND NOT tombstone "
            "ORDER BY key LIMIT %(sample)s)"
        )
        args = {
            "now": now,
            "strategies": list(strategies),
            "low": prefix,
            "high": prefix + _TOP,
            "sample": sample,
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
            return int(_scalar(conn.execute("SELECT COUNT(*) FROM entries WHERE tombstone")))

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

    def purge_ops(self, before: float) -> int:
        with self._connection() as conn:
            return conn.execute("DELETE FROM op_ids WHERE applied_at < %s", (before,)).rowcount

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

    def acquire_lease(self, name: str, holder: str, now: float, duration: float) -> bool:
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

    def release_lease(self, name: str, holder: str) -> None:
        with self._connection() as conn:
            conn.execute("DELETE FROM leases WHERE name = %s AND holder = %s", (name, holder))

    def size_bytes(self) -> int | None:
        """Every table of the schema with its indexes and TOAST. Deleted rows' space is
        reused by later writes once autovacuum has passed, but stays allocated (only
        ``VACUUM FULL``, which locks the table, returns it to the operating system)."""
        with self._connection() as conn:
            size = _scalar(
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
            self._pool.close(timeout=5.0)


def sweep_statement(prefixed: bool) -> str:
    """One batch of the sweep (``SWEEP_BATCH`` rows at most), one statement: the DELETE's
    RETURNING feeds both the counts and the sample. FOR UPDATE SKIP LOCKED leaves rows a
    writer holds right now to the next sweep (it is probably renewing them), so a sweep
    never waits on, or deadlocks with, a writer; the outer WHERE repeats the test so a row
    renewed meanwhile stays. The planner picks the expiry index or the key range by their
    statistics (a key range holding few rows is the cheaper walk; autovacuum's ANALYZE
    keeps the numbers fresh), unlike SQLite's, which without statistics preferred the key
    range always."""
    cond = "expires_at <= %(now)s AND (tombstone OR cleanup = ANY(%(strategies)s))"
    if prefixed:
        cond += " AND key >= %(low)s AND key < %(high)s"
    return (
        f"WITH gone AS (DELETE FROM entries WHERE key IN (SELECT key FROM entries "
        f"WHERE {cond} LIMIT {SWEEP_BATCH} FOR UPDATE SKIP LOCKED) AND {cond} "
        "RETURNING key, policy, tombstone) "
        f"{LOG_GONE} "
        "SELECT policy, tombstone, COUNT(*), NULL FROM gone GROUP BY policy, tombstone "
        "UNION ALL "
        "(SELECT NULL, FALSE, 0, key FROM gone WHERE NOT tombstone LIMIT %(sample)s)"
    )


def sweep_arguments(
    now: float, strategies: Sequence[str], prefix: str, sample: int
) -> dict[str, object]:
    return {
        "now": now,
        "strategies": list(strategies),
        "low": prefix,
        "high": prefix + _TOP,
        "sample": sample,
    }


def _parse_url(url: str, shown: str) -> tuple[str, str, int, int, float]:
    """Split our own parameters off the URL; the rest goes to libpq unchanged."""
    parts = urlsplit(url)
    ours: dict[str, str] = {}
    theirs: list[tuple[str, str]] = []
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        if name in _OUR_PARAMS:
            ours[name] = value
        else:
            theirs.append((name, value))
    schema = ours.get("schema", DEFAULT_SCHEMA)
    if not _SCHEMA_NAME.match(schema):
        raise ConfigurationError(
            f"store URL {shown}: schema {schema!r} is not a plain identifier; use letters, "
            "digits and '_' (at most 63, not starting with a digit)",
            path=shown,
        )
    sizes = []
    for name, default in (("pool_min_size", DEFAULT_POOL_MIN), ("pool_max_size", DEFAULT_POOL_MAX)):
        text = ours.get(name, str(default))
        if not text.isdigit() or int(text) < (0 if name == "pool_min_size" else 1):
            raise ConfigurationError(
                f"store URL {shown}: {name}={text!r} must be a whole number"
                + (" of at least 1" if name == "pool_max_size" else ""),
                path=shown,
            )
        sizes.append(int(text))
    pool_min, pool_max = sizes[0], max(sizes)
    timeout = _timeout(ours.get("timeout"), shown)
    if not any(name == "application_name" for name, _ in theirs):
        theirs.append(("application_name", "memory-lifecycle"))  # visible in pg_stat_activity
    # quote, not quote_plus: libpq reads "+" as a plus, so a space must travel as %20
    conninfo = urlunsplit(parts._replace(query=urlencode(theirs, quote_via=quote)))
    return conninfo, schema, pool_min, pool_max, timeout


def _timeout(text: str | None, shown: str) -> float:
    """The ``timeout`` parameter: seconds, a positive finite number."""
    if text is None:
        return DEFAULT_TIMEOUT_SECONDS
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (0 < value < math.inf):
        raise ConfigurationError(
            f"store URL {shown}: timeout={text[:20]!r} must be a number of seconds above 0 "
            f"(default {DEFAULT_TIMEOUT_SECONDS:g})",
            path=shown,
        )
    return value
