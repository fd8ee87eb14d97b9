"""The server advertises what it serves and answers names it does not know clearly:
no ``prompts`` capability (a ``prompts/*`` call is "method not found"), an unknown
resource is "invalid params" saying what the resources are, an unknown tool is an error
result naming the tools (DESIGN "Edges that must hold")."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError
from mcp_types import INVALID_PARAMS, METHOD_NOT_FOUND

from server.mcp.server import build_server
from tests.support.server import bounded, error_text

pytestmark = pytest.mark.anyio


@pytest.fixture(params=["legacy", "auto"])
def mode(request: pytest.FixtureRequest) -> str:
    return request.param


@asynccontextmanager
async def connect(tmp_path: Path, mode: str) -> AsyncIterator[Client]:
    server = build_server(memory_dir=tmp_path / "memory", maintenance_interval=0)
    with bounded():
        async with Client(server, mode=mode) as client:  # type: ignore[arg-type]
            yield client


async def test_the_server_does_not_advertise_prompts_it_does_not_serve(tmp_path: Path) -> None:
    async with connect(tmp_path, "legacy") as client:
        capabilities = client.server_capabilities
    assert capabilities.prompts is None
    assert capabilities.tools is not None and capabilities.resources is not None


async def test_a_prompts_call_is_method_not_found(tmp_path: Path, mode: str) -> None:
    async with connect(tmp_path, mode) as client:
        with pytest.raises(MCPError) as listing:
            await client.list_prompts()
        with pytest.raises(MCPError) as getting:
            await client.get_prompt("summarize")
    assert listing.value.error.code == METHOD_NOT_FOUND
    assert getting.value.error.code == METHOD_NOT_FOUND


async def test_an_unknown_resource_is_invalid_params_naming_the_memory_scheme(
    tmp_path: Path, mode: str, caplog: pytest.LogCaptureFixture
) -> None:
    async with connect(tmp_path, mode) as client:
        with caplog.at_level(logging.INFO), pytest.raises(MCPError) as caught:
            await client.read_resource("test://static-text")
    assert caught.value.error.code == INVALID_PARAMS
    message = caught.value.error.message
    assert "unknown resource 'test://static-text'" in message
    assert "memory://<key>" in message and "resources/list" in message
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_a_missing_entry_is_invalid_params_without_an_error_log(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with connect(tmp_path, "legacy") as client:
        with caplog.at_level(logging.INFO), pytest.raises(MCPError) as caught:
            await client.read_resource("memory://task/absent")
    assert caught.value.error.code == INVALID_PARAMS
    assert "no entry under key 'task/absent'" in caught.value.error.message
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_an_unknown_tool_is_an_error_result_naming_the_valid_tools(
    tmp_path: Path, mode: str
) -> None:
    async with connect(tmp_path, mode) as client:
        result = await client.call_tool("memory_retreive", {"key": "a"})
        still = await client.call_tool("memory_retrieve", {"key": "a"})
    text = error_text(result)
    assert "unknown tool 'memory_retreive'" in text
    assert "did you mean 'memory_retrieve'?" in text
    assert "memory_store" in text and "memory_search" in text  # the valid ones, listed
    assert not still.is_error


async def test_an_unknown_tool_name_is_shown_bounded(tmp_path: Path) -> None:
    async with connect(tmp_path, "legacy") as client:
        result = await client.call_tool("x" * 10_000, {})
    text = error_text(result)
    assert len(text) < 1200
    assert "unknown tool 'xxx" in text
