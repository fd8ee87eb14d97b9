"""A session's memory: what session-start and session-restore give back, what
session-end saves and summarizes.

A Claude Code session's own entries are ``session/<id>``, ``session/<id>/*``
and ``coordination/<id>/*`` (session-end deletes them). Saving a session
(``--persist-state``) keeps a bounded snapshot of them, with a summary of the
session's activity records, under ``swarm/agent/state/sessions/<id>`` (7 days
under the built-in policies), so a later session can be given that context
back. Every scan here is bounded: hooks must stay quick on a large store.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from lifecycle import reads
from lifecycle.basics.keys import check_session_id
from lifecycle.entries.entry import MemoryEntry
from lifecycle.hooks import activity
from lifecycle.manager import MemoryLifecycleManager

TYPE_CHECKING = False  # typing's flag without importing typing
if TYPE_CHECKING:
    from typing import Any

SAVED = "swarm/agent/state/sessions/"
MAX_SCAN = 1000  # records read per prefix for a summary (the newest)
MAX_SESSION_ENTRIES = 50
MAX_SNAPSHOT_BYTES = 64 * 1024
MAX_OPEN_TASKS = 10
MAX_NOTIFICATIONS = 5


def scan(manager: MemoryLifecycleManager, prefix: str, limit: int = MAX_SCAN) -> list[MemoryEntry]:
    """Up to ``limit`` live entries under ``prefix``, in key order, with their values."""
    return reads.entries_in_key_order(manager.backend, prefix, limit, manager.clock.now())


def newest(
    manager: MemoryLifecycleManager, prefix: str, limit: int = MAX_SCAN
) -> list[MemoryEntry]:
    """Up to ``limit`` live entries under ``prefix``, the most recently written first: a
    prefix holding more than ``limit`` records (tasks, commands, …) gives its newest, which
    are the ones a session made and the ones still open, through an index per prefix."""
    return reads.newest_entries(manager.backend, prefix, limit, manager.clock.now())


def session_entries(
    manager: MemoryLifecycleManager, session_id: str, limit: int = MAX_SESSION_ENTRIES
) -> list[MemoryEntry]:
    """The session's own live entries (what session-end would delete), at most ``limit``."""
    check_session_id(session_id)
    own = manager.retrieve_entry(f"session/{session_id}")
    found = [own] if own is not None else []
    for prefix in (f"session/{session_id}/", f"coordination/{session_id}/"):
        found += scan(manager, prefix, limit - len(found))
    return found[:limit]


def session_started_at(manager: MemoryLifecycleManager, session_id: str | None) -> float | None:
    if not session_id:
        return None
    entry = manager.retrieve_entry(f"session/{check_session_id(session_id)}")
    if entry is None:
        return None
    started = entry.value.get("started_at") if isinstance(entry.value, dict) else None
    return float(started) if isinstance(started, (int, float)) else entry.created_at


def record_session_start(
    manager: MemoryLifecycleManager, session_id: str, source: str | None = None
) -> bool:
    """Store ``session/<id>`` (when it starts) unless the session already has it."""
    key = f"session/{check_session_id(session_id)}"
    if manager.retrieve_entry(key) is not None:
        return False
    started = {"session_id": session_id, "started_at": manager.clock.now(), "source": source}
    manager.put(key, {k: v for k, v in started.items() if v is not None})
    return True


def _belongs(entry: MemoryEntry, session_id: str | None, since: float | None) -> bool:
    """A record counts for the session that made it; one made without a session id (a
    claude-flow pipeline passes none) counts for a session it may belong to by time."""
    owner = entry.value.get("session_id") if isinstance(entry.value, dict) else None
    if session_id is None:
        return True
    if owner:
        return bool(owner == session_id)
    return since is None or entry.updated_at >= since


def summarize(
    manager: MemoryLifecycleManager, session_id: str | None, since: float | None = None
) -> dict[str, int]:
    """Counts of the session's activity records (tasks, edits, commands, notifications)."""

    def mine(prefix: str) -> list[dict[str, Any]]:
        return [
            e.value
            for e in newest(manager, prefix)
            if isinstance(e.value, dict) and _belongs(e, session_id, since)
        ]

    tasks = mine(activity.TASKS)
    commands = mine(activity.COMMANDS)
    return {
        "tasks": len(tasks),
        "tasks_completed": sum(t.get("status") == "completed" for t in tasks),
        "tasks_failed": sum(t.get("status") == "failed" for t in tasks),
        "tasks_open": sum(t.get("status") == "started" for t in tasks),
        "edits": len(mine(activity.EDITS)),
        "commands": len(commands),
        "commands_failed": sum(_failed(c) for c in commands),
        "notifications": len(mine(activity.NOTIFICATIONS)),
    }


