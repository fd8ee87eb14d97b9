"""The MCP SDK's private API we rely on, in one place (``tests/server/test_sdk.py`` fails
loudly when an SDK upgrade moves any of it).

- ``MCPServer`` has no public way to serve ``resources/list`` with paging, nor the
  legacy ``resources/subscribe`` / ``resources/unsubscribe``: the handlers go on its
  lowlevel ``Server`` (``_lowlevel_server.add_request_handler``, public there).
- A ``ServerSession`` is a per-request proxy; to remember a subscriber across
  requests (and to match its later ``resources/unsubscribe``) we key it by the
  connection it proxies (``_connection``).

(``server/run.py`` and ``server/tools.py`` still reach ``_lowlevel_server`` and
``_tool_manager`` themselves; they predate this module.)
"""

from __future__ import annotations

from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp.server.session import ServerSession
from pydantic import BaseModel


def add_request_handler(
    mcp: MCPServer[Any], method: str, params_type: type[BaseModel], handler: Any
) -> None:
    """Serve ``method`` with ``handler(ctx, params)``, replacing the SDK's own handler."""
    mcp._lowlevel_server.add_request_handler(method, params_type, handler)


def connection_of(session: ServerSession) -> object:
    """The connection a per-request session belongs to (stable across requests)."""
    connection: object = session._connection
    return connection


__all__ = ["add_request_handler", "connection_of"]
