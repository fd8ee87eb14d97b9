"""What claude-flow's hooks record: tasks, edits, commands and notifications.

claude-flow keeps these in its own database; here they are ordinary entries
under ``swarm/shared/``, so every agent of the swarm reads them with the same
tools, and the ``swarm/shared/*`` policy (24 h, scheduled cleanup, multi-value)
decides how long they live. One record per task, file, command and
notification, a JSON object that later hooks update in place:

    swarm/shared/tasks/<task id>           pre-task, post-task
    swarm/shared/edits/<file path>         pre-edit, post-edit
    swarm/shared/commands/<command id>     pre-command, post-command
    swarm/shared/notifications/<id>        notify

An update reads the record and writes it back with the read's context token,
so it replaces what it saw; a concurrent write by another agent is kept as a
sibling (multi-value), not lost.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from lifecycle.basics.digests import sha1_hex
from lifecycle.basics.keys import MAX_KEY_LENGTH
from lifecycle.manager import MemoryLifecycleManager

TYPE_CHECKING = False  # typing's flag without importing typing
if TYPE_CHECKING:
    from typing import Any

TASKS = "swarm/shared/tasks/"
EDITS = "swarm/shared/edits/"
COMMANDS = "swarm/shared/commands/"
NOTIFICATIONS = "swarm/shared/notifications/"
MAX_SEGMENT = 200
MAX_TEXT = 2000  # a command line or message kept in a record (claude-flow keeps 1,000-5,000)


def new_id(kind: str, now: float) -> str:
    """A fresh id that sorts by time, like claude-flow's ``task-<ms>-<random>``."""
    return f"{kind}-{int(now * 1000)}-{os.urandom(3).hex()}"


def segment(text: str) -> str:
    """Any text as one key segment: '/', '%' and control characters escaped, '.' and '..'
    spelled out, and a long text shortened with a hash so distinct texts stay distinct."""
    escaped = "".join(
        f"%{ord(c):02X}" if c in "/%" or ord(c) < 32 or ord(c) == 127 else c for c in text
    )
    if escaped in ("", ".", ".."):
        escaped = {"": "%00", ".": "%2E", "..": "%2E%2E"}[escaped]
    return _shorten(escaped, MAX_SEGMENT)


def file_key(path: str, root: str | os.PathLike[str] | None = None) -> str:
    """The record key of a file: its path relative to the project root when inside it.

    The path is read as ``pathlib`` reads it (empty and ``.`` segments dropped, ``..``
    kept), with strings: an edit hook then loads neither ``pathlib`` nor what it brings
    (~15M instructions, a tenth of the hook; the test holds the two readings equal)."""
    read = _posix_parts(path)
    top = _posix_parts(os.fspath(root)) if root is not None else None
    if read is None or (root is not None and top is None):
        return _file_key_by_pathlib(path, root)  # a '//' root, or not POSIX
    absolute, parts = read
    if top is not None and absolute and top[0] and parts[: len(top[1])] == top[1]:
        absolute, parts = False, parts[len(top[1]) :]  # inside the project: relative
    segments = [segment(part) for part in parts]
    if absolute:
        segments.insert(0, "%2F")  # outside the project: keep it apart from relative paths
    return EDITS + _shorten("/".join(segments) or "%00", MAX_KEY_LENGTH - len(EDITS))


def _posix_parts(path: str) -> tuple[bool, list[str]] | None:
    """``(absolute, segments)`` as ``PurePosixPath`` splits ``path``; None where that is
    not the whole story: a path that starts with exactly two slashes (a root of its own
    to pathlib) or a system whose separator is not '/'."""
    if os.sep != "/" or (path.startswith("//") and not path.startswith("///")):
        return None
    return path.startswith("/"), [s for s in path.split("/") if s and s != "."]


def _file_key_by_pathlib(path: str, root: str | os.PathLike[str] | None) -> str:
    import contextlib
    from pathlib import Path

    p = Path(path)
    if root is not None and p.is_absolute():
        with contextlib.suppress(ValueError):  # outside the project: keep it absolute
            p = p.relative_to(root)
    parts = [segment(part) for part in p.parts if part not in ("", os.sep)]
    if p.is_absolute():
        parts.insert(0, "%2F")
    return EDITS + _shorten("/".join(parts) or "%00", MAX_KEY_LENGTH - len(EDITS))


