"""One client configuration file and the additions init makes to it.

A client module says which file its agent reads and, given what the file holds
now, what to add (``Addition``s); this module turns that into the file's new
text, only ever adding: JSON through ``json_text`` (the user's lines kept byte
for byte), TOML through tomlkit, which round-trips comments and layout.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import json_text, toml_text
from .addition import Addition
from .json_text import Dialect, invalid

COMMAND = "memory-lifecycle"


Plan = Callable[[Any, Path], list[Addition]]


@dataclass(frozen=True)
class ConfigFile:
    """A file a client reads: where, in which format, and what init adds to it."""

    path: Path  # relative to the project
    plan: Plan  # (what the file holds, or None when absent; its full path) -> additions
    dialect: Dialect = json_text.STRICT
    toml: bool = False

    def parse(self, text: str, path: Path) -> Any:
        return (
            toml_text.parse(text, path) if self.toml else json_text.parse(text, path, self.dialect)
        )

    def render(self, before: str | None, additions: list[Addition]) -> str:
        """The file's text with every addition made (a new file when ``before`` is None)."""
        if self.toml:
            return toml_text.apply(before or "", additions)
        if before is None or not before.strip():
            merged: dict[str, Any] = {}
            for a in additions:
                _place(merged, a)
            return json_text.new_file(merged)
        text = before
        for a in additions:
            text = json_text.insert(text, a.at, a.key, a.value, self.dialect)
        return text


def _place(doc: dict[str, Any], a: Addition) -> None:
    holder: Any = doc
    for step in a.at:
        holder = holder[step]
    if a.key is None:
        holder.append(a.value)
    else:
        holder[a.key] = a.value


def add_member(
    doc: Any, path: Path, at: tuple[str, ...], key: str, value: Any, change: str
) -> Addition:
    """The addition putting ``key: value`` at ``at``, creating the objects on the way."""
    require_object(doc, path, "the file")
    node = doc
    for i, step in enumerate(at):
        if step not in node:
            nested: Any = {key: value}
            for outer in reversed(at[i + 1 :]):
                nested = {outer: nested}
            return Addition(at[:i], step, nested, (change,))
        node = node[step]
        require_object(node, path, quoted(at[: i + 1]))
    return Addition(at, key, value, (change,))


def section(doc: Any, path: Path, at: tuple[str, ...]) -> dict[str, Any]:
    """The object at ``at`` (empty when absent); anything else there is refused."""
    require_object(doc, path, "the file")
    node = doc
    for i, step in enumerate(at):
        if step not in node:
            return {}
        node = node[step]
        require_object(node, path, quoted(at[: i + 1]))
    return dict(node)


def quoted(at: tuple[str, ...]) -> str:
    return ".".join(f'"{step}"' for step in at)


def require_object(value: Any, path: Path, what: str) -> None:
    if not isinstance(value, dict):
        noun = "a table" if path.suffix == ".toml" else "a JSON object"
        raise invalid(path, f"{what} is {kind(value)}, not {noun}")


def kind(value: Any) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    return "null" if value is None else "a number"
