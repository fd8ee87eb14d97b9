"""What the long-running HTTP commands share (``serve --transport http`` and ``ui``):
binding the port before anything else opens, stopping on SIGTERM/SIGINT, the request
checks, and uvicorn run under those rules.

- The socket is bound first, so a port in use or a host that is not this machine's is
  one clear line (a ``ConfigurationError``) before the store opens or uvicorn starts.
- Signals are ours: uvicorn would re-raise them after shutdown (exit code != 0). The
  first SIGTERM/SIGINT asks uvicorn to stop, letting open requests finish for at most
  ``GRACE_SECONDS``, and tells the app (``stopping``) so that a long-poll answers at
  once instead of being cancelled mid-request; a second signal stops at once. A request
  still running when the grace runs out (an MCP lock wait, say) is cancelled: uvicorn
  would log that as a traceback, which here is one warning line.
- Every request passes the same two checks whichever app is served: Host/Origin
  (``allowed_hosts.HostCheck``, DNS-rebinding protection) and, when a token is
  configured, the bearer token (``auth.BearerAuth``).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import signal
import socket
import sys
from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import Any

import anyio

from lifecycle import ConfigurationError, LifecycleError

from . import auth
from .allowed_hosts import HostCheck, describe

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
GRACE_SECONDS = 1

log = logging.getLogger("memory_lifecycle.server")


def http_token(host: str, auth_token_file: str | None) -> str | None:
    """The bearer token requests must carry (None: none configured); refuses a bind
    beyond loopback without one."""
    token = auth.load_token(auth_token_file)
    auth.check_bind(host, token)
    return token


def lifecycle_error(exc: BaseException) -> LifecycleError | None:
    """The engine error behind ``exc``, looking inside exception groups of task groups."""
    if isinstance(exc, LifecycleError):
        return exc
    for inner in getattr(exc, "exceptions", ()):
        found = lifecycle_error(inner)
        if found is not None:
            return found
    return None


def exit_code_for(exc: Exception) -> int:
    """For a long-running command's ``except``: an engine error behind ``exc`` becomes one
    line on stderr and exit code 1; anything else is a bug and is re-raised."""
    error = lifecycle_error(exc)
    if error is None:
        raise exc
    print(f"memory-lifecycle: error: {' '.join(str(error).split())}", file=sys.stderr)
    return 1


def listen(host: str, port: int) -> socket.socket:
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


def url_of(host: str, port: int, path: str = "/") -> str:
    """``http://host:port/path``, an IPv6 address in brackets."""
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}{path}"


async def stop_on_signal(stop: Callable[[bool], None]) -> None:
    """Call ``stop(first)`` on SIGTERM/SIGINT; ``first`` is False from the second signal on."""
    with anyio.open_signal_receiver(*STOP_SIGNALS) as signals:
        first = True
        async for signum in signals:
            log.info("%s received: shutting down", signal.Signals(signum).name)
            stop(first)
            first = False


def protect(
    app: Any,
    token: str | None,
    hosts: frozenset[str] | None,
    browser_paths: Sequence[str] = (),
) -> Any:
    """``app`` behind the Host/Origin check and, with a token, the bearer token (which
    a browser may also present as the cookie ``auth.BearerAuth`` sets under
    ``browser_paths``)."""
    if token is not None:
        app = auth.BearerAuth(app, token, browser_paths=browser_paths)
    if hosts is not None:
        app = HostCheck(app, hosts)
    log.info("HTTP requests must name one of these hosts: %s", describe(hosts))
    return app


class CancelledAtShutdown(logging.Filter):
    """Turns uvicorn's traceback for a request cancelled when the shutdown grace ran out
    into one warning line: the cancellation is the shutdown working, not a bug to debug."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, asyncio.CancelledError):
            record.msg = "a request still running after the %g s shutdown grace was cancelled"
            record.args = (GRACE_SECONDS,)
            record.exc_info = record.exc_text = None
        elif "timeout graceful shutdown exceeded" not in record.getMessage():
            return True
        record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


async def serve_app(
    app: Any,
    listener: socket.socket,
    host: str,
    port: int,
    started: Callable[[], Awaitable[None]] | None = None,
    stopping: Callable[[], None] | None = None,
) -> None:
    """Run ``app`` on ``listener`` until a signal; ``started`` runs once it accepts,
    ``stopping`` when the first signal comes (to end long-polls: see the docstring)."""
    import uvicorn

    class Server(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            yield  # signals are ours (see the module docstring)

    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_config=None,  # our stderr logging, never stdout
        lifespan="on",
        timeout_graceful_shutdown=GRACE_SECONDS,
    )
    server = Server(config)

    def stop(first: bool) -> None:
        server.should_exit = True
        server.force_exit = not first
        if stopping is not None:
            stopping()

    async def announce() -> None:
        while not server.started:
            if server.should_exit:
                return
            await anyio.sleep(0.02)
        if started is not None:
            await started()

    one_line = CancelledAtShutdown()
    uvicorn_log = logging.getLogger("uvicorn.error")
    uvicorn_log.addFilter(one_line)
    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(stop_on_signal, stop)
            tg.start_soon(announce)
            await server.serve(sockets=[listener])
            if server.started is False and not server.should_exit:
                raise ConfigurationError(
                    f"could not serve HTTP on {host}:{port}; see the log above"
                )
            tg.cancel_scope.cancel()
    finally:
        uvicorn_log.removeFilter(one_line)


__all__ = [
    "exit_code_for",
    "http_token",
    "lifecycle_error",
    "listen",
    "protect",
    "serve_app",
    "stop_on_signal",
    "url_of",
]
