"""Over HTTP, a body the SDK cannot read is answered in ``server.jsonrpc_input``'s words.

The SDK's streamable HTTP transport answers a JSON-RPC batch (a JSON array), or any
JSON that is not one message, with ``400``, code ``-32602`` and pydantic's multi-line
validation dump, and a lone surrogate with "unexpected end of hex escape". This ASGI
wrapper leaves every request alone on the way in (it keeps a reference to the body's
chunks, which the SDK reads whole anyway) and looks only at a ``400`` answer to a POST
on the MCP path: when the body was unreadable, the answer becomes the one short line
the stdio transport gives (``-32600`` for a batch). Other answers pass untouched.
"""

from __future__ import annotations

import json
from typing import Any

import mcp_types as types

from server.jsonrpc_input import read_message

MCP_PATH = "/mcp"
REWRITTEN_CODES = (types.PARSE_ERROR, types.INVALID_REQUEST, types.INVALID_PARAMS)

Message = dict[str, Any]


class ReadableErrors:
    """ASGI middleware: the SDK's answer to an unreadable POST body, said briefly."""

    def __init__(self, app: Any, path: str = MCP_PATH) -> None:
        self.app = app
        self.path = path

    async def __call__(self, scope: Message, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != self.path:
            await self.app(scope, receive, send)
            return
        request: list[bytes] = []
        held: list[Message] = []

        async def tee() -> Message:
            message: Message = await receive()
            if message["type"] == "http.request":
                request.append(message.get("body", b""))
            return message

        async def answer(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 400:
                held.append(message)
                return
            if not held:
                await send(message)
                return
            held.append(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                start, *parts = held
                body = b"".join(p.get("body", b"") for p in parts)
                start, body = _rewritten(start, body, b"".join(request))
                await send(start)
                await send({"type": "http.response.body", "body": body})

        await self.app(scope, tee, answer)


def _rewritten(start: Message, body: bytes, request: bytes) -> tuple[Message, bytes]:
    """Our answer in place of the SDK's, when the SDK refused an unreadable body."""
    try:
        code = json.loads(body)["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return start, body
    ours = read_message(request) if code in REWRITTEN_CODES else None
    if not isinstance(ours, types.JSONRPCError):
        return start, body  # the body was readable: the SDK refused it for another reason
    new = ours.model_dump_json(by_alias=True, exclude_unset=True).encode()
    headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
    headers.append((b"content-length", str(len(new)).encode()))
    return {**start, "headers": headers}, new


__all__ = ["MCP_PATH", "ReadableErrors"]
