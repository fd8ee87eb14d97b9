"""Seeded fuzzing of the stdio server with malformed and hostile tool calls.

One real server subprocess, raw JSON-RPC lines on its stdin (some not even JSON),
for about ``BUDGET_SECONDS``. For every call: an answer arrives within
``ANSWER_SECONDS``; it is never an internal error (JSON-RPC -32603, an error
result hiding a crash behind a bare "Error executing tool X", a traceback); its
text is bounded; and when the call was rejected, nothing in the store changed.
The seed is printed on failure (``MEMORY_LIFECYCLE_FUZZ_SEED`` replays one).
"""

from __future__ import annotations

import json
import os
import random
import select
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from lifecycle import MemoryLifecycleManager
from tests.support.server import raw_stdio_server

pytestmark = pytest.mark.slow

BUDGET_SECONDS = 10.0
ANSWER_SECONDS = 10.0
MAX_CALLS = 3000
MAX_ERROR_CHARS = 4000

TOOLS = {
    "memory_store": [
        "key",
        "value",
        "namespace",
        "ttl_seconds",
        "timestamp",
        "agent_id",
        "op_id",
        "context",
    ],
    "memory_retrieve": ["key", "namespace"],
    "memory_delete": ["key", "namespace"],
    "memory_list": ["prefix", "limit", "cursor"],
    "memory_cleanup": ["force"],
    "memory_stats": [],
    "hook_session_end": ["session_id"],
    "hook_pre_task": ["task_id", "description"],
    "memory_store_batch": ["entries"],
}
SEED_ENTRIES = {
    "knowledge/api/style": "REST",
    "metrics/tasks/done": 5,
    "swarm/agent/state/a1": {"step": 3},
    "session/s1/notes": ["a", "b"],
}


def hostile_scalar(rng: random.Random) -> Any:
    return rng.choice(
        [
            None,
            True,
            False,
            0,
            -1,
            1,
            7,
            2**63,
            -(2**63),
            10**30,
            1e308,
            -1e308,
            5e-324,
            0.5,
            "",
            " ",
            "0",
            "1",
            "yes",
            "true",
            "1e300",
            "-5",
            "NaN",
            "Infinity",
            "../etc/passwd",
            "a//b",
            "/",
            ".",
            "..",
            "knowledge/..",
            "a\x00b",
            "\t",
            "*",
            "%s%n",
            "knowledge/" + "x" * 600,
            "k" * 100_000,
            "a/" + "b" * 100_000,
            "\uff4b\uff45\uff59/ü/日本",
            "🙂/🙃",
            "\u202e/rtl",
            "memory://knowledge/api/style",
            "coordination/s1/x",
            "session/s1",
            "metrics/tasks/done",
            "knowledge/api/style",
            "swarm/shared/board",
        ]
    )


