"""What the lifespan hands to every tool: the open engine, its maintenance scheduler, and
the subscriptions fed by the change feed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mcp.server.mcpserver import Context

from lifecycle import MemoryLifecycleManager

from ..background.indexing import BackgroundIndexer
from ..background.scheduler import MaintenanceScheduler
from .subscriptions import ChangeFollower, StoreEvents


@dataclass
class AppState:
    manager: MemoryLifecycleManager
    maintenance: MaintenanceScheduler
    events: StoreEvents
    follower: ChangeFollower
    indexer: BackgroundIndexer | None = None


def manager_of(ctx: Context[Any, Any]) -> MemoryLifecycleManager:
    """The engine this server's lifespan opened (one per process over stdio)."""
    state: AppState = ctx.request_context.lifespan_context
    return state.manager
