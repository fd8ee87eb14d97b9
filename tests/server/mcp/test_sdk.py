"""The SDK's private API that ``server/mcp/sdk.py`` relies on: fails loudly when an SDK
upgrade moves it, instead of resources/list or subscriptions quietly breaking."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import pytest
from mcp import Client
from mcp.server.mcpserver import MCPServer
from mcp.server.session import ServerSession

from server.mcp import sdk
from server.mcp.server import build_server
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


def test_the_lowlevel_server_still_runs_over_given_streams() -> None:
    lowlevel = sdk.lowlevel_server(MCPServer("probe"))
    assert {"read_stream", "write_stream", "initialization_options"} <= set(
        inspect.signature(lowlevel.run).parameters
    )
    assert callable(lowlevel.create_initialization_options)


def test_tools_are_the_sdks_public_tool_objects_with_strict_arguments() -> None:
    from mcp.server.mcpserver.tools import Tool

    from server.mcp.tools import build_tools

    tools = build_tools()
    assert tools and all(isinstance(t, Tool) for t in tools)
    assert all(t.parameters.get("additionalProperties") is False for t in tools)


def test_removing_a_handler_still_drops_its_capability() -> None:
    server: MCPServer[object] = MCPServer("probe")
    assert server._lowlevel_server.get_capabilities().prompts is not None  # the SDK's default
    for method in ("prompts/list", "prompts/get"):
        sdk.remove_request_handler(server, method)
        assert server._lowlevel_server.get_request_handler(method) is None
    assert server._lowlevel_server.get_capabilities().prompts is None


async def test_tool_calls_and_resource_reads_still_go_through_the_checks() -> None:
    server: MCPServer[object] = MCPServer("probe")

    @server.tool()
    def echo(text: str) -> str:
        return text

    @server.resource("probe://{name}")
    def probe(name: str) -> str:
        return name

    seen: list[str] = []
    sdk.check_tool_calls(server, seen.append)
    sdk.check_resource_reads(server, seen.append)
    with bounded():
        async with Client(server, mode="legacy") as client:
            await client.call_tool("echo", {"text": "hi"})
            await client.read_resource("probe://x")
    assert seen == ["echo", "probe://x"]


def test_capabilities_are_still_derived_per_protocol_version() -> None:
    server: MCPServer[object] = MCPServer("probe")
    lowlevel = server._lowlevel_server
    assert "protocol_version" in inspect.signature(lowlevel.get_capabilities).parameters
    sdk.handshake_only_capability(server, "tools")
    assert lowlevel.get_capabilities().tools is not None
    assert lowlevel.get_capabilities(protocol_version="2025-11-25").tools is not None
    assert lowlevel.get_capabilities(protocol_version="2026-07-28").tools is None


async def test_a_tools_arguments_are_still_validated_by_its_replaceable_argument_model() -> None:
    from mcp.server.mcpserver.tools import Tool

    def echo(text: str) -> str:
        return text

    tool = Tool.from_function(echo)
    assert sdk.argument_names(tool) == ["text"]
    seen: list[object] = []

    def validate(arguments: object, sdk_validate: Callable[[object], object]) -> object:
        seen.append(arguments)
        return sdk_validate(arguments)

    sdk.validate_arguments_with(tool, validate)
    assert tool.parameters["additionalProperties"] is False
    server: MCPServer[object] = MCPServer("probe", tools=[tool])
    with bounded():
        async with Client(server, mode="legacy") as client:
            result = await client.call_tool("echo", {"text": "hi"})
            refused = await client.call_tool("echo", {"text": "hi", "extra": 1})
    assert not result.is_error and seen[0] == {"text": "hi"}
    assert refused.is_error  # the model now forbids what the tool does not declare


def test_a_tools_schema_still_comes_from_its_signature_as_inspect_reads_it() -> None:
    """``memory_store`` gets its parameters from the declared write fields through
    ``__signature__`` (``server/mcp/write_arguments.py``)."""
    from mcp.server.mcpserver.tools import Tool

    def tool(**arguments: object) -> str:
        return "ok"

    kind = inspect.Parameter.KEYWORD_ONLY
    signature = inspect.Signature(
        [inspect.Parameter("probe", kind, annotation=int)], return_annotation=str
    )
    object.__setattr__(tool, "__signature__", signature)
    schema = Tool.from_function(tool).parameters
    assert schema["properties"]["probe"]["type"] == "integer"
    assert schema["required"] == ["probe"]
