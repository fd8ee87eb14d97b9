"""Every tool and the memory:// resource, in process (``Client(server)``), in both
handshake modes: ``legacy`` (initialize, like editors today) and ``auto`` (2026-07-28)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError

from lifecycle import ManualClock
from server.mcp.server import SERVER_NAME, build_server
from tests.support.server import bounded, error_text, structured

pytestmark = pytest.mark.anyio

TOOL_NAMES = {
    "memory_store",
    "memory_retrieve",
    "memory_delete",
    "memory_list",
    "memory_cleanup",
    "memory_stats",
    "hook_session_end",
    "hook_pre_task",
    "memory_store_batch",
    "memory_usage",
    "memory_search",
    "memory_lock",
    "memory_unlock",
    "memory_changes",
}


@pytest.fixture(params=["legacy", "auto"])
def mode(request: pytest.FixtureRequest) -> str:
    return request.param


@asynccontextmanager
async def connect(
    tmp_path: Path, mode: str, clock: ManualClock | None = None, **options: Any
) -> AsyncIterator[Client]:
    server = build_server(
        memory_dir=tmp_path / "memory", clock=clock, maintenance_interval=0, **options
    )
    with bounded():
        async with Client(server, mode=mode) as client:  # type: ignore[arg-type]
            yield client


async def call(client: Client, tool: str, **arguments: Any) -> dict[str, Any]:
    return structured(await client.call_tool(tool, arguments))


async def test_server_lists_exactly_the_designed_tools_with_schemas_and_hints(
    tmp_path: Path, mode: str
) -> None:
    async with connect(tmp_path, mode) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
    assert set(tools) == TOOL_NAMES
    for tool in tools.values():
        assert tool.description and len(tool.description) > 40, tool.name
        assert tool.output_schema is not None, tool.name
        assert tool.annotations is not None, tool.name
    for name in (
        "memory_retrieve",
        "memory_list",
        "memory_stats",
        "memory_search",
        "memory_changes",
    ):
        assert tools[name].annotations.read_only_hint is True, name
    for name in ("memory_delete", "memory_cleanup"):
        assert tools[name].annotations.destructive_hint is True, name
    for name in ("hook_session_end", "hook_pre_task"):
        assert tools[name].annotations.idempotent_hint is True, name
    assert tools["memory_store"].annotations.read_only_hint is False
    store_inputs = tools["memory_store"].input_schema["properties"]
    assert {"key", "value", "namespace", "ttl_seconds", "timestamp", "agent_id", "op_id"} <= set(
        store_inputs
    )
    assert tools["memory_store"].input_schema["required"] == ["key", "value"]
    assert set(tools["memory_retrieve"].input_schema["properties"]) == {"key", "namespace"}
    assert {"found", "key", "value", "conflicts", "context", "expires_at", "updated_at"} <= set(
        tools["memory_retrieve"].output_schema["properties"]
    )


async def test_server_identifies_itself_as_memory_lifecycle(tmp_path: Path) -> None:
    server = build_server(memory_dir=tmp_path / "memory", maintenance_interval=0)
    assert server.name == SERVER_NAME == "memory-lifecycle"
    with bounded():
        async with Client(server, mode="legacy") as client:
            assert client.session.server_info.name == "memory-lifecycle"  # type: ignore[union-attr]


async def test_store_then_retrieve_returns_the_value_with_its_lifecycle(
    tmp_path: Path, mode: str, clock: ManualClock
) -> None:
    async with connect(tmp_path, mode, clock) as client:
        stored = await call(
            client, "memory_store", key="coordination/agent1/status", value={"step": 3}
        )
        got = await call(client, "memory_retrieve", key="coordination/agent1/status")
    assert stored["stored"] is True
    assert stored["key"] == "coordination/agent1/status"
    assert stored["policy"] == "coordination/*"
    assert stored["expires_at"] == pytest.approx(clock.now() + 3600, abs=1)
    assert stored["compressed"] is False
    assert stored["value"] == {"step": 3}
    assert got["found"] is True
    assert got["value"] == {"step": 3}
    assert got["conflicts"] == []
    assert got["expires_at"] == stored["expires_at"]
    assert got["updated_at"] == pytest.approx(clock.now(), abs=1)
    assert got["actor"]


@pytest.mark.parametrize("value", [[1, "two", None], "plain text", 42, 2.5, True, None, {}])
async def test_any_json_value_round_trips(tmp_path: Path, value: Any) -> None:
    async with connect(tmp_path, "legacy") as client:
        await call(client, "memory_store", key="knowledge/x", value=value)
        got = await call(client, "memory_retrieve", key="knowledge/x")
    assert got["found"] is True
    assert got["value"] == value


async def test_namespace_argument_prefixes_the_key_once(tmp_path: Path, mode: str) -> None:
    async with connect(tmp_path, mode) as client:
        stored = await call(
            client, "memory_store", key="agent1/status", value="ok", namespace="coordination"
        )
        again = await call(
            client,
            "memory_store",
            key="coordination/agent1/status",
            value="ok2",
            namespace="coordination",
        )
        plain = await call(client, "memory_retrieve", key="coordination/agent1/status")
        via_ns = await call(
            client, "memory_retrieve", key="agent1/status", namespace="coordination"
        )
        deleted = await call(client, "memory_delete", key="agent1/status", namespace="coordination")
        gone = await call(client, "memory_retrieve", key="coordination/agent1/status")
    assert stored["key"] == again["key"] == "coordination/agent1/status"
    assert plain["value"] == via_ns["value"] == "ok2"
    assert deleted == {
        "deleted": True,
        "key": "coordination/agent1/status",
        "revision": deleted["revision"],
        "conflict": None,
    }
    assert deleted["revision"] > 0
    assert gone["found"] is False


async def test_retrieving_a_missing_key_reports_not_found_without_an_error(
    tmp_path: Path, mode: str
) -> None:
    async with connect(tmp_path, mode) as client:
        result = await client.call_tool("memory_retrieve", {"key": "knowledge/never-stored"})
    assert result.is_error is False
    assert result.structured_content["found"] is False
    assert result.structured_content["key"] == "knowledge/never-stored"
    assert result.structured_content["value"] is None


async def test_an_expired_entry_is_not_found(tmp_path: Path, clock: ManualClock) -> None:
    async with connect(tmp_path, "legacy", clock) as client:
        await call(client, "memory_store", key="session/s1/x", value=1)
        clock.tick(3601)
        got = await call(client, "memory_retrieve", key="session/s1/x")
    assert got["found"] is False


async def test_delete_reports_whether_there_was_something_to_delete(
    tmp_path: Path, mode: str
) -> None:
    async with connect(tmp_path, mode) as client:
        await call(client, "memory_store", key="knowledge/a", value=1)
        first = await call(client, "memory_delete", key="knowledge/a")
        second = await call(client, "memory_delete", key="knowledge/a")
        got = await call(client, "memory_retrieve", key="knowledge/a")
    assert first["deleted"] is True
    assert second["deleted"] is False
    assert got["found"] is False


async def test_list_pages_through_a_prefix_with_the_cursor(tmp_path: Path, mode: str) -> None:
    async with connect(tmp_path, mode) as client:
        for i in range(5):
            await call(client, "memory_store", key=f"knowledge/k{i}", value=i)
        await call(client, "memory_store", key="coordination/other", value=0)
        first = await call(client, "memory_list", prefix="knowledge/", limit=2)
        second = await call(
            client, "memory_list", prefix="knowledge/", limit=2, cursor=first["next_cursor"]
        )
        third = await call(
            client, "memory_list", prefix="knowledge/", limit=2, cursor=second["next_cursor"]
        )
        everything = await call(client, "memory_list")
    keys = [e["key"] for page in (first, second, third) for e in page["entries"]]
    assert keys == [f"knowledge/k{i}" for i in range(5)]
    assert third["next_cursor"] is None
    entry = first["entries"][0]
    assert set(entry) == {
        "key",
        "policy",
        "size_bytes",
        "expires_at",
        "updated_at",
        "tags",
        "revision",
    }
    assert entry["policy"] == "knowledge/*"
    assert entry["expires_at"] is None
    assert len(everything["entries"]) == 6


async def test_cleanup_deletes_expired_entries_and_reports_them(
    tmp_path: Path, mode: str, clock: ManualClock
) -> None:
    async with connect(tmp_path, mode, clock) as client:
        await call(client, "memory_store", key="coordination/a", value=1)
        await call(client, "memory_store", key="coordination/b", value=2)
        await call(client, "memory_store", key="knowledge/kept", value=3)
        before = await call(client, "memory_stats")
        clock.tick(3601)
        pending = await call(client, "memory_stats")
        report = await call(client, "memory_cleanup")
        after = await call(client, "memory_stats")
    assert before["expired_pending"] == 0
    assert pending["expired_pending"] == 2
    assert report["deleted_count"] == 2
    assert report["by_namespace"] == {"coordination/*": 2}
    assert report["duration_ms"] >= 0
    assert after["total_entries"] == 1
    assert after["expired_pending"] == 0


async def test_forced_cleanup_includes_manual_policies(tmp_path: Path, clock: ManualClock) -> None:
    async with connect(tmp_path, "legacy", clock) as client:
        await call(client, "memory_store", key="knowledge/short", value=1, ttl_seconds=10)
        clock.tick(11)
        normal = await call(client, "memory_cleanup")
        forced = await call(client, "memory_cleanup", force=True)
    assert normal["deleted_count"] == 0
    assert forced["deleted_count"] == 1
    assert forced["forced"] is True


async def test_stats_count_entries_per_policy_pattern(tmp_path: Path, mode: str) -> None:
    async with connect(tmp_path, mode) as client:
        await call(client, "memory_store", key="coordination/a", value="x" * 5000)
        await call(client, "memory_store", key="knowledge/b", value=1)
        await call(client, "memory_store", key="unclassified/c", value=1)
        stats = await call(client, "memory_stats")
    assert stats["total_entries"] == 3
    assert stats["compressed_entries"] == 1
    assert stats["namespace_counts"]["coordination/*"] == 1
    assert stats["namespace_counts"]["knowledge/*"] == 1
    assert stats["namespace_counts"]["default"] == 1
    assert stats["total_bytes"] > stats["stored_bytes"] > 0
    assert stats["expired_pending"] == 0


async def test_session_end_hook_removes_the_sessions_entries(tmp_path: Path, mode: str) -> None:
    async with connect(tmp_path, mode) as client:
        await call(client, "memory_store", key="session/s1", value=1)
        await call(client, "memory_store", key="session/s1/notes", value=2)
        await call(client, "memory_store", key="coordination/s1/status", value=3)
        await call(client, "memory_store", key="session/s2/notes", value=4)
        report = await call(client, "hook_session_end", session_id="s1")
        again = await call(client, "hook_session_end", session_id="s1")
        other = await call(client, "memory_retrieve", key="session/s2/notes")
    assert report["deleted_count"] == 3
    assert sorted(report["deleted_keys"]) == [
        "coordination/s1/status",
        "session/s1",
        "session/s1/notes",
    ]
    assert again["deleted_count"] == 0
    assert other["found"] is True


async def test_pre_task_hook_collects_expired_coordination_data(
    tmp_path: Path, mode: str, clock: ManualClock
) -> None:
    async with connect(tmp_path, mode, clock) as client:
        await call(client, "memory_store", key="coordination/old", value=1)
        clock.tick(3601)
        await call(client, "memory_store", key="coordination/fresh", value=2)
        report = await call(client, "hook_pre_task", task_id="t1", description="build")
        fresh = await call(client, "memory_retrieve", key="coordination/fresh")
    assert report["deleted_count"] == 1
    assert report["deleted_keys"] == ["coordination/old"]
    assert report["task_id"] == "t1"
    assert fresh["found"] is True


async def test_batch_stores_every_entry_and_reports_each(tmp_path: Path, mode: str) -> None:
    entries = [
        {"key": "knowledge/a", "value": 1},
        {"key": "b", "value": [2], "namespace": "coordination"},
        {"key": "metrics/hits", "value": 5, "op_id": "op-1"},
    ]
    async with connect(tmp_path, mode) as client:
        batch = await call(client, "memory_store_batch", entries=entries)
        b = await call(client, "memory_retrieve", key="coordination/b")
    assert batch["count"] == 3
    assert [r["key"] for r in batch["results"]] == ["knowledge/a", "coordination/b", "metrics/hits"]
    assert all(r["stored"] for r in batch["results"])
    assert batch["results"][2]["strategy"] == "counter"
    assert b["value"] == [2]


async def test_a_batch_with_one_bad_entry_writes_nothing(tmp_path: Path, mode: str) -> None:
    entries = [{"key": "knowledge/ok", "value": 1}, {"key": "knowledge//bad", "value": 2}]
    async with connect(tmp_path, mode) as client:
        result = await client.call_tool("memory_store_batch", {"entries": entries})
        ok = await call(client, "memory_retrieve", key="knowledge/ok")
    assert "knowledge//bad" in error_text(result)
    assert ok["found"] is False


async def test_a_batch_over_1000_entries_is_refused(tmp_path: Path) -> None:
    entries = [{"key": f"knowledge/k{i}", "value": i} for i in range(1001)]
    async with connect(tmp_path, "legacy") as client:
        result = await client.call_tool("memory_store_batch", {"entries": entries})
        stats = await call(client, "memory_stats")
    assert "1000" in error_text(result)
    assert stats["total_entries"] == 0


async def test_engine_errors_come_back_as_error_results_and_serving_continues(
    tmp_path: Path, mode: str
) -> None:
    async with connect(tmp_path, mode) as client:
        bad_key = await client.call_tool("memory_store", {"key": "a//b", "value": 1})
        bad_ttl = await client.call_tool(
            "memory_store", {"key": "knowledge/x", "value": 1, "ttl_seconds": -5}
        )
        bad_counter = await client.call_tool("memory_store", {"key": "metrics/n", "value": "x"})
        bad_cursor = await client.call_tool("memory_list", {"cursor": "%%%"})
        bad_session = await client.call_tool("hook_session_end", {"session_id": "a/b"})
        schema_error = await client.call_tool("memory_retrieve", {})
        ok = await call(client, "memory_store", key="knowledge/x", value=1)
    assert "invalid key 'a//b': empty path segment; use 'a/b'" in error_text(bad_key)
    assert "ttl_seconds" in error_text(bad_ttl)
    assert "metrics/n" in error_text(bad_counter)
    assert "cursor" in error_text(bad_cursor)
    assert "session id" in error_text(bad_session)
    assert "key" in error_text(schema_error)
    for result in (bad_key, bad_ttl, bad_counter, bad_cursor, bad_session):
        assert "Error executing tool" in error_text(result)
        assert error_text(result) != "Error executing tool"  # the engine's message is kept
    assert ok["stored"] is True


async def test_a_rejected_store_changes_nothing(tmp_path: Path) -> None:
    async with connect(tmp_path, "legacy") as client:
        await call(client, "memory_store", key="knowledge/x", value="kept")
        rejected = await client.call_tool(
            "memory_store", {"key": "knowledge/x", "value": "new", "ttl_seconds": -1}
        )
        got = await call(client, "memory_retrieve", key="knowledge/x")
    assert rejected.is_error
    assert got["value"] == "kept"


async def test_an_older_write_loses_and_says_so(tmp_path: Path, clock: ManualClock) -> None:
    async with connect(tmp_path, "legacy", clock) as client:
        await call(client, "memory_store", key="knowledge/doc", value="new", timestamp=clock.now())
        late = await call(
            client, "memory_store", key="knowledge/doc", value="old", timestamp=clock.now() - 60
        )
    # knowledge/* is multi_value: an older concurrent write is kept as a sibling...
    assert late["stored"] is True
    async with connect(tmp_path, "legacy", clock) as client:
        await call(client, "memory_store", key="coordination/s", value="new", timestamp=clock.now())
        lost = await call(
            client, "memory_store", key="coordination/s", value="old", timestamp=clock.now() - 60
        )
    # ...while lww keeps the newest: the late write is reported as not stored
    assert lost["stored"] is False
    assert lost["value"] == "new"


async def test_counter_stores_add_up_and_a_retried_op_id_counts_once(
    tmp_path: Path, mode: str
) -> None:
    async with connect(tmp_path, mode) as client:
        await call(client, "memory_store", key="metrics/tasks", value=2, op_id="a")
        second = await call(client, "memory_store", key="metrics/tasks", value=3, op_id="b")
        retry = await call(client, "memory_store", key="metrics/tasks", value=3, op_id="b")
    assert second["value"] == 5
    assert retry["value"] == 5
    assert retry["duplicate"] is True
    assert retry["stored"] is True


async def test_multi_value_conflicts_resolve_with_the_context_token(
    tmp_path: Path, mode: str
) -> None:
    async with connect(tmp_path, mode) as client:
        await call(client, "memory_store", key="swarm/shared/plan", value="A", agent_id="a1")
        await call(client, "memory_store", key="swarm/shared/plan", value="B", agent_id="a2")
        both = await call(client, "memory_retrieve", key="swarm/shared/plan")
        await call(
            client,
            "memory_store",
            key="swarm/shared/plan",
            value="merged",
            agent_id="a3",
            context=both["context"],
        )
        resolved = await call(client, "memory_retrieve", key="swarm/shared/plan")
    assert {both["value"], *(c["value"] for c in both["conflicts"])} == {"A", "B"}
    assert len(both["conflicts"]) == 1
    assert set(both["conflicts"][0]) == {"value", "actor", "timestamp"}
    assert both["context"]
    assert resolved["value"] == "merged"
    assert resolved["conflicts"] == []


async def test_entries_are_readable_as_memory_resources_with_slashes_in_the_key(
    tmp_path: Path, mode: str
) -> None:
    async with connect(tmp_path, mode) as client:
        await call(client, "memory_store", key="coordination/agent1/status", value={"ok": True})
        templates = (await client.list_resource_templates()).resource_templates
        read = await client.read_resource("memory://coordination/agent1/status")
        with pytest.raises(MCPError, match="coordination/agent1/missing"):
            await client.read_resource("memory://coordination/agent1/missing")
        with pytest.raises(MCPError, match="empty path segment"):
            await client.read_resource("memory://coordination//x")
        still = await call(client, "memory_retrieve", key="coordination/agent1/status")
    assert [t.uri_template for t in templates] == ["memory://{+key}"]
    (content,) = read.contents
    assert content.mime_type == "application/json"
    assert '"value": {"ok": true}' in content.text  # type: ignore[union-attr]
    assert '"key": "coordination/agent1/status"' in content.text  # type: ignore[union-attr]
    assert still["found"] is True


async def test_two_servers_on_one_store_see_each_others_writes_at_once(tmp_path: Path) -> None:
    first = build_server(memory_dir=tmp_path / "memory", maintenance_interval=0)
    second = build_server(memory_dir=tmp_path / "memory", maintenance_interval=0)
    with bounded():
        async with Client(first) as a, Client(second) as b:
            await call(a, "memory_store", key="coordination/shared", value=1)
            seen = await call(b, "memory_retrieve", key="coordination/shared")
            await call(b, "memory_store", key="coordination/shared", value=2, agent_id="b")
            updated = await call(a, "memory_retrieve", key="coordination/shared")
            await call(b, "memory_delete", key="coordination/shared")
            gone = await call(a, "memory_retrieve", key="coordination/shared")
    assert seen["value"] == 1
    assert updated["value"] == 2
    assert gone["found"] is False


async def test_the_benchmark_noop_tool_exists_only_when_asked(tmp_path: Path) -> None:
    async with connect(tmp_path, "legacy") as client:
        plain = {t.name for t in (await client.list_tools()).tools}
    async with connect(tmp_path, "legacy", bench_noop=True) as client:
        with_noop = {t.name for t in (await client.list_tools()).tools}
        noop = await call(client, "bench_noop")
    assert "bench_noop" not in plain
    assert with_noop == TOOL_NAMES | {"bench_noop"}
    assert noop == {"ok": True}


async def test_concurrent_calls_run_in_worker_threads_without_losing_updates(
    tmp_path: Path, mode: str
) -> None:
    async with connect(tmp_path, mode) as client:

        async def add_one(i: int) -> None:
            result = await client.call_tool(
                "memory_store", {"key": "metrics/hits", "value": 1, "op_id": f"op-{i}"}
            )
            assert not result.is_error, result.content

        async with anyio.create_task_group() as tg:
            for i in range(40):
                tg.start_soon(add_one, i)
        total = await call(client, "memory_retrieve", key="metrics/hits")
    assert total["value"] == 40
