"""The hooks that record activity: tasks, edits, shell commands and notifications
(the records live in ``lifecycle.hooks.activity``)."""

from __future__ import annotations

from lifecycle import paths
from lifecycle.basics.lazy_logging import get_logger

from .stdin import HookInput

TYPE_CHECKING = False  # typing's flag without importing typing
if TYPE_CHECKING:
    import argparse
    from typing import Any

    from .stdin import Handler

log = get_logger("memory_lifecycle.cli")
FAILURE_EVENT = "PostToolUseFailure"


def _words(args: argparse.Namespace) -> str | None:
    return " ".join(getattr(args, "words", None) or []) or None


def pre_task(args: argparse.Namespace, inp: HookInput, manager: Any) -> dict[str, Any]:
    """record the task under swarm/shared/tasks/<id>; collect expired coordination data"""
    from lifecycle.hooks import actions

    return actions.pre_task(
        manager,
        args.task_id or inp.text("task_id") or inp.tool_use_id,
        args.description or inp.text("description") or inp.text("description", inside="tool_input"),
        session_id=inp.session_id,
        agent=args.agent,
    )


def post_task(args: argparse.Namespace, inp: HookInput, manager: Any) -> dict[str, Any]:
    """record the task's completion under swarm/shared/tasks/<id>"""
    from lifecycle.hooks import activity

    task_id = args.task_id or inp.text("task_id") or inp.tool_use_id
    task_id = task_id or activity.new_id("task", manager.clock.now())
    success = args.success
    details: dict[str, Any] = {"quality": _number(args.quality)}
    if inp.event == FAILURE_EVENT:
        # Claude Code runs PostToolUseFailure, not PostToolUse, when a subagent fails:
        # without it the task would stay "started" for ever
        success = False if success is None else success
        details["error"] = activity.clip(inp.text("error"))
    duration_ms = _number(args.duration_ms) if args.duration_ms is not None else None
    if duration_ms is not None:
        details["duration_seconds"] = duration_ms / 1000
    done = activity.finish_task(
        manager,
        task_id,
        success=success,
        description=args.description or inp.text("description", inside="tool_input"),
        session_id=inp.session_id,
        agent=args.agent,
        details=details,
    )
    return {"hook": "post-task", "task_id": task_id, "recorded": done["key"], **done}


def edit(phase: str) -> Handler:
    def handler(args: argparse.Namespace, inp: HookInput, manager: Any) -> dict[str, Any]:
        from lifecycle.hooks import activity

        file = args.file or inp.text("file_path", "path", "notebook_path", inside="tool_input")
        name = f"{phase}-edit"
        if not file:
            log.warning("%s: no file (pass --file PATH or pipe Claude Code's hook JSON)", name)
            return {"hook": name, "file": None, "recorded": None}
        if phase == "pre":
            details = {"operation": args.operation, "context": activity.clip(args.context)}
        else:
            details = {"success": args.success, "outcome": activity.clip(args.outcome)}
            details["metrics"] = args.metrics
        done = activity.record_edit(
            manager,
            file,
            phase,
            root=paths.project_folder(),
            memory_key=getattr(args, "memory_key", None),
            session_id=inp.session_id,
            details=details,
        )
        return {"hook": name, "file": file, "recorded": done["key"], **done}

    handler.__doc__ = (
        "mark a file as being edited (swarm/shared/edits/<path>)"
        if phase == "pre"
        else "record an edit (swarm/shared/edits/<path>, and --memory-key)"
    )
    return handler


def command(phase: str) -> Handler:
    def handler(args: argparse.Namespace, inp: HookInput, manager: Any) -> dict[str, Any]:
        from lifecycle.hooks import activity

        command = args.command or _words(args) or inp.text("command", inside="tool_input")
        name = f"{phase}-command"
        if not command:
            log.warning("%s: no command (pass --command TEXT)", name)
            return {"hook": name, "command": None, "recorded": None}
        if phase == "pre":
            details: dict[str, Any] = {"cwd": args.cwd or inp.text("cwd")}
        else:
            code = _number(args.exit_code)
            details = {
                "exit_code": int(code) if code is not None else None,
                "success": args.success if args.success is not None else _ok(code),
                "duration_ms": _number(args.duration_ms),
                "output": activity.clip(getattr(args, "command_output", None), 1000),
            }
        done = activity.record_command(
            manager,
            command,
            phase,
            command_id=inp.tool_use_id,
            session_id=inp.session_id,
            details=details,
        )
        return {"hook": name, "command": command, "recorded": done["key"], **done}

    handler.__doc__ = (
        "record a shell command about to run (swarm/shared/commands/<id>)"
        if phase == "pre"
        else "record a shell command's outcome (swarm/shared/commands/<id>)"
    )
    return handler


def notify(args: argparse.Namespace, inp: HookInput, manager: Any) -> dict[str, Any]:
    """keep a notification under swarm/shared/notifications/<id>"""
    from lifecycle.errors import InvalidValueError
    from lifecycle.hooks import activity

    message = args.message or _words(args) or inp.text("message")
    if not message:
        raise InvalidValueError(
            "notify needs a message: pass --message TEXT (or pipe Claude Code's Notification "
            "hook JSON)"
        )
    done = activity.notify(
        manager,
        message,
        level=args.level or "info",
        session_id=inp.session_id,
        details={"channel": args.channel, "swarm_status": args.swarm_status},
    )
    return {"hook": "notify", "recorded": done["key"], **done}


def _number(text: str | None) -> float | None:
    try:
        return float(text) if text is not None else None
    except ValueError:
        log.warning("ignoring %r: not a number", text[:40] if text else text)
        return None


def _ok(code: float | None) -> bool | None:
    return None if code is None else code == 0
