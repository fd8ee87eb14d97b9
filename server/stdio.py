"""A stdin for the SDK's stdio transport that a signal can interrupt.

The SDK reads stdin in an AnyIO worker thread that cannot be abandoned: after
SIGINT/SIGTERM the process would wait, lifespan cleanup done, until the client
closes stdin. Here a daemon thread reads the lines and hands them to the event
loop, so cancelling the server returns at once and the blocked thread dies with
the process. fd 0 is pointed at the null device while serving (as the SDK does),
so nothing else in the process can steal protocol bytes.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager, suppress
from typing import BinaryIO

import anyio
import anyio.from_thread
import anyio.lowlevel
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from lifecycle import ConfigurationError


class ThreadedStdin:
    """Yields decoded lines of a binary stream read by a daemon thread."""

    def __init__(self, source: BinaryIO) -> None:
        self._source = source
        self._send: MemoryObjectSendStream[str]
        self._receive: MemoryObjectReceiveStream[str]
        self._send, self._receive = anyio.create_memory_object_stream[str](16)
        self._thread: threading.Thread | None = None

    def __aiter__(self) -> AsyncIterator[str]:
        return self._lines()

    async def _lines(self) -> AsyncIterator[str]:
        if self._thread is None:
            token = anyio.lowlevel.current_token()
            self._thread = threading.Thread(
                target=self._pump, args=(token,), name="mcp-stdin", daemon=True
            )
            self._thread.start()
        async with self._receive:
            async for line in self._receive:
                yield line

    def _pump(self, token: anyio.lowlevel.EventLoopToken) -> None:
        try:
            for raw in iter(self._source.readline, b""):
                line = raw.decode("utf-8", errors="replace")
                anyio.from_thread.run(self._send.send, line, token=token)
        except (anyio.ClosedResourceError, anyio.BrokenResourceError, RuntimeError, OSError):
            return  # the server stopped listening, or the loop is gone
        finally:
            with suppress(RuntimeError, anyio.ClosedResourceError):
                anyio.from_thread.run_sync(self._send.close, token=token)


@contextmanager
def claimed_stdin() -> Iterator[BinaryIO]:
    """A private duplicate of fd 0 for the protocol; fd 0 reads the null device meanwhile."""
    try:
        fd = sys.stdin.fileno()
        private = os.dup(fd)
    except (AttributeError, OSError, ValueError):
        if sys.stdin is None or not hasattr(sys.stdin, "buffer"):
            raise ConfigurationError(
                "stdin is closed: the stdio transport reads MCP messages from it; "
                "start the server from an MCP host, or use --transport http"
            ) from None
        yield sys.stdin.buffer  # no descriptor to divert (e.g. an in-memory stream)
        return
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, fd)
    os.close(devnull)
    try:
        # closefd=False: the daemon reader may still block on it after we return
        yield os.fdopen(private, "rb", closefd=False)
    finally:
        with suppress(OSError):
            os.dup2(private, fd)
