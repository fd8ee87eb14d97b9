"""Run what a project's Claude Code files name, the way Claude Code 2.1 runs it.

Claude Code started in a folder of a project sets ``CLAUDE_PROJECT_DIR`` to
that folder (a subfolder too) and starts processes there. It expands
``${VAR}`` and ``${VAR:-default}`` in ``.mcp.json``'s command, args and env
(never a bare ``$VAR``), spawns the server without a shell, and runs each hook
command through a shell with the event's JSON on stdin.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

from mcp import StdioServerParameters

from tests.support.env import child_env

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def expand(text: str, env: dict[str, str]) -> str:
    """Claude Code's expansion: a set variable, else the default, else left as written."""

    def one(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        if name in env:
            return env[name]
        return default if default is not None else match.group(0)

    return _VAR.sub(one, text)


def claude_code_env(folder: Path, **extra: str) -> dict[str, str]:
    return child_env(CLAUDE_PROJECT_DIR=str(folder), **extra)


def server_params(entry: dict[str, Any], folder: Path, **extra: str) -> StdioServerParameters:
    """The ``.mcp.json`` entry started from ``folder``, as Claude Code starts it."""
    env = claude_code_env(folder, **extra)
    own_env = {k: expand(v, env) for k, v in (entry.get("env") or {}).items()}
    return StdioServerParameters(
        command=expand(entry["command"], env),
        args=[expand(a, env) for a in entry.get("args", [])],
        env={**env, **own_env},
        cwd=folder,
    )


def hook_commands(settings: dict[str, Any]) -> list[tuple[str, str | None, str]]:
    """(event, matcher, command) of every command hook in a settings.json."""
    return [
        (event, group.get("matcher"), hook["command"])
        for event, groups in settings.get("hooks", {}).items()
        for group in groups
        for hook in group["hooks"]
        if hook.get("type") == "command"
    ]


def hook_input(folder: Path, event: str, **fields: object) -> str:
    """The JSON Claude Code writes to a hook command's stdin."""
    return json.dumps(
        {
            "session_id": "sess-1",
            "transcript_path": str(folder / "transcript.jsonl"),
            "cwd": str(folder),
            "permission_mode": "default",
            "hook_event_name": event,
            **fields,
        }
    )


def event_input(folder: Path, event: str, session_id: str) -> str:
    """A realistic stdin for ``event``: SessionEnd's reason, a tool event's subagent call."""
    fields: dict[str, object] = {"session_id": session_id}
    if event == "SessionEnd":
        fields["reason"] = "clear"
    elif event in ("PreToolUse", "PostToolUse", "PostToolUseFailure"):
        fields |= {
            "tool_name": "Agent",
            "tool_use_id": "toolu_01",
            "tool_input": {"description": "review", "prompt": "review the diff"},
        }
        if event == "PostToolUse":
            fields["tool_response"] = {"content": [{"type": "text", "text": "looks good"}]}
        elif event == "PostToolUseFailure":
            fields |= {"error": "the subagent hit its turn limit", "is_interrupt": False}
    elif event == "SessionStart":
        fields["source"] = "startup"
    return hook_input(folder, event, **fields)


def run_hook(command: str, folder: Path, stdin: str, **extra: str) -> subprocess.CompletedProcess:
    """A hook command run through a shell from ``folder``, as Claude Code runs it."""
    return subprocess.run(
        ["sh", "-c", command],
        cwd=folder,
        env=claude_code_env(folder, **extra),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


def path_with(folder: Path) -> str:
    """PATH with ``folder`` first: where a tool installed with pipx would be found."""
    return f"{folder}{os.pathsep}{os.environ.get('PATH', '')}"
