"""Count a PostgreSQL client's round trips for real, on the wire.

A TCP proxy between the store and the server (like ``tests.support.tcp_proxy``,
which it extends) reads the frontend/backend protocol in both directions. A round
trip is the client sending and then waiting for the server: it begins with the
first client message after the server last spoke, so bytes that arrive in several
TCP segments, or several messages flushed together (a pipeline, or several
statements in one simple query), count once. Each round trip is kept with the
message types the client sent in it (``Q`` simple query; ``P``/``B``/``D``/``E``/
``S`` parse, bind, describe, execute, sync), so a failing count says what was sent.

The proxy asks for ``sslmode=disable`` (see ``url``): it must read the messages.
"""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Callable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from tests.support.tcp_proxy import TcpProxy

RoundTrip = tuple[str, ...]  # the message types the client sent before the server answered


class _Direction:
    """Splits one direction's byte stream into protocol messages."""

    def __init__(self, *, startup: bool) -> None:
        self._buffer = b""
        self._startup = startup  # the client's first message has no type byte

    def feed(self, data: bytes) -> list[str]:
        self._buffer += data
        types: list[str] = []
        while True:
            if self._startup:
                if len(self._buffer) < 4:
                    return types
                (length,) = struct.unpack("!I", self._buffer[:4])
                if len(self._buffer) < length:
                    return types
                self._buffer = self._buffer[length:]
                self._startup = False
                types.append("startup")
                continue
            if len(self._buffer) < 5:
                return types
            kind = chr(self._buffer[0])
            (length,) = struct.unpack("!I", self._buffer[1:5])
            if len(self._buffer) < 1 + length:
                return types
            self._buffer = self._buffer[1 + length :]
            types.append(kind)


class RoundTripCounter(TcpProxy):
    """A relaying proxy that records every round trip of every connection through it."""

    def __init__(self, target_host: str, target_port: int) -> None:
        super().__init__(target_host, target_port)
        self._trips: list[list[str]] = []
        self._count_lock = threading.Lock()

    def url(self, dsn: str) -> str:
        """``dsn`` pointed at this proxy, without TLS (the proxy reads the protocol)."""
        parts = urlsplit(dsn)
        user = f"{parts.username}@" if parts.username else ""
        query = [(k, v) for k, v in parse_qsl(parts.query) if k != "sslmode"]
        query.append(("sslmode", "disable"))
        netloc = f"{user}127.0.0.1:{self.port}"
        return urlunsplit(parts._replace(netloc=netloc, query=urlencode(query)))

    def mark(self) -> int:
        """A point to count from: ``since(mark)`` lists the round trips after it."""
        with self._count_lock:
            return len(self._trips)

    def since(self, mark: int) -> list[RoundTrip]:
        with self._count_lock:
            return [tuple(t) for t in self._trips[mark:]]

    def _watcher(self, client: socket.socket) -> Callable[[bool, bytes], None]:
        parsers = {True: _Direction(startup=True), False: _Direction(startup=False)}
        current: list[str] | None = None  # the round trip the client is sending

        def watch(from_client: bool, data: bytes) -> None:
            # counted before forwarding: once the client has its answer, the round trip
            # that asked for it is recorded
            nonlocal current
            types = parsers[from_client].feed(data)
            with self._count_lock:
                if from_client:
                    if current is None:
                        current = []
                        self._trips.append(current)
                    current.extend(types)
                else:
                    current = None

        return watch
