"""The session hooks: session-end, and session-start / session-restore, which print what a
session should know (Claude Code adds a SessionStart hook's stdout to the context)."""

from __future__ import annotations

from lifecycle.basics.lazy_logging import get_logger

from .stdin import HookInput

TYPE_CHECKING = False  # typing's flag without importing typing
if TYPE_CHECKING:
    import argparse
    from typing import Any

    from .stdin import Handler

END_EVENT = "SessionEnd"  # the one Claude Code event after which a session is over

log = get_logger("memory_lifecycle.cli")


def session_goes_on(event: str | None) -> bool:
    """Whether the session outlives the event this hook runs from. Only Claude Code's
    ``SessionEnd``, or no event at all (a command line, a script), ends it: claude-flow 3
    runs ``session-end`` before every compaction (``PreCompact``), claude-flow 2 at
    ``Stop``, and a session's memory must survive those. The event decides, whatever the
    flags say."""
    return event is not None and event != END_EVENT


def session_end(args: argparse.Namespace, inp: HookInput, manager: Any) -> dict[str, Any]:
    """delete the session's entries at the real end of a session (SessionEnd, or no hook
    event); from any other event (PreCompact, Stop, ...) keep them and print a summary"""
    from lifecycle.hooks import actions, session_memory

    session_id = args.session_id or inp.session_id
    keep = session_goes_on(inp.event)
    if not session_id:
        log.warning(
            "session-end: no session id (pass --session-id ID or pipe Claude Code's hook "
            "JSON); no session entries deleted, expired entries collected"
        )
    since = session_memory.session_started_at(manager, session_id)
    extra: dict[str, Any] = {}
    if keep or args.generate_summary or args.persist_state or args.export_metrics:
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
    result = actions.session_end(manager, session_id, keep_session=keep)
    kept = {"kept_session": True, "event": inp.event} if keep else {"kept_session": False}
    return {**result, **extra, **kept}


def session_context(start: bool) -> Handler:
    def handler(args: argparse.Namespace, inp: HookInput, manager: Any) -> dict[str, Any]:
        from lifecycle.hooks import session_memory

        session_id = args.session_id or inp.session_id
        name = "session-start" if start else "session-restore"
        # claude-flow 3 runs session-restore at SessionStart: a session starting, as here
        starting = start or (inp.event == "SessionStart" and not args.session_id)
        started = False
        if starting and session_id and session_id != "latest":
            started = session_memory.record_session_start(manager, session_id, inp.text("source"))
        if session_id in (None, "latest") and not starting:
            session_id = session_memory.latest_saved_session(manager)
        if session_id == "latest":
            session_id = None
        found = session_memory.context(manager, session_id, fall_back_to_latest=starting)
        return {"hook": name, "recorded_start": started, **found}

    handler.__doc__ = (
        "print the session's stored memory (Claude Code's SessionStart adds it to the context)"
        if start
        else "print a saved session's memory (default: the latest saved session)"
    )
    return handler
