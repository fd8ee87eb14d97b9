"""The MCP server: the tools, their models, resources, subscriptions, the
client log channel, the SDK overrides and the stdio and HTTP transports.

Imports nothing: ``import server.mcp.x`` costs only ``x``."""
