"""Logging for every entry point (CLI, hooks, daemon, server): one format, on stderr.

stdout belongs to MCP messages (``serve``) and to results (``--output json``),
so nothing logs there. ``MEMORY_LIFECYCLE_LOG_LEVEL`` overrides the level.
"""

from __future__ import annotations

import logging
import os
import sys

ENV_LOG_LEVEL = "MEMORY_LIFECYCLE_LOG_LEVEL"
FORMAT = "%(asctime)s %(name)s %(levelname)s: %(message)s"


def configure_logging(level: int = logging.INFO, *, debug: bool = False) -> None:
    """Log to stderr at ``level`` unless logging is already set up (keep that level);
    the environment variable has the last word."""
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(FORMAT))
        root.addHandler(handler)
        root.setLevel(logging.DEBUG if debug else level)
    name = os.environ.get(ENV_LOG_LEVEL, "").upper()
    if name and isinstance(logging.getLevelName(name), int):
        root.setLevel(name)
    if not debug:  # its job bookkeeping says nothing our own run lines do not
        logging.getLogger("apscheduler").setLevel(logging.WARNING)