def _failed(command: dict[str, Any]) -> bool:
    code = command.get("exit_code")
    return command.get("success") is False or (isinstance(code, int) and code != 0)


def metrics(
    manager: MemoryLifecycleManager, summary: dict[str, int], since: float | None
) -> dict[str, Any]:
    """The summary plus rates and the store's size: what ``--export-metrics`` writes."""
    now = manager.clock.now()
    commands = summary["commands"]
    stats = manager.get_stats()
    return {
        **summary,
        "duration_seconds": round(now - since, 3) if since is not None else None,
        "command_success_rate": (
            round((commands - summary["commands_failed"]) / commands, 4) if commands else None
        ),
        "store_entries": stats["total_entries"],
        "store_bytes": stats["total_bytes"],
        "at": now,
    }


def save_state(
    manager: MemoryLifecycleManager,
    session_id: str,
    *,
    summary: dict[str, int] | None,
    ended: bool,
) -> str:
    """Keep a bounded snapshot of the session's entries under ``SAVED/<id>``."""
    entries, size, left_out = {}, 0, 0
    for entry in session_entries(manager, session_id):
        cost = len(json.dumps(entry.value, default=str))
        if size + cost > MAX_SNAPSHOT_BYTES:
            left_out += 1
            continue
        entries[entry.key] = entry.value
        size += cost
    state: dict[str, Any] = {
        "session_id": session_id,
        "saved_at": manager.clock.now(),
        "ended": ended,
        "entries": entries,
    }
    if left_out:
        state["entries_left_out"] = left_out
    if summary is not None:
        state["summary"] = summary
    key = SAVED + session_id
    manager.put(key, state)
    return key


def save_metrics(manager: MemoryLifecycleManager, session_id: str, data: dict[str, Any]) -> str:
    key = f"{SAVED}{check_session_id(session_id)}/metrics"
    manager.put(key, data)
    return key


def saved_state(manager: MemoryLifecycleManager, session_id: str) -> dict[str, Any] | None:
    entry = manager.retrieve_entry(SAVED + check_session_id(session_id))
    return entry.value if entry is not None and isinstance(entry.value, dict) else None


def latest_saved_session(manager: MemoryLifecycleManager, exclude: str | None = None) -> str | None:
    """The session saved most recently (claude-flow's ``--session-id latest``)."""
    best: tuple[float, str] | None = None
    for entry in newest(manager, SAVED):
        rest = entry.key[len(SAVED) :]
        if "/" in rest or rest == exclude or not isinstance(entry.value, dict):
            continue
        saved_at = entry.value.get("saved_at")
        when = float(saved_at) if isinstance(saved_at, (int, float)) else entry.updated_at
        if best is None or when > best[0]:
            best = (when, rest)
    return best[1] if best else None


def context(
    manager: MemoryLifecycleManager, session_id: str | None, *, fall_back_to_latest: bool
) -> dict[str, Any]:
    """What a (re)starting session should know: its own entries, its saved state (or the
    latest saved session's, for a fresh session), open tasks and recent notifications."""
    own = session_entries(manager, session_id) if session_id else []
    saved_id = session_id if session_id and saved_state(manager, session_id) else None
    if saved_id is None and fall_back_to_latest:
        saved_id = latest_saved_session(manager, exclude=session_id)
    return {
        "session_id": session_id,
        "entries": [{"key": e.key, "value": e.value} for e in own],
        "saved_session_id": saved_id,
        "saved": saved_state(manager, saved_id) if saved_id else None,
        "open_tasks": _latest_by(
            (e.value for e in newest(manager, activity.TASKS)),
            lambda t: t.get("status") == "started",
            "started_at",
            MAX_OPEN_TASKS,
        ),
        "notifications": _latest_by(
            (e.value for e in newest(manager, activity.NOTIFICATIONS)),
            lambda n: True,
            "at",
            MAX_NOTIFICATIONS,
        ),
    }


def _latest_by(records: Iterable[Any], keep: Any, when: str, limit: int) -> list[dict[str, Any]]:
    chosen = [r for r in records if isinstance(r, dict) and keep(r)]

    def stamp(record: dict[str, Any]) -> float:
        value = record.get(when)
        return float(value) if isinstance(value, (int, float)) else 0.0

    chosen.sort(key=stamp)
    return chosen[::-1][:limit]
