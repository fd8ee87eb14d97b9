"""The stdio transport: ours on both sides, so it answers what it cannot parse, finishes
what it was asked before stdin closed, can be interrupted by a signal, and costs little
per message.

The SDK's stdio transport falls short four ways, each fixed here:

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
  thread dies with the process.
- Per message it pays three hops between the event loop and worker threads (a
  ``readline``, a ``write`` and a ``flush``) and two memory streams. Here the reader
  thread hands each line to the loop without waiting for it (``call_soon_threadsafe``,
  a semaphore bounding what is read ahead), the SDK reads parsed messages straight
  from ``Inbound``, and ``Outbound`` writes a message of up to ``PIPE_BUF`` bytes on
  the loop with one ``os.write`` when the pipe has room (such a write never blocks and
  is never split); a longer one, or one the pipe has no room for, goes to a worker
  thread, in order.

fd 0 reads the null device and fd 1 writes to stderr while serving (as the SDK does),
so nothing else in the process can steal bytes from the protocol or corrupt it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import select
import sys
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager, suppress
from types import ModuleType, TracebackType
from typing import Any, BinaryIO, TypeVar

import anyio
import anyio.to_thread
import mcp_types as types
from mcp.shared.message import SessionMessage

from lifecycle import ConfigurationError
from server.jsonrpc_input import error, read_message

MAX_LINE_BYTES = 64 << 20  # one message; a batch of 1,000 large values fits
DRAIN_SECONDS = 30.0
READ_AHEAD = 16  # lines read but not yet taken by the server
PIPE_BUF = select.PIPE_BUF  # a pipe write up to this size is atomic

log = logging.getLogger("memory_lifecycle.server")

fcntl: ModuleType | None
try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: a plain dup
    fcntl = None


class _Oversized:
    """Stands for a line longer than ``MAX_LINE_BYTES`` (its bytes were skipped)."""


OVERSIZED = _Oversized()
_EOF = b""


class ThreadedStdin:
    """Yields the raw lines of a binary stream read by a daemon thread (on asyncio)."""

    def __init__(self, source: BinaryIO) -> None:
        self._source = source
        self._lines: asyncio.Queue[bytes | _Oversized] | None = None
        self._room = threading.Semaphore(READ_AHEAD)
        self._ended = False

    def __aiter__(self) -> AsyncIterator[bytes | _Oversized]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[bytes | _Oversized]:
        while (line := await self.next_line()) is not None:
            yield line

    async def next_line(self) -> bytes | _Oversized | None:
        """The next line, or None once the stream has ended."""
        if self._ended:
            return None
        if self._lines is None:
            self._lines = asyncio.Queue()
            loop = asyncio.get_running_loop()
            threading.Thread(
                target=self._pump, args=(loop, self._lines), name="mcp-stdin", daemon=True
            ).start()
        line = await self._lines.get()
        self._room.release()
        if line == _EOF:
            self._ended = True
            return None
        return line

    def _read_line(self) -> bytes | _Oversized:
        raw = self._source.readline(MAX_LINE_BYTES + 1)
        if len(raw) <= MAX_LINE_BYTES or raw.endswith(b"\n"):
            return raw
        while raw and not raw.endswith(b"\n"):  # skip the rest of the oversized line
            raw = self._source.readline(1 << 20)
        return OVERSIZED

    def _pump(self, loop: asyncio.AbstractEventLoop, lines: asyncio.Queue[Any]) -> None:
        line: bytes | _Oversized = _EOF
        try:
            while True:
                self._room.acquire()
                line = self._read_line()
                loop.call_soon_threadsafe(lines.put_nowait, line)
                if line == _EOF:
                    return
        except RuntimeError:  # the loop is gone: nobody left to read for
            return
        except (OSError, ValueError):  # stdin broke: the same as its end
            with suppress(RuntimeError):
                loop.call_soon_threadsafe(lines.put_nowait, _EOF)


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


_S = TypeVar("_S", bound="_Stream")


class _Stream:
    """What the SDK expects of a stream besides sending or receiving: closing and ``async
    with``, which have nothing to do here (the transport owns the pipes)."""

    async def aclose(self) -> None:
        return None

    async def __aenter__(self: _S) -> _S:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None


class Outbound(_Stream):
    """The SDK's write stream: each message as one JSON line on ``fd`` (or ``sink``).

    A write error means the client went away: ``gone`` keeps it, ``on_gone`` is called
    once (to stop serving), and this send and every later one raise
    ``anyio.BrokenResourceError`` (which the SDK drops quietly). ``on_answer`` is called
    after each answer (a response or an error to a request) is written."""

    def __init__(
        self,
        pending: _Pending,
        *,
        fd: int | None = None,
        sink: BinaryIO | None = None,
        on_gone: Callable[[], None] = lambda: None,
        on_answer: Callable[[], None] | None = None,
    ) -> None:
        self._pending = pending
        self._fd = fd
        self._sink = sink
        self._on_gone = on_gone
        self._on_answer = on_answer
        self._poll: Any = None
        if fd is not None and hasattr(select, "poll"):  # (not on Windows: always a thread)
            self._poll = select.poll()
            self._poll.register(fd, select.POLLOUT)
        self._in_thread = anyio.Lock()  # a write handed to a thread; later ones wait
        self.gone: OSError | None = None
        self._abandoned = False

    async def send(self, message: SessionMessage, /) -> None:
        if self.gone is not None or self._abandoned:
            raise anyio.BrokenResourceError
        data = message.message.model_dump_json(by_alias=True, exclude_unset=True).encode()
        data += b"\n"
        try:
            if len(data) <= PIPE_BUF and not self._in_thread.locked() and self._has_room():
                self._write(data)
            else:
                async with self._in_thread:
                    await self._write_in_thread(data)
        except OSError as exc:
            self.gone = exc
            self._on_gone()
            raise anyio.BrokenResourceError from exc
        answered = getattr(message.message, "id", None)
        if answered is not None and not isinstance(message.message, types.JSONRPCRequest):
            self._pending.done(answered)  # a response or an error to a request
            if self._on_answer is not None:
                self._on_answer()

    async def _write_in_thread(self, data: bytes) -> None:
        """Write off the loop. Cancelled (a signal stops the server while a client is not
        reading), the write is left to its thread and the stream is closed: a later
        message could otherwise interleave with its rest."""
        try:
            await anyio.to_thread.run_sync(self._write, data, abandon_on_cancel=True)
        except anyio.get_cancelled_exc_class():
            self._abandoned = True
            raise

    def _has_room(self) -> bool:
        if self._poll is None:
            return self._fd is None  # an in-memory stream (tests) never blocks
        return any(ev & select.POLLOUT for _, ev in self._poll.poll(0))

    def _write(self, data: bytes) -> None:
        if self._fd is None:
            assert self._sink is not None
            self._sink.write(data)
            self._sink.flush()
            return
        view = memoryview(data)
        while view:
            view = view[os.write(self._fd, view) :]


class Inbound(_Stream):
    """The SDK's read stream: the messages parsed from ``lines``. A line that is not a
    message is answered here (through ``out``) and skipped; at the end of the lines it
    waits (up to ``drain_seconds``) for the requests read so far to be answered."""

    def __init__(
        self, lines: ThreadedStdin, out: Outbound, pending: _Pending, drain_seconds: float
    ) -> None:
        self._lines = lines
        self._out = out
        self._pending = pending
        self._drain_seconds = drain_seconds

    async def receive(self) -> SessionMessage:
        while (line := await self._lines.next_line()) is not None:
            message = _parse(line)
            if isinstance(message, types.JSONRPCError):
                with suppress(anyio.BrokenResourceError):  # the client left: serving stops
                    await self._out.send(SessionMessage(message))
            elif message is not None:
                _track(message, self._pending)
                return SessionMessage(message)
        if not await self._pending.wait_idle(self._drain_seconds):
            log.warning(
                "stdin closed with %d request(s) unanswered after %g s; stopping anyway",
                len(self._pending),
                self._drain_seconds,
            )
        raise anyio.EndOfStream

    def __aiter__(self) -> Inbound:
        return self

    async def __anext__(self) -> SessionMessage:
        try:
            return await self.receive()
        except anyio.EndOfStream:
            raise StopAsyncIteration from None


class ClientGone(BrokenPipeError):
    """stdout broke while serving: the client went away."""


async def serve_lines(
    server: Any,
    lines: ThreadedStdin,
    *,
    fd: int | None = None,
    sink: BinaryIO | None = None,
    drain_seconds: float = DRAIN_SECONDS,
    on_answer: Callable[[], None] | None = None,
) -> None:
    """Run the lowlevel ``server`` on messages parsed from ``lines``; everything it says,
    and our answers to lines we cannot parse, goes to ``fd`` (or ``sink``), and
    ``on_answer`` is called after each answer written. Raises ``ClientGone`` when writing
    fails."""
    pending = _Pending()
    with anyio.CancelScope() as scope:
        out = Outbound(pending, fd=fd, sink=sink, on_gone=scope.cancel, on_answer=on_answer)
        inbound = Inbound(lines, out, pending, drain_seconds)
        await server.run(inbound, out, server.create_initialization_options())
    if out.gone is not None:
        raise ClientGone(str(out.gone)) from out.gone


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


@contextmanager
def claimed_stdout() -> Iterator[tuple[int | None, BinaryIO | None]]:
    """``(fd, None)``: a private duplicate of fd 1 for the protocol, while fd 1 writes to
    stderr, so a stray ``print`` cannot corrupt the stream; ``(None, buffer)`` where
    stdout has no descriptor (an in-memory stream)."""
    try:
        sys.stdout.flush()
        fd = sys.stdout.fileno()
        private = os.dup(fd) if fcntl is None else fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 3)
    except (AttributeError, OSError, ValueError):
        if sys.stdout is None or not hasattr(sys.stdout, "buffer"):
            raise ConfigurationError(
                "stdout is closed: the stdio transport writes MCP messages to it; "
                "start the server from an MCP host, or use --transport http"
            ) from None
        yield None, sys.stdout.buffer
        return
    try:
        os.dup2(2, fd)
    except OSError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, fd)
        os.close(devnull)
    try:
        yield private, None
    finally:
        with suppress(OSError):
            sys.stdout.flush()
        with suppress(OSError):
            os.dup2(private, fd)
        with suppress(OSError):
            os.close(private)
