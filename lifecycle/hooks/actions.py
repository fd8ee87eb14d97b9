"""What the hook commands and hook tools do, in one place for CLI and server.

Hooks run on every session end and task, so they stay quick: they touch only
the rows they delete (prefix ranges and the expiry index) and the records they
write, and sweep at most ``HOOK_SWEEP_LIMIT`` expired entries each (those that
expired first), whatever the store holds: a report's ``expired_remaining`` (counted
up to ``REMAINING_COUNT_LIMIT``) and ``more_expired`` say what is left for the next
hook, the server's maintenance or ``cleanup``. session-end's trim of the op ids and
the change log is bounded the same way (``trim_remaining``). The activity records claude-flow's
hooks keep (tasks, edits, commands, notifications) are in ``activity``; a session's
saved state in ``session_memory``.
"""

from __future__ import annotations

from lifecycle.gc import HOOK_SWEEP_LIMIT, REMAINING_COUNT_LIMIT, CleanupReport
from lifecycle.hooks import activity
from lifecycle.manager import MemoryLifecycleManager
from lifecycle.sessions import session_keys

TYPE_CHECKING = False  # typing's flag without importing typing
if TYPE_CHECKING:
    from typing import Any

MAX_REPORTED_KEYS = 100
# A session's own entries one session-end deletes at most (a tombstone each, ~0.1 ms):
# a session that wrote more leaves the rest (``session_remaining``) to a second
# session-end, or to expiry (1 hour under the built-in policies).
SESSION_DELETE_LIMIT = 1000


def session_end(
    manager: MemoryLifecycleManager, session_id: str | None, *, keep_session: bool = False
) -> dict[str, Any]:
    """Delete the session's own entries (unless ``keep_session`` or no id; at most
    ``SESSION_DELETE_LIMIT``), then collect expired lazy/scheduled ones and trim the op
    ids and the change log (at most ``HOOK_SWEEP_LIMIT`` rows each)."""
    removed: list[str] = []
    left = 0
    if session_id and not keep_session:
        removed = manager.delete_session(session_id, limit=SESSION_DELETE_LIMIT)
        # what is left, counted as far as it matters (``session/<id>`` is listed always)
        left = len(session_keys(manager.backend, session_id, REMAINING_COUNT_LIMIT + 1)) - 1
    collected = manager.collect(limit=HOOK_SWEEP_LIMIT)
    keys = removed + collected.deleted_keys
    return {
        "hook": "session-end",
        "session_id": session_id,
        "deleted_count": len(removed) + collected.deleted_count,
        "session_deleted": len(removed),
        "session_remaining": left,
        "expired_deleted": collected.deleted_count,
        "deleted_keys": keys[:MAX_REPORTED_KEYS],
        **left_over(collected),
        # op ids and change-log rows past their window this pass left (it trims at most
        # ``HOOK_SWEEP_LIMIT`` of each), counted like ``expired_remaining``
        "trim_remaining": collected.trim_remaining,
    }


def pre_task(
    manager: MemoryLifecycleManager,
    task_id: str | None = None,
    description: str | None = None,
    *,
    session_id: str | None = None,
    agent: str | None = None,
) -> dict[str, Any]:
    """Record the task (when it has an id or a description) under
    ``swarm/shared/tasks/<id>``, then collect expired coordination data (at most
    ``HOOK_SWEEP_LIMIT`` entries, those that expired first)."""
    recorded = None
    if task_id or description:
        task_id = task_id or activity.new_id("task", manager.clock.now())
        recorded = activity.start_task(
            manager, task_id, description, session_id=session_id, agent=agent
        )["key"]
    report = manager.collect(prefix="coordination/", limit=HOOK_SWEEP_LIMIT)
    return {
        "hook": "pre-task",
        "task_id": task_id,
        "description": description,
        "recorded": recorded,
        "deleted_count": report.deleted_count,
        "deleted_keys": report.deleted_keys[:MAX_REPORTED_KEYS],
        **left_over(report),
    }


def left_over(report: CleanupReport) -> dict[str, Any]:
    """What a bounded sweep left to the next one: ``expired_remaining`` (counted up to
    ``REMAINING_COUNT_LIMIT``: that number means "at least") and ``more_expired``."""
    return {"expired_remaining": report.remaining, "more_expired": report.remaining > 0}


def memory_cleanup(manager: MemoryLifecycleManager, force: bool = False) -> dict[str, Any]:
    """Periodic maintenance; ``force`` also collects expired manual-strategy entries."""
    return {"hook": "memory-cleanup", **manager.cleanup(force=force)}
