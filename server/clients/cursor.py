"""Cursor: ``mcpServers`` in ``.cursor/mcp.json``.

Cursor fills ``${workspaceFolder}`` in a server's ``env`` (and ``${env:NAME}``,
``${userHome}``), so the server is told where the project is. Cursor asks
before it runs a project's server the first time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lifecycle.paths import ENV_PROJECT_DIR

from .addition import Addition
from .claude_code import mcp_servers
from .config_file import COMMAND, ConfigFile
from .vscode import WORKSPACE

CONFIG = Path(".cursor") / "mcp.json"
SERVER_ENTRY: dict[str, Any] = {
    "command": COMMAND,
    "args": ["serve"],
    "env": {ENV_PROJECT_DIR: WORKSPACE},
}


def additions(doc: Any, path: Path) -> list[Addition]:
    return mcp_servers(doc, path, ("mcpServers",), SERVER_ENTRY)


FILES = (ConfigFile(CONFIG, additions),)


def files(project: Path) -> tuple[ConfigFile, ...]:
    return FILES
