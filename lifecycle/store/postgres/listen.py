"""Waking waiters on PostgreSQL: LISTEN/NOTIFY, one listening connection per store.

Writers ``NOTIFY`` in their commit's last round trip (PostgreSQL delivers it only
once the transaction has committed); one listener thread per store holds a
dedicated connection that ``LISTEN``s and wakes every waiter of this process. Waits
also wake at least every ``SAFETY_POLL_SECONDS``, so a lost listener connection
costs latency, never a missed change: the waiter re-reads the log anyway.

A listening connection only reads, so a server that stops answering would leave it
waiting forever, deaf after the server is back. So it is pinged (``SELECT 1``) when
it has been quiet for the store's ``timeout``, under the same deadline as every call
(``deadline``); no answer, and it is dropped and opened again.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager

import psycopg
from psycopg import sql

SAFETY_POLL_SECONDS = 1.0
LISTENER_START_SECONDS = 5.0
LISTENER_RETRY_SECONDS = 1.0

log = logging.getLogger("memory_lifecycle.store")


def channel_name(schema: str) -> str:
    """The NOTIFY channel of one schema: short, lower case, safe as an identifier."""
    return "memory_lifecycle_" + hashlib.sha256(schema.encode()).hexdigest()[:16]


class ChangeListener:
    """One LISTEN connection per store, started on the first wait, waking every waiter."""

    def __init__(
        self,
        conninfo: str,
        channel: str,
        connect_kwargs: dict[str, object],
        deadline: Callable[[psycopg.Connection, float], AbstractContextManager[None]],
        timeout: float,
    ) -> None:
        self._conninfo = conninfo
        self._channel = channel
        self._connect_kwargs = {**connect_kwargs, "autocommit": True}
        self._deadline = deadline  # bounds a ping (the store's ``_deadline``)
        self._timeout = timeout
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
                with psycopg.connect(self._conninfo, **self._connect_kwargs) as conn:  # type: ignore[arg-type]
                    with self._deadline(conn, time.monotonic() + self._timeout):
                        conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self._channel)))
                    self._bump()  # (re)connected: anything may have happened meanwhile
                    self._ready.set()
                    heard = time.monotonic()
                    while not self._closed:
                        for _ in conn.notifies(timeout=SAFETY_POLL_SECONDS / 2):
                            self._bump()
                            heard = time.monotonic()
                        if time.monotonic() - heard >= self._timeout:  # still there?
                            with self._deadline(conn, time.monotonic() + self._timeout):
                                conn.execute("SELECT 1")
                            heard = time.monotonic()
            except psycopg.Error as exc:
                self._ready.set()  # waiters fall back to the safety poll meanwhile
                log.warning("change listener lost its connection (%s); reconnecting", exc)
                time.sleep(LISTENER_RETRY_SECONDS)
