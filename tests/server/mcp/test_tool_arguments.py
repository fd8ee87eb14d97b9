"""Tool arguments are not coerced into what the caller did not mean.

A boolean is never a number (``ttl_seconds: true`` was a 1 s TTL, ``timestamp: true``
the year 1970), and a flag that destroys data takes only JSON ``true``: ``"yes"``,
``"1"`` and ``1`` once ran a forced cleanup. Numeric strings for numeric fields are
accepted on purpose (some clients send every argument as a string). A rejected call
changes nothing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError
from mcp_types import INVALID_PARAMS

from lifecycle import ManualClock
from server.mcp.server import build_server
from tests.support.server import bounded, error_text, structured

pytestmark = pytest.mark.anyio

NOW = 1_800_000_000.0


@asynccontextmanager
async def connect(tmp_path: Path) -> AsyncIterator[tuple[Client, ManualClock]]:
    clock = ManualClock(NOW)
    server = build_server(memory_dir=tmp_path / "memory", clock=clock, maintenance_interval=0)
    with bounded():
        async with Client(server, mode="legacy") as client:
            yield client, clock


async def snapshot(client: Client) -> dict[str, Any]:
    listed = structured(await client.call_tool("memory_list", {"limit": 1000}))
    return {e["key"]: e for e in listed["entries"]}


@pytest.mark.parametrize(
    ("tool", "arguments", "field"),
    [
        ("memory_store", {"key": "coordination/a", "value": 1, "ttl_seconds": True}, "ttl_seconds"),
        (
            "memory_store",
            {"key": "coordination/a", "value": 1, "ttl_seconds": False},
            "ttl_seconds",
        ),
        ("memory_store", {"key": "coordination/a", "value": 1, "timestamp": True}, "timestamp"),
        (
            "memory_store_batch",
            {"entries": [{"key": "coordination/a", "value": 1, "ttl_seconds": True}]},
            "ttl_seconds",
        ),
        ("memory_list", {"limit": True}, "limit"),
    ],
)
async def test_a_boolean_is_never_a_number(
    tmp_path: Path, tool: str, arguments: dict[str, Any], field: str
) -> None:
    async with connect(tmp_path) as (client, _):
        result = await client.call_tool(tool, arguments)
        after = await snapshot(client)
    text = error_text(result)
    assert field in text and "is a boolean, not a number" in text
    assert after == {}


@pytest.mark.parametrize("force", ["yes", "1", 1, "true", "on", 0, "no"])
async def test_only_json_true_or_false_is_a_cleanup_flag(tmp_path: Path, force: object) -> None:
    async with connect(tmp_path) as (client, clock):
        await client.call_tool("memory_store", {"key": "knowledge/a", "value": 1, "ttl_seconds": 5})
        clock.tick(60)  # expired, but knowledge/* is manual: only a forced cleanup deletes it
        refused = await client.call_tool("memory_cleanup", {"force": force})
        stats = structured(await client.call_tool("memory_stats", {}))
        forced = structured(await client.call_tool("memory_cleanup", {"force": True}))
    assert "force" in error_text(refused) and "valid boolean" in error_text(refused)
    assert stats["total_entries"] == 1  # the refused call deleted nothing
    assert forced["deleted_count"] == 1


async def test_numeric_strings_are_accepted_for_numeric_fields(tmp_path: Path) -> None:
    async with connect(tmp_path) as (client, _):
        stored = structured(
            await client.call_tool(
                "memory_store",
                {"key": "coordination/a", "value": 1, "ttl_seconds": "60", "timestamp": str(NOW)},
            )
        )
        listed = structured(await client.call_tool("memory_list", {"limit": "5"}))
        bad = await client.call_tool(
            "memory_store", {"key": "coordination/a", "value": 2, "ttl_seconds": "soon"}
        )
    assert stored["expires_at"] == NOW + 60
    assert [e["key"] for e in listed["entries"]] == ["coordination/a"]
    assert "ttl_seconds" in error_text(bad)


async def test_a_ttl_of_1e300_is_refused_and_stats_still_work(tmp_path: Path) -> None:
    async with connect(tmp_path) as (client, _):
        refused = await client.call_tool(
            "memory_store", {"key": "coordination/a", "value": 1, "ttl_seconds": 1e300}
        )
        stats = structured(await client.call_tool("memory_stats", {}))
    assert "over 100 years" in error_text(refused)
    assert stats["total_entries"] == 0


async def test_an_invalid_resource_key_is_invalid_params_not_an_internal_error(
    tmp_path: Path,
) -> None:
    async with connect(tmp_path) as (client, _):
        with pytest.raises(MCPError) as bad_key:
            await client.read_resource("memory://coordination//x")
        with pytest.raises(MCPError) as missing:
            await client.read_resource("memory://coordination/missing")
    assert bad_key.value.code == INVALID_PARAMS
    assert "empty path segment" in bad_key.value.message
    assert missing.value.code == INVALID_PARAMS
