"""``hook``: what Claude Code (or claude-flow) runs at session end and before a task.

Hooks run on every session end and task, so this module imports only the
engine. It reads the JSON object Claude Code writes to a hook's stdin, and
never waits on a terminal or on an open pipe with nothing in it.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import select
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TextIO

from lifecycle import paths
from lifecycle.errors import clip_text

from .. import output
from .common import UsageError, emit, open_manager, output_option

HOOKS = ("session-end", "pre-task", "memory-cleanup")
# Claude Code writes the hook JSON and closes the pipe at once; these bound the wait
# when something else left stdin open with nothing in it.
STDIN_FIRST_BYTE_SECONDS = 0.5
STDIN_IDLE_SECONDS = 0.5
STDIN_MAX_BYTES = 1 << 20

log = logging.getLogger("memory_lifecycle.cli")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    hook = sub.add_parser("hook", help="run a lifecycle hook (reads Claude Code's hook JSON)")
    hook.add_argument("name", choices=HOOKS)
    hook.add_argument("--session-id", metavar="ID", help="session-end: the session to remove")
    hook.add_argument("--task-id", metavar="ID", help="pre-task: the task about to start")
    hook.add_argument("--description", help="pre-task: what the task is")
    hook.add_argument("--force", action="store_true", help="memory-cleanup: include manual")
    output_option(hook)
    hook.set_defaults(handler=cmd_hook)


def read_hook_input(
    stream: TextIO | None = None,
    first_byte_seconds: float = STDIN_FIRST_BYTE_SECONDS,
) -> dict[str, Any]:
    """The JSON object Claude Code writes to a hook's stdin, or {} when there is none.

    Never waits on a terminal, and never blocks on an open pipe with no data:
    it waits at most ``first_byte_seconds`` for data to start, and stops when
    the pipe closes or stays idle. Anything but a JSON object is ignored with
    a warning: a hook that has its flags must not fail over unrelated input.
    """
    stream = sys.stdin if stream is None else stream
    try:
        fd = stream.fileno()
        if os.isatty(fd):
            return {}
        chunks: list[bytes] = []
        timeout, size = first_byte_seconds, 0
        while size < STDIN_MAX_BYTES and select.select([fd], [], [], timeout)[0]:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
            timeout = STDIN_IDLE_SECONDS
    except (OSError, ValueError, AttributeError):  # closed, no fd, or select unsupported
        return {}
    text = b"".join(chunks).decode("utf-8", errors="replace").strip()
    if not text:
        return {}
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:  # bad JSON, >4,300-digit ints, deep nesting
        reason = exc.msg if isinstance(exc, json.JSONDecodeError) else _why_unreadable(exc)
        log.warning("ignoring hook stdin: not valid JSON (%s)", clip_text(reason, 120))
        return {}
    if not isinstance(data, dict):  # flags may still say all the hook needs: do not fail here
        log.warning("ignoring hook stdin: not a JSON object like Claude Code's hook input")
        return {}
    return data


def _why_unreadable(exc: BaseException) -> str:
    if isinstance(exc, RecursionError):
        return "nested too deeply"
    return "a number too long to read" if "digits" in str(exc) else str(exc)


def _location_configured(args: argparse.Namespace) -> bool:
    flags = (args.memory_dir, args.policy_file, args.store)
    env = (paths.ENV_DIR, paths.ENV_POLICY, paths.ENV_STORE, paths.ENV_PROJECT)
    return any(f is not None for f in flags) or any(os.environ.get(name) for name in env)


def _adopt_hook_cwd(args: argparse.Namespace, data: Mapping[str, Any]) -> None:
    """Resolve paths from the session's ``cwd`` when nothing else names a location."""
    cwd = data.get("cwd")
    if not isinstance(cwd, str) or not cwd or _location_configured(args):
        return
    if Path(cwd).is_dir():
        os.chdir(cwd)
    else:
        log.warning("hook JSON cwd %r is not a directory; resolving from %s", cwd, Path.cwd())


def _text_field(data: Mapping[str, Any], *names: str) -> str | None:
    for name in names:
        value = data.get(name)
        if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value):
            return str(value)
    return None


def cmd_hook(args: argparse.Namespace) -> int:
    from lifecycle import hooks

    wait = 0.0 if args.session_id else STDIN_FIRST_BYTE_SECONDS
    data = read_hook_input(first_byte_seconds=wait)
    _adopt_hook_cwd(args, data)
    if args.name == "session-end":
        session_id = args.session_id or _text_field(data, "session_id")
        if not session_id:
            raise UsageError(
                "hook session-end needs a session id: pass --session-id ID, or pipe "
                "Claude Code's hook JSON (with session_id) on stdin"
            )
        with open_manager(args) as manager:
            result = hooks.session_end(manager, session_id)
    elif args.name == "pre-task":
        tool_input = data.get("tool_input") if isinstance(data.get("tool_input"), dict) else {}
        task_id = args.task_id or _text_field(data, "task_id", "tool_use_id")
        description = args.description or _text_field(data, "description")
        description = description or _text_field(tool_input, "description")
        with open_manager(args) as manager:
            result = hooks.pre_task(manager, task_id, description)
    else:
        with open_manager(args) as manager:
            result = hooks.memory_cleanup(manager, force=args.force)
    emit(args, result, output.format_hook)
    return 0
