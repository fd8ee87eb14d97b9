"""The floor of ``bench_mcp``: the SDK's own ``MCPServer`` over its own stdio, one no-op tool.

Nothing of ours runs here: no engine, no reader of our own, no argument checks, no log
forwarding, no subscriptions. The tool is shaped like our ``bench_noop`` (a sync ``def``
returning a one-field model), so both pay the same SDK work per call: JSON-RPC framing,
argument validation, a worker thread, structured output. What our server's ``bench_noop``
costs above this is our server's own per-call overhead; what ``memory_store`` costs above
it is that overhead plus the engine's write.

Run by ``bench/bench_mcp.py`` as ``python bench/mcp_floor_server.py`` (stdio; no options).
"""

from __future__ import annotations

import logging

from mcp.server.mcpserver import MCPServer
from pydantic import BaseModel


class NoopOutput(BaseModel):
    ok: bool = True


def build() -> MCPServer[object]:
    mcp: MCPServer[object] = MCPServer("mcp-floor", log_level="WARNING")

    @mcp.tool(name="bench_noop", description="Does nothing (benchmark floor).")
    def bench_noop() -> NoopOutput:
        return NoopOutput()

    return mcp


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    build().run()
