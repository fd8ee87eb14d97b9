"""Logging for every entry point (CLI, hooks, daemon, server), on stderr.

stdout belongs to MCP messages (``serve``) and to results (``--output json``),
so nothing logs there. ``MEMORY_LIFECYCLE_LOG_LEVEL`` overrides the level.

Two formats, one per kind of command. A long-running one (``serve``, ``daemon``,
``ui``) writes a log: each line stamped with its time and logger. A one-shot command
(a hook, ``stats``, ``put``, ...) speaks to the person or the hook runner that started
it, so its warnings read like its errors and its own notes, one style everywhere:
``memory-lifecycle: warning: <message>`` (``--debug`` brings the stamped format back).
"""

from __future__ import annotations

import logging
import os
import sys

from .program import PROG

ENV_LOG_LEVEL = "MEMORY_LIFECYCLE_LOG_LEVEL"
FORMAT = "%(asctime)s %(name)s %(levelname)s: %(message)s"


class CommandFormatter(logging.Formatter):
    """``memory-lifecycle: warning: <message>``: how a one-shot command speaks."""

    def format(self, record: logging.LogRecord) -> str:
        text = f"{PROG}: {record.levelname.lower()}: {record.getMessage()}"
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        return text


def configure_logging(
    level: int = logging.INFO, *, debug: bool = False, one_shot: bool = False
) -> None:
    """Log to stderr at ``level`` unless logging is already set up (keep that level);
    the environment variable has the last word. ``one_shot``: a command's format rather
    than a log's (module docstring)."""
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler(sys.stderr)
        formatter = CommandFormatter() if one_shot and not debug else logging.Formatter(FORMAT)
        handler.setFormatter(formatter)
        root.addHandler(handler)
        root.setLevel(logging.DEBUG if debug else level)
    name = os.environ.get(ENV_LOG_LEVEL, "").upper()
    if name and isinstance(logging.getLevelName(name), int):
        root.setLevel(name)
    if not debug:  # its job bookkeeping says nothing our own run lines do not
        logging.getLogger("apscheduler").setLevel(logging.WARNING)
