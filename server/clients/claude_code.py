"""Claude Code: the server in ``.mcp.json``, the hooks in ``.claude/settings.json``.

The commands written are the bare ``memory-lifecycle`` command: it is the same
on every machine where it is installed as a tool (``pipx install``), so a
teammate who clones the project gets working files. Claude Code sets
``CLAUDE_PROJECT_DIR`` to the folder it starts in, possibly a subfolder; the
command finds the project root from there (``lifecycle.paths``), so no path
is written at all.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lifecycle.paths import MCP_CONFIG, SERVER_NAME, registered_in

from .addition import Addition
from .config_file import COMMAND, ConfigFile, add_member, section
from .hooks import HookSpec, wire

SERVER_ENTRY: dict[str, Any] = {"type": "stdio", "command": COMMAND, "args": ["serve"], "env": {}}
SETTINGS = Path(".claude") / "settings.json"
HOOK_TIMEOUT_SECONDS = 10
# Claude Code's subagent tool: `Agent` since 2.1, `Task` before (2.1 maps `Task` to it).
SUBAGENT_MATCHER = "Agent|Task"

# Every hook init writes, in order. Add one here and init wires it (and a rerun adds it).
HOOKS: tuple[HookSpec, ...] = (
    HookSpec("SessionStart", "session-start"),  # prints what memory holds: Claude adds it
    HookSpec("SessionEnd", "session-end"),
    HookSpec("PreToolUse", "pre-task", matcher=SUBAGENT_MATCHER),  # a subagent starts...
    HookSpec("PostToolUse", "post-task", matcher=SUBAGENT_MATCHER),  # ...and ends: done,
    HookSpec("PostToolUseFailure", "post-task", matcher=SUBAGENT_MATCHER),  # or failed
)


def server_additions(doc: Any, path: Path) -> list[Addition]:
    """``.mcp.json`` (``mcpServers``) with the memory-lifecycle server registered."""
    return mcp_servers(doc, path, ("mcpServers",), SERVER_ENTRY)


def mcp_servers(doc: Any, path: Path, at: tuple[str, ...], entry: dict[str, Any]) -> list[Addition]:
    """The server added to the servers object at ``at`` unless something there runs it."""
    doc = {} if doc is None else doc
    if registered_in(section(doc, path, at)) is not None:
        return []
    command = entry["command"]
    words = [*(command if isinstance(command, list) else [command]), *entry.get("args", [])]
    change = f"server {SERVER_NAME}: {' '.join(words)}"
    return [add_member(doc, path, at, SERVER_NAME, entry, change)]


def hook_additions(doc: Any, path: Path) -> list[Addition]:
    return wire({} if doc is None else doc, path, HOOKS, HOOK_TIMEOUT_SECONDS)


FILES = (
    ConfigFile(Path(MCP_CONFIG), server_additions),
    ConfigFile(SETTINGS, hook_additions),
)


def files(project: Path) -> tuple[ConfigFile, ...]:
    return FILES
