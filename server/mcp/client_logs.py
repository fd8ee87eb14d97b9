"""The server's log lines, sent to the clients that asked for them (``logging/setLevel``).

A client that calls ``logging/setLevel`` receives, as ``notifications/message``, every
record of the ``memory_lifecycle`` loggers at or above the level it named (a
maintenance failure, a policy file that was not applied, a lock that expired early),
until its connection closes; a client that never asks receives none. What the server
logs at all is its own level (``MEMORY_LIFECYCLE_LOG_LEVEL``, info for ``serve``): a
client's level filters further, it does not make the server chattier. stderr keeps
every line as before; stdout stays MCP messages only.

A record is logged from any thread (tools run in worker threads), but a notification
is sent on the event loop: ``emit`` hands the record to the loop, and ``run`` (a
background task of the lifespan) sends it to each client that wants it. A record that
finds the queue full is dropped rather than slowing the code that logged it. Only the
message goes out, never a traceback, cut to ``MAX_MESSAGE_CHARS``.

``logging/setLevel`` belongs to the handshake-era protocol (up to 2025-11-25): clients
on 2026-07-28 get "method not found", as the SDK defines.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import suppress
from typing import Any

import anyio
import mcp_types as types
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from mcp.server.context import ServerRequestContext
from mcp.server.session import ServerSession

from lifecycle.errors import clip_text

from .sdk import connection_of

LOGGER = "memory_lifecycle"
QUEUE = 256
MAX_MESSAGE_CHARS = 2000

# MCP's syslog levels on Python's scale (notice, alert and emergency have no Python name)
LEVELS: dict[str, int] = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "notice": 25,
    "warning": logging.WARNING,
    "error": logging.ERROR,
    "critical": logging.CRITICAL,
    "alert": 55,
    "emergency": 60,
}

Sent = tuple[types.LoggingLevel, int, str, str]  # level name, level number, logger, message

log = logging.getLogger("memory_lifecycle.server")


def level_name(levelno: int) -> types.LoggingLevel:
    """The MCP level of a Python record: the most severe one not above it."""
    if levelno >= logging.CRITICAL:
        return "critical"
    if levelno >= logging.ERROR:
        return "error"
    if levelno >= logging.WARNING:
        return "warning"
    return "info" if levelno >= logging.INFO else "debug"


class ClientLogs(logging.Handler):
    """Forwards log records to the clients that asked, each at its own level."""

    def __init__(self) -> None:
        super().__init__()
        self._clients: dict[object, tuple[ServerSession, int]] = {}  # connection -> ...
        self._loop: asyncio.AbstractEventLoop | None = None
        self._send: MemoryObjectSendStream[Sent]
        self._receive: MemoryObjectReceiveStream[Sent]
        self._send, self._receive = anyio.create_memory_object_stream[Sent](QUEUE)

    async def on_set_level(
        self, ctx: ServerRequestContext[Any], params: types.SetLevelRequestParams
    ) -> types.EmptyResult:
        """``logging/setLevel``: from now on this connection gets records at ``level`` and up."""
        self._clients[connection_of(ctx.session)] = (ctx.session, LEVELS[params.level])
        return types.EmptyResult()

    async def run(self) -> None:
        """Attach to the ``memory_lifecycle`` loggers and send what they log until
        cancelled (the lifespan's background task)."""
        if self._loop is not None:  # a second lifespan of the same server: one is enough
            return
        self._loop = asyncio.get_running_loop()
        logger = logging.getLogger(LOGGER)
        logger.addHandler(self)
        try:
            async for sent in self._receive:
                await self._deliver(sent)
        finally:
            logger.removeHandler(self)
            self._loop = None

    def emit(self, record: logging.LogRecord) -> None:
        loop = self._loop
        if loop is None or not self._clients:
            return
        try:
            message = clip_text(record.getMessage(), MAX_MESSAGE_CHARS)
        except Exception:  # a record whose arguments do not format: logging's own rule
            self.handleError(record)
            return
        sent = (level_name(record.levelno), record.levelno, record.name, message)
        try:
            loop.call_soon_threadsafe(self._enqueue, sent)
        except RuntimeError:  # the loop is closing: nobody left to tell
            return

    def _enqueue(self, sent: Sent) -> None:
        # a burst beyond the queue is dropped, never waited for
        with suppress(anyio.WouldBlock, anyio.ClosedResourceError):
            self._send.send_nowait(sent)

    async def _deliver(self, sent: Sent) -> None:
        level, levelno, logger, message = sent
        notification = types.LoggingMessageNotification(
            params=types.LoggingMessageNotificationParams(level=level, logger=logger, data=message)
        )
        for connection, (session, threshold) in list(self._clients.items()):
            if levelno < threshold:
                continue
            try:
                await session.send_notification(notification)
            except Exception as exc:  # a closed connection: stop sending to it
                self._clients.pop(connection, None)
                log.info("stopped sending log messages to a closed connection (%s)", exc)


__all__ = ["LEVELS", "ClientLogs", "level_name"]
