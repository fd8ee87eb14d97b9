"""Entries as MCP resources, ``memory://{key}``, for hosts that browse rather than call tools.

Keys contain '/', and an RFC 6570 simple variable (``{key}``) stops at '/', so
the template is registered as ``memory://{+key}`` (reserved expansion): then
``memory://coordination/agent1/status`` reads the key
``coordination/agent1/status``. The SDK's path-safety checks are turned off
for ``key`` because the engine's key rules are stricter and their messages
say what to fix; no key ever becomes a file path.

``resources/list`` lists the live entries themselves (a page of ``LIST_PAGE`` at a
time, ``nextCursor`` for the rest) rather than the SDK's static resources, and
``resources/subscribe`` on an entry's URI notifies when any process changes it
(``server/mcp/subscriptions.py``).
"""

from __future__ import annotations

import json
from functools import partial
from typing import Any

import anyio.to_thread
from mcp.server.context import ServerRequestContext
from mcp.server.mcpserver import Context, MCPServer, ResourceSecurity
from mcp.shared.exceptions import MCPError
from mcp_types import (
    INVALID_PARAMS,
    ListResourcesResult,
    PaginatedRequestParams,
    Resource,
    SubscribeRequestParams,
    UnsubscribeRequestParams,
)

from lifecycle import EntryNotFoundError, LifecycleError
from lifecycle.basics.keys import MAX_KEY_LENGTH
from lifecycle.errors import clip

from . import sdk
from .errors import resource_errors
from .lifespan_state import manager_of
from .subscriptions import URI_PREFIX, on_subscribe, on_unsubscribe

URI_TEMPLATE = "memory://{+key}"
MAX_URI_CHARS = len("memory://") + 3 * MAX_KEY_LENGTH  # a key, percent-encoded at worst
LIST_PAGE = 100


@resource_errors
def read_entry(key: str, ctx: Context) -> str:
    """The entry under ``key`` as JSON: value plus lifecycle metadata."""
    entry = manager_of(ctx).retrieve_entry(key)
    if entry is None:
        raise EntryNotFoundError(
            f"no entry under key '{key}' (absent or expired); list keys with memory_list",
            key=key,
        )
    return json.dumps(entry.to_dict(), ensure_ascii=False)


def check_uri(uri: str) -> None:
    """Refuse a URI that cannot name an entry, before the SDK looks it up: its "Unknown
    resource: <uri>" says nothing of what would work, and for a URI longer than any key's
    (100 KB and more) its error and its log line would carry all of it."""
    if len(uri) > MAX_URI_CHARS:
        raise MCPError(
            INVALID_PARAMS,
            f"resource URI of {len(uri)} characters: entries are memory://<key> "
            f"with keys of at most {MAX_KEY_LENGTH} characters",
        )
    if not uri.startswith(URI_PREFIX):
        raise MCPError(
            INVALID_PARAMS,
            f"unknown resource {clip(uri, 200)}: this server's resources are its entries, "
            "memory://<key> (resources/list lists them)",
        )


async def list_entries(
    ctx: ServerRequestContext[Any], params: PaginatedRequestParams
) -> ListResourcesResult:
    """``resources/list``: one page of live entries in key order."""
    manager = ctx.lifespan_context.manager
    try:
        page = await anyio.to_thread.run_sync(partial(manager.list, "", LIST_PAGE, params.cursor))
    except LifecycleError as exc:
        raise MCPError(INVALID_PARAMS, str(exc)) from None
    resources = [
        Resource(
            uri=URI_PREFIX + e["key"],
            name=e["key"],
            mime_type="application/json",
            size=e["size_bytes"],
        )
        for e in page["entries"]
    ]
    return ListResourcesResult(resources=resources, next_cursor=page["next_cursor"])


def register_resources(mcp: MCPServer[Any]) -> None:
    sdk.add_request_handler(mcp, "resources/list", PaginatedRequestParams, list_entries)
    sdk.add_request_handler(mcp, "resources/subscribe", SubscribeRequestParams, on_subscribe)
    sdk.add_request_handler(mcp, "resources/unsubscribe", UnsubscribeRequestParams, on_unsubscribe)
    mcp.resource(
        URI_TEMPLATE,
        name="memory_entry",
        title="Memory entry",
        description="A stored entry as JSON (value, conflicts, policy, expires_at, ...). "
        "The key may contain '/': memory://coordination/agent1/status.",
        mime_type="application/json",
        security=ResourceSecurity(exempt_params={"key"}),
    )(read_entry)
    sdk.check_resource_reads(mcp, check_uri)
