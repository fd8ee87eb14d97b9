"""The hook commands init wires, in the format Claude Code and Gemini CLI share.

Both read ``"hooks": {EVENT: [{"matcher": ..., "hooks": [{"type": "command",
"command": ..., "timeout": ...}]}]}`` (Gemini CLI counts the timeout in
milliseconds, Claude Code in seconds) and pass the event as JSON on stdin with
``session_id``, ``hook_event_name`` and ``cwd``, which ``memory-lifecycle hook``
reads. A hook that already runs memory-lifecycle's hook of that name, under any
path, counts as wired, so a second run adds nothing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .addition import Addition
from .config_file import COMMAND, kind, require_object
from .json_text import invalid


@dataclass(frozen=True)
class HookSpec:
    """One hook init wires: a client's event running ``memory-lifecycle hook NAME``."""

    event: str
    name: str
    matcher: str | None = None

    @property
    def command(self) -> str:
        return f"{COMMAND} hook {self.name}"

    @property
    def change(self) -> str:
        where = f" ({self.matcher})" if self.matcher else ""
        return f"hook {self.event}{where}: {self.command}"

    def runs_in(self, command: Any) -> bool:
        """Whether a hook command already runs this memory-lifecycle hook (any path)."""
        return (
            isinstance(command, str)
            and COMMAND in command
            and re.search(rf"\bhooks?\s+{re.escape(self.name)}\b", command) is not None
        )

    def group(self, timeout: int) -> dict[str, Any]:
        hook = {"type": "command", "command": self.command, "timeout": timeout}
        return {"matcher": self.matcher, "hooks": [hook]} if self.matcher else {"hooks": [hook]}


def wire(doc: Any, path: Path, specs: Sequence[HookSpec], timeout: int) -> list[Addition]:
    """The additions that wire each hook of ``specs`` not wired yet."""
    require_object(doc, path, "the file")
    if "hooks" not in doc:
        events: dict[str, list[dict[str, Any]]] = {}
        for spec in specs:
            events.setdefault(spec.event, []).append(spec.group(timeout))
        return [Addition((), "hooks", events, tuple(s.change for s in specs))]
    hooks = doc["hooks"]
    require_object(hooks, path, '"hooks"')
    missing: dict[str, list[HookSpec]] = {}
    for spec in specs:
        groups = hooks.get(spec.event, [])
        if not isinstance(groups, list):
            raise invalid(path, f'"hooks"."{spec.event}" is {kind(groups)}, not a list')
        if not any(spec.runs_in(command) for command in _commands(groups)):
            missing.setdefault(spec.event, []).append(spec)
    additions = []
    for event, wanted in missing.items():
        if event not in hooks:
            groups = [s.group(timeout) for s in wanted]
            additions.append(Addition(("hooks",), event, groups, tuple(s.change for s in wanted)))
        else:
            additions += [
                Addition(("hooks", event), None, s.group(timeout), (s.change,)) for s in wanted
            ]
    return additions


def _commands(groups: list[Any]) -> list[Any]:
    return [
        hook.get("command")
        for group in groups
        if isinstance(group, dict) and isinstance(group.get("hooks"), list)
        for hook in group["hooks"]
        if isinstance(hook, dict)
    ]
