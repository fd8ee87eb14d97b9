"""claude-flow 3.43's memory tools, as its MCP server publishes them, sent to ours over real
stdio: every argument of its input schemas is one of ours, a call that uses them all is
answered (never refused), and the answer carries claude-flow's result fields, under its
name or ours (the table in docs/claude-flow.md).

The input schemas are claude-flow's own, extracted from its npm package
(``tests/fixtures/claude-flow/v3-memory-tools.json``, see the README beside it); no
claude-flow process runs here.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from tests.support.env import REPO
from tests.support.server import bounded, stdio_params

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

SCHEMAS: list[dict[str, Any]] = json.loads(
    (REPO / "tests" / "fixtures" / "claude-flow" / "v3-memory-tools.json").read_text()
)
TOOLS = {t["name"]: t["inputSchema"] for t in SCHEMAS}

# a value of each argument's type (an enum: its first value), by name where the meaning
# matters: claude-flow's schemas give types, not examples
NUMBERS = {"ttl": 3600, "limit": 10, "threshold": 0.3, "offset": 0}
STRINGS = {"key": "auth/strategy", "namespace": "decisions", "query": "refresh"}
VALUES = {"value": "JWT with rotating refresh tokens"}

# claude-flow 3.43's result fields (read from each handler in
# v3/@claude-flow/cli/dist/src/mcp-tools/memory-tools.js) -> ours: the same name, another
# name for the same thing, or None where there is no counterpart (embeddings, timings,
# backend names); "results[].x" is a field of each search result, "entries[].x" of each
# listed entry
RESULT_FIELDS: dict[str, dict[str, str | None]] = {
    "memory_store": {
        "key": "key",
        "stored": "stored",
        "namespace": None,  # our key is the full key: <namespace>/<key>
        "success": None,
        "storedAt": None,
        "hasEmbedding": None,
        "embeddingDimensions": None,
        "provenanceType": None,  # returned by memory_retrieve and memory_search
        "backend": None,
        "storeTime": None,
    },
    "memory_retrieve": {
        "key": "key",
        "value": "value",
        "tags": "tags",
        "found": "found",
        "updatedAt": "updated_at",
        "namespace": None,
        "storedAt": None,
        "accessCount": None,
        "hasEmbedding": None,
        "backend": None,
    },
    "memory_search": {
        "results": "results",
        "results[].key": "results[].key",
        "results[].value": "results[].value",
        "results[].similarity": "results[].similarity",
        "results[].provenanceType": "results[].provenance_type",
        "results[].namespace": None,
        "query": None,
        "total": None,
        "searchTime": None,
        "backend": None,
    },
    "memory_delete": {
        "key": "key",
        "deleted": "deleted",
        "success": None,
        "namespace": None,
        "hnswIndexInvalidated": None,
        "backend": None,
    },
    "memory_list": {
        "entries": "entries",
        "entries[].key": "entries[].key",
        "entries[].updatedAt": "entries[].updated_at",
        "entries[].size": "entries[].size_bytes",
        "entries[].namespace": None,
        "entries[].storedAt": None,
        "entries[].accessCount": None,
        "entries[].hasEmbedding": None,
        "total": None,
        "limit": None,
        "offset": None,
        "backend": None,
    },
    "memory_stats": {
        "totalEntries": "total_entries",
        "namespaces": "namespace_counts",  # ours count per policy pattern
        "initialized": None,
        "entriesCounted": None,
        "entriesWithEmbeddings": None,
        "embeddingCoverage": None,
        "backend": None,
        "version": None,
        "features": None,
    },
    "memory_cleanup": {
        "dryRun": "dry_run",
        "candidates.expired": "would_delete_count",
        "deleted.entries": "deleted_count",
        "duration": "duration_ms",
        "candidates.stale": None,
        "freed": None,
        "note": None,
    },
}


def example(name: str, schema: dict[str, Any]) -> Any:
    """An argument of claude-flow's declared type."""
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "array":
        item = schema.get("items", {})
        return [item["enum"][0]] if "enum" in item else ["api"]
    if kind == "number":
        return NUMBERS[name]
    if kind == "boolean":
        return True
    if kind == "string":
        return STRINGS[name]
    return VALUES[name]


def arguments(tool: str) -> dict[str, Any]:
    """A call that sets every argument claude-flow's schema declares for ``tool``."""
    return {name: example(name, s) for name, s in TOOLS[tool]["properties"].items()}


def values_at(answer: dict[str, Any], path: str) -> list[Any]:
    """The values of ``path`` in ``answer`` (``a.b``, ``items[].field``); [] when absent."""
    found: list[Any] = [answer]
    for part in path.split("."):
        many = part.endswith("[]")
        name = part.removesuffix("[]").split("[]")[0]
        nxt: list[Any] = []
        for item in found:
            if isinstance(item, dict) and name in item:
                nxt += item[name] if many and isinstance(item[name], list) else [item[name]]
        found = nxt
    return found


def present(answer: dict[str, Any], ours: str) -> bool:
    if "[]." in ours:
        head, field = ours.split("[].", 1)
        items = answer.get(head)
        return bool(items) and all(field in item for item in items)
    return ours in answer


def test_the_fixture_holds_claude_flows_seven_memory_tools():
    assert set(TOOLS) == set(RESULT_FIELDS)
    assert TOOLS["memory_store"]["properties"]["provenance_type"]["enum"][0] == "user_claim"
    assert {"threshold", "smart", "provenance_filter"} <= set(TOOLS["memory_search"]["properties"])
    assert set(TOOLS["memory_cleanup"]["properties"]) == {"dryRun", "namespace"}


async def test_claude_flow_3_calls_are_answered_with_claude_flows_fields(tmp_path: Path) -> None:
    answers: dict[str, dict[str, Any]] = {}
    with bounded():
        async with Client(stdio_params(tmp_path / "memory")) as client:
            ours = {t.name: t.input_schema for t in (await client.list_tools()).tools}
            for tool in (
                "memory_store",
                "memory_retrieve",
                "memory_search",
                "memory_list",
                "memory_stats",
                "memory_cleanup",
                "memory_delete",
            ):
                result = await client.call_tool(tool, arguments(tool))
                assert not result.is_error, (tool, result.content)
                assert result.structured_content is not None
                answers[tool] = result.structured_content

    for tool, schema in TOOLS.items():
        assert set(schema["properties"]) <= set(ours[tool]["properties"]), tool
        for theirs, mine in RESULT_FIELDS[tool].items():
            if mine is not None:
                assert present(answers[tool], mine), (tool, theirs, mine, answers[tool])
    assert answers["memory_store"]["key"] == "decisions/auth/strategy"
    got = answers["memory_retrieve"]
    assert (got["value"], got["tags"], got["provenance_type"]) == (
        "JWT with rotating refresh tokens",
        ["api"],
        "user_claim",
    )
    (hit,) = answers["memory_search"]["results"]  # provenance_filter: ["user_claim"]
    assert (hit["key"], hit["value"], hit["similarity"]) == (
        "decisions/auth/strategy",
        "JWT with rotating refresh tokens",
        None,
    )
    assert values_at(answers["memory_list"], "entries[].key") == ["decisions/auth/strategy"]
    assert answers["memory_stats"]["total_entries"] == 1
    assert (answers["memory_cleanup"]["dry_run"], answers["memory_cleanup"]["deleted_count"]) == (
        True,
        0,
    )
    assert answers["memory_delete"]["deleted"] is True
