"""The reading side of the stdio transport: ours, so it answers what it cannot parse,
finishes what it was asked before stdin closed, and can be interrupted by a signal.

The SDK's stdio transport keeps the writing side (it also diverts fd 1 to stderr
while serving, so a stray ``print`` cannot corrupt the stream). Its reading side
falls short three ways, each fixed here:

- A line it cannot parse (invalid JSON or UTF-8, JSON nested deeper than 128,
  an integer over 4,300 digits, a lone surrogate) is dropped without an answer,
  so the client waits forever. Here it gets a JSON-RPC error, ``-32700`` (parse
  error) or ``-32600`` (valid JSON that is not a JSON-RPC message), with
  ``id: null`` as JSON-RPC prescribes when the id cannot be read
  (``server.jsonrpc_input``, whose words HTTP shares).
- At stdin EOF the SDK cancels requests still in progress, so
  ``printf "$INIT\\n$NOTIF\\n$CALL\\n" | memory-lifecycle serve`` answered the call
  with "Connection closed" and never stored. Here EOF waits (up to
  ``DRAIN_SECONDS``) until every request read so far has been answered.
- It reads stdin in an AnyIO worker thread that cannot be abandoned: after
  SIGINT/SIGTERM the process would wait for the client to close stdin. Here a
  daemon thread reads the lines, so cancelling returns at once and the blocked
  thread dies with the process. fd 0 is pointed at the null device while
  serving (as the SDK does), so nothing else in the process can steal bytes.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager, suppress
from typing import Any, BinaryIO, Protocol

import anyio
import anyio.from_thread
import anyio.lowlevel
import mcp_types as types
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from mcp.shared.message import SessionMessage

from lifecycle import ConfigurationError
from server.jsonrpc_input import error, read_message

MAX_LINE_BYTES = 64 << 20  # one message; a batch of 1,000 large values fits
DRAIN_SECONDS = 30.0

log = logging.getLogger("memory_lifecycle.server")


class _Oversized:
    """Stands for a line longer than ``MAX_LINE_BYTES`` (its bytes were skipped)."""


OVERSIZED = _Oversized()


class _NoInput:
    """The stdin handed to the SDK's transport, whose own reader we replace."""

    def __aiter__(self) -> AsyncIterator[str]:
        return self

    async def __anext__(self) -> str:
        raise StopAsyncIteration


NO_INPUT = _NoInput()


class ThreadedStdin:
    """Yields the raw lines of a binary stream read by a daemon thread."""

    def __init__(self, source: BinaryIO) -> None:
        self._source = source
        self._send: MemoryObjectSendStream[bytes | _Oversized]
        self._receive: MemoryObjectReceiveStream[bytes | _Oversized]
        self._send, self._receive = anyio.create_memory_object_stream[bytes | _Oversized](16)
        self._thread: threading.Thread | None = None

    def __aiter__(self) -> AsyncIterator[bytes | _Oversized]:
        return self._lines()

    async def _lines(self) -> AsyncIterator[bytes | _Oversized]:
        if self._thread is None:
            token = anyio.lowlevel.current_token()
            self._thread = threading.Thread(
                target=self._pump, args=(token,), name="mcp-stdin", daemon=True
            )
            self._thread.start()
        async with self._receive:
            async for line in self._receive:
                yield line

    def _read_line(self) -> bytes | _Oversized:
        raw = self._source.readline(MAX_LINE_BYTES + 1)
        if len(raw) <= MAX_LINE_BYTES or raw.endswith(b"\n"):
            return raw
        while raw and not raw.endswith(b"\n"):  # skip the rest of the oversized line
            raw = self._source.readline(1 << 20)
        return OVERSIZED

    def _pump(self, token: anyio.lowlevel.EventLoopToken) -> None:
        try:
            while (line := self._read_line()) != b"":
                anyio.from_thread.run(self._send.send, line, token=token)
        except (anyio.ClosedResourceError, anyio.BrokenResourceError, RuntimeError, OSError):
            return  # the server stopped listening, or the loop is gone
        finally:
            with suppress(RuntimeError, anyio.ClosedResourceError):
                anyio.from_thread.run_sync(self._send.close, token=token)


