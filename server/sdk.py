"""The MCP SDK's private API we rely on, in one place (``tests/server/test_sdk.py`` fails
loudly when an SDK upgrade moves any of it).

- ``MCPServer`` has no public way to serve ``resources/list`` with paging, nor the
  legacy ``resources/subscribe`` / ``resources/unsubscribe``: the handlers go on its
  lowlevel ``Server`` (``_lowlevel_server.add_request_handler``, public there).
- A ``ServerSession`` is a per-request proxy; to remember a subscriber across
  requests (and to match its later ``resources/unsubscribe``) we key it by the
  connection it proxies (``_connection``).

- ``run_stdio_async()`` hard-wires the SDK's own stdin reader, which can neither be
  interrupted nor answer unparseable input; ``server/run.py`` runs the lowlevel
  server itself over our reader (``lowlevel_server``).

Tools need none of it: they are built as the SDK's public ``Tool`` objects and handed
to ``MCPServer(tools=...)`` (``server/tools.py``).
"""

from __future__ import annotations

from typing import Any

from mcp.server.lowlevel import Server
from mcp.server.mcpserver import MCPServer
from mcp.server.session import ServerSession
from pydantic import BaseModel


def add_request_handler(
    mcp: MCPServer[Any], method: str, params_type: type[BaseModel], handler: Any
) -> None:
    """Serve ``method`` with ``handler(ctx, params)``, replacing the SDK's own handler."""
    mcp._lowlevel_server.add_request_handler(method, params_type, handler)


def lowlevel_server(mcp: MCPServer[Any]) -> Server[Any]:
    """The lowlevel server under ``mcp`` (to run it over our own stdio streams)."""
    server: Server[Any] = mcp._lowlevel_server
    return server


def connection_of(session: ServerSession) -> object:
    """The connection a per-request session belongs to (stable across requests)."""
    connection: object = session._connection
    return connection


__all__ = ["add_request_handler", "connection_of", "lowlevel_server"]
