"""The PostgreSQL store's connections: a small pool (the MCP server runs its tools on
worker threads), every call bounded by the URL's ``timeout``, and psycopg's errors
turned into the engine's, without the password.

Every call is bounded: waiting for a pooled connection and running on it together,
also when the server stops answering on an open connection (``deadline``: a watchdog
cuts the call off, the connection is discarded). When the database cannot be reached,
a call fails within about libpq's ``connect_timeout`` with a "cannot reach" error
instead of waiting for the pool's 30 s timeout, and the first call after the server is
back succeeds at once (``_probe``). Its own module, under the same name as SQLite's
(``sqlite/connections.py``), so the store class holds the queries only."""

from __future__ import annotations

import functools
import math
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Any, NoReturn
from urllib.parse import unquote, urlsplit

import psycopg
import psycopg_pool
from psycopg import abc as pg_abc
from psycopg import errors as pg_errors
from psycopg import sql
from psycopg.adapt import Transformer
from psycopg.pq import TransactionStatus

from lifecycle.errors import StoreBusyError, StoreError
from lifecycle.store.postgres.deadline import NoAnswer, Watchdog
from lifecycle.store.postgres.listen import channel_name
from lifecycle.store.postgres.settings import parse_url
from lifecycle.store.postgres.transaction import prepare_script
from lifecycle.store.url import redact_url

LOCK_TIMEOUT_SECONDS = 60.0  # a lock wait, like SQLite's busy timeout (if ``timeout`` allows)
CONNECT_TIMEOUT_SECONDS = 5  # libpq's connect_timeout, unless the URL sets its own
MIN_CONNECT_TIMEOUT_SECONDS = 2  # libpq's own minimum
QUICK_WAIT_SECONDS = 1.0  # a pooled connection normally comes at once; else probe
RECONNECT_GIVE_UP_SECONDS = 10.0
IDLE_CHECK_SECONDS = 2.0


class PostgresConnections:
    """The connection plumbing of ``PostgresStore``: the pool, call deadlines, probing
    an unreachable server, error mapping. ``PostgresStore`` opens the pool once the
    schema is migrated (``_space`` is set then)."""

    _space: int  # this schema's advisory-lock space (``schema.migrate``)
    _pool: psycopg_pool.ConnectionPool

    def __init__(self, url: str) -> None:
        self._password = urlsplit(url).password or ""
        self.url = self._scrub(redact_url(url))
        conninfo, schema, pool_min, pool_max, timeout = parse_url(url, self.url)
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

    def _new_pool(self) -> psycopg_pool.ConnectionPool:
        return psycopg_pool.ConnectionPool(
            self._conninfo,
            min_size=self._pool_sizes[0],
            max_size=self._pool_sizes[1],
            kwargs=self._connect_kwargs,
            connection_class=PooledConnection,
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

    def _configure(self, conn: psycopg.Connection) -> None:
        """Every pooled connection sees only our schema and waits for locks like SQLite."""
        conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(self.schema)))
        conn.execute(f"SET lock_timeout = '{int(LOCK_TIMEOUT_SECONDS * 1000)}ms'")

    def _configure_pooled(self, conn: psycopg.Connection) -> None:
        """A pooled connection also prepares the write transaction's statements
        (``transaction``): one message, when the pool opens the connection. Its statements
        and lock waits stop at the call's timeout on the server too, so work the client
        gave up on (``deadline``) does not run on."""
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
        conn.execute(prepare_script(self._space, channel_name(self.schema)).encode())

    def _check(self, conn: psycopg.Connection) -> None:
        """Probe a connection that sat idle before handing it out: after a database
        restart the pool reconnects instead of failing the next call. Connections in
        steady use skip the round trip."""
        now = time.monotonic()
        if now - getattr(conn, "last_used", 0.0) > IDLE_CHECK_SECONDS:
            try:
                with self._deadline(conn, now + self._timeout):
                    psycopg_pool.ConnectionPool.check_connection(conn)
            except NoAnswer:
                self._unreachable = True  # the waiting call says so (the pool hides this)
                raise

    @contextmanager
    def _deadline(self, conn: psycopg.Connection, deadline: float) -> Iterator[None]:
        """Run on ``conn`` until ``deadline`` at most (``deadline``): past it the
        watchdog shuts the socket and this raises ``NoAnswer``."""
        token = self._watchdog.arm(conn, deadline)
        message = self._no_answer()
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

    def _no_answer(self) -> str:
        """What a call the watchdog cut off at its deadline says."""
        return f"no answer from the database within {self._timeout:g} s (the URL's timeout)"

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
        except Exception as exc:
            self._raise_mapped(exc)

    def _raise_mapped(self, exc: Exception) -> NoReturn:
        """Raise the engine's error for psycopg's ``exc`` (``exc`` itself when not psycopg's)."""
        mapped = self._mapped(exc)
        if mapped is None:
            raise exc
        raise mapped from exc

    def _mapped(self, exc: BaseException) -> Exception | None:
        """The engine's error for psycopg's ``exc`` (None: not psycopg's, raise it as it is)."""
        if isinstance(exc, psycopg_pool.PoolTimeout):
            return StoreBusyError(
                f"store {self.url}: no database connection within {self._timeout:g} s "
                f"({self._scrub(str(exc))}): the server is unreachable, or all "
                "pool_max_size connections stayed busy; check the server, or raise "
                "pool_max_size in the store URL",
                path=self.url,
            )
        if isinstance(exc, (pg_errors.LockNotAvailable, pg_errors.DeadlockDetected)):
            return StoreBusyError(
                f"store {self.url} stayed locked for over "
                f"{min(self._timeout, LOCK_TIMEOUT_SECONDS):g} s: "
                f"{self._scrub(str(exc))}; another process holds a long write transaction",
                path=self.url,
            )
        if isinstance(exc, pg_errors.QueryCanceled):
            return StoreBusyError(
                f"store {self.url}: the database took over {self._timeout:g} s "
                f"({self._scrub(str(exc))}); it is overloaded, or raise timeout in the store URL",
                path=self.url,
            )
        if isinstance(exc, psycopg.OperationalError):
            if self._closed:
                return StoreError(f"store {self.url} is closed", path=self.url)
            if exc.sqlstate is not None and not exc.sqlstate.startswith(("08", "57P")):
                return StoreError(  # e.g. disk full: the server answered, so say what it said
                    f"store {self.url}: {self._scrub(str(exc))}", path=self.url
                )
            self._unreachable = True
            return StoreError(
                f"store {self.url}: cannot reach the database: {self._scrub(str(exc))}; "
                "check the host, port, user and that the server is running",
                path=self.url,
            )
        if isinstance(exc, psycopg.Error):
            return StoreError(f"store {self.url}: {self._scrub(str(exc))}", path=self.url)
        return None

    def _connection(self) -> _Call:
        """A pooled connection for one call, all of it (the wait for the connection
        included) bounded by the store's ``timeout``."""
        return _Call(self)

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


