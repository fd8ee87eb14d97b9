"""Bearer-token protection for the streamable HTTP transport.

Over stdio the host that launched the server is the only client. Over HTTP
anyone who can reach the port is a client, so: binds to 127.0.0.1, ::1 or
localhost are allowed as they are; any other bind (127.0.0.2 included: it is not
what the SDK's or our DNS-rebinding defaults expect) needs a token
(``--auth-token-file FILE`` or ``MEMORY_LIFECYCLE_AUTH_TOKEN``), and once a token
is configured every request must carry ``Authorization: Bearer <token>`` or gets
401. A token file that group or others can read is used, with a warning (as ssh
warns about a private key).

A browser cannot add a header to a page it navigates to, so under the dashboard's
paths (``browser_paths``) the token can also be shown once, as Jupyter does:
``/ui/?token=<token>`` answers with a redirect to ``/ui/`` that sets an HttpOnly,
SameSite=Strict cookie, and that cookie then stands for the token on those paths
only (never on ``/mcp``). The cookie holds an HMAC of the token, not the token, so a
copied cookie cannot be replayed as a bearer token.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import stat
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

from starlette.types import ASGIApp, Receive, Scope, Send

from lifecycle import ConfigurationError

from .allowed_hosts import LOOPBACK_NAMES, host_name

ENV_TOKEN = "MEMORY_LIFECYCLE_AUTH_TOKEN"
COOKIE = "memory_lifecycle_ui"
LOGIN_PARAMETER = "token"

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
    """ASGI middleware: HTTP requests without the right bearer token get 401 (under
    ``browser_paths`` the dashboard's cookie counts too: see the module docstring)."""

    def __init__(self, app: ASGIApp, token: str, *, browser_paths: Sequence[str] = ()) -> None:
        self.app = app
        self._expected = token.encode("utf-8")
        self._cookie = cookie_value(token).encode("ascii")
        self._browser_paths = tuple(p.rstrip("/") for p in browser_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self._authorized(scope):
            await self.app(scope, receive, send)  # lifespan events pass through
        elif self._browser(scope) is not None and self._logs_in(scope):
            await self._set_cookie(scope, send)
        else:
            await self._refuse(scope, send)

    def _authorized(self, scope: Scope) -> bool:
        headers = scope.get("headers", ())
        for name, value in headers:
            if name.lower() == b"authorization":
                scheme, _, credentials = value.partition(b" ")
                return scheme.lower() == b"bearer" and hmac.compare_digest(
                    credentials.strip(), self._expected
                )
        if self._browser(scope) is None:
            return False
        return any(
            hmac.compare_digest(value, self._cookie)
            for name, value in _cookies(headers)
            if name == COOKIE.encode()
        )

    def _browser(self, scope: Scope) -> str | None:
        """The dashboard path ``scope`` is under, if any."""
        path: str = scope.get("path", "")
        return next((p for p in self._browser_paths if path == p or path.startswith(p + "/")), None)

    def _logs_in(self, scope: Scope) -> bool:
        """A GET naming the right token in its query string (the one-time link)."""
        if scope.get("method") != "GET":
            return False
        query = parse_qsl(scope.get("query_string", b"").decode("latin-1"))
        given = [v for k, v in query if k == LOGIN_PARAMETER]
        return len(given) == 1 and hmac.compare_digest(given[0].encode(), self._expected)

    async def _set_cookie(self, scope: Scope, send: Send) -> None:
        """Redirect to the same page without the token, setting the cookie on the way."""
        query = parse_qsl(scope.get("query_string", b"").decode("latin-1"))
        rest = urlencode([(k, v) for k, v in query if k != LOGIN_PARAMETER])
        where = scope.get("root_path", "") + scope["path"] + (f"?{rest}" if rest else "")
        cookie = (
            f"{COOKIE}={self._cookie.decode()}; Path={self._browser(scope) or '/'}; HttpOnly; "
            "SameSite=Strict"
        )
        await send(
            {
                "type": "http.response.start",
                "status": 303,
                "headers": [
                    (b"location", where.encode("latin-1")),
                    (b"set-cookie", cookie.encode("latin-1")),
                    (b"cache-control", b"no-store"),
                    (b"referrer-policy", b"no-referrer"),
                    (b"content-length", b"0"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": b""})

    async def _refuse(self, scope: Scope, send: Send) -> None:
        how = "send the header 'Authorization: Bearer <token>' with the server's token"
        page = self._browser(scope)
        if page is not None:
            how += f"; in a browser, open {page or ''}/?token=<token> once"
        body = json.dumps({"error": "invalid_token", "error_description": how}).encode()
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


def cookie_value(token: str) -> str:
    """What the dashboard's cookie holds for ``token``: an HMAC of it, not the token."""
    return hmac.new(
        token.encode("utf-8"), b"memory-lifecycle dashboard", hashlib.sha256
    ).hexdigest()


def _cookies(headers: Sequence[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    found = []
    for name, value in headers:
        if name.lower() == b"cookie":
            for part in value.split(b";"):
                key, _, val = part.strip().partition(b"=")
                found.append((key, val))
    return found
