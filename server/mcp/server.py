"""``build_server()``: the MCP server ``memory-lifecycle`` over the engine.

A thin facade: the lifespan opens the engine and starts background
maintenance, tools and resources call the engine, ``transports.serve`` picks the
transport. Building a server opens nothing; each lifespan (once per process
over stdio, once per in-process test client) opens its own engine.
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from typing import TYPE_CHECKING

import anyio
from mcp.server.mcpserver import MCPServer
from mcp_types import SetLevelRequestParams

from lifecycle import MemoryLifecycleManager, __version__
from lifecycle.basics.clock import Clock
from lifecycle.store.base import Store
from lifecycle.store.url import redact_url

from ..background.first_answer import FirstAnswer
from ..background.indexing import BackgroundIndexer
from ..background.scheduler import MaintenanceScheduler, resolve_interval
from . import sdk
from .client_logs import ClientLogs
from .errors import tool_name_check
from .lifespan_state import AppState
from .resources import register_resources
from .subscriptions import ChangeFollower, StoreEvents

if TYPE_CHECKING:
    from anyio.abc import TaskGroup
    from mcp.server.mcpserver.tools import Tool

SERVER_NAME = "memory-lifecycle"
SHUTDOWN_WAIT_SECONDS = 1.0
PROMPT_METHODS = ("prompts/list", "prompts/get")
STOPPED_MESSAGE = "memory-lifecycle stopped: maintenance shut down, store closed"

log = logging.getLogger("memory_lifecycle.server")

INSTRUCTIONS = """\
Shared memory for agents that coordinate: store JSON values under '/'-separated keys
(e.g. coordination/<agent>/status, swarm/shared/<topic>, knowledge/<topic>). Each key's
retention policy, matched by pattern, decides when it expires and how concurrent writes
merge. Read with memory_retrieve (found=false when absent), browse with memory_list,
call hook_session_end when a session ends and hook_pre_task before a task."""


def build_server(
    memory_dir: str | os.PathLike[str] | None = None,
    policy_file: str | os.PathLike[str] | None = None,
    store: str | os.PathLike[str] | Store | None = None,
    *,
    maintenance_interval: float | None = None,
    clock: Clock | None = None,
    bench_noop: bool | None = None,
    first_answer: FirstAnswer | None = None,
) -> MCPServer[AppState]:
    """A configured server; the engine opens when a client connects (the lifespan).

    ``maintenance_interval`` in seconds (0 disables it) defaults to
    ``MEMORY_LIFECYCLE_MAINTENANCE_SECONDS``, else 300. ``bench_noop`` adds the
    benchmark's no-op tool (default: ``MEMORY_LIFECYCLE_BENCH_NOOP``). With
    ``first_answer`` (the stdio transport's), maintenance and indexing start once the
    first request is answered, so they do not slow the ``initialize`` answer down.
    """
    interval = resolve_interval(maintenance_interval)
    events = StoreEvents()  # the subscription bus: fed by the store's change feed
    client_logs = ClientLogs()  # log lines for the clients that call logging/setLevel

    @asynccontextmanager
    async def lifespan(_: MCPServer[AppState]) -> AsyncIterator[AppState]:
        open_manager = partial(MemoryLifecycleManager, memory_dir, policy_file, store, clock=clock)
        manager = await anyio.to_thread.run_sync(open_manager)
        maintenance = MaintenanceScheduler(manager, interval)
        follower = ChangeFollower(events, manager)
        indexer = BackgroundIndexer(manager)  # search by meaning: embeds off the write path
        await follower.start()
        try:
            async with anyio.create_task_group() as background:
                background.start_soon(follower.run)
                background.start_soon(client_logs.run)
                if first_answer is None:
                    background.start_soon(indexer.run)
                    maintenance.start()
                else:
                    background.start_soon(
                        _start_after, first_answer, maintenance, indexer, background
                    )
                log.info("memory-lifecycle serving %s", redact_url(manager.store_url))
                try:
                    yield AppState(manager, maintenance, events, follower, indexer)
                finally:
                    background.cancel_scope.cancel()
        finally:
            # shielded and bounded: cleanup must finish even when the server was cancelled
            await maintenance.stop(timeout=SHUTDOWN_WAIT_SECONDS)
            manager.close()
            log.info(STOPPED_MESSAGE)

    mcp: MCPServer[AppState] = MCPServer(
        SERVER_NAME,
        title="Memory lifecycle",
        description="A shared, self-maintaining memory for AI agent swarms",
        instructions=INSTRUCTIONS,
        version=__version__,
        lifespan=lifespan,
        log_level="WARNING",
        subscriptions=events,
    )
    # built at the first tools/list or tools/call: initialize needs none of them (nor
    # their modules: their models cost the start ~30 ms of CPU more)
    sdk.build_tools_on_first_use(mcp, partial(_build_tools, bench_noop))
    register_resources(mcp)
    for method in PROMPT_METHODS:  # no prompts: advertise none, a call is -32601
        sdk.remove_request_handler(mcp, method)
    sdk.check_tool_calls(mcp, tool_name_check(partial(sdk.tool_names, mcp)))
    sdk.add_request_handler(
        mcp, "logging/setLevel", SetLevelRequestParams, client_logs.on_set_level
    )
    sdk.handshake_only_capability(mcp, "logging")  # 2026-07-28 has no logging/setLevel
    return mcp


def _build_tools(bench_noop: bool | None) -> list[Tool]:
    from .tools import build_tools

    return build_tools(bench_noop_tool=bench_noop)


async def _start_after(
    first_answer: FirstAnswer,
    maintenance: MaintenanceScheduler,
    indexer: BackgroundIndexer,
    background: TaskGroup,
) -> None:
    """Start maintenance and indexing once the first request is answered. The indexer
    takes its first look one interval later: that look loads the semantic engine (and may
    load a model), which a server started only to be listed or asked one thing (``gemini
    mcp list``, a client's ``tools/list`` right after ``initialize``) never needs."""
    await first_answer.wait()
    maintenance.start()
    background.start_soon(partial(indexer.run, pause_first=True))


__all__ = ["SERVER_NAME", "AppState", "build_server"]
