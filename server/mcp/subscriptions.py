"""Resource subscriptions fed by the store's change feed, so a subscriber hears about a
change whichever process made it.

Two ways to subscribe reach the same source:

- legacy ``resources/subscribe`` on ``memory://{key}`` (handshake-era clients): the
  server later sends ``notifications/resources/updated`` on that connection;
- ``subscriptions/listen`` (2026-07-28 clients): the SDK's ``ListenHandler`` serves it
  over a ``SubscriptionBus``. ``StoreEvents`` is our bus: the SDK's in-process fan-out
  to listen streams, fed by the change feed instead of by in-process publishers.

``ChangeFollower`` is the one background task (per server process) that follows the
feed, and only while somebody is subscribed: it long-polls ``changes()`` in a worker
thread and turns each change into a ``ResourceUpdated`` event for the listen streams
and a notification for each legacy subscriber of that key, plus one ``ResourcesListChanged``
per page of changes for the listen streams that asked for it (a resource's listing
carries its size, so any put may change the list, not only a new or deleted key; legacy
clients are not offered ``listChanged``). Its cursor survives idle
periods, so a change made between a subscription and the follower's wakeup is still
delivered (at worst a subscriber hears once about a change made just before it
subscribed: "updated" only ever means "read it again").
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

import anyio
import anyio.to_thread
from mcp.server.context import ServerRequestContext
from mcp.server.session import ServerSession
from mcp.server.subscriptions import ResourcesListChanged, ResourceUpdated, ServerEvent
from mcp.shared.exceptions import MCPError
from mcp_types import INVALID_PARAMS, EmptyResult, SubscribeRequestParams, UnsubscribeRequestParams

from lifecycle import CompactedError, LifecycleError, MemoryLifecycleManager
from lifecycle.basics.keys import validate_key

from .sdk import connection_of

URI_PREFIX = "memory://"
POLL_SECONDS = 5.0  # one long-poll; a change wakes it at once
RETRY_SECONDS = 1.0
PAGE = 500

log = logging.getLogger("memory_lifecycle.server")


def key_of(uri: str) -> str:
    """The key a ``memory://{key}`` URI names, or an invalid-params error saying why not."""
    if not uri.startswith(URI_PREFIX):
        raise MCPError(INVALID_PARAMS, f"cannot subscribe to {uri[:200]!r}: use memory://{{key}}")
    try:
        return validate_key(uri[len(URI_PREFIX) :])
    except LifecycleError as exc:
        raise MCPError(INVALID_PARAMS, f"cannot subscribe to {uri[:200]!r}: {exc}") from None


class StoreEvents:
    """The server's ``SubscriptionBus`` plus the legacy per-connection subscriptions."""

    def __init__(self) -> None:
        self._listeners: dict[object, Callable[[ServerEvent], None]] = {}
        self._legacy: dict[str, dict[object, ServerSession]] = {}  # uri -> connection -> session
        self._wake = anyio.Event()

    # -- SubscriptionBus

    async def publish(self, event: ServerEvent) -> None:
        self._deliver(event)
        await anyio.lowlevel.checkpoint()

    def subscribe(self, listener: Callable[[ServerEvent], None]) -> Callable[[], None]:
        token = object()
        self._listeners[token] = listener
        self._wake.set()

        def unsubscribe() -> None:
            self._listeners.pop(token, None)

        return unsubscribe

    # -- legacy resources/subscribe

    def add(self, uri: str, session: ServerSession) -> None:
        self._legacy.setdefault(uri, {})[connection_of(session)] = session
        self._wake.set()

    def remove(self, uri: str, session: ServerSession) -> None:
        subscribers = self._legacy.get(uri, {})
        subscribers.pop(connection_of(session), None)
        if not subscribers:
            self._legacy.pop(uri, None)

    # -- the follower's side

    @property
    def active(self) -> bool:
        return bool(self._listeners or self._legacy)

    async def wait_for_subscriber(self) -> None:
        while not self.active:
            self._wake = anyio.Event()
            await self._wake.wait()

    async def changed(self, key: str) -> None:
        """Tell every subscriber of ``key`` that it changed."""
        uri = URI_PREFIX + key
        self._deliver(ResourceUpdated(uri=uri))
        for connection, session in list(self._legacy.get(uri, {}).items()):
            try:
                await session.send_resource_updated(uri)
            except Exception as exc:  # a closed connection: forget its subscriptions
                log.info("dropping subscriptions of a closed connection (%s)", exc)
                self._drop(connection)

    def list_changed(self) -> None:
        """Tell the listen streams that asked for it that ``resources/list`` changed."""
        self._deliver(ResourcesListChanged())

    def _deliver(self, event: ServerEvent) -> None:
        for listener in list(self._listeners.values()):
            try:
                listener(event)
            except Exception:  # fan-out boundary: one bad listener must not starve others
                log.exception("subscription listener failed; continuing")

    def _drop(self, connection: object) -> None:
        for uri in list(self._legacy):
            self._legacy[uri].pop(connection, None)
            if not self._legacy[uri]:
                del self._legacy[uri]


