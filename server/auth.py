"""Bearer-token protection for the streamable HTTP transport.

Over stdio the host that launched the server is the only client. Over HTTP
anyone who can reach the port is a client, so: binds to 127.0.0.1, ::1 or
localhost are allowed as they are; any other bind (127.0.0.2 included: it is not
what the SDK's or our DNS-rebinding defaults expect) needs a token
(``--auth-token-file FILE`` or ``MEMORY_LIFECYCLE_AUTH_TOKEN``), and once a token
is configured every request must carry ``Authorization: Bearer <token>`` or gets
401. A token file that group or others can read is used, with a warning (as ssh
warns about a private key).
"""

from __future__ import annotations

import hmac
import json
import logging
import os
import stat
from pathlib import Path

from starlette.types import ASGIApp, Receive, Scope, Send

from lifecycle import ConfigurationError

from .allowed_hosts import LOOPBACK_NAMES, host_name

ENV_TOKEN = "MEMORY_LIFECYCLE_AUTH_TOKEN"

log = logging.getLogger("memory_lifecycle.server")


def is_loopback(host: str) -> bool:
    """Only the loopback names every client uses: 127.0.0.1, ::1, localhost."""
    return host_name(host) in LOOPBACK_NAMES


def load_token(token_file: str | os.PathLike[str] | None) -> str | None:
    """The configured token: the file's content (stripped), else the environment, else None."""
    if token_file is not None:
        path = Path(token_file).expanduser()
        try:
            token = path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigurationError(
                f"cannot read the auth token file {path}: {exc.strerror}; "
                "pass a readable file to --auth-token-file",
                path=str(path),
            ) from exc
        if not token:
            raise ConfigurationError(
                f"the auth token file {path} is empty; write a long random token into it",
                path=str(path),
            )
        _warn_if_readable_by_others(path)
        return token
    token = os.environ.get(ENV_TOKEN, "").strip()
    return token or None


def _warn_if_readable_by_others(path: Path) -> None:
    try:
        mode = path.stat().st_mode
    except OSError:
        return
    classes = ((stat.S_IRGRP, "its group"), (stat.S_IROTH, "others"))
    readers = [who for bit, who in classes if mode & bit]
    if readers:
        log.warning(
            "the auth token file %s is readable by %s (mode %03o): anyone who can read it can "
            "use this server; run chmod 600 %s",
            path,
            " and ".join(readers),
            stat.S_IMODE(mode),
            path,
        )


def check_bind(host: str, token: str | None) -> None:
    """Refuse to listen beyond this machine without a token."""
    if token is None and not is_loopback(host):
        raise ConfigurationError(
            f"refusing to serve HTTP on {host} without authentication: anyone who can reach "
            f"it could read and change the memory. Set a bearer token with --auth-token-file "
            f"FILE or {ENV_TOKEN}, or bind 127.0.0.1, ::1 or localhost"
        )


class BearerAuth:
    """ASGI middleware: HTTP requests without the right bearer token get 401."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self._expected = token.encode("utf-8")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self._authorized(scope):
            await self.app(scope, receive, send)  # lifespan events pass through
            return
        body = json.dumps(
            {
                "error": "invalid_token",
                "error_description": "send the header 'Authorization: Bearer <token>' with the "
                "server's token",
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 401,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"www-authenticate", b'Bearer realm="memory-lifecycle"'),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    def _authorized(self, scope: Scope) -> bool:
        for name, value in scope.get("headers", ()):
            if name.lower() == b"authorization":
                scheme, _, credentials = value.partition(b" ")
                return scheme.lower() == b"bearer" and hmac.compare_digest(
                    credentials.strip(), self._expected
                )
        return False
