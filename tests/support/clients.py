"""Start the server the way each coding agent starts it, from the file init wrote.

Each client reads its own file and starts ``command`` + ``args`` without a shell,
with its own working directory and environment:

- Claude Code: ``.mcp.json``; see ``tests.support.claude_code``.
- Codex CLI: ``.codex/config.toml``; started in the folder Codex runs in, with
  only a few variables of Codex's environment (PATH, HOME, ...) plus ``env``.
- Gemini CLI: ``.gemini/settings.json``; started in Gemini's folder, ``$VAR`` and
  ``${VAR}`` expanded from its environment.
- VS Code: ``.vscode/mcp.json``; ``${workspaceFolder}`` is the folder VS Code has
  open (the project), whatever folder VS Code itself was started in.
- Cursor: ``.cursor/mcp.json``; ``${workspaceFolder}`` likewise.
- opencode: ``opencode.json``; ``command`` is one list, ``environment`` the env,
  started in the folder opencode runs in.

``folder`` below is where the agent runs: the project root or a subfolder.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import tomlkit
from mcp import StdioServerParameters

from tests.support.claude_code import server_params as claude_code_params
from tests.support.env import child_env

CONFIG = {
    "claude-code": ".mcp.json",
    "codex": ".codex/config.toml",
    "gemini": ".gemini/settings.json",
    "vscode": ".vscode/mcp.json",
    "cursor": ".cursor/mcp.json",
    "opencode": "opencode.json",
}
CLIENTS = tuple(CONFIG)
# the few variables of its own environment Codex passes on to a stdio server
_CODEX_ENV = (
    "HOME",
    "LOGNAME",
    "PATH",
    "SHELL",
    "USER",
    "__CF_USER_TEXT_ENCODING",
    "LANG",
    "LC_ALL",
    "TERM",
    "TMPDIR",
    "TZ",
)
_VSCODE_VAR = re.compile(r"\$\{(workspaceFolder|userHome|env:([A-Za-z_][A-Za-z0-9_]*))\}")
_GEMINI_VAR = re.compile(r"\$(?:(\w+)|\{([^}]+?)(?::-([^}]*))?\})")


def entry(project: Path, client: str) -> dict[str, Any]:
    """The memory-lifecycle entry init wrote for ``client``."""
    path = project / CONFIG[client]
    if client == "codex":
        return tomlkit.parse(path.read_text()).unwrap()["mcp_servers"]["memory-lifecycle"]
    doc = json.loads(path.read_text())
    servers = {
        "claude-code": lambda: doc["mcpServers"],
        "gemini": lambda: doc["mcpServers"],
        "cursor": lambda: doc["mcpServers"],
        "vscode": lambda: doc["servers"],
        "opencode": lambda: doc["mcp"].get("servers", doc["mcp"]),
    }[client]()
    return servers["memory-lifecycle"]


def server_params(project: Path, client: str, folder: Path, **extra: str) -> StdioServerParameters:
    """The server of ``project`` as ``client`` running in ``folder`` starts it."""
    e = entry(project, client)
    if client == "claude-code":
        return claude_code_params(e, folder, **extra)
    env = child_env(**extra)
    if client == "codex":
        own = {k: env[k] for k in _CODEX_ENV if k in env}
        env = {**own, **e.get("env", {})}
        return StdioServerParameters(
            command=e["command"], args=e.get("args", []), env=env, cwd=folder
        )
    if client == "gemini":
        sub = lambda s: _gemini_expand(s, env)  # noqa: E731
        return StdioServerParameters(
            command=sub(e["command"]),
            args=[sub(a) for a in e.get("args", [])],
            env={**env, **{k: sub(v) for k, v in (e.get("env") or {}).items()}},
            cwd=folder,
        )
    if client in ("vscode", "cursor"):
        sub = lambda s: _vscode_expand(s, project, env)  # noqa: E731
        return StdioServerParameters(
            command=sub(e["command"]),
            args=[sub(a) for a in e.get("args", [])],
            env={**env, **{k: sub(v) for k, v in (e.get("env") or {}).items()}},
            cwd=folder,
        )
    command = e["command"]
    return StdioServerParameters(
        command=command[0],
        args=command[1:],
        env={**env, **(e.get("environment") or {})},
        cwd=folder,
    )


def _vscode_expand(text: str, workspace: Path, env: dict[str, str]) -> str:
    def one(match: re.Match[str]) -> str:
        if match.group(1) == "workspaceFolder":
            return str(workspace)
        if match.group(1) == "userHome":
            return env.get("HOME", os.path.expanduser("~"))
        return env.get(match.group(2), "")

    return _VSCODE_VAR.sub(one, text)


def _gemini_expand(text: str, env: dict[str, str]) -> str:
    def one(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        if name in env:
            return env[name]
        return match.group(3) if match.group(3) is not None else match.group(0)

    return _GEMINI_VAR.sub(one, text)
