"""The subcommands of ``memory-lifecycle``, one module per group.

Each module exposes ``register(sub)``, which adds its parsers and sets each
parser's ``handler``. Only the engine is imported at the top of any of them:
hooks run on every session end and task, so ``serve`` loads the MCP SDK, ``ui`` the
web stack (Starlette, uvicorn) and ``daemon`` APScheduler lazily, inside their handlers.
"""

from __future__ import annotations

from . import coordination, entries, hook, init, maintenance, search, serve, transfer, ui

MODULES = (serve, ui, hook, maintenance, transfer, search, coordination, entries, init)

__all__ = ["MODULES"]
