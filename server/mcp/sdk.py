"""The MCP SDK's private API we rely on, in one place (``tests/server/mcp/test_sdk.py`` fails
loudly when an SDK upgrade moves any of it).

- ``MCPServer`` has no public way to serve ``resources/list`` with paging, nor the
  legacy ``resources/subscribe`` / ``resources/unsubscribe``: the handlers go on its
  lowlevel ``Server`` (``_lowlevel_server.add_request_handler``, public there).
- A ``ServerSession`` is a per-request proxy; to remember a subscriber across
  requests (and to match its later ``resources/unsubscribe``) we key it by the
  connection it proxies (``_connection``).

- ``run_stdio_async()`` hard-wires the SDK's own stdio transport, which can neither be
  interrupted nor answer unparseable input, and hops to a worker thread for every line
  read, every write and every flush; ``server/mcp/transports.py`` runs the lowlevel
  server itself over our transport (``lowlevel_server``, ``server/mcp/stdio.py``).
- ``MCPServer`` always registers ``prompts/list`` and ``prompts/get``, so it advertises
  ``prompts`` with none to serve, and answers an unknown prompt with error code 0 plus a
  traceback logged at ERROR. The lowlevel server derives its capabilities from its
  handlers and has no public way to drop one (``remove_request_handler``).
- ``MCPServer`` has no hook before a tool call or a resource read to refuse a name it
  does not serve with a better message than "Unknown tool: X"; its request handlers
  call the instance's public ``call_tool`` / ``read_resource``, which are wrapped
  (``check_tool_calls``, ``check_resource_reads``).
- The lowlevel server advertises ``logging`` whenever ``logging/setLevel`` has a
  handler, also to 2026-07-28 clients, for whom that method does not exist (the SDK
  answers it -32601); ``handshake_only_capability`` wraps its ``get_capabilities``.

- ``MCPServer(tools=...)`` builds every ``Tool`` (an argument model and two JSON schemas
  each, ~80 ms of CPU for ours) before the server can answer ``initialize``, which needs
  none of them. ``build_tools_on_first_use`` swaps its ``ToolManager`` (``_tool_manager``,
  whose methods all read its ``_tools`` dict) for one that builds them on the first look.
- Tools are the SDK's public ``Tool`` objects handed to ``MCPServer(tools=...)``
  (``server/mcp/tools.py``), but the SDK ignores arguments a tool does not declare and
  validates them with the argument model it derived (``fn_metadata.arg_model``, read
  at each call): ``validate_arguments_with`` replaces that model by a subclass that
  forbids extra arguments and validates through our check.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mcp.server.lowlevel import Server
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.tools import Tool, ToolManager
from mcp.server.session import ServerSession
from mcp_types.version import MODERN_PROTOCOL_VERSIONS
from pydantic import BaseModel, ConfigDict


def add_request_handler(
    mcp: MCPServer[Any], method: str, params_type: type[BaseModel], handler: Any
) -> None:
    """Serve ``method`` with ``handler(ctx, params)``, replacing the SDK's own handler."""
    mcp._lowlevel_server.add_request_handler(method, params_type, handler)


def remove_request_handler(mcp: MCPServer[Any], method: str) -> None:
    """Stop serving ``method``: its capability is no longer advertised and a call is
    "method not found" (-32601)."""
    mcp._lowlevel_server._request_handlers.pop(method, None)


def check_tool_calls(mcp: MCPServer[Any], check: Callable[[str], None]) -> None:
    """Run ``check(name)`` before every ``tools/call``; it refuses a call by raising (a
    ``ToolError`` becomes an error result carrying its message)."""
    call = mcp.call_tool

    async def call_tool(name: str, arguments: dict[str, Any], context: Any = None) -> Any:
        check(name)
        return await call(name, arguments, context)

    mcp.call_tool = call_tool  # type: ignore[method-assign]


def check_resource_reads(mcp: MCPServer[Any], check: Callable[[str], None]) -> None:
    """Run ``check(uri)`` before every ``resources/read``; it refuses a read by raising
    (an ``MCPError`` reaches the client as that JSON-RPC error)."""
    read = mcp.read_resource

    async def read_resource(uri: Any, context: Any = None) -> Any:
        check(str(uri))
        return await read(uri, context)

    mcp.read_resource = read_resource  # type: ignore[method-assign]


