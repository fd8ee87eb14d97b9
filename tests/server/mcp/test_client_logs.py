"""``logging/setLevel``: the server advertises ``logging``, and its log lines at or above
the level a client asked for reach that client as ``notifications/message``."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import anyio
import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError
from mcp_types import METHOD_NOT_FOUND, LoggingMessageNotificationParams

from server.mcp.client_logs import level_name
from server.mcp.server import build_server
from tests.support.server import bounded, stdio_params

pytestmark = [
    pytest.mark.anyio,
    # the SDK marks the handshake-era logging API deprecated (SEP-2577); clients use it
    pytest.mark.filterwarnings("ignore::mcp.shared.exceptions.MCPDeprecationWarning"),
]


@pytest.fixture(autouse=True)
def no_background_indexing(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests count what reaches the client; a background indexer with no model
    would add its one warning whenever its first run happens to fall inside a test."""
    monkeypatch.setenv("MEMORY_LIFECYCLE_INDEX_SECONDS", "0")


POLICIES = """\
namespaces:
  - namespace: "task/*"
    ttl_seconds: 60
    cleanup_strategy: lazy
    conflict_strategy: lww
"""


class Heard:
    """What a client's logging callback received."""

    def __init__(self) -> None:
        self.messages: list[LoggingMessageNotificationParams] = []
        self._changed = anyio.Event()

    async def __call__(self, params: LoggingMessageNotificationParams) -> None:
        self.messages.append(params)
        self._changed.set()

    async def wait_for(self, text: str) -> LoggingMessageNotificationParams:
        while True:
            for message in self.messages:
                if text in str(message.data):
                    return message
            self._changed = anyio.Event()
            await self._changed.wait()


async def test_the_logging_capability_is_advertised(tmp_path: Path) -> None:
    server = build_server(memory_dir=tmp_path / "memory", maintenance_interval=0)
    with bounded():
        async with Client(server, mode="legacy") as client:
            assert client.server_capabilities.logging is not None
            assert await client.set_logging_level("info") is not None


async def test_a_2026_client_is_not_offered_logging_it_cannot_set(tmp_path: Path) -> None:
    server = build_server(memory_dir=tmp_path / "memory", maintenance_interval=0)
    with bounded():
        async with Client(server) as client:  # the 2026-07-28 protocol: no logging/setLevel
            capabilities = client.server_capabilities
            with pytest.raises(MCPError) as refused:
                await client.set_logging_level("info")
    assert capabilities.logging is None and capabilities.tools is not None
    assert refused.value.error.code == METHOD_NOT_FOUND


async def test_records_at_or_above_the_level_reach_the_client_from_any_thread(
    tmp_path: Path,
) -> None:
    heard = Heard()
    server = build_server(memory_dir=tmp_path / "memory", maintenance_interval=0)
    log = logging.getLogger("memory_lifecycle.store")
    with bounded():
        async with Client(server, mode="legacy", logging_callback=heard) as client:
            log.error("before anyone asked")
            await client.set_logging_level("error")
            log.warning("below the level")
            worker = threading.Thread(target=log.error, args=("from a worker: %s", "disk full"))
            worker.start()
            worker.join()
            got = await heard.wait_for("from a worker")
            log.critical("the end")
            last = await heard.wait_for("the end")
    assert (got.level, got.logger, got.data) == (
        "error",
        "memory_lifecycle.store",
        "from a worker: disk full",
    )
    assert last.level == "critical"
    assert [m.data for m in heard.messages] == ["from a worker: disk full", "the end"]


async def test_other_loggers_and_tracebacks_stay_on_the_server(tmp_path: Path) -> None:
    heard = Heard()
    server = build_server(memory_dir=tmp_path / "memory", maintenance_interval=0)
    with bounded():
        async with Client(server, mode="legacy", logging_callback=heard) as client:
            await client.set_logging_level("debug")
            logging.getLogger("somebody.else").error("not ours")
            try:
                raise ValueError("secret detail")
            except ValueError:
                logging.getLogger("memory_lifecycle.server").exception("a failure")
            got = await heard.wait_for("a failure")
    assert got.data == "a failure"  # the message only: no traceback
    assert [m.data for m in heard.messages] == ["a failure"]


def test_python_levels_map_to_mcp_levels() -> None:
    assert [level_name(n) for n in (5, 10, 20, 25, 30, 40, 50, 60)] == [
        "debug",
        "debug",
        "info",
        "info",
        "warning",
        "error",
        "critical",
        "critical",
    ]


async def test_a_policy_error_reaches_a_client_over_real_stdio(tmp_path: Path) -> None:
    """End to end: the stdio server logs that an edited policy file was not applied, and
    the client that asked for warnings hears it on the MCP stream (stdout)."""
    policy = tmp_path / "policies.yaml"
    policy.write_text(POLICIES)
    params = stdio_params(tmp_path / "memory", "--policy-file", str(policy))
    heard = Heard()
    with bounded():
        async with Client(params, mode="legacy", logging_callback=heard) as client:
            await client.set_logging_level("warning")
            policy.write_text("namespaces: [oops\n")
            with anyio.fail_after(10):  # the server re-reads the file at most once a second
                while not [m for m in heard.messages if "policy file" in str(m.data)]:
                    await client.call_tool("memory_retrieve", {"key": "task/a"})
                    await anyio.sleep(0.1)
    # other warnings may come first (a background indexer with no model says so once)
    (message,) = [m for m in heard.messages if "policy file" in str(m.data)]
    assert message.level == "error"
    assert "policy file not applied" in str(message.data) and str(policy) in str(message.data)
