"""``hook`` (= ``hooks``): what Claude Code and claude-flow run around sessions, tasks,
edits and commands.

Hooks run on every session end, task, edit and shell command, so this module
imports only the engine, and each hook opens the store once. Each takes its
flags (ours and claude-flow's, see ``hook_flags``) and else the JSON Claude
Code writes on stdin (``hook_input``). Exit 0 on success, 1 on failure; never
2, which Claude Code reads as "block".
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable
from typing import Any

from lifecycle import paths

from .. import hook_output, output
from .common import emit, open_manager
from .hook_flags import ALIASES, HOOK_FLAGS, IGNORED_HOOKS, add_flags, warn_unknown
from .hook_input import STDIN_FIRST_BYTE_SECONDS, HookInput, adopt_hook_cwd, read_hook_input

HOOKS = tuple(HOOK_FLAGS)
KEEP_SESSION_EVENTS = ("Stop", "SubagentStop")  # the session goes on after these
# the flag that, when given, means the hook needs nothing from stdin
PRIMARY_FLAG = {
    "session-end": "session_id",
    "pre-task": "description",
    "post-task": "task_id",
    "pre-edit": "file",
    "post-edit": "file",
    "pre-command": "command",
    "post-command": "command",
    "notify": "message",
    "session-restore": "session_id",
    "session-start": "session_id",
}

log = logging.getLogger("memory_lifecycle.cli")

Handler = Callable[[argparse.Namespace, HookInput, Any], dict[str, Any]]


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    hook = sub.add_parser(
        "hook",
        aliases=["hooks"],
        help="run a lifecycle hook (Claude Code's and claude-flow's; reads the hook JSON)",
        soft_errors=True,
        allow_abbrev=False,
    )
    names = hook.add_subparsers(dest="hook_name", metavar="HOOK", required=True)
    for name in HOOKS:
        parser = names.add_parser(
            name,
            aliases=list(ALIASES.get(name, ())),
            help=HANDLERS[name].__doc__,
            soft_errors=True,
            allow_abbrev=False,
        )
        add_flags(parser, name)
        parser.add_argument("--output", default="text", help="text or json")
        parser.set_defaults(hook=name)
    for name in IGNORED_HOOKS:
        names.add_parser(name, soft_errors=True, allow_abbrev=False).set_defaults(hook=None)
    hook.set_defaults(handler=cmd_hook, warn_unknown=_warn_unknown)


def _warn_unknown(args: argparse.Namespace, unknown: list[str]) -> None:
    if getattr(args, "hook", None) is not None:  # an ignored hook's options are its own
        warn_unknown(args, unknown)


def cmd_hook(args: argparse.Namespace) -> int:
    if args.hook is None:
        log.warning(
            "hook %s is claude-flow's and has no memory effect here; nothing done", args.hook_name
        )
        return 0
    _normalize_output(args)
    given = getattr(args, PRIMARY_FLAG.get(args.hook, ""), None)
    inp = HookInput(read_hook_input(first_byte_seconds=0.0 if given else STDIN_FIRST_BYTE_SECONDS))
    adopt_hook_cwd(args, inp.data)
    with open_manager(args) as manager:
        result = HANDLERS[args.hook](args, inp, manager)
    emit(args, result, hook_output.format_hook)
    return 0


def _normalize_output(args: argparse.Namespace) -> None:
    """``--output`` is ours (text|json), but claude-flow's post-command passes the command's
    output with it: keep that as the command's output."""
    if args.output in output.OUTPUT_FORMATS:
        return
    if args.hook == "post-command":
        args.command_output = args.output
    else:
        log.warning("--output %r is not text or json; using text", args.output[:40])
    args.output = "text"


def _words(args: argparse.Namespace) -> str | None:
    return " ".join(getattr(args, "words", None) or []) or None


