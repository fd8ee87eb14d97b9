"""OpenAI Codex CLI: ``[mcp_servers.memory-lifecycle]`` in ``.codex/config.toml``.

Codex reads a project's ``.codex/config.toml`` only once the project is trusted
(``[projects."<dir>"] trust_level = "trusted"`` in ``~/.codex/config.toml``,
which Codex writes when you say yes to its trust prompt). It starts the server
in the folder it runs in; the server walks up to the project root from there.
Codex has no variable for the project folder, so none is written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .addition import Addition
from .claude_code import mcp_servers
from .config_file import COMMAND, ConfigFile

CONFIG = Path(".codex") / "config.toml"
SERVER_ENTRY: dict[str, Any] = {"command": COMMAND, "args": ["serve"]}


def additions(doc: Any, path: Path) -> list[Addition]:
    return mcp_servers(doc, path, ("mcp_servers",), SERVER_ENTRY)


FILES = (ConfigFile(CONFIG, additions, toml=True),)
NOTE = (
    "Codex reads .codex/config.toml only in a trusted project: start codex in {project} "
    "once and trust it (or see docs/clients.md)"
)


def files(project: Path) -> tuple[ConfigFile, ...]:
    return FILES