def _shorten(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    digest = sha1_hex(text.encode("utf-8"))[:16]
    return text[: limit - 17].rstrip("/") + "~" + digest


def clip(text: str | None, limit: int = MAX_TEXT) -> str | None:
    if text is None or len(text) <= limit:
        return text
    return text[:limit] + f"... ({len(text) - limit} more characters)"


def update_record(
    manager: MemoryLifecycleManager, key: str, fields: Mapping[str, Any]
) -> dict[str, Any]:
    """Merge ``fields`` (``None`` values left out) into the record under ``key`` and store it."""
    entry = manager.retrieve_entry(key)
    current = entry.value if entry is not None and isinstance(entry.value, dict) else {}
    record = {**current, **{k: v for k, v in fields.items() if v is not None}}
    manager.put(key, record, context=entry.context if entry is not None else None)
    return record


def start_task(
    manager: MemoryLifecycleManager,
    task_id: str,
    description: str | None,
    *,
    session_id: str | None = None,
    agent: str | None = None,
) -> dict[str, Any]:
    key = TASKS + segment(task_id)
    record = update_record(
        manager,
        key,
        {
            "task_id": task_id,
            "description": clip(description),
            "status": "started",
            "started_at": manager.clock.now(),
            "session_id": session_id,
            "agent": agent,
        },
    )
    return {"key": key, "record": record}


def finish_task(
    manager: MemoryLifecycleManager,
    task_id: str,
    *,
    success: bool | None = None,
    description: str | None = None,
    session_id: str | None = None,
    agent: str | None = None,
    details: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    key = TASKS + segment(task_id)
    now = manager.clock.now()
    entry = manager.retrieve_entry(key)
    started = entry.value.get("started_at") if entry and isinstance(entry.value, dict) else None
    duration = now - started if isinstance(started, (int, float)) else None
    record = update_record(
        manager,
        key,
        {
            "task_id": task_id,
            "description": clip(description),
            "status": "failed" if success is False else "completed",
            "success": success,
            "completed_at": now,
            "duration_seconds": round(duration, 3) if duration is not None else None,
            "session_id": session_id,
            "agent": agent,
            **(details or {}),
        },
    )
    return {"key": key, "record": record}


def record_edit(
    manager: MemoryLifecycleManager,
    file: str,
    phase: str,
    *,
    root: str | os.PathLike[str] | None = None,
    memory_key: str | None = None,
    session_id: str | None = None,
    details: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """pre-edit marks the file as being edited, post-edit as edited; post-edit with
    ``memory_key`` also stores the edit under that key (claude-flow's ``--memory-key``)."""
    key = file_key(file, root)
    now = manager.clock.now()
    fields: dict[str, Any] = {
        "file": file,
        "status": "editing" if phase == "pre" else "edited",
        "session_id": session_id,
        **(details or {}),
    }
    fields["editing_since" if phase == "pre" else "edited_at"] = now
    record = update_record(manager, key, fields)
    keys = [key]
    if memory_key is not None:
        manager.put(memory_key, {**record, "record": key})
        keys.append(memory_key)
    return {"key": key, "keys": keys, "record": record}


def record_command(
    manager: MemoryLifecycleManager,
    command: str,
    phase: str,
    *,
    command_id: str | None = None,
    session_id: str | None = None,
    details: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """pre-command records a command about to run, post-command its outcome; with a
    shared id (Claude Code's ``tool_use_id``) both land in one record."""
    now = manager.clock.now()
    key = COMMANDS + segment(command_id or new_id("cmd", now))
    fields: dict[str, Any] = {
        "command": clip(command),
        "status": "running" if phase == "pre" else "finished",
        "session_id": session_id,
        **(details or {}),
    }
    fields["started_at" if phase == "pre" else "finished_at"] = now
    return {"key": key, "record": update_record(manager, key, fields)}


def notify(
    manager: MemoryLifecycleManager,
    message: str,
    *,
    level: str = "info",
    session_id: str | None = None,
    details: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    now = manager.clock.now()
    key = NOTIFICATIONS + new_id("n", now)
    record = {
        "message": clip(message),
        "level": level,
        "at": now,
        "session_id": session_id,
        **(details or {}),
    }
    record = {k: v for k, v in record.items() if v is not None}
    manager.put(key, record)
    return {"key": key, "record": record}
