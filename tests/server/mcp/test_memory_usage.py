"""claude-flow's MCP calls over real stdio: memory_usage per action, claude-flow's argument
names on memory_store and memory_list, and the error for a misspelt argument."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from tests.support.server import bounded, error_text, stdio_params, structured

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


async def call(client: Client, tool: str, **arguments: Any) -> dict[str, Any]:
    return structured(await client.call_tool(tool, arguments))


async def test_memory_usage_store_retrieve_list_delete_over_stdio(tmp_path: Path) -> None:
    with bounded():
        async with Client(stdio_params(tmp_path / "memory"), mode="legacy") as client:
            stored = await call(
                client,
                "memory_usage",
                action="store",
                key="agent1/status",
                value='{"state": "busy"}',
                namespace="coordination",
                ttl=120,
            )
            text = await call(client, "memory_usage", action="store", key="notes", value="plain")
            got = await call(
                client,
                "memory_usage",
                action="retrieve",
                key="agent1/status",
                namespace="coordination",
            )
            same = await call(client, "memory_retrieve", key="coordination/agent1/status")
            listed = await call(client, "memory_usage", action="list", namespace="coordination")
            deleted = await call(
                client,
                "memory_usage",
                action="delete",
                key="agent1/status",
                namespace="coordination",
            )
            gone = await call(
                client,
                "memory_usage",
                action="retrieve",
                key="agent1/status",
                namespace="coordination",
            )
            default_ns = await call(client, "memory_usage", action="retrieve", key="notes")

    assert stored["success"] is True and stored["stored"] is True
    assert (stored["action"], stored["full_key"], stored["policy"]) == (
        "store",
        "coordination/agent1/status",
        "coordination/*",
    )
    assert stored["expires_at"] == pytest.approx(same["updated_at"] + 120)  # ttl, not 1 h
    assert text["full_key"] == "notes"  # no namespace: claude-flow's "default", no prefix
    assert got["found"] is True and got["value"] == {"state": "busy"}  # JSON text decoded
    assert same["value"] == {"state": "busy"}  # one store for both calling styles
    assert listed["count"] == 1
    assert listed["entries"][0]["key"] == "agent1/status"
    assert listed["entries"][0]["value"] == {"state": "busy"}
    assert deleted["deleted"] is True
    assert gone["found"] is False and gone["value"] is None
    assert default_ns["value"] == "plain" and default_ns["namespace"] == "default"


async def test_memory_usage_search_matches_substrings_and_wildcards_as_claude_flow_does(
    tmp_path: Path,
) -> None:
    with bounded():
        async with Client(stdio_params(tmp_path / "memory")) as client:
            for key, value in (("auth", "use JWT tokens"), ("db", "use postgres"), ("k8s", 1)):
                await call(
                    client,
                    "memory_usage",
                    action="store",
                    key=key,
                    value=value,
                    namespace="decisions",
                )
            await call(client, "memory_usage", action="store", key="auth", value="JWT elsewhere")
            found = await call(
                client, "memory_usage", action="search", value="jwt", namespace="decisions"
            )
            letter = await call(
                client, "memory_usage", action="search", value="k", namespace="decisions"
            )
            wildcard = await call(
                client, "memory_usage", action="search", value="use*gres", namespace="decisions"
            )
            everything = await call(client, "memory_usage", action="search", value="*")
            no_pattern = await client.call_tool("memory_usage", {"action": "search"})

    assert found["pattern"] == "jwt" and found["count"] == 1
    assert [(r["key"], r["value"], r["namespace"]) for r in found["results"]] == [
        ("auth", "use JWT tokens", "decisions")
    ]
    assert found["results"][0]["full_key"] == "decisions/auth"
    assert [r["key"] for r in letter["results"]] == ["auth", "k8s"]  # tokens, k8s
    assert [r["key"] for r in wildcard["results"]] == ["db"]
    assert [r["key"] for r in everything["results"]] == [
        "auth",
        "decisions/auth",
        "decisions/db",
        "decisions/k8s",
    ]
    assert everything["namespace"] == "default" and everything["entries"] is None
    assert "needs a pattern" in error_text(no_pattern)


async def test_memory_usage_bad_calls_are_clear_error_results(tmp_path: Path) -> None:
    with bounded():
        async with Client(stdio_params(tmp_path / "memory")) as client:
            no_key = await client.call_tool("memory_usage", {"action": "store", "value": "x"})
            bad_action = await client.call_tool("memory_usage", {"action": "save", "key": "k"})
            still_ok = await call(client, "memory_usage", action="list")

    assert "needs a key" in error_text(no_key)
    assert "unknown action 'save'" in error_text(bad_action)
    assert "store, retrieve, list, delete, search" in error_text(bad_action)
    assert still_ok["count"] == 0


async def test_claude_flow_argument_names_on_memory_store_and_memory_list(tmp_path: Path) -> None:
    with bounded():
        async with Client(stdio_params(tmp_path / "memory"), mode="legacy") as client:
            stored = await call(
                client, "memory_store", key="status", value=1, namespace="swarm/shared", ttl=30
            )
            await call(client, "memory_store", key="knowledge/x", value=2)
            listed = await call(client, "memory_list", namespace="swarm/shared")
            within = await call(client, "memory_list", namespace="swarm", prefix="shared/st")
            both = await client.call_tool(
                "memory_store", {"key": "k", "value": 1, "ttl": 5, "ttl_seconds": 6}
            )

    assert stored["expires_at"] is not None
    retrieved_ttl = stored["expires_at"] - listed["entries"][0]["updated_at"]
    assert retrieved_ttl == pytest.approx(30)
    assert [e["key"] for e in listed["entries"]] == ["swarm/shared/status"]
    assert [e["key"] for e in within["entries"]] == ["swarm/shared/status"]
    assert "ttl" in error_text(both) and "ttl_seconds" in error_text(both)


async def test_claude_flow_v3_tags_and_upsert_on_memory_store(tmp_path: Path) -> None:
    with bounded():
        async with Client(stdio_params(tmp_path / "memory")) as client:
            first = await call(
                client,
                "memory_store",
                key="decisions/auth",
                value="JWT",
                tags=["adr"],
                upsert=False,
            )
            again = await call(
                client, "memory_store", key="decisions/auth", value="sessions", upsert=False
            )
            replaced = await call(
                client, "memory_store", key="decisions/auth", value="OAuth", upsert=True
            )
            found = await call(client, "memory_search", query="oauth", namespace="decisions")

    assert first["stored"] is True
    assert again["stored"] is False and again["conflict"] == "revision"  # create only
    assert again["value"] == "JWT"
    assert replaced["stored"] is True and replaced["value"] == "OAuth"
    assert [(r["key"], r["tags"]) for r in found["results"]] == [("decisions/auth", ["adr"])]


async def test_a_misspelt_argument_is_refused_naming_the_closest_valid_one(
    tmp_path: Path,
) -> None:
    with bounded():
        async with Client(stdio_params(tmp_path / "memory")) as client:
            typo = await client.call_tool(
                "memory_store", {"key": "knowledge/x", "value": 1, "ttl_second": 60}
            )
            usage_typo = await client.call_tool(
                "memory_usage", {"action": "store", "key": "x", "value": "v", "namepsace": "a"}
            )
            unknown = await client.call_tool(
                "memory_store", {"key": "knowledge/x", "value": 1, "overwrite": False}
            )
            stats = await call(client, "memory_stats")

    assert error_text(typo) == (
        "Error executing tool memory_store: unknown argument 'ttl_second'; "
        "did you mean 'ttl_seconds'?"
    )
    assert "unknown argument 'namepsace'; did you mean 'namespace'?" in error_text(usage_typo)
    assert "unknown argument 'overwrite'" in error_text(unknown)
    assert "validation error" not in error_text(unknown)  # no pydantic report
    assert stats["total_entries"] == 0  # nothing written by a refused call
