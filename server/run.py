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
import errno
import logging
import signal
import socket
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import anyio

from lifecycle import ConfigurationError, LifecycleError, MemoryLifecycleManager

from . import auth, sdk
from .allowed_hosts import HostCheck, allowed_hosts, describe, host_name
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
    allowed_host: Sequence[str] = (),
) -> int:
    """Run the server until stdin EOF / SIGTERM / SIGINT; return the process exit code."""
    configure_logging()
    listener: socket.socket | None = None
    try:
        host = host_name(host)
        token = _check_transport(transport, host, auth_token_file)
        if transport == "http":  # before the store opens: a port in use is one clear line
            listener = _listen(host, port)
        mcp = build_server(
            memory_dir, policy_file, store, maintenance_interval=maintenance_interval
        )
        # open once up front: a bad store or policy file is one clear line, not a
        # traceback from inside the transport
        MemoryLifecycleManager(memory_dir, policy_file, store).close()
        if listener is None:
            anyio.run(_serve_stdio, mcp)
        else:
            hosts = allowed_hosts(host, allowed_host)
            anyio.run(_serve_http, mcp, listener, host, port, token, hosts)
    except Exception as exc:  # an ExceptionGroup from a task group included
        error = _lifecycle_error(exc)
        if error is None:
            raise
        print(f"memory-lifecycle: error: {' '.join(str(error).split())}", file=sys.stderr)
        return 1
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
    token = auth.load_token(auth_token_file)
    auth.check_bind(host, token)
    return token


_CLIENT_GONE = (BrokenPipeError, ConnectionResetError, anyio.BrokenResourceError)


def _only(exc: BaseException, kinds: tuple[type[BaseException], ...]) -> bool:
    """Whether ``exc``, or every exception inside a task group's exception group, is one of
    ``kinds``."""
    inner = getattr(exc, "exceptions", None)
    if inner is None:
        return isinstance(exc, kinds)
    return all(_only(e, kinds) for e in inner)


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

    from .stdio import NO_INPUT, ThreadedStdin, claimed_stdin, serve_lines

    lowlevel = sdk.lowlevel_server(mcp)  # run_stdio_async() hard-wires the SDK's reading side
    async with anyio.create_task_group() as tg:
        serving = anyio.CancelScope()
        tg.start_soon(_stop_on_signal, lambda _first: serving.cancel())
        with serving, claimed_stdin() as source:
            try:
                # the SDK's transport writes stdout; server.stdio reads stdin (its docstring)
                async with stdio_server(stdin=NO_INPUT) as (unused, write):  # type: ignore[arg-type]
                    unused.close()
                    await serve_lines(lowlevel, ThreadedStdin(source), write)
            except Exception as exc:
                if not _only(exc, _CLIENT_GONE):
                    raise
                log.info("stdout closed: the client went away, stopping")
        tg.cancel_scope.cancel()


def _listen(host: str, port: int) -> socket.socket:
    """The bound socket for ``host:port``; every way that fails is one clear line."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except (socket.gaierror, UnicodeError) as exc:
        reason = exc.strerror if isinstance(exc, socket.gaierror) else "not a valid host name"
        raise ConfigurationError(
            f"cannot serve HTTP on --host {host!r}: {reason}; pass an address of this "
            "machine, such as 127.0.0.1, ::1 or 0.0.0.0"
        ) from exc
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as exc:
        sock.close()
        problem = _bind_problem(exc)
        raise ConfigurationError(f"cannot serve HTTP on {host} port {port}: {problem}") from exc
    return sock


def _bind_problem(exc: OSError) -> str:
    if exc.errno == errno.EADDRINUSE:
        return "the port is already in use; choose another --port or stop the other server"
    if exc.errno == errno.EADDRNOTAVAIL:
        return "that address is not one of this machine's; pass one of its addresses to --host"
    if exc.errno == errno.EACCES:
        return "permission denied; ports below 1024 need privileges, choose a --port above 1024"
    return exc.strerror or str(exc)


async def _serve_http(
    mcp: MCPServer[AppState],
    listener: socket.socket,
    host: str,
    port: int,
    token: str | None,
    hosts: frozenset[str] | None,
) -> None:
    import uvicorn
    from mcp.server.transport_security import TransportSecuritySettings

    class Server(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            yield  # signals are ours: uvicorn would re-raise them after shutdown (exit != 0)

    # Host and Origin are checked by HostCheck for every bind (the SDK's own check covers
    # only three loopback binds and cannot be told about --allowed-host)
    off = TransportSecuritySettings(enable_dns_rebinding_protection=False)
    app: Any = mcp.streamable_http_app(host=host, transport_security=off)
    if token is not None:
        app = auth.BearerAuth(app, token)
    if hosts is not None:
        app = HostCheck(app, hosts)
    log.info("HTTP requests must name one of these hosts: %s", describe(hosts))
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
        await server.serve(sockets=[listener])
        if server.started is False and not server.should_exit:
            raise ConfigurationError(f"could not serve HTTP on {host}:{port}; see the log above")
        tg.cancel_scope.cancel()
