"""``memory_search``, tags on ``memory_store`` and batches, and ``memory_list``'s filters:
in process in both handshake modes, and over real stdio as an editor runs the server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from server.mcp.server import build_server
from tests.support.server import bounded, error_text, stdio_params, structured

pytestmark = pytest.mark.anyio


@pytest.fixture(params=["legacy", "auto"])
def mode(request: pytest.FixtureRequest) -> str:
    return request.param


@asynccontextmanager
async def connect(tmp_path: Path, mode: str) -> AsyncIterator[Client]:
    server = build_server(memory_dir=tmp_path / "memory", maintenance_interval=0)
    with bounded():
        async with Client(server, mode=mode) as client:  # type: ignore[arg-type]
            yield client


async def call(client: Client, tool: str, **arguments: Any) -> dict[str, Any]:
    return structured(await client.call_tool(tool, arguments))


async def seed(client: Client) -> None:
    await call(
        client,
        "memory_store",
        key="knowledge/api/auth",
        value={"decision": "We decided to use JWT for auth", "by": "architect"},
        tags=["decision", "auth"],
    )
    await call(
        client,
        "memory_store_batch",
        entries=[
            {"key": "coordination/agent1/status", "value": "reviewing the auth module"},
            {"key": "knowledge/db", "value": "Postgres for prod", "tags": ["decision"]},
        ],
    )


async def test_search_finds_entries_by_their_words_with_a_snippet(
    tmp_path: Path, mode: str
) -> None:
    async with connect(tmp_path, mode) as client:
        await seed(client)
        found = await call(client, "memory_search", query="auth decision")
        tagged = await call(client, "memory_search", query="auth", tags=["decision"])
        scoped = await call(client, "memory_search", query="auth", namespace="coordination")
    (hit,) = found["results"]
    assert hit["key"] == "knowledge/api/auth"
    assert hit["snippet"] == "**decision**: We decided to use JWT for **auth**"
    assert hit["tags"] == ["auth", "decision"]
    assert hit["policy"] == "knowledge/*"
    assert isinstance(hit["revision"], int) and hit["revision"] > 0  # the real one
    assert hit["score"] > 0 and hit["updated_at"] > 0
    assert found["next_cursor"] is None
    assert [r["key"] for r in tagged["results"]] == ["knowledge/api/auth"]
    assert [r["key"] for r in scoped["results"]] == ["coordination/agent1/status"]


async def test_search_pages_with_the_cursor(tmp_path: Path, mode: str) -> None:
    async with connect(tmp_path, mode) as client:
        entries = [{"key": f"notes/{i:02d}", "value": f"page me {i}"} for i in range(25)]
        await call(client, "memory_store_batch", entries=entries)
        keys: list[str] = []
        cursor = None
        while True:
            page = await call(client, "memory_search", query="page", limit=10, cursor=cursor)
            keys += [r["key"] for r in page["results"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
    assert sorted(keys) == [f"notes/{i:02d}" for i in range(25)]


async def test_list_filters_by_tags_and_namespace_and_reports_tags(
    tmp_path: Path, mode: str
) -> None:
    async with connect(tmp_path, mode) as client:
        await seed(client)
        tagged = await call(client, "memory_list", tags=["decision"])
        spaced = await call(client, "memory_list", namespace="knowledge", tags=["auth"])
        got = await call(client, "memory_retrieve", key="knowledge/api/auth")
        await call(client, "memory_store", key="knowledge/api/auth", value="x", tags=[])
        cleared = await call(client, "memory_retrieve", key="knowledge/api/auth")
    assert [(e["key"], e["tags"]) for e in tagged["entries"]] == [
        ("knowledge/api/auth", ["auth", "decision"]),
        ("knowledge/db", ["decision"]),
    ]
    assert [e["key"] for e in spaced["entries"]] == ["knowledge/api/auth"]
    assert got["tags"] == ["auth", "decision"]
    assert cleared["tags"] == []


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"query": "auth OR db"}, "'OR' is not an operator"),
        ({"query": '"unterminated'}, "unterminated quote"),
        ({"query": "*"}, "needs letters or digits"),
        ({"query": "x" * 10_000}, "over the limit of 1000"),
        ({"query": "auth", "limit": 0}, "limit"),
        ({"query": "auth", "cursor": "bogus"}, "next_cursor"),
        ({"query": "auth", "tags": ["x" * 65]}, "1-64 characters"),
        ({"query": "auth", "sort": "score"}, "sort"),
    ],
)
async def test_a_bad_search_is_an_error_result_that_says_what_to_fix(
    tmp_path: Path, arguments: dict[str, Any], message: str
) -> None:
    async with connect(tmp_path, "legacy") as client:
        await seed(client)
        text = error_text(await client.call_tool("memory_search", arguments))
        after = await call(client, "memory_search", query="auth")
    assert message in text
    assert len(text) < 400
    for leak in ("sqlite", "fts5", "tsquery", "psycopg", "Traceback"):
        assert leak not in text.lower()
    assert after["results"]


async def test_bad_tags_on_a_store_are_an_error_and_change_nothing(tmp_path: Path) -> None:
    async with connect(tmp_path, "legacy") as client:
        await seed(client)
        text = error_text(
            await client.call_tool(
                "memory_store", {"key": "knowledge/db", "value": "y", "tags": ["a"] * 17}
            )
        )
        got = await call(client, "memory_retrieve", key="knowledge/db")
    assert "over the limit of 16" in text
    assert (got["value"], got["tags"]) == ("Postgres for prod", ["decision"])


@pytest.mark.slow
async def test_search_over_real_stdio(tmp_path: Path) -> None:
    with bounded():
        async with Client(stdio_params(tmp_path / "memory"), mode="legacy") as client:
            tools = {t.name: t for t in (await client.list_tools()).tools}
            await seed(client)
            first = await call(client, "memory_search", query="knowledge", limit=1)
            second = await call(
                client, "memory_search", query="knowledge", limit=1, cursor=first["next_cursor"]
            )
            refused = await client.call_tool("memory_search", {"query": "NOT auth"})
            again = await call(client, "memory_search", query='"use JWT"', tags=["auth"])
    schema = tools["memory_search"].input_schema
    assert set(schema["properties"]) == {
        "query", "prefix", "tags", "limit", "cursor", "namespace", "provenance_filter", "mode",
        "threshold", "smart",
    }  # fmt: skip
    assert schema["required"] == ["query"]
    assert tools["memory_search"].annotations.read_only_hint is True  # type: ignore[union-attr]
    assert {r["key"] for r in first["results"] + second["results"]} == {
        "knowledge/api/auth",
        "knowledge/db",
    }
    assert second["next_cursor"] is None
    assert "'NOT' is not an operator" in error_text(refused)
    assert [r["key"] for r in again["results"]] == ["knowledge/api/auth"]


async def test_search_says_when_a_common_word_was_ranked_by_recency_windows(
    tmp_path: Path, mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lifecycle.store.sqlite import search_window

    monkeypatch.setattr(search_window, "CUT_OFF", 40)
    monkeypatch.setattr(search_window, "WINDOW", 16)
    async with connect(tmp_path, mode) as client:
        entries = [{"key": f"knowledge/n{i:03}", "value": f"note {i}"} for i in range(60)]
        await call(client, "memory_store_batch", entries=entries)

        common = await call(client, "memory_search", query="note", limit=5)
        rare = await call(client, "memory_search", query="note 7", limit=5)

    assert common["cut_off"] is True
    # the newest window (16 rowids) first: the page comes from the last entries written
    assert all(int(r["key"][-3:]) >= 60 - 16 for r in common["results"]), common
    assert rare["cut_off"] is False  # 'note 7' matches one entry: ranked exactly
