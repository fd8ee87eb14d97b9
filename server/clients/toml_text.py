"""Adding to a TOML file (Codex's ``.codex/config.toml``) without disturbing the rest.

tomlkit reads a TOML document into a structure that remembers its comments,
order and layout, so writing it back changes only what was added: a new
``[mcp_servers.NAME]`` table lands after the other servers' tables.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.exceptions import ParseError

from .addition import Addition
from .json_text import invalid


def parse(text: str, path: Path) -> Any:
    """The document as plain dicts and lists (what the client modules plan from)."""
    try:
        return tomlkit.parse(text).unwrap()
    except ParseError as exc:
        raise invalid(path, f"invalid TOML: {str(exc)[:200]}") from None


def apply(text: str, additions: Sequence[Addition]) -> str:
    doc = tomlkit.parse(text)
    for a in additions:
        holder: Any = doc
        for step in a.at:
            holder = holder[step]
        if a.key is None:
            holder.append(a.value)
        else:
            holder[a.key] = _item(a.value)
    out = tomlkit.dumps(doc)
    return out.rstrip("\n") + "\n" if out.endswith("\n\n") and not text.endswith("\n\n") else out


def _item(value: Any) -> Any:
    """A dict of dicts becomes ``[a.b]`` tables (no empty ``[a]`` header), a dict of
    values one ``[a]`` table followed by a blank line, like a person writes them."""
    if not isinstance(value, dict):
        return value
    if value and all(isinstance(v, dict) for v in value.values()):
        table = tomlkit.table(is_super_table=True)
        for k, v in value.items():
            table[k] = _item(v)
        return table
    table = tomlkit.table()
    for k, v in value.items():
        table[k] = v
    table.add(tomlkit.nl())
    return table
