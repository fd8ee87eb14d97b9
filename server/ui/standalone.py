"""``memory-lifecycle ui``: serve the dashboard until SIGTERM/SIGINT.

The same rules as ``serve --transport http`` (``server.http.runner``): the port is bound
before the store opens, so a port in use or a bad host is one line and exit code 1; a
bind beyond loopback needs the bearer token; Host/Origin are checked for every
request. ``--open`` opens the page in the user's browser once it is served (with the
one-time ``?token=`` link when a token is configured, so the page just works).
"""

from __future__ import annotations

import logging
import socket
import webbrowser
from collections.abc import Callable, Sequence
from functools import partial
from urllib.parse import quote

import anyio
import anyio.to_thread

from lifecycle import MemoryLifecycleManager

from ..http.allowed_hosts import allowed_hosts, host_name
from ..http.auth import LOGIN_PARAMETER
from ..http.runner import exit_code_for, http_token, listen, protect, serve_app, url_of
from ..logs import configure_logging
from .dashboard import DASHBOARD_PATH, standalone_app

log = logging.getLogger("memory_lifecycle.server")


def run_ui(
    *,
    memory_dir: str | None = None,
    policy_file: str | None = None,
    store: str | None = None,
    host: str = "127.0.0.1",
    port: int = 8787,
    open_browser: bool = False,
    auth_token_file: str | None = None,
    allowed_host: Sequence[str] = (),
) -> int:
    """Serve the dashboard until a signal; return the process exit code."""
    configure_logging()
    # every poll of an open page would be a line: requests are logged only when they fail
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
    listener: socket.socket | None = None
    try:
        host = host_name(host)
        token = http_token(host, auth_token_file)
        listener = listen(host, port)  # before the store opens: one clear line
        opener = partial(MemoryLifecycleManager, memory_dir, policy_file, store)
        opener().close()  # a bad store or policy file: one line, not a traceback in uvicorn
        hosts = allowed_hosts(host, allowed_host)
        app = standalone_app(opener)
        protected = protect(app, token, hosts, browser_paths=(DASHBOARD_PATH,))
        page = url_of(host, port, DASHBOARD_PATH + "/")
        stopping = app.state.stop_waiting
        anyio.run(_serve, protected, listener, host, port, page, open_browser, token, stopping)
    except Exception as exc:  # an ExceptionGroup from a task group included
        return exit_code_for(exc)
    finally:
        if listener is not None:
            listener.close()
    return 0


async def _serve(
    app: object,
    listener: socket.socket,
    host: str,
    port: int,
    page: str,
    open_browser: bool,
    token: str | None,
    stopping: Callable[[], None],
) -> None:
    async def started() -> None:
        log.info("dashboard: %s (Ctrl-C stops it)", page)
        if token is not None:
            log.info("a browser needs the token once: open %s?%s=<token>", page, LOGIN_PARAMETER)
        if open_browser:
            link = page if token is None else f"{page}?{LOGIN_PARAMETER}={quote(token, safe='')}"
            opened = await anyio.to_thread.run_sync(webbrowser.open, link, abandon_on_cancel=True)
            if not opened:
                log.warning("could not open a browser here; open %s yourself", page)

    await serve_app(app, listener, host, port, started, stopping)


__all__ = ["run_ui"]
