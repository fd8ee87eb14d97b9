"""The coordination tools: ``memory_lock``, ``memory_unlock``, ``memory_changes``.

Like every tool, each calls one engine method. The two that may wait (a lock held by
someone else, a long-poll of the feed) are ``async`` and run the engine in a worker
thread that is abandoned on cancellation, so a client that goes away (or a server
shutting down) never waits the full ``wait_seconds``; closing the engine wakes the
thread, which then ends on its own.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Annotated, Any, Literal

import anyio.to_thread
from mcp.server.mcpserver import Context
from pydantic import BaseModel, Field

from lifecycle.coordination.locks import DEFAULT_TTL_SECONDS, MAX_WAIT_SECONDS

from .errors import engine_errors, tool_errors
from .lifespan_state import manager_of
from .models import Count, Seconds
from .tool_hints import DESTRUCTIVE, READ_ONLY, WRITE, ToolTable


class LockOutput(BaseModel):
    acquired: bool = Field(description="True when the caller holds the lock now.")
    name: str
    owner: str = Field(description="The holder: the caller when acquired, else the other owner.")
    token: int | None = Field(
        description="Fencing token (null when not acquired): strictly greater than every "
        "token issued before; pass it as lock_token to guard writes, and to memory_unlock."
    )
    expires_at: float = Field(description="Epoch seconds when the lease ends unless renewed.")


class UnlockOutput(BaseModel):
    released: bool = Field(
        description="False when the token no longer holds the lock (expired and taken over, "
        "or never held)."
    )
    name: str


class ChangeOutput(BaseModel):
    key: str
    revision: int = Field(description="The store revision of this change.")
    op: Literal["put", "delete", "expire"]
    policy: str = Field(description="The key's policy pattern.")


class ChangesOutput(BaseModel):
    changes: list[ChangeOutput] = Field(description="Changes after `since`, in revision order.")
    next: int = Field(description="Pass as `since` in the next call.")


Name = Annotated[str, Field(description="The lock's name, e.g. 'migration' or 'task/17'.")]
Wait = Annotated[
    Seconds,
    Field(description=f"Seconds to wait (at most {MAX_WAIT_SECONDS:g}); 0 = do not wait."),
]


async def _in_thread(fn: Callable[[], Any]) -> Any:
    with engine_errors("tool"):
        return await anyio.to_thread.run_sync(fn, abandon_on_cancel=True)


async def memory_lock(
    name: Name,
    ctx: Context,
    owner: Annotated[
        str | None, Field(description="Who holds it; defaults to this server's agent id.")
    ] = None,
    ttl_seconds: Annotated[
        Seconds, Field(description="Lease length; the owner locking again renews it.")
    ] = DEFAULT_TTL_SECONDS,
    wait_seconds: Wait = 0,
) -> LockOutput:
    manager = manager_of(ctx)
    taken = await _in_thread(partial(manager.lock, name, owner, ttl_seconds, wait_seconds))
    return LockOutput.model_validate(taken)


@tool_errors
def memory_unlock(
    name: Name,
    token: Annotated[Count, Field(description="The token memory_lock returned.")],
    ctx: Context,
) -> UnlockOutput:
    return UnlockOutput(released=manager_of(ctx).unlock(name, token), name=name)


async def memory_changes(
    ctx: Context,
    prefix: Annotated[str, Field(description="Only keys starting with this text.")] = "",
    since: Annotated[
        Count | None,
        Field(description="The `next` of the previous call; omitted = start from now."),
    ] = None,
    limit: Annotated[Count, Field(description="At most this many changes, 1-1000.")] = 100,
    wait_seconds: Wait = 0,
) -> ChangesOutput:
    manager = manager_of(ctx)
    page = await _in_thread(partial(manager.changes, prefix, since, limit, wait_seconds))
    return ChangesOutput.model_validate(page)


COORDINATION_TOOLS: ToolTable = {
    "memory_lock": (
        memory_lock,
        "Take a lock",
        WRITE,
        "Take a named lock (a lease) shared by every agent on this store, e.g. to elect the "
        "one agent that runs a migration. acquired=false reports who holds it and until "
        "when; wait_seconds waits for it. Locking again as the same owner renews it. The "
        "token fences writes: pass lock and lock_token to memory_store/memory_delete and the "
        "write applies only while you still hold the lock. Release with memory_unlock.",
    ),
    "memory_unlock": (
        memory_unlock,
        "Release a lock",
        DESTRUCTIVE,
        "Release a lock taken with memory_lock. released=false when the token no longer "
        "holds it (the lease expired and someone else took it).",
    ),
    "memory_changes": (
        memory_changes,
        "Changes since a revision",
        READ_ONLY,
        "Which keys changed (put, delete, expire), in revision order, from any agent on this "
        "store. Call once without since to get a cursor (next), then pass it back as since; "
        "wait_seconds long-polls until something under prefix changes. An error naming the "
        "oldest revision means the cursor is older than the log keeps: re-read, then resume.",
    ),
}
