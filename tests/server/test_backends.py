"""The server over every storage backend: SQLite always, PostgreSQL when
``MEMORY_LIFECYCLE_TEST_POSTGRES`` names a server (CI requires it)."""

from __future__ import annotations

from pathlib import Path

import pytest
from mcp import Client, StdioServerParameters

from lifecycle import ManualClock
from server.mcp.server import build_server
from tests.support.env import child_env
from tests.support.server import PYTHON, bounded, structured
from tests.support.store import (  # noqa: F401  (fixtures)
    backend_fixture,
    store_url_factory_fixture,
    store_url_fixture,
)

pytestmark = pytest.mark.anyio


async def test_every_tool_works_on_the_backend(store_url: str, clock: ManualClock) -> None:
    server = build_server(store=store_url, clock=clock, maintenance_interval=0)
    with bounded():
        async with Client(server) as client:

            async def call(tool: str, **arguments: object) -> dict:
                return structured(await client.call_tool(tool, arguments))

            batch = await call(
                "memory_store_batch",
                entries=[{"key": f"coordination/s1/k{i}", "value": i} for i in range(3)],
            )
            stored = await call("memory_store", key="knowledge/doc", value={"v": 1})
            got = await call("memory_retrieve", key="knowledge/doc")
            listed = await call("memory_list", prefix="coordination/", limit=2)
            stats = await call("memory_stats")
            deleted = await call("memory_delete", key="knowledge/doc")
            clock.tick(3601)
            pre_task = await call("hook_pre_task", task_id="t")
            await call("memory_store", key="session/s2", value=1)
            session = await call("hook_session_end", session_id="s2")
            cleanup = await call("memory_cleanup", force=True)
    assert batch["count"] == 3 and stored["stored"] is True
    assert got["value"] == {"v": 1}
    assert len(listed["entries"]) == 2 and listed["next_cursor"]
    assert stats["total_entries"] == 4
    assert deleted["deleted"] is True
    assert pre_task["deleted_count"] == 3
    assert session["deleted_keys"] == ["session/s2"]
    assert cleanup["deleted_count"] == 0


@pytest.mark.slow
async def test_two_server_processes_share_one_store_of_the_backend(
    store_url: str, tmp_path: Path
) -> None:
    params = StdioServerParameters(
        command=PYTHON, args=["-m", "server", "--store", store_url], env=child_env()
    )
    with bounded():
        async with Client(params) as a, Client(params) as b:
            await a.call_tool("memory_store", {"key": "coordination/x", "value": "from a"})
            seen = structured(await b.call_tool("memory_retrieve", {"key": "coordination/x"}))
            await b.call_tool("memory_delete", {"key": "coordination/x"})
            gone = structured(await a.call_tool("memory_retrieve", {"key": "coordination/x"}))
    assert seen["value"] == "from a"
    assert gone["found"] is False
