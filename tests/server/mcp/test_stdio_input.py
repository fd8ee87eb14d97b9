"""What the stdio server does with lines it cannot parse, and with requests that arrive
just before stdin closes. Real server subprocesses, raw bytes on their stdin."""

from __future__ import annotations

import json
import select
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lifecycle import MemoryLifecycleManager
from tests.support.env import REPO, child_env
from tests.support.server import RawStdioServer, raw_stdio_server, server_command

pytestmark = pytest.mark.slow

ANSWER_SECONDS = 10.0

INIT = {
    "jsonrpc": "2.0",
    "id": 0,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "tests", "version": "0"},
    },
}
NOTIF = {"jsonrpc": "2.0", "method": "notifications/initialized"}


def call(request_id: int, tool: str, **arguments: Any) -> bytes:
    message = {
        "jsonrpc": "2.0",
        "id": request_id,
        "method": "tools/call",
        "params": {"name": tool, "arguments": arguments},
    }
    return json.dumps(message).encode()


def store_line(request_id: int, raw_value: bytes) -> bytes:
    head = (
        f'{{"jsonrpc":"2.0","id":{request_id},"method":"tools/call","params":'
        '{"name":"memory_store","arguments":{"key":"knowledge/x","value":'
    ).encode()
    return head + raw_value + b"}}}"


UNPARSEABLE = {
    "JSON nested 200 deep": store_line(1, b"[" * 200 + b"]" * 200),
    "an integer of 5,000 digits": store_line(2, b"9" * 5000),
    "a lone surrogate": store_line(3, b'"\\ud800"'),
    "invalid UTF-8": store_line(4, b'"\xff\xfe"'),
    "truncated JSON": b'{"jsonrpc": "2.0", "id": 5, "method": "tools/ca',
    "not JSON at all": b"hello",
}


def run_piped(memory_dir: Path, lines: list[bytes], timeout: float = 60) -> list[dict[str, Any]]:
    """``printf 'line\\n...' | memory-lifecycle serve``: every answer, in order."""
    done = subprocess.run(
        server_command(memory_dir),
        input=b"".join(line + b"\n" for line in lines),
        capture_output=True,
        env=child_env(),
        cwd=REPO,
        timeout=timeout,
    )
    assert done.returncode == 0, done.stderr.decode()
    return [json.loads(line) for line in done.stdout.splitlines()]


@pytest.fixture(scope="module")
def serving(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RawStdioServer]:
    """One server for every unparseable line, one after the other: each test also checks
    that it still serves (a server per line cost ~1 s of CPU each to start)."""
    with raw_stdio_server(tmp_path_factory.mktemp("stdio") / "memory") as server:
        server.initialize()
        yield server


@pytest.mark.parametrize("name", list(UNPARSEABLE))
def test_an_unparseable_line_gets_a_parse_error_and_the_server_keeps_serving(
    serving: RawStdioServer, name: str
) -> None:
    server = serving
    assert server.proc.stdin is not None and server.proc.stdout is not None
    server.proc.stdin.write(UNPARSEABLE[name] + b"\n")
    server.proc.stdin.flush()
    answered = select.select([server.proc.stdout], [], [], ANSWER_SECONDS)[0]
    assert answered, f"no answer within {ANSWER_SECONDS} s"  # it used to wait forever
    answer = json.loads(server.proc.stdout.readline())
    after = server.call_tool("memory_stats", {})
    assert answer["id"] is None
    assert answer["error"]["code"] == -32700
    assert answer["error"]["message"].startswith("Parse error: ")
    assert len(answer["error"]["message"]) < 300
    assert after["structuredContent"]["total_entries"] == 0  # nothing was stored


def test_json_that_is_not_json_rpc_is_an_invalid_request_with_its_id(tmp_path: Path) -> None:
    answers = run_piped(
        tmp_path / "memory",
        [json.dumps(INIT).encode(), json.dumps(NOTIF).encode(), b'{"id": 7, "hello": 1}'],
    )
    assert answers[-1] == {
        "jsonrpc": "2.0",
        "id": 7,
        "error": {
            "code": -32600,
            "message": "Invalid request: not a JSON-RPC 2.0 request, notification or response",
        },
    }