def handshake_only_capability(mcp: MCPServer[Any], name: str) -> None:
    """Advertise capability ``name`` (a ``ServerCapabilities`` field) only on handshake-era
    protocol versions: its methods are gone from 2026-07-28 on."""
    lowlevel = mcp._lowlevel_server
    get = lowlevel.get_capabilities

    def get_capabilities(*args: Any, protocol_version: str | None = None, **kwargs: Any) -> Any:
        capabilities = get(*args, protocol_version=protocol_version, **kwargs)
        if protocol_version in MODERN_PROTOCOL_VERSIONS:
            capabilities = capabilities.model_copy(update={name: None})
        return capabilities

    lowlevel.get_capabilities = get_capabilities  # type: ignore[method-assign]


def lowlevel_server(mcp: MCPServer[Any]) -> Server[Any]:
    """The lowlevel server under ``mcp`` (to run it over our own stdio streams)."""
    server: Server[Any] = mcp._lowlevel_server
    return server


def connection_of(session: ServerSession) -> object:
    """The connection a per-request session belongs to (stable across requests)."""
    connection: object = session._connection
    return connection


class _ToolsOnFirstUse(ToolManager):
    """The SDK's ``ToolManager`` whose tools are built when first looked at (a
    ``tools/list`` or ``tools/call``, on the event loop), not when the server is made."""

    def __init__(self, build: Callable[[], list[Tool]], warn_on_duplicate_tools: bool) -> None:
        self._build: Callable[[], list[Tool]] | None = build
        super().__init__(warn_on_duplicate_tools)

    @property
    def _tools(self) -> dict[str, Tool]:
        if self._build is not None:  # (a failed build is tried again at the next look)
            for tool in self._build():
                self._built[tool.name] = tool
            self._build = None
        return self._built

    @_tools.setter
    def _tools(self, tools: dict[str, Tool]) -> None:
        self._built = tools


def build_tools_on_first_use(mcp: MCPServer[Any], build: Callable[[], list[Tool]]) -> None:
    """Serve the tools ``build()`` returns, building them at the first ``tools/list`` or
    ``tools/call`` instead of now (``mcp`` must have been made with no tools)."""
    warn = mcp._tool_manager.warn_on_duplicate_tools
    mcp._tool_manager = _ToolsOnFirstUse(build, warn)


def tool_names(mcp: MCPServer[Any]) -> list[str]:
    """The names of the tools ``mcp`` serves (building them if not built yet)."""
    return [tool.name for tool in mcp._tool_manager.list_tools()]


def argument_names(tool: Tool) -> list[str]:
    """The argument names ``tool`` declares, sorted (a field's alias where it has one)."""
    fields = tool.fn_metadata.arg_model.model_fields
    return sorted({f.alias or name for name, f in fields.items()})


def validate_arguments_with(
    tool: Tool, validate: Callable[[Any, Callable[[Any], Any]], Any]
) -> None:
    """Validate ``tool``'s arguments as ``validate(arguments, sdk_validate)`` (the SDK's own
    validation, extra arguments forbidden), and say in its schema that no other argument
    is taken (``additionalProperties: false``)."""
    base = tool.fn_metadata.arg_model

    def model_validate(cls: type[BaseModel], obj: Any, *args: Any, **kwargs: Any) -> Any:
        def sdk_validate(arguments: Any) -> Any:
            return base.model_validate.__func__(cls, arguments, *args, **kwargs)  # type: ignore[attr-defined]

        return validate(obj, sdk_validate)

    strict = type(
        base.__name__,
        (base,),
        {
            "__module__": base.__module__,
            "__doc__": base.__doc__,
            # built at the tool's first call, not at start: 14 more model builds cost
            # the server's start ~20 ms of CPU before it could answer ``initialize``
            "model_config": ConfigDict(**base.model_config, extra="forbid", defer_build=True),
            "model_validate": classmethod(model_validate),
        },
    )
    tool.fn_metadata.arg_model = strict
    tool.parameters = {**tool.parameters, "additionalProperties": False}


__all__ = [
    "add_request_handler",
    "argument_names",
    "build_tools_on_first_use",
    "check_resource_reads",
    "check_tool_calls",
    "connection_of",
    "handshake_only_capability",
    "lowlevel_server",
    "remove_request_handler",
    "tool_names",
    "validate_arguments_with",
]