class ChangeFollower:
    """Follows the change feed while anyone is subscribed and tells ``StoreEvents``."""

    def __init__(self, events: StoreEvents, manager: MemoryLifecycleManager) -> None:
        self._events = events
        self._manager = manager
        self.cursor: int | None = None

    async def start(self) -> None:
        """Take the starting cursor; the lifespan awaits this before the server serves,
        so every change after any subscription is after the cursor, however long the
        follower then idles."""
        await self._guarded(self._start)

    async def run(self) -> None:
        while self.cursor is None:  # (the store was unreachable at start: keep trying)
            await self._guarded(self._start)
        while True:
            await self._events.wait_for_subscriber()
            await self._guarded(self._follow_once)

    async def _guarded(self, step: Callable[[], Awaitable[None]]) -> None:
        try:
            await step()
        except CompactedError as exc:  # fell behind the log: resume at its oldest
            log.warning("change feed: %s", exc)
            self.cursor = exc.oldest - 1
        except LifecycleError as exc:  # e.g. the database is down: retry, keep the cursor
            log.warning("change feed unavailable, retrying: %s", exc)
            await anyio.sleep(RETRY_SECONDS)
        except Exception:  # a bug: say so, but keep the server (and its tools) serving
            log.exception("change feed follower failed; retrying")
            await anyio.sleep(RETRY_SECONDS)

    async def _start(self) -> None:
        head = (await self._call(since=None, wait_seconds=0))["next"]
        if self.cursor is None:  # (a subscription may have set it meanwhile)
            self.cursor = head

    def start_at(self, revision: int) -> None:
        """Called by a new legacy subscription (before it is added): with nobody
        subscribed before, older changes concern nobody, so the follower starts at
        ``revision`` instead of catching up on its idle time."""
        if not self._events.active:
            self.cursor = revision

    async def _follow_once(self) -> None:
        page = await self._call(since=self.cursor, wait_seconds=POLL_SECONDS)
        for change in page["changes"]:
            await self._events.changed(change["key"])
        if page["changes"]:
            self._events.list_changed()
        self.cursor = page["next"]

    async def _call(self, **kwargs: Any) -> Any:
        read = partial(self._manager.changes, limit=PAGE, **kwargs)
        return await anyio.to_thread.run_sync(read, abandon_on_cancel=True)


async def on_subscribe(
    ctx: ServerRequestContext[Any], params: SubscribeRequestParams
) -> EmptyResult:
    key_of(params.uri)
    state = ctx.lifespan_context
    head = await anyio.to_thread.run_sync(partial(state.manager.changes, limit=1))
    state.follower.start_at(head["next"])
    state.events.add(params.uri, ctx.session)
    return EmptyResult()


async def on_unsubscribe(
    ctx: ServerRequestContext[Any], params: UnsubscribeRequestParams
) -> EmptyResult:
    ctx.lifespan_context.events.remove(params.uri, ctx.session)
    return EmptyResult()
