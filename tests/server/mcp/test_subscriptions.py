"""Resource subscriptions and resources/list, in process and over real stdio.

A write "from another process" in process is a second ``MemoryLifecycleManager`` on the
same store: it shares nothing with the server but the store, exactly like another
agent's server. The stdio tests use a real second server process.
"""

from __future__ import annotations

import warnings
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import mcp_types as types
import pytest
from mcp import Client, StdioServerParameters
from mcp.shared.exceptions import MCPError
from mcp.shared.subscriptions import ResourcesListChanged

from lifecycle import MemoryLifecycleManager
from server.mcp.server import build_server
from tests.support.env import child_env
from tests.support.server import PYTHON, bounded, structured
from tests.support.store import (  # noqa: F401  (fixtures register under their pytest names)
    UrlFactory,
    backend_fixture,
    store_url_factory_fixture,
    store_url_fixture,
)

pytestmark = pytest.mark.anyio

URI = "memory://swarm/results/build"
NOTIFY_TIMEOUT = 10.0


class Updates:
    """Collects the URIs of ``notifications/resources/updated`` a client receives."""

    def __init__(self) -> None:
        self.send, self.receive = anyio.create_memory_object_stream[str](100)

    async def __call__(self, message: Any) -> None:
        if isinstance(message, types.ResourceUpdatedNotification):
            await self.send.send(str(message.params.uri))

    async def next(self) -> str:
        with anyio.fail_after(NOTIFY_TIMEOUT):
            return await self.receive.receive()


@asynccontextmanager
async def legacy_client(store_url: str, updates: Updates) -> AsyncIterator[Client]:
    server = build_server(store=store_url, maintenance_interval=0)
    with bounded():
        async with Client(server, mode="legacy", message_handler=updates) as client:
            yield client


async def subscribe(client: Client, uri: str) -> None:
    with warnings.catch_warnings():  # deprecated in the 2026-07-28 protocol, still served
        warnings.simplefilter("ignore")
        await client.subscribe_resource(uri)


async def unsubscribe(client: Client, uri: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        await client.unsubscribe_resource(uri)


def write_elsewhere(store_url: str, key: str, value: Any) -> None:
    with MemoryLifecycleManager(store=store_url, agent_id="elsewhere") as other:
        other.store(key, value)


async def test_a_subscriber_hears_about_a_change_made_by_another_process(
    store_url: str,
) -> None:
    updates = Updates()
    async with legacy_client(store_url, updates) as client:
        await subscribe(client, URI)
        await anyio.to_thread.run_sync(write_elsewhere, store_url, "swarm/results/build", "ok")
        assert await updates.next() == URI
        await anyio.to_thread.run_sync(write_elsewhere, store_url, "swarm/results/other", 1)
        await client.call_tool("memory_delete", {"key": "swarm/results/build"})  # ours too
        assert await updates.next() == URI  # the other key was not subscribed: not heard


async def test_after_unsubscribing_a_key_is_no_longer_reported(store_url: str) -> None:
    updates = Updates()
    async with legacy_client(store_url, updates) as client:
        await subscribe(client, URI)
        await subscribe(client, "memory://swarm/results/test")
        await unsubscribe(client, URI)
        await client.call_tool("memory_store", {"key": "swarm/results/build", "value": 1})
        await client.call_tool("memory_store", {"key": "swarm/results/test", "value": 1})
        assert await updates.next() == "memory://swarm/results/test"  # and not build first


@pytest.mark.parametrize("uri", ["memory://a//b", "file:///etc/passwd"])
async def test_subscribing_to_something_that_is_not_an_entry_is_refused(
    store_url: str, uri: str
) -> None:
    async with legacy_client(store_url, Updates()) as client:
        with pytest.raises(MCPError, match="cannot subscribe to"):
            await subscribe(client, uri)


async def test_a_listen_stream_receives_changes_made_by_another_process(
    store_url: str,
) -> None:
    server = build_server(store=store_url, maintenance_interval=0)
    with bounded():
        async with (
            Client(server) as client,
            client.listen(resource_subscriptions=[URI]) as events,
        ):
            await anyio.to_thread.run_sync(write_elsewhere, store_url, "swarm/results/x", 1)
            await anyio.to_thread.run_sync(write_elsewhere, store_url, "swarm/results/build", 2)
            with anyio.fail_after(NOTIFY_TIMEOUT):
                event = await events.__anext__()
    assert event.uri == URI  # type: ignore[union-attr]


async def test_a_listen_stream_that_asks_hears_that_the_resource_list_changed(
    store_url: str,
) -> None:
    server = build_server(store=store_url, maintenance_interval=0)
    with bounded():
        async with (
            Client(server) as client,
            client.listen(resources_list_changed=True) as events,
        ):
            before = await client.list_resources()
            await anyio.to_thread.run_sync(write_elsewhere, store_url, "swarm/results/new", 1)
            with anyio.fail_after(NOTIFY_TIMEOUT):
                event = await events.__anext__()
            after = await client.list_resources()
    assert isinstance(event, ResourcesListChanged)
    assert [r.uri for r in after.resources] == [
        *(r.uri for r in before.resources),
        "memory://swarm/results/new",
    ]


async def test_resources_list_pages_through_the_live_entries(store_url: str) -> None:
    with MemoryLifecycleManager(store=store_url) as m:
        m.store_many([{"key": f"task/{i:03d}", "value": i} for i in range(150)])
        m.store("task/gone", 1)
        m.delete("task/gone")
    server = build_server(store=store_url, maintenance_interval=0)
    with bounded():
        async with Client(server, mode="legacy") as client:
            first = await client.list_resources()
            second = await client.list_resources(cursor=first.next_cursor)
            with pytest.raises(MCPError, match="invalid cursor"):
                await client.list_resources(cursor="not a cursor!")
    assert len(first.resources) == 100 and first.next_cursor
    assert second.next_cursor is None
    uris = [r.uri for r in (*first.resources, *second.resources)]
    assert uris == [f"memory://task/{i:03d}" for i in range(150)]
    assert first.resources[0].mime_type == "application/json"


# ---------------------------------------------------------------- real stdio, two servers


def stdio(store_url: str, agent: str) -> StdioServerParameters:
    return StdioServerParameters(
        command=PYTHON,
        args=["-m", "server", "--store", store_url, "serve", "--maintenance-interval", "0"],
        env=child_env(MEMORY_LIFECYCLE_AGENT_ID=agent),
    )


@pytest.mark.slow
async def test_a_subscriber_over_stdio_hears_about_a_write_made_through_another_server(
    store_url: str,
) -> None:
    updates = Updates()
    with anyio.fail_after(60):
        async with (
            Client(stdio(store_url, "watcher"), mode="legacy", message_handler=updates) as a,
            Client(stdio(store_url, "writer"), mode="legacy") as b,
        ):
            await subscribe(a, URI)
            written = structured(
                await b.call_tool("memory_store", {"key": "swarm/results/build", "value": "ok"})
            )
            assert await updates.next() == URI
            seen = structured(await a.call_tool("memory_retrieve", {"key": "swarm/results/build"}))
    assert (seen["value"], seen["revision"]) == ("ok", written["revision"])
