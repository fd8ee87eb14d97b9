"""The subcommands of ``memory-lifecycle``, one module per group.

Each module exposes ``register(sub)``, which adds its parsers and sets each
parser's ``handler``. Hooks run on every session end, task, edit and shell
command, so a command line loads only the module of the command it names
(``COMMANDS`` maps each name to its module; a test keeps it in step with what
the modules register) and the full set only for help and usage errors. Within a
module only the engine is imported at the top: ``serve`` loads the MCP SDK,
``ui`` the web stack (Starlette, uvicorn) and ``daemon`` APScheduler lazily,
inside their handlers.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from types import ModuleType

TYPE_CHECKING = False  # typing's flag without importing typing (or argparse)
if TYPE_CHECKING:
    import argparse
    from typing import Any

# the order of --help's command list
MODULE_NAMES = (
    "serve",
    "ui",
    "hooks.command",
    "maintenance",
    "transfer",
    "search",
    "coordination",
    "entries",
    "init",
)

# every command name (aliases included) -> the module that registers it
COMMANDS = {
    "serve": "serve",
    "ui": "ui",
    "hook": "hooks.command",
    "hooks": "hooks.command",
    "cleanup": "maintenance",
    "stats": "maintenance",
    "daemon": "maintenance",
    "export": "transfer",
    "import": "transfer",
    "search": "search",
    "reindex": "search",
    "index": "search",
    "locks": "coordination",
    "watch": "coordination",
    "get": "entries",
    "put": "entries",
    "list": "entries",
    "delete": "entries",
    "init": "init",
}


def load(name: str) -> ModuleType:
    """The command module ``name`` (one of ``MODULE_NAMES``), imported on first use."""
    module = f"{__name__}.{name}"
    __import__(module)  # importlib.import_module's work, without importing importlib (~2M)
    return sys.modules[module]


def modules(command: str | None = None) -> tuple[ModuleType, ...]:
    """The module registering ``command``, or every module when it is None or unknown."""
    if command in COMMANDS:
        return (load(COMMANDS[command]),)
    return tuple(load(name) for name in MODULE_NAMES)


def register(
    sub: argparse._SubParsersAction[Any],
    command: str | None = None,
    rest: Sequence[str] = (),
) -> None:
    """Add the parsers of ``command`` (every command's when None or unknown). ``rest``,
    what follows the command name, lets ``hook`` build only the named hook's parser:
    building all eleven, with their flags, cost a hook process ~5 ms."""
    for module in modules(command):
        if module.__name__ == f"{__name__}.hooks.command":
            module.register(sub, only=rest[0] if rest else None)
        else:
            module.register(sub)


__all__ = ["COMMANDS", "MODULE_NAMES", "load", "modules", "register"]
