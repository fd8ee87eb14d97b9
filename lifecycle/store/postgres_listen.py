"""Waking waiters on PostgreSQL: LISTEN/NOTIFY, one listening connection per store.

Writers ``NOTIFY`` in their commit's last round trip (PostgreSQL delivers it only
once the transaction has committed); one listener thread per store holds a
dedicated connection that ``LISTEN``s and wakes every waiter of this process. Waits
also wake at least every ``SAFETY_POLL_SECONDS``, so a lost listener connection
costs latency, never a missed change: the waiter re-reads the log anyway.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time

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

    def __init__(self, conninfo: str, channel: str) -> None:
        self._conninfo = conninfo
        self._channel = channel
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
                with psycopg.connect(self._conninfo, autocommit=True, connect_timeout=10) as conn:
                    conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self._channel)))
                    self._bump()  # (re)connected: anything may have happened meanwhile
                    self._ready.set()
                    while not self._closed:
                        for _ in conn.notifies(timeout=SAFETY_POLL_SECONDS / 2):
                            self._bump()
            except psycopg.Error as exc:
                self._ready.set()  # waiters fall back to the safety poll meanwhile
                log.warning("change listener lost its connection (%s); reconnecting", exc)
                time.sleep(LISTENER_RETRY_SECONDS)
