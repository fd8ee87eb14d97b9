"""VS Code (Copilot's agent mode): ``servers`` in ``.vscode/mcp.json``.

VS Code substitutes ``${workspaceFolder}`` in a server's ``env``, so the server
is told where the project is rather than left to guess from a working folder
VS Code does not document. The file is JSON with comments. Copilot's own
harness also reads the portable ``.mcp.json`` that ``--client claude-code``
writes. VS Code asks once before it starts a workspace's server.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lifecycle.paths import ENV_PROJECT_DIR

from . import json_text
from .addition import Addition
from .claude_code import mcp_servers
from .config_file import COMMAND, ConfigFile

CONFIG = Path(".vscode") / "mcp.json"
WORKSPACE = "${workspaceFolder}"
SERVER_ENTRY: dict[str, Any] = {
    "type": "stdio",
    "command": COMMAND,
    "args": ["serve"],
    "env": {ENV_PROJECT_DIR: WORKSPACE},
}


def additions(doc: Any, path: Path) -> list[Addition]:
    return mcp_servers(doc, path, ("servers",), SERVER_ENTRY)


FILES = (ConfigFile(CONFIG, additions, json_text.JSONC),)


def files(project: Path) -> tuple[ConfigFile, ...]:
    return FILES
