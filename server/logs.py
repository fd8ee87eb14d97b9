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

import os
import sys

from lifecycle.basics.lazy_logging import INFO, when_logging_starts

from .program import PROG

TYPE_CHECKING = False  # typing's flag without importing typing
if TYPE_CHECKING:
    import logging

ENV_LOG_LEVEL = "MEMORY_LIFECYCLE_LOG_LEVEL"
FORMAT = "%(asctime)s %(name)s %(levelname)s: %(message)s"


def command_message(record: logging.LogRecord, formatter: logging.Formatter) -> str:
    """``memory-lifecycle: warning: <message>``: how a one-shot command speaks."""
    text = f"{PROG}: {record.levelname.lower()}: {record.getMessage()}"
    if record.exc_info:
        text += "\n" + formatter.formatException(record.exc_info)
    return text


def configure_logging(level: int = INFO, *, debug: bool = False, one_shot: bool = False) -> None:
    """Log to stderr at ``level`` unless logging is already set up (keep that level);
    the environment variable has the last word. ``one_shot``: a command's format rather
    than a log's (module docstring)."""
    import logging

    class CommandFormatter(logging.Formatter):
        def format(self, record: logging.LogRecord) -> str:
            return command_message(record, self)

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


def configure_logging_on_first_message(level: int, *, debug: bool, one_shot: bool) -> None:
    """``configure_logging``, run right before the first message shown
    (``lifecycle.basics.lazy_logging``): a hook that has nothing to say never imports
    ``logging``. ``--debug`` and the environment variable set up logging at once."""
    if debug or os.environ.get(ENV_LOG_LEVEL):
        configure_logging(level, debug=debug, one_shot=one_shot)
        return
    when_logging_starts(lambda: configure_logging(level, one_shot=one_shot), level)
