"""DNS-rebinding protection for the HTTP transport: every request's Host and Origin
must name this server, whatever address it is bound to.

A web page on ``evil.example`` whose DNS is rebound to 127.0.0.1 reaches a local
server with ``Host: evil.example``; a page on any site can send a request with
``Origin: http://evil.example``. The SDK checks these only for binds to exactly
127.0.0.1, localhost or ::1, so a server on 127.0.0.2 or 0.0.0.0 was open to both.
Here the check runs for every bind:

- allowed by default: ``127.0.0.1``, ``localhost`` and ``::1``, plus the bind
  address itself, or the machine's host names for a wildcard bind (0.0.0.0, ::);
- more with ``--allowed-host NAME`` (repeatable) or ``MEMORY_LIFECYCLE_ALLOWED_HOSTS``
  (comma-separated); ``*`` turns the check off, for a reverse proxy that checks
  Host itself;
- any port; an Origin must be ``http(s)://`` one of those names (a request without
  an Origin, as from every non-browser client, passes).

A request that fails gets 421 (Host) or 403 (Origin) with a JSON body naming the
fix, before the bearer token is even looked at.
"""

from __future__ import annotations

import json
import logging
import os
import socket
from collections.abc import Iterable, Sequence
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Receive, Scope, Send

from lifecycle.errors import clip

ENV_ALLOWED_HOSTS = "MEMORY_LIFECYCLE_ALLOWED_HOSTS"
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")
WILDCARD_BINDS = ("0.0.0.0", "::", "")
ANY_HOST = "*"

log = logging.getLogger("memory_lifecycle.server")


def host_name(text: str) -> str:
    """``[::1]`` -> ``::1``; names compare case-insensitively."""
    text = text.strip().lower()
    return text[1:-1] if text.startswith("[") and text.endswith("]") else text


def allowed_hosts(bind: str, extra: Sequence[str] = ()) -> frozenset[str] | None:
    """The host names requests may use; None when the check is off (``*``)."""
    configured = list(extra) or [
        name for name in os.environ.get(ENV_ALLOWED_HOSTS, "").split(",") if name.strip()
    ]
    if any(name.strip() == ANY_HOST for name in configured):
        return None
    names = set(LOOPBACK_NAMES)
    bind = host_name(bind)
    if bind in WILDCARD_BINDS:
        names |= {host_name(socket.gethostname()), host_name(socket.getfqdn())}
    else:
        names.add(bind)
    names |= {host_name(name) for name in configured}
    return frozenset(names)


def describe(names: Iterable[str] | None) -> str:
    return "any (check off)" if names is None else ", ".join(sorted(names))


def _request_host(value: str) -> str:
    """The name in a Host header: ``example.com:8000`` / ``[::1]:8000`` -> name."""
    if value.startswith("["):
        return host_name(value.partition("]")[0] + "]")
    return host_name(value.rpartition(":")[0] if value.count(":") == 1 else value)


class HostCheck:
    """ASGI middleware: a Host or Origin that does not name this server is refused."""

    def __init__(self, app: ASGIApp, allowed: frozenset[str]) -> None:
        self.app = app
        self.allowed = allowed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)  # lifespan events pass through
            return
        headers = {name.lower(): value for name, value in scope.get("headers", ())}
        host = headers.get(b"host", b"").decode("latin-1")
        origin = headers.get(b"origin", b"").decode("latin-1")
        if _request_host(host) not in self.allowed:
            await self._refuse(scope, send, 421, "Host", host)
        elif origin and not self._origin_allowed(origin):
            await self._refuse(scope, send, 403, "Origin", origin)
        else:
            await self.app(scope, receive, send)

    def _origin_allowed(self, origin: str) -> bool:
        try:
            parts = urlsplit(origin)
            name = parts.hostname or ""
        except ValueError:
            return False
        return parts.scheme in ("http", "https") and host_name(name) in self.allowed

    async def _refuse(self, scope: Scope, send: Send, status: int, header: str, value: str) -> None:
        shown = clip(value, 60)
        log.warning("refused an HTTP request with %s %s (DNS-rebinding protection)", header, shown)
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        body = json.dumps(
            {
                "error": f"invalid_{header.lower()}",
                "error_description": f"{header} {shown} does not name this server; if clients "
                "really reach it under that name, start it with --allowed-host NAME (or "
                f"{ENV_ALLOWED_HOSTS})",
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
