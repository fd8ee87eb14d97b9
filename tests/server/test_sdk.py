"""The SDK's private API that ``server/sdk.py`` relies on: fails loudly when an SDK
upgrade moves it, instead of resources/list or subscriptions quietly breaking."""

from __future__ import annotations

import inspect
from pathlib import Path
from types import SimpleNamespace

import pytest
from mcp import Client
from mcp.server.mcpserver import MCPServer
from mcp.server.session import ServerSession

from server import sdk
from server.app import build_server
from tests.support.server import bounded

pytestmark = pytest.mark.anyio


def test_the_lowlevel_server_still_takes_request_handlers() -> None:
    server: MCPServer[object] = MCPServer("probe")
    lowlevel = server._lowlevel_server
    assert list(inspect.signature(lowlevel.add_request_handler).parameters) == [
        "method",
        "params_type",
        "handler",
    ]
    assert lowlevel.get_request_handler("resources/list") is not None


def test_a_session_still_knows_its_connection() -> None:
    connection = SimpleNamespace(protocol_version="2025-06-18")
    session = ServerSession(object(), connection)  # type: ignore[arg-type]
    assert sdk.connection_of(session) is connection


async def test_our_handlers_replace_the_sdk_ones_and_subscribe_is_advertised(
    tmp_path: Path,
) -> None:
    server = build_server(memory_dir=tmp_path / "memory", maintenance_interval=0)
    with bounded():
        async with Client(server, mode="legacy") as client:
            await client.call_tool("memory_store", {"key": "task/a", "value": 1})
            listed = await client.list_resources()
            capabilities = client.server_capabilities
    assert [r.uri for r in listed.resources] == ["memory://task/a"]  # not the SDK's static list
    assert capabilities.resources is not None and capabilities.resources.subscribe is True
