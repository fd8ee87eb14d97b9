"""The coordination tools in process: memory_lock, memory_unlock, memory_changes, and the
if_revision / lock / lock_token fields of memory_store, memory_delete and batches."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client

from lifecycle import ManualClock
from server.mcp.server import build_server
from tests.support.server import bounded, error_text, structured

pytestmark = pytest.mark.anyio


@pytest.fixture(params=["legacy", "auto"])
def mode(request: pytest.FixtureRequest) -> str:
    return request.param


@asynccontextmanager
async def connect(
    tmp_path: Path, mode: str, clock: ManualClock | None = None
) -> AsyncIterator[Client]:
    server = build_server(memory_dir=tmp_path / "memory", clock=clock, maintenance_interval=0)
    with bounded():
        async with Client(server, mode=mode) as client:  # type: ignore[arg-type]
            yield client


async def call(client: Client, tool: str, **arguments: Any) -> dict[str, Any]:
    return structured(await client.call_tool(tool, arguments))


async def fail(client: Client, tool: str, **arguments: Any) -> str:
    return error_text(await client.call_tool(tool, arguments))


async def test_compare_and_set_over_mcp_reports_conflicts_without_writing(
    tmp_path: Path, mode: str
) -> None:
    async with connect(tmp_path, mode) as client:
        created = await call(
            client, "memory_store", key="swarm/claims/t9", value="a", if_revision=0
        )
        lost = await call(client, "memory_store", key="swarm/claims/t9", value="b", if_revision=0)
        got = await call(client, "memory_retrieve", key="swarm/claims/t9")
        listed = await call(client, "memory_list", prefix="swarm/")
        stale = await call(client, "memory_delete", key="swarm/claims/t9", if_revision=999)
        deleted = await call(
            client, "memory_delete", key="swarm/claims/t9", if_revision=got["revision"]
        )
    assert (created["stored"], created["conflict"]) == (True, None)
    assert created["revision"] > 0
    assert (lost["stored"], lost["conflict"], lost["value"]) == (False, "revision", "a")
    assert lost["revision"] == got["revision"] == created["revision"]
    assert listed["entries"][0]["revision"] == created["revision"]
    assert (stale["deleted"], stale["conflict"], stale["revision"]) == (
        False,
        "revision",
        created["revision"],
    )
    assert deleted["deleted"] and deleted["revision"] > created["revision"]


async def test_a_batch_with_one_stale_entry_writes_nothing(tmp_path: Path, mode: str) -> None:
    async with connect(tmp_path, mode) as client:
        await call(client, "memory_store", key="task/a", value=1)
        batch = await call(
            client,
            "memory_store_batch",
            entries=[
                {"key": "task/b", "value": 2},
                {"key": "task/a", "value": 3, "if_revision": 0},
            ],
        )
        b = await call(client, "memory_retrieve", key="task/b")
    assert [(r["stored"], r["conflict"]) for r in batch["results"]] == [
        (False, None),
        (False, "revision"),
    ]
    assert b["found"] is False


async def test_a_lock_round_trip_and_a_write_fenced_by_its_token(
    tmp_path: Path, mode: str, clock: ManualClock
) -> None:
    async with connect(tmp_path, mode, clock) as client:
        held = await call(client, "memory_lock", name="migration", ttl_seconds=30)
        other = await call(client, "memory_lock", name="migration", owner="agent-b")
        fenced = await call(
            client,
            "memory_store",
            key="knowledge/schema",
            value=5,
            lock="migration",
            lock_token=held["token"],
        )
        stats = await call(client, "memory_stats")
        released = await call(client, "memory_unlock", name="migration", token=held["token"])
        again = await call(client, "memory_unlock", name="migration", token=held["token"])
        late = await call(
            client,
            "memory_store",
            key="knowledge/schema",
            value=6,
            lock="migration",
            lock_token=held["token"],
        )
    assert held["acquired"] and held["token"] > 0 and held["expires_at"] == clock.time + 30
    assert (other["acquired"], other["owner"], other["token"]) == (False, held["owner"], None)
    assert fenced["stored"] is True
    assert stats["locks_held"] == 1 and stats["revision"] == fenced["revision"]
    assert (released["released"], again["released"]) == (True, False)
    assert (late["stored"], late["conflict"], late["value"]) == (False, "lock", 5)


@pytest.mark.parametrize(
    ("tool", "arguments", "message"),
    [
        ("memory_lock", {"name": "job", "ttl_seconds": -1}, "invalid ttl_seconds -1.0 for lock"),
        ("memory_lock", {"name": "job", "wait_seconds": 31}, "invalid wait_seconds 31.0"),
        ("memory_unlock", {"name": "job", "token": 77}, "unknown lock token 77"),
        ("memory_changes", {"since": -3}, "invalid since -3"),
        ("memory_changes", {"since": 10**6}, "latest revision is"),
        ("memory_store", {"key": "a", "value": 1, "lock": "job"}, "lock_token is missing"),
        ("memory_store", {"key": "a", "value": 1, "if_revision": -1}, "invalid if_revision"),
        ("memory_lock", {"name": "job", "ttl": 5}, "ttl"),
    ],
)
async def test_bad_coordination_input_is_an_error_result_and_changes_nothing(
    tmp_path: Path, tool: str, arguments: dict[str, Any], message: str
) -> None:
    async with connect(tmp_path, "legacy") as client:
        held = await call(client, "memory_lock", name="job", owner="keeper")
        assert message in await fail(client, tool, **arguments)
        stats = await call(client, "memory_stats")
        still = await call(client, "memory_lock", name="job", owner="keeper")
    assert (stats["total_entries"], stats["locks_held"]) == (0, 1)
    assert still["token"] == held["token"]


async def test_the_feed_starts_with_a_cursor_and_reports_each_change(
    tmp_path: Path, mode: str
) -> None:
    async with connect(tmp_path, mode) as client:
        start = await call(client, "memory_changes")
        await call(client, "memory_store", key="task/a", value=1)
        await call(client, "memory_delete", key="task/a")
        feed = await call(client, "memory_changes", since=start["next"], prefix="task/")
    assert start["changes"] == []
    assert [(c["key"], c["op"], c["policy"]) for c in feed["changes"]] == [
        ("task/a", "put", "default"),
        ("task/a", "delete", "default"),
    ]
    assert feed["next"] == feed["changes"][-1]["revision"]


async def test_a_long_poll_returns_as_soon_as_another_call_writes(tmp_path: Path) -> None:
    async with connect(tmp_path, "legacy") as client:
        start = await call(client, "memory_changes")
        result: dict[str, Any] = {}

        async def poll() -> None:
            result.update(
                await call(client, "memory_changes", since=start["next"], wait_seconds=20)
            )

        with anyio.fail_after(10):  # far less than the 20 s the poll would wait
            async with anyio.create_task_group() as tg:
                tg.start_soon(poll)
                await anyio.sleep(0.2)
                await call(client, "memory_store", key="task/late", value=1)
    assert [c["key"] for c in result["changes"]] == ["task/late"]
