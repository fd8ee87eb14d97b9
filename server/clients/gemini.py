"""Gemini CLI: ``mcpServers`` and a ``SessionEnd`` hook in ``.gemini/settings.json``.

Gemini CLI reads the workspace's settings only in a trusted folder
(``~/.gemini/trustedFolders.json``, which its trust prompt writes); untrusted, it
lists the server as disabled. The file may hold comments (Gemini strips them
before parsing). Its hooks take Claude Code's format and stdin fields, with the
timeout in milliseconds; ``SessionEnd`` (reason ``exit``, ``clear``...) is where
a session's scratch memory goes, as in Claude Code. Its ``SessionStart`` output
is shown to the user rather than given to the model, so that hook is not wired.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from . import json_text
from .addition import Addition
from .claude_code import HOOK_TIMEOUT_SECONDS, mcp_servers
from .config_file import COMMAND, ConfigFile
from .hooks import HookSpec, wire

SETTINGS = Path(".gemini") / "settings.json"
SERVER_ENTRY: dict[str, Any] = {"command": COMMAND, "args": ["serve"]}
HOOKS = (HookSpec("SessionEnd", "session-end"),)


def additions(doc: Any, path: Path) -> list[Addition]:
    doc = {} if doc is None else doc
    servers = mcp_servers(doc, path, ("mcpServers",), SERVER_ENTRY)
    return servers + wire(doc, path, HOOKS, HOOK_TIMEOUT_SECONDS * 1000)


FILES = (ConfigFile(SETTINGS, additions, json_text.COMMENTS),)
NOTE = (
    "Gemini CLI reads .gemini/settings.json only in a trusted folder: start gemini in "
    "{project} once and trust it (or see docs/clients.md)"
)


def files(project: Path) -> tuple[ConfigFile, ...]:
    return FILES
