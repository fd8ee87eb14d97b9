"""What ``memory-lifecycle init`` adds to a project's Claude Code files, as pure merges.

Each function takes what a file holds now (parsed JSON or text, ``None`` when
the file does not exist) and returns what it should hold plus one line per
change; no change means the file is left alone. They only ever add: every
other server, hook, setting and line is kept as it was, and whatever already
runs memory-lifecycle (under any name, with any path) counts as present, so a
second run changes nothing.

The commands written are the bare ``memory-lifecycle`` command: it is the same
on every machine where it is installed as a tool (``pipx install``), so a
teammate who clones the project gets working files. Claude Code sets
``CLAUDE_PROJECT_DIR`` to the folder it starts in, possibly a subfolder; the
command finds the project root from there (``lifecycle.paths``), so no path
is written at all.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lifecycle.errors import ConfigurationError
from lifecycle.paths import DEFAULT_MEMORY_DIR, SERVER_NAME, registered_server

COMMAND = "memory-lifecycle"
SERVER_ENTRY: dict[str, Any] = {"type": "stdio", "command": COMMAND, "args": ["serve"], "env": {}}
HOOK_TIMEOUT_SECONDS = 10
# Claude Code's subagent tool: `Agent` since 2.1, `Task` before (2.1 maps `Task` to it).
SUBAGENT_MATCHER = "Agent|Task"
STORE_IGNORE = f"{DEFAULT_MEMORY_DIR.as_posix()}/"
_IGNORED_ALREADY = {".claude-flow", ".claude-flow/*", ".claude-flow/**", ".claude-flow/memory"}
_IGNORED_ALREADY |= {p + "/" for p in _IGNORED_ALREADY} | {".claude-flow/memory/*"}


@dataclass(frozen=True)
class HookSpec:
    """One hook init wires: a Claude Code event running ``memory-lifecycle hook NAME``."""

    event: str
    name: str
    matcher: str | None = None

    @property
    def command(self) -> str:
        return f"{COMMAND} hook {self.name}"

    def runs_in(self, command: Any) -> bool:
        """Whether a hook command already runs this memory-lifecycle hook (any path)."""
        return (
            isinstance(command, str)
            and COMMAND in command
            and re.search(rf"\bhooks?\s+{re.escape(self.name)}\b", command) is not None
        )

    def group(self) -> dict[str, Any]:
        hook = {"type": "command", "command": self.command, "timeout": HOOK_TIMEOUT_SECONDS}
        return {"matcher": self.matcher, "hooks": [hook]} if self.matcher else {"hooks": [hook]}


# Every hook init writes, in order. Add one here and init wires it (and a rerun adds it).
HOOKS: tuple[HookSpec, ...] = (
    HookSpec("SessionStart", "session-start"),  # prints what memory holds: Claude adds it
    HookSpec("SessionEnd", "session-end"),
    HookSpec("PreToolUse", "pre-task", matcher=SUBAGENT_MATCHER),
)


def merge_server(doc: Any, path: Path) -> tuple[Any, list[str]]:
    """``.mcp.json`` with the memory-lifecycle server registered."""
    doc = {} if doc is None else doc
    _require_object(doc, path, "the file")
    servers = doc.get("mcpServers")
    if servers is None:
        servers = {}
    _require_object(servers, path, '"mcpServers"')
    existing = registered_server({"mcpServers": servers})
    if existing is not None:
        return doc, []
    return {**doc, "mcpServers": {**servers, SERVER_NAME: dict(SERVER_ENTRY)}}, [
        f"server {SERVER_NAME}: {COMMAND} serve"
    ]


def merge_hooks(doc: Any, path: Path, specs: Sequence[HookSpec] = HOOKS) -> tuple[Any, list[str]]:
    """``.claude/settings.json`` with each hook of ``specs`` present once."""
    doc = {} if doc is None else doc
    _require_object(doc, path, "the file")
    hooks = doc.get("hooks")
    hooks = {} if hooks is None else hooks
    _require_object(hooks, path, '"hooks"')
    hooks = dict(hooks)
    changes = []
    for spec in specs:
        groups = hooks.get(spec.event, [])
        if not isinstance(groups, list):
            raise _invalid(path, f'"hooks"."{spec.event}" is {_kind(groups)}, not a list')
        if any(spec.runs_in(command) for command in _commands(groups)):
            continue
        hooks[spec.event] = [*groups, spec.group()]
        where = f" ({spec.matcher})" if spec.matcher else ""
        changes.append(f"hook {spec.event}{where}: {spec.command}")
    return ({**doc, "hooks": hooks} if changes else doc), changes


def merge_gitignore(text: str | None) -> tuple[str, list[str]]:
    """``.gitignore`` ignoring the store (values are per machine; share them by export)."""
    text = text or ""
    lines = {line.strip().lstrip("/") for line in text.splitlines()}
    if lines & _IGNORED_ALREADY:
        return text, []
    if text and not text.endswith("\n"):
        text += "\n"
    block = f"# memory-lifecycle store (one per machine)\n{STORE_IGNORE}\n"
    return text + ("\n" if text else "") + block, [f"ignore {STORE_IGNORE}"]


def _commands(groups: list[Any]) -> list[Any]:
    return [
        hook.get("command")
        for group in groups
        if isinstance(group, dict) and isinstance(group.get("hooks"), list)
        for hook in group["hooks"]
        if isinstance(hook, dict)
    ]


def parse_json(text: str, path: Path) -> Any:
    """A config file's JSON; an empty file is an empty object."""
    if not text.strip():
        return {}
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        problem = f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        raise _invalid(path, problem) from None


def render_json(doc: Any, previous: str | None) -> str:
    """JSON text indented like the file it replaces (2 spaces for a new file)."""
    return json.dumps(doc, indent=_indent_of(previous), ensure_ascii=False) + "\n"


def _indent_of(text: str | None) -> int | str:
    for line in (text or "").splitlines()[1:]:
        stripped = line.lstrip(" \t")
        if stripped and stripped != line:
            lead = line[: len(line) - len(stripped)]
            return lead if "\t" in lead else len(lead)
    return 2


def _require_object(value: Any, path: Path, what: str) -> None:
    if not isinstance(value, dict):
        raise _invalid(path, f"{what} is {_kind(value)}, not a JSON object")


def _kind(value: Any) -> str:
    kinds = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}
    kinds[type(None)] = "null"
    return kinds.get(type(value), "a number")


def _invalid(path: Path, problem: str) -> ConfigurationError:
    return ConfigurationError(
        f"{path}: {problem}; fix it by hand and rerun init (nothing was changed)", path=str(path)
    )
