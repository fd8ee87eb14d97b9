"""memory-lifecycle's MCP server and its ``memory-lifecycle`` command.

This package's ``__init__`` deliberately imports nothing: the hook commands
(``memory-lifecycle hook ...``) run on every session end and task and must
stay quick, and ``import mcp`` alone costs about 0.7 s. Only ``serve`` loads
the MCP server (``server.mcp.transports``).
"""
