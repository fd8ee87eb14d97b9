"""The PostgreSQL store's connections: a small pool (the MCP server runs its tools on
worker threads), every call bounded by the URL's ``timeout``, and psycopg's errors
turned into the engine's, without the password.

Every call is bounded: waiting for a pooled connection and running on it together,
also when the server stops answering on an open connection (``deadline``: a watchdog
cuts the call off, the connection is discarded). A call that needs a new connection
opens it itself (``pool``), so when the database cannot be reached it fails within
about libpq's ``connect_timeout`` with a "cannot reach" error, and the first call after
the server is back succeeds at once. Its own module, under the same name as SQLite's
(``sqlite/connections.py``), so the store class holds the queries only."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import NoReturn
from urllib.parse import unquote, urlsplit

import psycopg
from psycopg import errors as pg_errors
from psycopg import sql
from psycopg.pq import TransactionStatus

from lifecycle.errors import StoreBusyError, StoreError
from lifecycle.store.postgres.deadline import NoAnswer, Watchdog
from lifecycle.store.postgres.listen import channel_name
from lifecycle.store.postgres.pool import Pool, PooledConnection, PoolTimeout
from lifecycle.store.postgres.settings import parse_url
from lifecycle.store.postgres.transaction import prepare_script
from lifecycle.store.url import redact_url

LOCK_TIMEOUT_SECONDS = 60.0  # a lock wait, like SQLite's busy timeout (if ``timeout`` allows)
CONNECT_TIMEOUT_SECONDS = 5  # libpq's connect_timeout, unless the URL sets its own
MIN_CONNECT_TIMEOUT_SECONDS = 2  # libpq's own minimum


class PostgresConnections:
    """The connection plumbing of ``PostgresStore``: the pool, call deadlines, error
    mapping. ``PostgresStore`` opens the pool once the schema is migrated (``_space``
    is set then)."""

    _space: int  # this schema's advisory-lock space (``schema.migrate``)
    _pool: Pool

    def __init__(self, url: str) -> None:
        self._password = urlsplit(url).password or ""
        self.url = self._scrub(redact_url(url))
        conninfo, schema, pool_min, pool_max, timeout = parse_url(url, self.url)
        self.schema = schema
        self._conninfo = conninfo
        self._pool_sizes = (pool_min, pool_max)
        self._timeout = timeout
        self._watchdog = Watchdog(schema)
        # utf8 whatever the database or the URL says: the hot statements are sent as UTF-8
        # bytes (wire.Template), and every text we store is Unicode
        self._connect_kwargs: dict[str, object] = {"autocommit": True, "client_encoding": "utf8"}
        connect_timeout = psycopg.conninfo.conninfo_to_dict(conninfo).get("connect_timeout")
        if connect_timeout is None:
            connect_timeout = max(
                MIN_CONNECT_TIMEOUT_SECONDS, min(CONNECT_TIMEOUT_SECONDS, math.ceil(timeout))
            )
            self._connect_kwargs["connect_timeout"] = connect_timeout
        # an idle connection's check waits no longer than a new connection would
        self._check_seconds = min(timeout, max(MIN_CONNECT_TIMEOUT_SECONDS, float(connect_timeout)))
        self._closed = False
        self._lock = threading.Lock()

    def _new_pool(self) -> Pool:
        return Pool(self._open, self._check, *self._pool_sizes)

    def _open(self, deadline: float) -> PooledConnection:
        """A new pooled connection, configured (``pool``'s ``connect``)."""
        conn = PooledConnection.connect(self._conninfo, **self._connect_kwargs)  # type: ignore[arg-type]
        try:
            self._configure_pooled(conn, deadline)
        except BaseException:
            conn.close()
            raise
        return conn

    def _configure(self, conn: psycopg.Connection) -> None:
        """Every pooled connection sees only our schema and waits for locks like SQLite."""
        conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(self.schema)))
        conn.execute(f"SET lock_timeout = '{int(LOCK_TIMEOUT_SECONDS * 1000)}ms'")

    def _configure_pooled(self, conn: psycopg.Connection, deadline: float | None = None) -> None:
        """A pooled connection also prepares the write transaction's statements
        (``transaction``): one message, when the pool opens the connection. Its statements
        and lock waits stop at the call's timeout on the server too, so work the client
        gave up on (``deadline``) does not run on."""
        limit = int(self._timeout * 1000)
        lock_limit = min(limit, int(LOCK_TIMEOUT_SECONDS * 1000))
        if deadline is None:
            deadline = time.monotonic() + self._timeout
        with self._deadline(conn, deadline):
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

    def _check(self, conn: psycopg.Connection, deadline: float) -> None:
        """Probe a connection that sat idle before handing it out (``pool``): after a
        database restart the call connects anew instead of failing. Bounded like a new
        connection: a server that does not answer fails the call within about libpq's
        ``connect_timeout``, not the whole call's ``timeout``."""
        limit = min(deadline, time.monotonic() + self._check_seconds)
        with self._deadline(conn, limit, self._check_seconds):
            conn.execute("")

    @contextmanager
    def _deadline(
        self, conn: psycopg.Connection, deadline: float, seconds: float | None = None
    ) -> Iterator[None]:
        """Run on ``conn`` until ``deadline`` at most (``deadline``): past it the
        watchdog shuts the socket and this raises ``NoAnswer`` (``seconds``: the bound
        it says, when not the URL's ``timeout``)."""
        token = self._watchdog.arm(conn, deadline)
        message = self._no_answer(seconds)
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

    def _no_answer(self, seconds: float | None = None) -> str:
        """What a call the watchdog cut off at its deadline says."""
        if seconds is not None and seconds < self._timeout:
            return f"no answer from the database within {seconds:g} s (checking a connection)"
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
        if isinstance(exc, PoolTimeout):
            return StoreBusyError(
                f"store {self.url}: no database connection within {self._timeout:g} s "
                f"({self._scrub(str(exc))}): all pool_max_size connections stayed busy; "
                "raise pool_max_size in the store URL",
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

    @contextmanager
    def _write(self) -> Iterator[psycopg.Connection]:
        with self._connection() as conn, conn.transaction():
            yield conn


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
        pool = self._pool = owner._pool
        try:
            conn = pool.getconn(deadline)
        except Exception as exc:
            owner._raise_mapped(exc)
        self._token = owner._watchdog.arm(conn, deadline)
        self._conn = conn
        return conn

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
                # commit, or roll back after an error (as ``with conn`` would, which
                # would also close a connection that no psycopg pool owns)
                conn.commit() if exc_type is None else conn.rollback()
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
            conn.last_used = time.monotonic()
        elif fired and isinstance(exc, psycopg.OperationalError):
            raise NoAnswer(self._owner._no_answer()) from exc
