"""The store's own connection pool: a lock and a stack of idle connections.

Why not ``psycopg_pool``: a checkout and a return through it were ~54k instructions
per call (~25 Python calls each way: statistics, its worker threads' queues, the
reset and lifetime rules), half of what raw psycopg spends on a ``get`` itself
(``bench.bench_pg_client``). What the store needs of a pool is small, and here a
checkout in steady use is a lock, a ``pop`` and a time comparison:

- at most ``max_size`` connections; a call finding none idle and the pool full waits
  for one to come back, until its deadline at most (``PoolTimeout``);
- a new connection is opened by the call that needs it, in its own thread, bounded by
  libpq's ``connect_timeout``: an unreachable server fails that call ("cannot reach")
  within it, and the first call after the server is back connects at once (no
  background reconnection loop backing off meanwhile);
- a connection idle over ``IDLE_CHECK_SECONDS`` is checked before it is handed out
  (``check``, bounded): after a server restart the dead one is discarded and the next
  call connects, instead of failing; connections in steady use skip the round trip;
- a connection that comes back broken, closed or inside a transaction is closed, not
  reused; connections idle over ``MAX_IDLE_SECONDS`` beyond ``min_size`` are closed as
  others come back (as ``psycopg_pool``'s ``max_idle``);
- the most recently returned connection goes out first (a stack): the warmest, and the
  others age out.
"""

from __future__ import annotations

import functools
import threading
import time
from collections import deque
from collections.abc import Callable
from contextlib import suppress
from typing import Any

import psycopg
from psycopg import abc as pg_abc
from psycopg.adapt import Transformer
from psycopg.pq import ConnStatus, TransactionStatus

from lifecycle.store.postgres.deadline import NoAnswer

IDLE_CHECK_SECONDS = 2.0  # a connection idle longer is checked before use
MAX_IDLE_SECONDS = 600.0  # an idle connection beyond min_size is closed after this


class PoolTimeout(psycopg.OperationalError):
    """No connection came back to a full pool before the call's deadline."""


class PoolClosed(psycopg.OperationalError):
    """The pool was closed (the store is closed)."""


class PooledConnection(psycopg.Connection[Any]):
    """A pooled connection, with what the store keeps per connection."""

    last_used = 0.0  # time.monotonic() at the end of its last successful call

    @functools.cached_property
    def transformer(self) -> pg_abc.Transformer:
        """The connection's one transformer for the hot statements (``wire``), made once:
        a new one per call looks a loader up per column again (what a cursor keeps)."""
        return Transformer(self)


class Pool:
    """``connect(deadline)`` opens and configures a connection; ``check(conn, deadline)``
    raises when an idle connection no longer answers."""

    def __init__(
        self,
        connect: Callable[[float], PooledConnection],
        check: Callable[[PooledConnection, float], None],
        min_size: int,
        max_size: int,
    ) -> None:
        self._connect = connect
        self._check = check
        self._min = min_size
        self._max = max(1, max_size)
        self._idle: deque[PooledConnection] = deque()  # the right end is the warmest
        self._size = 0  # connections open or being opened, idle or in use
        self._lock = threading.Lock()
        self._returned = threading.Condition(self._lock)
        self._closed = False

    def getconn(self, deadline: float) -> PooledConnection:
        """A connection by ``deadline`` (monotonic), checked when it sat idle."""
        while True:
            with self._lock:
                while True:
                    if self._closed:
                        raise PoolClosed("the connection pool is closed")
                    if self._idle:
                        conn: PooledConnection | None = self._idle.pop()
                        break
                    if self._size < self._max:
                        self._size += 1  # reserved: opened below, outside the lock
                        conn = None
                        break
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise PoolTimeout(
                            f"all {self._max} connections stayed in use until the deadline"
                        )
                    self._returned.wait(left)
            if conn is None:
                try:
                    return self._connect(deadline)
                except BaseException:
                    self._forget()
                    raise
            if time.monotonic() - conn.last_used <= IDLE_CHECK_SECONDS:
                return conn
            try:
                self._check(conn, deadline)
            except BaseException as exc:
                self._discard(conn)
                # closed under it (a server restart, a session ended): the next one, or a
                # new one; no answer at all, or no time left: the call says so
                if _closed_under(exc) and time.monotonic() < deadline:
                    continue
                raise
            return conn

    def putconn(self, conn: PooledConnection) -> None:
        """Take ``conn`` back: kept for the next call if it is clean, else closed."""
        pgconn = conn.pgconn
        if (
            self._closed
            or pgconn.status != ConnStatus.OK
            or pgconn.transaction_status != TransactionStatus.IDLE
        ):
            self._discard(conn)
            return
        stale = None
        with self._lock:
            idle = self._idle
            idle.append(conn)
            if len(idle) > self._min and conn.last_used - idle[0].last_used > MAX_IDLE_SECONDS:
                stale = idle.popleft()
                self._size -= 1
            self._returned.notify()
        if stale is not None:
            _close(stale)

    def close(self) -> None:
        """Close the idle connections; those in use close as they come back."""
        with self._lock:
            self._closed = True
            idle = list(self._idle)
            self._idle.clear()
            self._size -= len(idle)
            self._returned.notify_all()
        for conn in idle:
            _close(conn)

    def _discard(self, conn: PooledConnection) -> None:
        _close(conn)
        self._forget()

    def _forget(self) -> None:
        """One connection fewer (closed, or never opened): a waiting call may open one."""
        with self._lock:
            self._size -= 1
            self._returned.notify()


def _closed_under(exc: BaseException) -> bool:
    """Whether a check failed because the connection was closed under it (the server
    restarted, or ended the session), not because the server gave no answer."""
    return isinstance(exc, psycopg.Error) and not isinstance(exc, NoAnswer)


def _close(conn: PooledConnection) -> None:
    with suppress(Exception):
        conn.close()
