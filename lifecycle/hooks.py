"""What the hook commands and hook tools do, in one place for CLI and server.

Hooks run on every session end and task, so they stay quick: they touch only
the rows they delete (prefix ranges and the expiry index).
"""

from __future__ import annotations

from typing import Any

from .manager import MemoryLifecycleManager

MAX_REPORTED_KEYS = 100


def session_end(manager: MemoryLifecycleManager, session_id: str) -> dict[str, Any]:
    """Delete the session's own entries, then collect expired lazy/scheduled ones."""
    removed = manager.delete_session(session_id)
    collected = manager.collect()
    keys = removed + collected.deleted_keys
    return {
        "hook": "session-end",
        "session_id": session_id,
        "deleted_count": len(removed) + collected.deleted_count,
        "session_deleted": len(removed),
        "expired_deleted": collected.deleted_count,
        "deleted_keys": keys[:MAX_REPORTED_KEYS],
    }


def pre_task(
    manager: MemoryLifecycleManager, task_id: str | None = None, description: str | None = None
) -> dict[str, Any]:
    """Collect expired coordination data before a task starts."""
    report = manager.collect(prefix="coordination/")
    return {
        "hook": "pre-task",
        "task_id": task_id,
        "deleted_count": report.deleted_count,
        "deleted_keys": report.deleted_keys[:MAX_REPORTED_KEYS],
    }


def memory_cleanup(manager: MemoryLifecycleManager, force: bool = False) -> dict[str, Any]:
    """Periodic maintenance; ``force`` also collects expired manual-strategy entries."""
    return {"hook": "memory-cleanup", **manager.cleanup(force=force)}
