"""What the server answers a message it cannot read, in the same words over stdio and HTTP.

The SDK's own answers fall short: over stdio it drops such a line (``server.mcp.stdio``),
over HTTP it answers a batch or any other JSON that is not one message with
``-32602`` and pydantic's multi-line dump (1.4 KB for a two-entry batch), and both
report a lone surrogate (``"\\ud800"``, which valid Unicode text cannot hold) as
"unexpected end of hex escape". Here every answer is one short line:

- ``-32700`` (parse error): not UTF-8, not JSON, or JSON holding a lone surrogate;
- ``-32600`` (invalid request): a JSON-RPC batch (a JSON array; batches were removed
  from MCP in 2025-06-18), or JSON that is not a JSON-RPC 2.0 message, with its ``id``
  when one can be read (``null`` otherwise, as JSON-RPC prescribes).
"""

from __future__ import annotations

import json
import re
from typing import Any

import mcp_types as types
from pydantic import ValidationError

from lifecycle.errors import clip_text

MAX_MESSAGE_CHARS = 200
BATCH = "a JSON-RPC batch (a JSON array) is not supported: send each message on its own"
NOT_A_MESSAGE = "not a JSON-RPC 2.0 request, notification or response"
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def read_message(raw: bytes) -> types.JSONRPCMessage | types.JSONRPCError | None:
    """The message in ``raw``; else the JSON-RPC error to answer; None for blank input."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return error(types.PARSE_ERROR, f"not UTF-8: byte {exc.start} is {raw[exc.start]:#04x}")
    if not text.strip():
        return None
    try:
        return types.jsonrpc_message_adapter.validate_json(text, by_name=False)
    except ValidationError as exc:
        problems = exc.errors()
        if any(p["type"] == "json_invalid" for p in problems):
            return error(types.PARSE_ERROR, _unparseable(text, str(problems[0]["msg"])))
        if text.lstrip().startswith("["):
            return error(types.INVALID_REQUEST, BATCH)
        return error(types.INVALID_REQUEST, NOT_A_MESSAGE, _request_id(text))


def _unparseable(text: str, reason: str) -> str:
    """The parser's reason, said plainly for a lone surrogate (which Python's own JSON
    reader accepts, so it tells that case apart from a broken escape)."""
    if "surrogate" not in reason and "hex escape" not in reason:
        return reason
    try:
        json.loads(text)
    except (ValueError, RecursionError):
        return reason
    found = _SURROGATE_ESCAPE.search(text)
    shown = f" ({found.group()})" if found else ""
    where = reason[reason.find(" at line ") :] if " at line " in reason else ""
    return (
        f"a lone surrogate{shown}{where}: JSON text must be valid Unicode; write a "
        "character beyond U+FFFF as its surrogate pair (\\ud83d\\ude00) or leave it out"
    )


def _request_id(text: str) -> Any:
    """The id of a well-formed JSON object that is not a valid message, if it has one."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return None
    request_id = data.get("id") if isinstance(data, dict) else None
    if isinstance(request_id, bool) or not isinstance(request_id, (int, str)):
        return None
    return request_id if len(str(request_id)) <= 200 else None


def error(code: int, message: str, request_id: Any = None) -> types.JSONRPCError:
    """A JSON-RPC error answer, its message one bounded line."""
    title = "Parse error" if code == types.PARSE_ERROR else "Invalid request"
    return types.JSONRPCError(
        jsonrpc="2.0",
        id=request_id,
        error=types.ErrorData(
            code=code, message=f"{title}: {clip_text(message, MAX_MESSAGE_CHARS)}"
        ),
    )


__all__ = ["BATCH", "NOT_A_MESSAGE", "error", "read_message"]
