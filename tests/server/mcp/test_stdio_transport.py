"""The writing side of our stdio transport (``server.mcp.stdio``): every answer reaches the
pipe whole and in order, whether it is written on the event loop (short, the pipe has
room) or handed to a worker thread (long, or the pipe is full), and fd 1 is not the
protocol's while serving. Real pipes; no server process."""

from __future__ import annotations

import json
import os
import threading

import anyio
import mcp_types as types
import pytest
from mcp.shared.message import SessionMessage

from server.mcp import stdio
from tests.support.server import bounded

pytestmark = pytest.mark.anyio


def _answer(request_id: int, text: str) -> SessionMessage:
    result = {"content": [{"type": "text", "text": text}]}
    return SessionMessage(types.JSONRPCResponse(jsonrpc="2.0", id=request_id, result=result))


def _read_all(fd: int, into: bytearray) -> None:
    while chunk := os.read(fd, 1 << 16):
        into += chunk


async def test_short_and_long_answers_reach_the_pipe_whole_and_in_order() -> None:
    read_fd, write_fd = os.pipe()
    received = bytearray()
    reader = threading.Thread(target=_read_all, args=(read_fd, received))
    reader.start()
    pending = stdio._Pending()
    for i in range(6):
        pending.add(i)
    out = stdio.Outbound(pending, fd=write_fd)
    texts = ["short", "x" * 200_000, "short again", "y" * stdio.PIPE_BUF, "z", "w" * 70_000]
    try:
        with bounded():
            async with anyio.create_task_group() as tg:  # concurrent sends, as the SDK makes
                for i, text in enumerate(texts):
                    tg.start_soon(out.send, _answer(i, text))
                    await anyio.lowlevel.checkpoint()
    finally:
        os.close(write_fd)
        reader.join(10)
        os.close(read_fd)
    lines = bytes(received).split(b"\n")
    assert lines[-1] == b""  # every message ends its line
    answers = [json.loads(line) for line in lines[:-1]]
    assert [a["id"] for a in answers] == list(range(6))
    assert [a["result"]["content"][0]["text"] for a in answers] == texts
    assert len(pending) == 0  # every answer marks its request done


async def test_a_full_pipe_is_written_once_the_client_reads() -> None:
    read_fd, write_fd = os.pipe()
    os.set_blocking(write_fd, False)
    try:  # fill the pipe, as a client that stopped reading leaves it
        while True:
            os.write(write_fd, b"#" * 4096)
    except BlockingIOError:
        pass
    os.set_blocking(write_fd, True)
    out = stdio.Outbound(stdio._Pending(), fd=write_fd)
    received = bytearray()
    try:
        with bounded():
            async with anyio.create_task_group() as tg:
                tg.start_soon(out.send, _answer(1, "after the backlog"))
                await anyio.sleep(0)  # the event loop is not blocked meanwhile
                reader = threading.Thread(target=_read_all, args=(read_fd, received))
                reader.start()
    finally:
        os.close(write_fd)
        reader.join(10)
        os.close(read_fd)
    line = bytes(received).lstrip(b"#")
    assert json.loads(line)["result"]["content"][0]["text"] == "after the backlog"


async def test_a_broken_pipe_says_the_client_went_away_once() -> None:
    read_fd, write_fd = os.pipe()
    os.close(read_fd)
    calls = []
    out = stdio.Outbound(stdio._Pending(), fd=write_fd, on_gone=lambda: calls.append(1))
    try:
        for _ in range(2):
            with pytest.raises(anyio.BrokenResourceError):
                await out.send(_answer(1, "nobody reads this"))
    finally:
        os.close(write_fd)
    assert isinstance(out.gone, BrokenPipeError)
    assert calls == [1]


def test_while_claimed_fd_1_writes_to_stderr_and_the_wire_is_a_private_copy(
    capfd: pytest.CaptureFixture[str],
) -> None:
    with stdio.claimed_stdout() as (fd, sink):
        assert fd is not None and fd > 2 and sink is None
        print("a stray print", flush=True)
        os.write(fd, b"the wire\n")
    print("after serving", flush=True)
    captured = capfd.readouterr()
    assert captured.out == "the wire\nafter serving\n"
    assert "a stray print" in captured.err


async def test_a_write_to_a_client_that_does_not_read_does_not_hold_up_a_cancel() -> None:
    read_fd, write_fd = os.pipe()
    out = stdio.Outbound(stdio._Pending(), fd=write_fd)
    try:
        with bounded():
            with anyio.CancelScope() as scope:  # as a signal cancels the serving scope
                async with anyio.create_task_group() as tg:
                    tg.start_soon(out.send, _answer(1, "x" * 1_000_000))  # > the pipe's buffer
                    while not out._in_thread.locked():  # until it is in its thread
                        await anyio.lowlevel.checkpoint()
                    scope.cancel()
            with pytest.raises(anyio.BrokenResourceError):  # its rest would interleave
                await out.send(_answer(2, "after"))
    finally:
        os.close(read_fd)  # the abandoned write fails in its thread, which ends
        os.close(write_fd)