def session_end(args: argparse.Namespace, inp: HookInput, manager: Any) -> dict[str, Any]:
    """delete the session's entries (save, summarize, export metrics when asked)"""
    from lifecycle import hooks, session_memory

    session_id = args.session_id or inp.session_id
    keep = inp.event in KEEP_SESSION_EVENTS
    if not session_id:
        log.warning(
            "session-end: no session id (pass --session-id ID or pipe Claude Code's hook "
            "JSON); no session entries deleted, expired entries collected"
        )
    since = session_memory.session_started_at(manager, session_id)
    extra: dict[str, Any] = {}
    if args.generate_summary or args.persist_state or args.export_metrics:
        extra["summary"] = session_memory.summarize(manager, session_id, since)
    if args.export_metrics:
        extra["metrics"] = session_memory.metrics(manager, extra["summary"], since)
        if session_id:
            extra["metrics_key"] = session_memory.save_metrics(
                manager, session_id, extra["metrics"]
            )
    if args.persist_state and session_id:
        extra["saved"] = session_memory.save_state(
            manager, session_id, summary=extra["summary"], ended=not keep
        )
    result = hooks.session_end(manager, session_id, keep_session=keep)
    return {**result, **extra, "kept_session": bool(session_id) and keep}


def pre_task(args: argparse.Namespace, inp: HookInput, manager: Any) -> dict[str, Any]:
    """record the task under swarm/shared/tasks/<id>; collect expired coordination data"""
    from lifecycle import hooks

    return hooks.pre_task(
        manager,
        args.task_id or inp.text("task_id") or inp.tool_use_id,
        args.description or inp.text("description") or inp.text("description", inside="tool_input"),
        session_id=inp.session_id,
        agent=args.agent,
    )


def post_task(args: argparse.Namespace, inp: HookInput, manager: Any) -> dict[str, Any]:
    """record the task's completion under swarm/shared/tasks/<id>"""
    from lifecycle import activity

    task_id = args.task_id or inp.text("task_id") or inp.tool_use_id
    task_id = task_id or activity.new_id("task", manager.clock.now())
    details = {"quality": _number(args.quality)}
    if args.duration_ms is not None and _number(args.duration_ms) is not None:
        details["duration_seconds"] = _number(args.duration_ms) / 1000
    done = activity.finish_task(
        manager,
        task_id,
        success=args.success,
        description=args.description or inp.text("description", inside="tool_input"),
        session_id=inp.session_id,
        agent=args.agent,
        details=details,
    )
    return {"hook": "post-task", "task_id": task_id, "recorded": done["key"], **done}


def _edit(phase: str) -> Handler:
    def handler(args: argparse.Namespace, inp: HookInput, manager: Any) -> dict[str, Any]:
        from lifecycle import activity

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
            root=paths.project_root(),
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


def _command(phase: str) -> Handler:
    def handler(args: argparse.Namespace, inp: HookInput, manager: Any) -> dict[str, Any]:
        from lifecycle import activity

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
    from lifecycle import activity
    from lifecycle.errors import InvalidValueError

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


def _session_context(start: bool) -> Handler:
    def handler(args: argparse.Namespace, inp: HookInput, manager: Any) -> dict[str, Any]:
        from lifecycle import session_memory

        session_id = args.session_id or inp.session_id
        name = "session-start" if start else "session-restore"
        started = False
        if start and session_id and session_id != "latest":
            started = session_memory.record_session_start(manager, session_id, inp.text("source"))
        if session_id in (None, "latest") and not start:
            session_id = session_memory.latest_saved_session(manager)
        if session_id == "latest":
            session_id = None
        found = session_memory.context(manager, session_id, fall_back_to_latest=start)
        return {"hook": name, "recorded_start": started, **found}

    handler.__doc__ = (
        "print the session's stored memory (Claude Code's SessionStart adds it to the context)"
        if start
        else "print a saved session's memory (default: the latest saved session)"
    )
    return handler


def memory_cleanup(args: argparse.Namespace, inp: HookInput, manager: Any) -> dict[str, Any]:
    """periodic maintenance; --force includes manual-strategy entries"""
    from lifecycle import hooks

    return hooks.memory_cleanup(manager, force=bool(args.force))


def _number(text: str | None) -> float | None:
    try:
        return float(text) if text is not None else None
    except ValueError:
        log.warning("ignoring %r: not a number", text[:40] if text else text)
        return None


def _ok(code: float | None) -> bool | None:
    return None if code is None else code == 0


HANDLERS: dict[str, Handler] = {
    "session-end": session_end,
    "pre-task": pre_task,
    "post-task": post_task,
    "pre-edit": _edit("pre"),
    "post-edit": _edit("post"),
    "pre-command": _command("pre"),
    "post-command": _command("post"),
    "notify": notify,
    "session-start": _session_context(start=True),
    "session-restore": _session_context(start=False),
    "memory-cleanup": memory_cleanup,
}