class _Server(Protocol):
    async def run(self, read_stream: Any, write_stream: Any, options: Any) -> None: ...

    def create_initialization_options(self) -> Any: ...


class _Pending:
    """Requests read but not yet answered, so EOF can wait for them."""

    def __init__(self) -> None:
        self._ids: dict[tuple[str, Any], int] = {}
        self._idle = anyio.Event()
        self._idle.set()

    @staticmethod
    def _key(request_id: Any) -> tuple[str, Any]:
        return (type(request_id).__name__, request_id)

    def add(self, request_id: Any) -> None:
        key = self._key(request_id)
        self._ids[key] = self._ids.get(key, 0) + 1
        if self._idle.is_set():
            self._idle = anyio.Event()

    def done(self, request_id: Any) -> None:
        key = self._key(request_id)
        left = self._ids.pop(key, 0) - 1
        if left > 0:
            self._ids[key] = left
        if not self._ids:
            self._idle.set()

    def __len__(self) -> int:
        return sum(self._ids.values())

    async def wait_idle(self, timeout: float) -> bool:
        with anyio.move_on_after(timeout):
            await self._idle.wait()
        return not self._ids


async def serve_lines(
    server: _Server,
    lines: ThreadedStdin,
    out: Any,
    drain_seconds: float = DRAIN_SECONDS,
) -> None:
    """Run ``server`` on messages parsed from ``lines``; everything it says goes to ``out``
    (the SDK's stdio write stream), and so do our answers to lines we cannot parse."""
    inbound_send, inbound = anyio.create_memory_object_stream[SessionMessage | Exception](0)
    outbound_send, outbound = anyio.create_memory_object_stream[SessionMessage](0)
    pending = _Pending()

    async def forward_out() -> None:
        async with outbound:
            async for message in outbound:
                answered = getattr(message.message, "id", None)
                if answered is not None and not isinstance(message.message, types.JSONRPCRequest):
                    pending.done(answered)  # a response or an error to a request
                await out.send(message)
        await out.aclose()

    async def read_in(answer: MemoryObjectSendStream[SessionMessage]) -> None:
        async with inbound_send, answer:
            async for line in lines:
                message = _parse(line)
                if isinstance(message, types.JSONRPCError):
                    await answer.send(SessionMessage(message))
                elif message is not None:
                    _track(message, pending)
                    await inbound_send.send(SessionMessage(message))
            if not await pending.wait_idle(drain_seconds):
                log.warning(
                    "stdin closed with %d request(s) unanswered after %g s; stopping anyway",
                    len(pending),
                    drain_seconds,
                )

    async with anyio.create_task_group() as tg:
        tg.start_soon(forward_out)
        reading = anyio.CancelScope()

        async def read_until_done() -> None:
            with reading:
                await read_in(outbound_send.clone())

        tg.start_soon(read_until_done)
        await server.run(inbound, outbound_send, server.create_initialization_options())
        reading.cancel()  # the server stopped on its own: stop reading too


def _track(message: types.JSONRPCMessage, pending: _Pending) -> None:
    if isinstance(message, types.JSONRPCRequest):
        pending.add(message.id)
    elif isinstance(message, types.JSONRPCNotification) and message.method == (
        "notifications/cancelled"
    ):
        request_id = (message.params or {}).get("requestId")
        if isinstance(request_id, (int, str)) and not isinstance(request_id, bool):
            pending.done(request_id)  # a cancelled request gets no answer


def _parse(line: bytes | _Oversized) -> types.JSONRPCMessage | None:
    """The message on a line; a JSON-RPC error to send back; None for a blank line."""
    if isinstance(line, _Oversized):
        return error(types.PARSE_ERROR, f"a message over {MAX_LINE_BYTES} bytes; ignored")
    return read_message(line)


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
