"""Regressions found by the end-to-end review: each test is a bug a user or agent hit."""

from __future__ import annotations

from pathlib import Path

import pytest
from mcp import Client
from server_support import bounded, error_text, structured

from server.app import build_server

pytestmark = pytest.mark.anyio


async def test_a_misspelt_tool_argument_is_rejected_naming_it_and_nothing_is_stored(
    tmp_path: Path,
) -> None:
    server = build_server(memory_dir=tmp_path / "memory", maintenance_interval=0)
    with bounded():
        async with Client(server, mode="legacy") as client:  # type: ignore[arg-type]
            tools = {t.name: t for t in (await client.list_tools()).tools}
            assert all(t.input_schema.get("additionalProperties") is False for t in tools.values())

            bad = await client.call_tool(
                "memory_store", {"key": "coordination/a/status", "value": 1, "ttl": 5}
            )
            message = error_text(bad)
            assert "ttl" in message and "Extra inputs are not permitted" in message
            bad_list = await client.call_tool("memory_list", {"limt": 5})
            assert "limt" in error_text(bad_list)

            found = structured(
                await client.call_tool("memory_retrieve", {"key": "coordination/a/status"})
            )
            assert found["found"] is False
            good = await client.call_tool(
                "memory_store", {"key": "coordination/a/status", "value": 1, "ttl_seconds": 5}
            )
            assert structured(good)["stored"] is True