def hostile_value(rng: random.Random, depth: int = 0) -> Any:
    roll = rng.random()
    if depth > 3 or roll < 0.6:
        return hostile_scalar(rng)
    if roll < 0.75:
        return [hostile_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    if roll < 0.9:
        return {str(hostile_scalar(rng))[:50]: hostile_value(rng, depth + 1) for _ in range(3)}
    nested: Any = "bottom"
    for _ in range(rng.choice([20, 60, 120])):
        nested = [nested]
    return nested


def hostile_arguments(rng: random.Random, tool: str) -> Any:
    roll = rng.random()
    if roll < 0.05:
        return rng.choice([None, [], "key=1", 5])  # arguments that are not an object
    fields = TOOLS.get(tool, ["key", "value"])
    chosen = [f for f in fields if rng.random() < 0.6]
    arguments = {field: hostile_value(rng) for field in chosen}
    if tool == "memory_store_batch" and rng.random() < 0.7:
        arguments["entries"] = [
            {f: hostile_value(rng) for f in TOOLS["memory_store"] if rng.random() < 0.5}
            for _ in range(rng.randint(0, 5))
        ]
    if rng.random() < 0.1:
        arguments[str(hostile_scalar(rng))[:40] or "extra"] = 1  # an undeclared argument
    return arguments


def raw_line(rng: random.Random, request_id: int) -> bytes:
    """A line that is not valid JSON-RPC: what a broken or hostile client might send."""
    call = json.dumps(
        {
            "jsonrpc": "2.0",
            "id": request_id,
            "method": "tools/call",
            "params": {"name": "memory_store", "arguments": {"key": "knowledge/x", "value": 0}},
        }
    ).encode()
    return rng.choice(
        [
            call.replace(b'"value": 0', b'"value": ' + b"[" * 300 + b"]" * 300),
            call.replace(b'"value": 0', b'"value": ' + b"7" * 5000),
            call.replace(b'"value": 0', b'"value": "\\udc00"'),
            call.replace(b'"value": 0', b'"value": "\xc3\x28"'),
            call[: rng.randint(1, len(call) - 1)],
            b"\xff\xfe\x00garbage",
            b"[]",
            b'{"jsonrpc": "2.0"}',
            json.dumps({"jsonrpc": "2.0", "id": request_id, "method": "no/such/method"}).encode(),
            json.dumps(
                {"jsonrpc": "2.0", "id": request_id, "method": "tools/call", "params": []}
            ).encode(),
            json.dumps(
                {
                    "jsonrpc": "2.0",
                    "id": request_id,
                    "method": "resources/read",
                    "params": {"uri": "memory://" + str(hostile_scalar(rng))},
                }
            ).encode(),
        ]
    )


class Session:
    """Raw lines to the server; answers read with a bound; stderr drained meanwhile (a
    full pipe would block the server's logging, and look like a hang)."""

    def __init__(self, server: Any) -> None:
        self.server = server
        self.buffer = b""
        self.stderr = bytearray()
        self._drain = threading.Thread(target=self._read_stderr, daemon=True)
        self._drain.start()

    def _read_stderr(self) -> None:
        for chunk in iter(lambda: os.read(self.server.proc.stderr.fileno(), 65536), b""):
            self.stderr += chunk

    def stderr_lines(self) -> list[str]:
        self._drain.join(timeout=10)
        return self.stderr.decode(errors="replace").splitlines()

    def send(self, line: bytes) -> None:
        stdin = self.server.proc.stdin
        stdin.write(line + b"\n")
        stdin.flush()

    def answer(self, request_id: int | None, what: str = "") -> dict[str, Any]:
        """The next answer for ``request_id`` (or with ``id: null``), within the bound."""
        deadline = time.monotonic() + ANSWER_SECONDS
        fd = self.server.proc.stdout.fileno()
        while True:
            while b"\n" in self.buffer:
                line, self.buffer = self.buffer.split(b"\n", 1)
                message = json.loads(line)
                if "id" in message and message["id"] in (request_id, None):
                    return message
            left = deadline - time.monotonic()
            assert left > 0, f"no answer within {ANSWER_SECONDS} s to {what or request_id}"
            if select.select([fd], [], [], left)[0]:
                chunk = os.read(fd, 1 << 20)
                assert chunk, f"server exited: {self.server.stderr_text()}"
                self.buffer += chunk


def snapshot(manager: MemoryLifecycleManager) -> list[dict[str, Any]]:
    return sorted(manager.export_entries(), key=lambda e: e["key"])


def check_answer(answer: dict[str, Any], what: str) -> bool:
    """Assert the answer is no internal error; return whether the call was rejected."""
    text = json.dumps(answer)
    assert "Traceback" not in text and "internal error" not in text.lower(), what
    if "error" in answer:
        assert answer["error"]["code"] != -32603, (what, answer)
        assert len(answer["error"]["message"]) < MAX_ERROR_CHARS, what
        return True
    result = answer["result"]
    if not result.get("isError"):
        return False
    message = " ".join(block.get("text", "") for block in result["content"])
    assert not message.strip().startswith("Error executing tool") or ":" in message, (what, message)
    assert len(message) < MAX_ERROR_CHARS, (what, len(message))
    return True


def test_hostile_calls_are_answered_in_time_never_crash_and_change_nothing_when_rejected(
    tmp_path: Path,
) -> None:
    seed = int(os.environ.get("MEMORY_LIFECYCLE_FUZZ_SEED", random.randrange(1 << 30)))
    rng = random.Random(seed)
    memory = tmp_path / "memory"
    with raw_stdio_server(memory, "--maintenance-interval", "0") as server:
        server.initialize()
        for key, value in SEED_ENTRIES.items():
            assert not server.call_tool("memory_store", {"key": key, "value": value})["isError"]
        session = Session(server)
        with MemoryLifecycleManager(memory_dir=memory) as reader:
            before = snapshot(reader)
            started, calls, rejected = time.monotonic(), 0, 0
            while time.monotonic() - started < BUDGET_SECONDS and calls < MAX_CALLS:
                calls += 1
                request_id = 1000 + calls
                if rng.random() < 0.15:
                    line = raw_line(rng, request_id)
                    what = f"seed {seed}, raw line {line[:120]!r}"
                else:
                    tool = rng.choice([*TOOLS, "memory_nope", ""])
                    arguments = hostile_arguments(rng, tool)
                    params = {"name": tool, "arguments": arguments}
                    message = {
                        "jsonrpc": "2.0",
                        "id": request_id,
                        "method": "tools/call",
                        "params": params,
                    }
                    line = json.dumps(message).encode()
                    what = f"seed {seed}, {tool} {json.dumps(arguments)[:200]}"
                session.send(line)
                answer = session.answer(request_id, what)
                after = snapshot(reader)
                if check_answer(answer, what):
                    rejected += 1
                    assert after == before, f"a rejected call changed the store: {what}"
                before = after
        session.send(
            json.dumps(
                {
                    "jsonrpc": "2.0",
                    "id": 1,
                    "method": "tools/call",
                    "params": {"name": "memory_stats", "arguments": {}},
                }
            ).encode()
        )
        alive = session.answer(1)
        code, _ = server.stop_with("eof")
        stderr = session.stderr_lines()
    assert not alive["result"]["isError"]
    assert code == 0
    assert not [line for line in stderr if "Traceback" in line], f"seed {seed}"
    longest = max(stderr, key=len)
    assert len(longest) < MAX_ERROR_CHARS, f"seed {seed}: an unbounded log line {longest[:300]}"
    print(f"fuzz seed {seed}: {calls} calls, {rejected} rejected")
    assert calls >= 50 and rejected > calls // 4, (calls, rejected)