def test_a_lone_surrogate_in_a_search_query_is_named_not_a_hex_escape(tmp_path: Path) -> None:
    search = (
        b'{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"memory_search",'
        b'"arguments":{"query":"auth \\ud800"}}}'
    )
    answers = run_piped(
        tmp_path / "memory", [json.dumps(INIT).encode(), json.dumps(NOTIF).encode(), search]
    )
    error = answers[-1]["error"]
    assert error["code"] == -32700
    assert error["message"].startswith("Parse error: a lone surrogate (\\ud800) at line 1")
    assert "hex escape" not in error["message"]


def test_a_batch_is_one_invalid_request_naming_batches(tmp_path: Path) -> None:
    batch = json.dumps([{"jsonrpc": "2.0", "id": 1, "method": "ping"}]).encode()
    answers = run_piped(
        tmp_path / "memory", [json.dumps(INIT).encode(), json.dumps(NOTIF).encode(), batch]
    )
    assert answers[-1]["error"]["code"] == -32600
    assert "batch" in answers[-1]["error"]["message"]


def test_requests_sent_just_before_stdin_closes_are_finished_before_exit(tmp_path: Path) -> None:
    calls = [call(i, "memory_store", key=f"knowledge/n{i}", value=i) for i in range(1, 21)]
    answers = run_piped(
        tmp_path / "memory", [json.dumps(INIT).encode(), json.dumps(NOTIF).encode(), *calls]
    )
    by_id = {a["id"]: a for a in answers}
    assert sorted(by_id) == list(range(21))
    assert all(by_id[i]["result"]["structuredContent"]["stored"] for i in range(1, 21))
    with MemoryLifecycleManager(memory_dir=tmp_path / "memory") as m:
        assert [m.retrieve(f"knowledge/n{i}") for i in range(1, 21)] == list(range(1, 21))


def test_every_hostile_line_in_one_pipe_is_answered_in_order(tmp_path: Path) -> None:
    lines = [json.dumps(INIT).encode(), json.dumps(NOTIF).encode(), *UNPARSEABLE.values()]
    lines.append(call(99, "memory_store", key="knowledge/last", value="ok"))
    answers = run_piped(tmp_path / "memory", lines)
    errors = [a for a in answers if "error" in a]
    assert [a["error"]["code"] for a in errors] == [-32700] * len(UNPARSEABLE)
    assert answers[-1]["id"] == 99 and answers[-1]["result"]["structuredContent"]["stored"]


def test_a_client_that_stops_reading_ends_the_server_cleanly(tmp_path: Path) -> None:
    with raw_stdio_server(tmp_path / "memory") as server:
        server.initialize()
        assert server.proc.stdin is not None and server.proc.stdout is not None
        server.proc.stdout.close()  # the client went away without closing our stdin
        for i in range(1, 4):
            server.send(json.loads(call(i, "memory_stats")))
        code, _ = server.stop_with("eof")
        stderr = server.stderr_text()
    assert code == 0, stderr
    assert "the client went away" in stderr
    assert "Traceback" not in stderr and "internal error" not in stderr


@pytest.mark.anyio
async def test_a_line_over_the_size_limit_is_skipped_and_answered(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import io

    from server.mcp import stdio

    monkeypatch.setattr(stdio, "MAX_LINE_BYTES", 100)
    source = io.BytesIO(b"x" * 250 + b"\n" + b'{"jsonrpc": "2.0", "method": "ping", "id": 1}\n')
    lines = [line async for line in stdio.ThreadedStdin(source)]
    assert lines[0] is stdio.OVERSIZED and lines[1].startswith(b'{"jsonrpc"')
    error = stdio._parse(lines[0])
    assert error is not None and error.error.code == -32700  # type: ignore[union-attr]
    assert "a message over 100 bytes" in error.error.message  # type: ignore[union-attr]
