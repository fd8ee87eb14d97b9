"""opencode: a ``local`` server in ``opencode.json`` (or ``opencode.jsonc``).

opencode 1.x reads ``mcp.<name>``, and what its own ``opencode mcp add``
writes; its V2 configuration reads ``mcp.servers.<name>``, and 1.18 reads both.
A file that already uses ``mcp.servers`` gets the server there, any other in
``mcp`` directly. The command is a list (``["memory-lifecycle", "serve"]``).
opencode finds the file from any folder below the project, starts the server
there, and the server walks up to the project root.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lifecycle.paths import registered_in

from . import json_text
from .addition import Addition
from .claude_code import mcp_servers
from .config_file import COMMAND, ConfigFile, section

CONFIG = Path("opencode.json")
CONFIG_WITH_COMMENTS = Path("opencode.jsonc")
SCHEMA = "https://opencode.ai/config.json"
SERVER_ENTRY: dict[str, Any] = {"type": "local", "command": [COMMAND, "serve"]}


def additions(doc: Any, path: Path) -> list[Addition]:
    if doc is None:  # a new file says what it is, as opencode's own files do
        return [Addition((), "$schema", SCHEMA, ()), *mcp_servers({}, path, ("mcp",), SERVER_ENTRY)]
    mcp = section(doc, path, ("mcp",))
    servers = mcp.get("servers")
    v2 = isinstance(servers, dict) and "type" not in servers  # not a V1 server named so
    if registered_in(mcp) is not None or (v2 and registered_in(servers) is not None):
        return []
    return mcp_servers(doc, path, ("mcp", "servers") if v2 else ("mcp",), SERVER_ENTRY)


def files(project: Path) -> tuple[ConfigFile, ...]:
    """``opencode.jsonc`` where the project has one and no ``opencode.json``."""
    jsonc = (project / CONFIG_WITH_COMMENTS).exists() and not (project / CONFIG).exists()
    return (ConfigFile(CONFIG_WITH_COMMENTS if jsonc else CONFIG, additions, json_text.JSONC),)
