"""The MCP tools: each takes the engine from the lifespan, calls it once, returns a model.

Tools are plain ``def`` functions: the SDK runs them in a worker thread, and
the engine's SQLite store keeps one connection per thread, so concurrent calls
are safe without blocking the event loop. Nothing is cached here: every call
reads the store, so servers sharing one store see each other's writes at once.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Annotated, Any

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.tools import Tool
from mcp.types import ToolAnnotations
from pydantic import Field, ValidationError

from lifecycle.basics.keys import full_key
from lifecycle.entries.write_request import MAX_BATCH
from lifecycle.hooks import actions

from . import sdk
from .coordination_tools import COORDINATION_TOOLS
from .errors import ArgumentsError, UnknownArgumentError, tool_errors
from .lifespan_state import manager_of
from .memory_usage import memory_usage
from .models import (
    BatchOutput,
    CleanupOutput,
    Count,
    DeleteOutput,
    Flag,
    ListEntry,
    ListOutput,
    NoopOutput,
    PreTaskOutput,
    RetrieveOutput,
    SessionEndOutput,
    StatsOutput,
    StoreOutput,
    ValuedListEntry,
)
from .search_tools import SEARCH_TOOLS
from .tool_hints import DESTRUCTIVE, READ_ONLY, WRITE, ToolTable
from .write_arguments import DESCRIPTIONS, BatchEntry, takes_write_arguments, write_request

ENV_BENCH_NOOP = "MEMORY_LIFECYCLE_BENCH_NOOP"

Key = Annotated[str, Field(description=DESCRIPTIONS["key"])]
Namespace = Annotated[str | None, Field(description=DESCRIPTIONS["namespace"])]


@takes_write_arguments  # the parameters: the declared write fields and claude-flow's aliases
@tool_errors
def memory_store(ctx: Context, **arguments: Any) -> StoreOutput:
    return StoreOutput.from_result(manager_of(ctx).write(write_request(arguments)))


@tool_errors
def memory_retrieve(key: Key, ctx: Context, namespace: Namespace = None) -> RetrieveOutput:
    entry = manager_of(ctx).retrieve_entry(key, namespace)
    return RetrieveOutput.from_entry(full_key(key, namespace), entry)


@tool_errors
def memory_delete(
    key: Key,
    ctx: Context,
    namespace: Namespace = None,
    if_revision: Annotated[Count | None, Field(description=DESCRIPTIONS["if_revision"])] = None,
    lock: Annotated[str | None, Field(description=DESCRIPTIONS["lock"])] = None,
    lock_token: Annotated[Count | None, Field(description=DESCRIPTIONS["lock_token"])] = None,
) -> DeleteOutput:
    result = manager_of(ctx).delete_entry(
        key, namespace, if_revision=if_revision, lock=lock, lock_token=lock_token
    )
    return DeleteOutput.from_result(result)


@tool_errors
def memory_list(
    ctx: Context,
    prefix: Annotated[
        str, Field(description="Only keys starting with this text, e.g. 'coordination/'.")
    ] = "",
    limit: Annotated[Count, Field(description="Page size, 1-1000.")] = 100,
    cursor: Annotated[
        str | None, Field(description="The next_cursor of the previous page, unchanged.")
    ] = None,
    tags: Annotated[
        list[str] | None, Field(description="Only entries carrying all of these tags.")
    ] = None,
    namespace: Annotated[
        str | None,
        Field(
            description="Only keys under '<namespace>/' (same as that prefix); 'default' = "
            "the whole store."
        ),
    ] = None,
    offset: Annotated[
        Count | None,
        Field(description="claude-flow's paging: skip this many entries (key order) first."),
    ] = None,
    include_values: Annotated[
        bool, Field(description="Also return each entry's value (default false).")
    ] = False,
) -> ListOutput:
    page = manager_of(ctx).list(
        prefix,
        limit,
        cursor,
        tags=tags,
        namespace=namespace,
        offset=offset or 0,
        include_values=include_values,
    )
    entry = ValuedListEntry if include_values else ListEntry
    return ListOutput(
        entries=[entry.model_validate(e) for e in page["entries"]],
        next_cursor=page["next_cursor"],
    )


@tool_errors
def memory_cleanup(
    ctx: Context,
    force: Annotated[
        Flag,
        Field(description="Also delete expired entries of manual-cleanup policies (JSON true)."),
    ] = False,
    dry_run: Annotated[
        Flag | None,
        Field(
            description="true = delete nothing; report what a cleanup would delete "
            "(would_delete_count, by_namespace, keys)."
        ),
    ] = None,
    dryRun: Annotated[  # claude-flow 3 spells it so
        Flag | None, Field(description="claude-flow 3's name for dry_run (same meaning).")
    ] = None,
    namespace: Annotated[
        str | None,
        Field(description="Only keys under '<namespace>/' ('default' = the whole store)."),
    ] = None,
) -> CleanupOutput:
    if dry_run is not None and dryRun is not None and dry_run != dryRun:
        raise ToolError(f"dryRun ({dryRun}) and dry_run ({dry_run}) differ; pass one")
    preview = bool(dry_run or dryRun)
    report = manager_of(ctx).cleanup(force=force, namespace=namespace, dry_run=preview)
    return CleanupOutput.model_validate(report)


@tool_errors
def memory_stats(ctx: Context) -> StatsOutput:
    return StatsOutput.model_validate(manager_of(ctx).get_stats())


@tool_errors
def hook_session_end(
    session_id: Annotated[str, Field(description="The session that ended (one path segment).")],
    ctx: Context,
) -> SessionEndOutput:
    return SessionEndOutput.model_validate(actions.session_end(manager_of(ctx), session_id))


@tool_errors
def hook_pre_task(
    ctx: Context,
    task_id: Annotated[str | None, Field(description="The task about to start.")] = None,
    description: Annotated[str | None, Field(description="What the task is about.")] = None,
) -> PreTaskOutput:
    return PreTaskOutput.model_validate(actions.pre_task(manager_of(ctx), task_id, description))


@tool_errors
def memory_store_batch(
    entries: Annotated[
        list[BatchEntry],
        Field(description=f"Up to {MAX_BATCH} writes, each like memory_store's input."),
    ],
    ctx: Context,
) -> BatchOutput:
    requests = [write_request(entry.model_dump()) for entry in entries]
    results = manager_of(ctx).write_many(requests)
    return BatchOutput(results=[StoreOutput.from_result(r) for r in results], count=len(results))


def bench_noop() -> NoopOutput:
    return NoopOutput()


TOOLS: ToolTable = {
    "memory_store": (
        memory_store,
        "Store a memory entry",
        WRITE,
        "Store a JSON value under a key in the shared agent memory. The key's retention "
        "policy (matched by key pattern, e.g. 'coordination/*' expires after 1 h) sets its "
        "expiry and how concurrent writes merge: lww keeps the newest write, multi_value "
        "keeps concurrent siblings, counter adds numbers. Optional tags label the entry "
        "for memory_search and memory_list. Returns the merged value, the policy, "
        "expires_at and the key's revision; stored=false means a newer write already "
        "won, or a precondition failed (conflict): if_revision for compare-and-set (0 = "
        "create only), lock + lock_token for a write only while holding a memory_lock.",
    ),
    "memory_retrieve": (
        memory_retrieve,
        "Retrieve a memory entry",
        READ_ONLY,
        "Read the entry under a key. found=false (not an error) when it is absent or "
        "expired. For multi_value keys, value is the newest sibling, conflicts lists the "
        "others, and context is a token to pass to memory_store to resolve them.",
    ),
    "memory_delete": (
        memory_delete,
        "Delete a memory entry",
        DESTRUCTIVE,
        "Delete the entry under a key. deleted=false when there was nothing to delete, or a "
        "precondition (if_revision, lock + lock_token, as for memory_store) failed: conflict.",
    ),
    "memory_list": (
        memory_list,
        "List memory entries",
        READ_ONLY,
        "List live entries in key order, optionally under a key prefix or namespace and "
        "carrying given tags, with policy, size, expiry and tags (values only with "
        "include_values=true; to find entries by their words, use memory_search). Paginate "
        "by passing next_cursor back as cursor until it is null (or by offset).",
    ),
    "memory_cleanup": (
        memory_cleanup,
        "Delete expired entries",
        DESTRUCTIVE,
        "Delete expired entries now (lazy and scheduled policies; force=true also manual "
        "ones), optionally only under a namespace. Reports how many were deleted per policy "
        "pattern; dryRun=true deletes nothing and reports what would go. Runs in the "
        "background anyway; call it to reclaim space at once.",
    ),
    "memory_stats": (
        memory_stats,
        "Memory statistics",
        READ_ONLY,
        "Entry counts and sizes: totals, entries per policy pattern (namespace_counts), "
        "compressed entries, and expired entries waiting for cleanup (expired_pending).",
    ),
    "hook_session_end": (
        hook_session_end,
        "Session-end hook",
        DESTRUCTIVE,
        "Call when an agent session ends: deletes session/<id>, session/<id>/* and "
        "coordination/<id>/*, then collects expired entries. Safe to repeat.",
    ),
    "hook_pre_task": (
        hook_pre_task,
        "Pre-task hook",
        DESTRUCTIVE,
        "Call before starting a task: records it (swarm/shared/tasks/<id>, with its "
        "description) and deletes expired coordination/* entries so the task "
        "does not act on stale coordination data. Safe to repeat.",
    ),
    "memory_usage": (
        memory_usage,
        "claude-flow memory_usage",
        ToolAnnotations(
            read_only_hint=False,
            destructive_hint=True,
            idempotent_hint=False,
            open_world_hint=False,
        ),
        "claude-flow v2's memory tool: action store | retrieve | list | delete | search with "
        "key, value, namespace (the key becomes '<namespace>/<key>'; 'default' = no prefix) "
        "and ttl in seconds, on the same store and policies as memory_store. list returns up "
        "to 100 entries with values; search takes its pattern in value and returns (as "
        "results) the entries whose key or value contains it, case-insensitive, '*' "
        "matching any run of characters ('*' alone: all).",
    ),
    "memory_store_batch": (
        memory_store_batch,
        "Store many memory entries",
        WRITE,
        f"Store up to {MAX_BATCH} entries in one transaction: every entry is "
        "checked first, and one bad entry rejects the whole batch with nothing written. "
        "Returns one memory_store result per entry, in order.",
    ),
}


def strict_arguments(tool: Tool) -> Tool:
    """Reject arguments the tool does not declare, as memory_store_batch's entries do,
    naming the closest valid one, and report every other argument problem in one bounded
    line (``ArgumentsError``).

    The SDK ignores unknown arguments, so a misspelt optional field (``ttl_second`` for
    ``ttl_seconds``) would silently store with the policy's TTL. The schema says it too
    (``additionalProperties: false``), so clients can check before calling. The SDK shows
    the client ``str()`` of a ``ValidationError``: ours is one readable sentence. The
    ``Tool`` is the SDK's public registration object (``Tool.from_function``), handed to
    ``MCPServer(tools=...)``; its argument model is replaced in ``server/mcp/sdk.py``.
    """
    name = tool.name
    allowed = sdk.argument_names(tool)

    def validate(arguments: Any, sdk_validate: Callable[[Any], Any]) -> Any:
        if isinstance(arguments, dict):
            unknown = [k for k in arguments if k not in allowed]
            if unknown:
                raise UnknownArgumentError.build(name, unknown[0], allowed)
        try:
            return sdk_validate(arguments)
        except ValidationError as exc:  # one bounded line, not pydantic's pages
            raise ArgumentsError.from_validation(exc) from None

    sdk.validate_arguments_with(tool, validate)
    return tool


def build_tools(*, bench_noop_tool: bool | None = None) -> list[Tool]:
    """Every tool, strict about its arguments; the benchmark's no-op only when asked
    (flag or env)."""
    tables = {**TOOLS, **SEARCH_TOOLS, **COORDINATION_TOOLS}
    tools = [
        strict_arguments(
            Tool.from_function(
                fn, name=name, title=title, description=description, annotations=hints
            )
        )
        for name, (fn, title, hints, description) in tables.items()
    ]
    if bench_noop_tool is None:
        bench_noop_tool = os.environ.get(ENV_BENCH_NOOP, "") not in ("", "0")
    if bench_noop_tool:
        tools.append(
            Tool.from_function(
                bench_noop,
                name="bench_noop",
                description="Does nothing (benchmark floor).",
                annotations=READ_ONLY,
            )
        )
    return tools
