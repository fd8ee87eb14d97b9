"""``serve()``: run the server over stdio or streamable HTTP until told to stop.

The SDK's plain ``run()`` is not enough (see MCP_NOTES.md): on SIGTERM it dies
without lifespan cleanup, on SIGINT it cleans up and then waits for stdin to
close. Here the transport runs beside a signal receiver; a signal cancels it
(stdio) or asks uvicorn to stop (HTTP), the lifespan's cleanup runs (shielded,
bounded), and ``serve`` returns 0. stdin EOF ends the stdio transport the same
way. Configuration errors are one clear line on stderr and exit code 1, before
any transport starts.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import sys
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import anyio

from lifecycle import ConfigurationError, LifecycleError, MemoryLifecycleManager

from . import auth
from .app import build_server
from .logs import configure_logging

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer

    from .state import AppState

TRANSPORTS = ("stdio", "http")
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
HTTP_GRACE_SECONDS = 1

log = logging.getLogger("memory_lifecycle.server")


def serve(
    *,
    memory_dir: str | None = None,
    policy_file: str | None = None,
    store: str | None = None,
    transport: str = "stdio",
    host: str = "127.0.0.1",
    port: int = 8000,
    auth_token_file: str | None = None,
    maintenance_interval: float | None = None,
) -> int:
    """Run the server until stdin EOF / SIGTERM / SIGINT; return the process exit code."""
    configure_logging()
    try:
        token = _check_transport(transport, host, auth_token_file)
        mcp = build_server(
            memory_dir, policy_file, store, maintenance_interval=maintenance_interval
        )
        # open once up front: a bad store or policy file is one clear line, not a
        # traceback from inside the transport
        MemoryLifecycleManager(memory_dir, policy_file, store).close()
        if transport == "stdio":
            anyio.run(_serve_stdio, mcp)
        else:
            anyio.run(_serve_http, mcp, host, port, token)
    except Exception as exc:  # an ExceptionGroup from a task group included
        error = _lifecycle_error(exc)
        if error is None:
            raise
        print(f"memory-lifecycle: error: {' '.join(str(error).split())}", file=sys.stderr)
        return 1
    return 0


def _check_transport(transport: str, host: str, auth_token_file: str | None) -> str | None:
    if transport not in TRANSPORTS:
        raise ConfigurationError(f"unknown transport {transport!r}: use stdio or http")
    if transport == "stdio":
        if auth_token_file is not None:
            log.warning("--auth-token-file applies to --transport http only; ignored")
        return None
    token = auth.load_token(auth_token_file)
    auth.check_bind(host, token)
    return token


def _lifecycle_error(exc: BaseException) -> LifecycleError | None:
    """The engine error behind ``exc``, looking inside exception groups of task groups."""
    if isinstance(exc, LifecycleError):
        return exc
    for inner in getattr(exc, "exceptions", ()):
        found = _lifecycle_error(inner)
        if found is not None:
            return found
    return None


async def _stop_on_signal(stop: Callable[[bool], None]) -> None:
    """Call ``stop(first)`` on SIGTERM/SIGINT; ``first`` is False from the second signal on."""
    with anyio.open_signal_receiver(*STOP_SIGNALS) as signals:
        first = True
        async for signum in signals:
            log.info("%s received: shutting down", signal.Signals(signum).name)
            stop(first)
            first = False


async def _serve_stdio(mcp: MCPServer[AppState]) -> None:
    from mcp.server.stdio import stdio_server

    from .stdio import ThreadedStdin, claimed_stdin

    lowlevel = mcp._lowlevel_server  # run_stdio_async() hard-wires the non-cancellable stdin
    async with anyio.create_task_group() as tg:
        serving = anyio.CancelScope()
        tg.start_soon(_stop_on_signal, lambda _first: serving.cancel())
        with serving, claimed_stdin() as source:
            async with stdio_server(stdin=ThreadedStdin(source)) as (read, write):  # type: ignore[arg-type]
                await lowlevel.run(read, write, lowlevel.create_initialization_options())
        tg.cancel_scope.cancel()


async def _serve_http(mcp: MCPServer[AppState], host: str, port: int, token: str | None) -> None:
    import uvicorn

    class Server(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            yield  # signals are ours: uvicorn would re-raise them after shutdown (exit != 0)

    app: Any = mcp.streamable_http_app(host=host)
    if token is not None:
        app = auth.BearerAuth(app, token)
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_config=None,  # our stderr logging, never stdout
        lifespan="on",
        timeout_graceful_shutdown=HTTP_GRACE_SECONDS,
    )
    server = Server(config)

    def stop(first: bool) -> None:
        server.should_exit = True
        server.force_exit = not first

    async with anyio.create_task_group() as tg:
        tg.start_soon(_stop_on_signal, stop)
        await server.serve()
        if server.started is False and not server.should_exit:
            raise ConfigurationError(f"could not serve HTTP on {host}:{port}; see the log above")
        tg.cancel_scope.cancel()
