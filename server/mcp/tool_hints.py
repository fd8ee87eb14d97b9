"""What every tool module declares about its tools: the MCP annotations (hints a client
shows or acts on: read-only, destructive, idempotent) and the shape of a tool table, so
the three modules that define tools (``tools``, ``coordination_tools``, ``search_tools``) say
"read-only" the same way and ``tools.build_tools`` reads one kind of table."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mcp.types import ToolAnnotations

READ_ONLY = ToolAnnotations(read_only_hint=True, open_world_hint=False)
WRITE = ToolAnnotations(
    read_only_hint=False, destructive_hint=False, idempotent_hint=False, open_world_hint=False
)
DESTRUCTIVE = ToolAnnotations(
    read_only_hint=False, destructive_hint=True, idempotent_hint=True, open_world_hint=False
)

# name -> (function, title, annotations, description)
ToolTable = dict[str, tuple[Callable[..., Any], str, ToolAnnotations, str]]