class PooledConnection(psycopg.Connection[Any]):
    """A pooled connection, with what the store keeps per connection."""

    last_used = 0.0  # time.monotonic() at the end of its last successful call

    @functools.cached_property
    def transformer(self) -> pg_abc.Transformer:
        """The connection's one transformer for the hot statements (``wire``), made once:
        a new one per call looks a loader up per column again (what a cursor keeps)."""
        return Transformer(self)


class _Call:
    """One call's hold on a pooled connection (``PostgresConnections._connection``): the
    checkout, the call's deadline (``deadline``), commit or rollback of what the call
    left open (as ``with conn`` does), the return to the pool and psycopg's errors turned
    into the engine's. A class rather than nested ``@contextmanager`` generators: every
    store call goes through it, and the generators' machinery cost more than its work."""

    __slots__ = ("_conn", "_owner", "_pool", "_token")

    def __init__(self, owner: PostgresConnections) -> None:
        self._owner = owner

    def __enter__(self) -> PooledConnection:
        owner = self._owner
        if owner._closed:
            raise StoreError(f"store {owner.url} is closed", path=owner.url)
        deadline = time.monotonic() + owner._timeout
        try:
            self._pool, conn = owner._checkout(deadline)
        except Exception as exc:
            owner._raise_mapped(exc)
        self._token = owner._watchdog.arm(conn, deadline)
        self._conn = conn
        return conn  # type: ignore[return-value]

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        owner = self._owner
        try:
            self._finish(exc_type, exc, tb)
        except Exception as error:
            owner._raise_mapped(error)
        finally:
            self._pool.putconn(self._conn)  # a connection cut off is broken: the pool discards it
        if isinstance(exc, Exception):
            mapped = owner._mapped(exc)
            if mapped is not None:
                raise mapped from exc

    def _finish(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """End the call's transaction if it left one open, then disarm the deadline; a
        deadline that fired meanwhile becomes ``NoAnswer`` (the connection is cut)."""
        conn, watchdog = self._conn, self._owner._watchdog
        try:
            if conn.pgconn.transaction_status != TransactionStatus.IDLE:
                conn.__exit__(exc_type, exc, tb)  # commit, or roll back after an error
        except psycopg.OperationalError as error:
            if watchdog.disarm(self._token):
                raise NoAnswer(self._owner._no_answer()) from error
            raise
        except BaseException:
            watchdog.disarm(self._token)
            raise
        fired = watchdog.disarm(self._token)
        if exc is None:
            if fired:  # fired as the call ended: the connection is cut
                raise NoAnswer(self._owner._no_answer())
            conn.last_used = time.monotonic()  # type: ignore[attr-defined]
        elif fired and isinstance(exc, psycopg.OperationalError):
            raise NoAnswer(self._owner._no_answer()) from exc
