"""What the hooks print: one line for people and logs, and for session-start and
session-restore a short readable summary of a session's memory.

Claude Code adds a SessionStart hook's stdout to the model's context, so that
summary is plain text and bounded (``MAX_CONTEXT_CHARS``); ``--output json``
gives everything.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping

from ...output import format_cleanup

TYPE_CHECKING = False  # typing's flag without importing typing
if TYPE_CHECKING:
    from typing import Any

MAX_CONTEXT_CHARS = 4000
MAX_VALUE_CHARS = 240


def format_hook(result: Mapping[str, Any]) -> str:
    hook = result.get("hook")
    if hook == "session-end":
        return _session_end(result)
    if hook == "pre-task":
        task = f" {result['task_id']}" if result.get("task_id") else ""
        recorded = f"recorded {result['recorded']}; " if result.get("recorded") else ""
        return (
            f"pre-task{task}: {recorded}deleted {_entries(result['deleted_count'])} "
            "of expired coordination data"
        )
    if hook in ("session-start", "session-restore"):
        return format_context(result)
    if hook == "memory-cleanup":
        return f"memory-cleanup: {format_cleanup(result)}"
    if not result.get("recorded"):
        return f"{hook}: nothing recorded"
    keys = result.get("keys") or [result["recorded"]]
    status = result.get("record", {}).get("status")
    return f"{hook}: {status + ', ' if status else ''}recorded {', '.join(keys)}"


def _entries(n: int) -> str:
    return f"{n} {'entry' if n == 1 else 'entries'}"


def _session_end(result: Mapping[str, Any]) -> str:
    session = f" {result['session_id']}" if result.get("session_id") else ""
    if result.get("kept_session"):
        head = (
            f"session-end{session}: the session goes on ({result.get('event')}), its "
            "entries are kept; "
            f"deleted {_entries(result['expired_deleted'])} expired"
        )
    else:
        head = (
            f"session-end{session}: deleted {_entries(result['deleted_count'])} "
            f"({result['session_deleted']} of the session, {result['expired_deleted']} expired)"
        )
    lines = [head]
    if "summary" in result:
        lines.append("summary: " + _summary(result["summary"]))
    if "metrics" in result:
        m = result["metrics"]
        rate = m.get("command_success_rate")
        lines.append(
            f"metrics: {m['store_entries']} entries in the store"
            + (f", {m['duration_seconds']:.0f} s" if m.get("duration_seconds") else "")
            + (f", commands {rate:.0%} successful" if rate is not None else "")
            + (f" (stored as {result['metrics_key']})" if result.get("metrics_key") else "")
        )
    if result.get("saved"):
        lines.append(f"saved the session's state as {result['saved']}")
    return "\n".join(lines)


def _summary(s: Mapping[str, Any]) -> str:
    return (
        f"{s['tasks']} tasks ({s['tasks_completed']} completed, {s['tasks_failed']} failed, "
        f"{s['tasks_open']} open), {s['edits']} edits, {s['commands']} commands "
        f"({s['commands_failed']} failed), {s['notifications']} notifications"
    )


def _when(ts: Any) -> str:
    if not isinstance(ts, (int, float)):
        return "?"
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(ts))


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    text = " ".join(text.split())
    return text if len(text) <= MAX_VALUE_CHARS else text[: MAX_VALUE_CHARS - 3] + "..."


def format_context(result: Mapping[str, Any]) -> str:
    """A session's memory as a few readable lines, at most ``MAX_CONTEXT_CHARS``."""
    session = result.get("session_id")
    lines: list[str] = []
    if result.get("entries"):
        lines.append(f"Entries of session {session}:")
        lines += [f"- {e['key']}: {_short(e['value'])}" for e in result["entries"]]
    saved = result.get("saved")
    if saved:
        ended = "ended" if saved.get("ended") else "still open then"
        lines.append(
            f"Saved session {result['saved_session_id']} ({ended}, saved "
            f"{_when(saved.get('saved_at'))})"
            + (f": {_summary(saved['summary'])}" if saved.get("summary") else "")
        )
        lines += [f"- {k}: {_short(v)}" for k, v in saved.get("entries", {}).items()]
    if result.get("open_tasks"):
        lines.append("Open tasks:")
        lines += [
            f"- {t.get('task_id')}: {_short(t.get('description') or '(no description)')} "
            f"(started {_when(t.get('started_at'))})"
            for t in result["open_tasks"]
        ]
    if result.get("notifications"):
        lines.append("Recent notifications:")
        lines += [
            f"- [{n.get('level', 'info')}] {_short(n.get('message', ''))} ({_when(n.get('at'))})"
            for n in result["notifications"]
        ]
    if not lines:
        return f"memory-lifecycle: no stored memory{' for session ' + session if session else ''}"
    head = "memory-lifecycle: stored memory" + (f" for session {session}" if session else "")
    text = "\n".join([head, *lines])
    if len(text) > MAX_CONTEXT_CHARS:
        cut = text[: MAX_CONTEXT_CHARS - 80].rsplit("\n", 1)[0]
        text = cut + "\n... (more: memory-lifecycle hooks session-restore --output json)"
    return text
