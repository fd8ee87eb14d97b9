"""claude-flow 3's memory tool arguments, with their meaning, in process (``Client(server)``):
the ``default`` namespace, ``provenance_type`` and ``provenance_filter``, search's
``threshold`` / ``smart`` and its ``value`` / ``similarity`` fields, list's ``offset`` and
``include_values``, cleanup's ``dryRun`` and ``namespace``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from lifecycle import ManualClock
from server.mcp.server import build_server
from tests.support.server import bounded, error_text, structured

pytestmark = pytest.mark.anyio


@asynccontextmanager
async def connect(tmp_path: Path, clock: ManualClock | None = None) -> AsyncIterator[Client]:
    server = build_server(memory_dir=tmp_path / "memory", clock=clock, maintenance_interval=0)
    with bounded():
        async with Client(server) as client:  # type: ignore[arg-type]
            yield client


async def call(client: Client, tool: str, **arguments: Any) -> dict[str, Any]:
    return structured(await client.call_tool(tool, arguments))


async def test_the_default_namespace_is_no_prefix_in_every_tool(tmp_path: Path) -> None:
    async with connect(tmp_path) as client:
        stored = await call(
            client, "memory_store", key="auth/strategy", value="JWT", namespace="default"
        )
        via_usage = await call(
            client, "memory_usage", action="retrieve", key="auth/strategy", namespace="default"
        )
        plain = await call(client, "memory_retrieve", key="auth/strategy")
        await call(client, "memory_store", key="knowledge/x", value="JWT too")
        listed = await call(client, "memory_list", namespace="default")
        found = await call(client, "memory_search", query="jwt", namespace="default")
        deleted = await call(client, "memory_delete", key="auth/strategy", namespace="default")

    assert stored["key"] == "auth/strategy"
    assert via_usage["value"] == plain["value"] == "JWT"
    assert [e["key"] for e in listed["entries"]] == ["auth/strategy", "knowledge/x"]
    assert {r["key"] for r in found["results"]} == {"auth/strategy", "knowledge/x"}
    assert deleted["deleted"] is True


async def test_provenance_is_kept_returned_and_filtered(tmp_path: Path) -> None:
    async with connect(tmp_path) as client:
        await call(
            client,
            "memory_store",
            key="claims/api",
            value="the API is stable",
            provenance_type="user_claim",
        )
        await call(client, "memory_store", key="claims/api", value="the API is stable (v2)")
        await call(
            client,
            "memory_store_batch",
            entries=[
                {
                    "key": "facts/api",
                    "value": "API v2 passed tests",
                    "provenance_type": "tool_result",
                }
            ],
        )
        got = await call(client, "memory_retrieve", key="claims/api")
        everything = await call(client, "memory_search", query="api")
        trusted = await call(
            client,
            "memory_search",
            query="api",
            provenance_filter=["tool_result", "system_observation"],
        )
        bad = await client.call_tool(
            "memory_store", {"key": "claims/x", "value": 1, "provenance_type": "x" * 65}
        )

    assert got["provenance_type"] == "user_claim"  # a write without it kept it
    assert {r["key"]: r["provenance_type"] for r in everything["results"]} == {
        "claims/api": "user_claim",
        "facts/api": "tool_result",
    }
    assert [(r["key"], r["value"]) for r in trusted["results"]] == [
        ("facts/api", "API v2 passed tests")
    ]
    assert "provenance_type" in error_text(bad) and "1-64 characters" in error_text(bad)


async def test_search_takes_threshold_and_smart_and_results_carry_value_and_similarity(
    tmp_path: Path,
) -> None:
    async with connect(tmp_path) as client:
        await call(client, "memory_store", key="notes/a", value={"text": "deploy on fridays"})
        plain = await call(client, "memory_search", query="deploy")
        tuned = await call(client, "memory_search", query="deploy", threshold=0.7, smart=True)
        out_of_range = await client.call_tool(
            "memory_search", {"query": "deploy", "threshold": 1.5}
        )

    assert tuned["results"] == plain["results"]  # no model: keyword search either way
    (hit,) = plain["results"]
    assert hit["value"] == {"text": "deploy on fridays"}
    assert hit["similarity"] is None  # a keyword match
    assert "threshold" in error_text(out_of_range)


async def test_list_pages_by_offset_with_values_when_asked(tmp_path: Path) -> None:
    async with connect(tmp_path) as client:
        for i in range(5):
            await call(client, "memory_store", key=f"team/{i}", value={"i": i})
        page = await call(client, "memory_list", namespace="team", limit=2, offset=3)
        with_values = await call(
            client, "memory_list", namespace="team", limit=1, include_values=True
        )
        both = await client.call_tool(
            "memory_list", {"offset": 1, "cursor": with_values["next_cursor"]}
        )

    assert [e["key"] for e in page["entries"]] == ["team/3", "team/4"]
    assert "value" not in page["entries"][0]
    assert with_values["entries"][0]["value"] == {"i": 0}
    assert "offset and cursor" in error_text(both)


async def test_cleanup_dry_run_and_namespace(tmp_path: Path, clock: ManualClock) -> None:
    async with connect(tmp_path, clock) as client:
        for key in ("session/a/1", "session/b/1", "knowledge/kept"):
            await call(client, "memory_store", key=key, value=1, ttl_seconds=10)
        clock.tick(11)
        preview = await call(client, "memory_cleanup", dryRun=True)
        same = await call(client, "memory_cleanup", dry_run=True, namespace="session/a")
        forced = await call(client, "memory_cleanup", dryRun=True, force=True)
        conflicting = await client.call_tool("memory_cleanup", {"dryRun": True, "dry_run": False})
        stats = await call(client, "memory_stats")
        scoped = await call(client, "memory_cleanup", namespace="session/a")
        rest = await call(client, "memory_cleanup", dryRun=False)

    assert (preview["dry_run"], preview["deleted_count"]) == (True, 0)
    assert preview["would_delete_count"] == 2
    assert preview["keys"] == ["session/a/1", "session/b/1"]
    assert same["keys"] == ["session/a/1"]
    assert forced["would_delete_count"] == 3  # knowledge/* is manual: only when forced
    assert "dryRun" in error_text(conflicting) and "dry_run" in error_text(conflicting)
    assert stats["total_entries"] == 3  # nothing deleted by a dry run
    assert (scoped["deleted_count"], scoped["dry_run"]) == (1, False)
    assert rest["deleted_count"] == 1 and rest["would_delete_count"] is None
