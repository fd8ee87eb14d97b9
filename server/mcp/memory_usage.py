"""``memory_usage``: claude-flow v2's one memory tool, over the same engine.

claude-flow agents call ``memory_usage`` with an ``action`` (store, retrieve,
list, delete, search), a ``key``, a ``value`` (text; JSON text is stored as
the JSON value, as claude-flow reads it back), a ``namespace`` and a ``ttl``
in seconds. The key is ``<namespace>/<key>``, the ``namespace`` argument's
rule everywhere in this server; claude-flow's ``default`` namespace is no
prefix. Each action is one function in ``ACTIONS``, so a new one is one entry.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Annotated, Any

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from lifecycle import MemoryLifecycleManager
from lifecycle.basics.keys import DEFAULT_NAMESPACE, full_key, namespace_prefix
from lifecycle.entries import codec
from lifecycle.importers.claude_flow import decode

from .errors import tool_errors
from .lifespan_state import manager_of
from .models import MemoryUsageOutput, Seconds, UsageEntry

LIST_LIMIT = 100  # claude-flow lists up to 100 entries
SEARCH_LIMIT = 50  # and finds up to 50
SCAN_PAGE = 1000


def _needs_key(action: str, key: str | None) -> str:
    if not key:
        raise ToolError(f"memory_usage action '{action}' needs a key, e.g. 'agent1/status'")
    return key


def _store(
    m: MemoryLifecycleManager, key: str | None, value: Any, ns: str | None, ttl: float | None
) -> dict[str, Any]:
    key = _needs_key("store", key)
    if value is None:
        raise ToolError("memory_usage action 'store' needs a value")
    value = decode(value)
    result = m.put(key, value, ns, ttl_seconds=ttl)
    return {
        "key": key,
        "full_key": result.key,
        "stored": result.applied or result.duplicate,
        "size": len(codec.dumps(value).encode("utf-8")),
        "expires_at": result.expires_at,
        "policy": result.policy,
    }


def _retrieve(
    m: MemoryLifecycleManager, key: str | None, value: Any, ns: str | None, ttl: float | None
) -> dict[str, Any]:
    key = _needs_key("retrieve", key)
    entry = m.retrieve_entry(key, ns)
    found = {"value": entry.value, "expires_at": entry.expires_at} if entry else {}
    return {"key": key, "full_key": full_key(key, ns), "found": entry is not None, **found}


def _list(
    m: MemoryLifecycleManager, key: str | None, value: Any, ns: str | None, ttl: float | None
) -> dict[str, Any]:
    """Up to ``LIST_LIMIT`` entries of the namespace with their values, named as
    claude-flow names them (without the namespace prefix)."""
    prefix = namespace_prefix(ns)
    page = m.list(prefix, limit=LIST_LIMIT, include_values=True)
    entries = [_usage_entry(item, prefix, ns) for item in page["entries"]]
    return {"entries": entries, "count": len(entries)}


def _delete(
    m: MemoryLifecycleManager, key: str | None, value: Any, ns: str | None, ttl: float | None
) -> dict[str, Any]:
    key = _needs_key("delete", key)
    return {"key": key, "full_key": full_key(key, ns), "deleted": m.delete(key, ns)}


def _search(
    m: MemoryLifecycleManager, key: str | None, value: Any, ns: str | None, ttl: float | None
) -> dict[str, Any]:
    """claude-flow's search: entries of the namespace whose key (within it) or value
    contains the pattern (passed as ``value``, or ``key``), case-insensitive, ``*`` any
    run of characters (``*`` alone: all), at most ``SEARCH_LIMIT``, in key order."""
    pattern = value if isinstance(value, str) and value.strip() else key
    if not isinstance(pattern, str) or not pattern.strip():
        raise ToolError("memory_usage action 'search' needs a pattern in 'value', e.g. 'auth*'")
    wanted = _pattern(pattern)
    prefix = namespace_prefix(ns)
    results: list[UsageEntry] = []
    cursor = None
    while len(results) < SEARCH_LIMIT:
        page = m.list(prefix, limit=SCAN_PAGE, cursor=cursor, include_values=True)
        for item in page["entries"]:
            if wanted.search(item["key"][len(prefix) :]) or wanted.search(_text(item["value"])):
                results.append(_usage_entry(item, prefix, ns))
                if len(results) == SEARCH_LIMIT:
                    break
        cursor = page["next_cursor"]
        if cursor is None:
            break
    return {"pattern": pattern, "results": results, "count": len(results)}


def _pattern(pattern: str) -> re.Pattern[str]:
    """claude-flow's pattern as a regular expression: a substring, ``*`` any run."""
    return re.compile(".*".join(re.escape(part) for part in pattern.split("*")), re.I | re.S)


def _text(value: Any) -> str:
    """A value as claude-flow matches it: its text, JSON for anything but a string."""
    return value if isinstance(value, str) else codec.dumps(value)


def _usage_entry(item: dict[str, Any], prefix: str, ns: str | None) -> UsageEntry:
    return UsageEntry(
        key=item["key"][len(prefix) :],
        full_key=item["key"],
        namespace=ns or DEFAULT_NAMESPACE,
        value=item["value"],
        updated_at=item["updated_at"],
        expires_at=item["expires_at"],
    )


ActionFn = Callable[
    [MemoryLifecycleManager, str | None, Any, str | None, float | None], dict[str, Any]
]
ACTIONS: dict[str, ActionFn] = {
    "store": _store,
    "retrieve": _retrieve,
    "list": _list,
    "delete": _delete,
    "search": _search,
}


@tool_errors
def memory_usage(
    action: Annotated[
        str,
        Field(
            description="store | retrieve | list | delete | search",
            json_schema_extra={"enum": list(ACTIONS)},
        ),
    ],
    ctx: Context,
    key: Annotated[str | None, Field(description="The key (store, retrieve, delete).")] = None,
    value: Annotated[
        Any, Field(description="store: the value; text holding JSON is stored as that JSON")
    ] = None,
    namespace: Annotated[
        str | None,
        Field(description="Key prefix: the key is '<namespace>/<key>'; 'default' = none."),
    ] = None,
    ttl: Annotated[
        Seconds | None, Field(description="store: seconds to live (overrides the policy).")
    ] = None,
) -> MemoryUsageOutput:
    run = ACTIONS.get(action)
    if run is None:
        shown = action if len(action) <= 40 else action[:37] + "..."
        raise ToolError(f"unknown action {shown!r}; use one of: {', '.join(ACTIONS)}")
    fields = run(manager_of(ctx), key, value, namespace, ttl)
    return MemoryUsageOutput(
        success=True,
        action=action,
        namespace=namespace or DEFAULT_NAMESPACE,
        timestamp=datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
        **fields,
    )
