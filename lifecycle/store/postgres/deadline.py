"""Every PostgreSQL call bounded, also when the server stops answering.

A server that stops answering while the connection stays open (a network partition,
a frozen host or VM, a stalled proxy) sends no error: libpq waits on the socket for
as long as TCP keeps it open, which was minutes. The usual knobs do not cover it:
``statement_timeout`` is enforced by the server, so it needs a server that answers;
TCP keepalives and ``tcp_user_timeout`` notice only a peer whose kernel stops
acknowledging packets, not a stopped ``postgres`` process, a frozen VM whose host
still ACKs, or a proxy that accepts bytes and forwards nothing. So the deadline is
kept on the client: each call arms its connection with the call's deadline, and a
watchdog thread shuts the socket of a call past its deadline down. That wakes the
waiting libpq at once with an error; the connection is then broken, so the pool
discards it, and the store maps the error to one line ("no answer within N s").

Why a shutdown rather than a cancel request: cancelling opens a new connection to
the same unanswering server. The server side is still told to stop: pooled
connections also set ``statement_timeout``, so a query the client gave up on does
not run on.

Cost on the hot path: a dictionary insert and pop under an uncontended lock per call;
the thread sleeps until the earliest deadline (every call has the same timeout, so a
newer call never expires first), or ``IDLE_SECONDS`` when nothing is armed.
"""

from __future__ import annotations

import itertools
import os
import socket
import threading
import time
from contextlib import suppress
from typing import Any

import psycopg

IDLE_SECONDS = 0.5


class NoAnswer(psycopg.OperationalError):
    """The server did not answer within the call's deadline (the watchdog cut it off)."""


class Watchdog:
    """Deadlines of the calls under way on one store's connections."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._armed: dict[int, tuple[float, psycopg.Connection[Any]]] = {}
        self._fired: set[int] = set()
        self._tokens = itertools.count(1)
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._closed = False

    def arm(self, conn: psycopg.Connection[Any], deadline: float) -> int:
        """Watch ``conn`` until ``disarm``; past ``deadline`` (monotonic) its socket is shut."""
        token = next(self._tokens)
        with self._lock:
            self._armed[token] = (deadline, conn)
            if self._thread is None and not self._closed:
                self._thread = threading.Thread(
                    target=self._run, name=f"memory-lifecycle-deadline:{self._name}", daemon=True
                )
                self._thread.start()
        return token

    def disarm(self, token: int) -> bool:
        """Stop watching; True when the deadline had passed and the socket was shut."""
        with self._lock:
            if self._armed.pop(token, None) is not None:
                return False
            if token in self._fired:
                self._fired.discard(token)
                return True
            return False

    def close(self) -> None:
        self._closed = True
        self._wake.set()

    def _run(self) -> None:
        while not self._closed:
            now = time.monotonic()
            with self._lock:
                due = [t for t, (deadline, _) in self._armed.items() if deadline <= now]
                for token in due:
                    _, conn = self._armed.pop(token)
                    self._fired.add(token)
                    shut(conn)  # under the lock: disarm, and so closing, waits for it
                soonest = min((d for d, _ in self._armed.values()), default=now + IDLE_SECONDS)
            self._wake.wait(max(0.0, min(soonest - now, IDLE_SECONDS)))


def shut(conn: psycopg.Connection[Any]) -> None:
    """Shut the connection's socket down: a thread waiting on it wakes with an error."""
    try:
        fd = conn.fileno()
    except psycopg.Error:
        return  # closed already
    with suppress(OSError):
        sock = socket.socket(fileno=os.dup(fd))
        try:
            sock.shutdown(socket.SHUT_RDWR)
        finally:
            sock.close()  # the duplicate; the connection keeps its own descriptor
