"""``serve()``: run the server over stdio or streamable HTTP until told to stop.

The SDK's plain ``run()`` is not enough (see MCP_NOTES.md): on SIGTERM it dies
without lifespan cleanup, on SIGINT it cleans up and then waits for stdin to
close. Here the transport runs beside a signal receiver; a signal cancels it
(stdio) or asks uvicorn to stop (HTTP), the lifespan's cleanup runs (shielded,
bounded), and ``serve`` returns 0. stdin EOF ends the stdio transport the same
way. Configuration errors are one clear line on stderr and exit code 1, before
any transport starts. Over HTTP the dashboard (``server.ui``) is served at ``/ui`` beside
``/mcp``, behind the same Host/Origin and token checks (``server.http.runner``).
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable, Sequence
from functools import partial
from typing import TYPE_CHECKING

import anyio

from lifecycle import ConfigurationError, MemoryLifecycleManager

from ..background.first_answer import FirstAnswer
from ..http.runner import exit_code_for, stop_on_signal
from ..logs import configure_logging
from . import sdk
from .server import build_server

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer

    from .lifespan_state import AppState

TRANSPORTS = ("stdio", "http")

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
    allowed_host: Sequence[str] = (),
) -> int:
    """Run the server until stdin EOF / SIGTERM / SIGINT; return the process exit code."""
    configure_logging()
    listener: socket.socket | None = None
    try:
        token = None
        if transport == "http":  # before the store opens: a port in use is one clear line
            from ..http.allowed_hosts import host_name
            from ..http.runner import listen

            host = host_name(host)
            token = _check_transport(transport, host, auth_token_file)
            listener = listen(host, port)
        else:
            _check_transport(transport, host, auth_token_file)
        first_answer = FirstAnswer()
        mcp = build_server(
            memory_dir,
            policy_file,
            store,
            maintenance_interval=maintenance_interval,
            # over stdio, maintenance and indexing start after the first answer
            first_answer=first_answer if listener is None else None,
        )
        # open once up front: a bad store or policy file is one clear line, not a
        # traceback from inside the transport
        MemoryLifecycleManager(memory_dir, policy_file, store).close()
        if listener is None:
            anyio.run(_serve_stdio, mcp, first_answer)
        else:
            from ..http.allowed_hosts import allowed_hosts

            hosts = allowed_hosts(host, allowed_host)
            opener = partial(MemoryLifecycleManager, memory_dir, policy_file, store)
            anyio.run(_serve_http, mcp, listener, host, port, token, hosts, opener)
    except Exception as exc:  # an ExceptionGroup from a task group included
        return exit_code_for(exc)
    finally:
        if listener is not None:
            listener.close()
    return 0


def _check_transport(transport: str, host: str, auth_token_file: str | None) -> str | None:
    if transport not in TRANSPORTS:
        raise ConfigurationError(f"unknown transport {transport!r}: use stdio or http")
    if transport == "stdio":
        if auth_token_file is not None:
            log.warning("--auth-token-file applies to --transport http only; ignored")
        return None
    from ..http.runner import http_token

    return http_token(host, auth_token_file)


_CLIENT_GONE = (BrokenPipeError, ConnectionResetError, anyio.BrokenResourceError)


def _only(exc: BaseException, kinds: tuple[type[BaseException], ...]) -> bool:
    """Whether ``exc``, or every exception inside a task group's exception group, is one of
    ``kinds``."""
    inner = getattr(exc, "exceptions", None)
    if inner is None:
        return isinstance(exc, kinds)
    return all(_only(e, kinds) for e in inner)


async def _serve_stdio(mcp: MCPServer[AppState], first_answer: FirstAnswer) -> None:
    from .stdio import ThreadedStdin, claimed_stdin, claimed_stdout, serve_lines

    lowlevel = sdk.lowlevel_server(mcp)  # run_stdio_async() hard-wires the SDK's transport
    async with anyio.create_task_group() as tg:
        serving = anyio.CancelScope()
        tg.start_soon(stop_on_signal, lambda _first: serving.cancel())
        with serving, claimed_stdin() as source, claimed_stdout() as (fd, sink):
            try:
                await serve_lines(
                    lowlevel,
                    ThreadedStdin(source),
                    fd=fd,
                    sink=sink,
                    on_answer=first_answer.answered,
                )
            except Exception as exc:
                if not _only(exc, _CLIENT_GONE):
                    raise
                log.info("stdout closed: the client went away, stopping")
        tg.cancel_scope.cancel()


async def _serve_http(
    mcp: MCPServer[AppState],
    listener: socket.socket,
    host: str,
    port: int,
    token: str | None,
    hosts: frozenset[str] | None,
    open_manager: Callable[[], MemoryLifecycleManager],
) -> None:
    from mcp.server.transport_security import TransportSecuritySettings

    from ..http.readable_errors import MCP_PATH, ReadableErrors
    from ..http.runner import protect, serve_app, url_of
    from ..ui.dashboard import DASHBOARD_PATH, mount_dashboard

    # Host and Origin are checked by HostCheck for every bind (the SDK's own check covers
    # only three loopback binds and cannot be told about --allowed-host)
    off = TransportSecuritySettings(enable_dns_rebinding_protection=False)
    app = mcp.streamable_http_app(host=host, transport_security=off, streamable_http_path=MCP_PATH)
    stop_dashboard = mount_dashboard(app, open_manager)
    log.info("dashboard: %s", url_of(host, port, DASHBOARD_PATH + "/"))
    readable = ReadableErrors(app, MCP_PATH)  # a batch: one short -32600, as over stdio
    protected = protect(readable, token, hosts, browser_paths=(DASHBOARD_PATH,))
    await serve_app(protected, listener, host, port, stopping=stop_dashboard)
