"""The cut-off ranking of a query found in too many entries (``search_window``): its bm25
is FTS5's, and with the cut-off and the window made small, paging still returns every
match once, in order, with every filter applied before the page is cut."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from lifecycle import ManualClock, MemoryLifecycleManager
from lifecycle.search.syntax import parse
from lifecycle.store.sqlite import search_window
from lifecycle.store.sqlite.search import match_expression
from lifecycle.store.text_index import Query

POLICIES = """
namespaces:
  - {namespace: "tmp/*", ttl_seconds: 60, cleanup_strategy: lazy, conflict_strategy: lww}
"""
WORDS = ["alpha", "bravo", "charlie", "delta", "echo"]


@pytest.fixture(name="m")
def m_fixture(
    make_manager: Callable[..., MemoryLifecycleManager], monkeypatch: pytest.MonkeyPatch
) -> Iterator[MemoryLifecycleManager]:
    """120 entries under ``notes/``, 30 under ``tmp/`` (expiring), 10 under ``small/``;
    ``common`` in each; cut-off at 40 matches, windows of 16 rowids."""
    monkeypatch.setattr(search_window, "CUT_OFF", 40)
    monkeypatch.setattr(search_window, "WINDOW", 16)
    m = make_manager(policies=POLICIES)
    batch: list[dict[str, Any]] = []
    for i in range(160):
        space = "notes" if i < 120 else ("tmp" if i < 150 else "small")
        text = " ".join(WORDS[(i + j) % 5] for j in range(i % 4 + 1))
        batch.append(
            {
                "key": f"{space}/n{i:03d}",
                "value": {"title": f"common {text}", "body": "common " * (i % 3) + f"word{i}"},
                "tags": ["even"] if i % 2 == 0 else ["odd"],
                "provenance_type": "agent_output" if i % 3 == 0 else "user_claim",
            }
        )
    m.store_many(batch)
    yield m


def pages(m: MemoryLifecycleManager, query: str, limit: int, **kwargs: Any) -> list[dict[str, Any]]:
    """Every result of every page, following next_cursor."""
    out: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = m.search(query, limit=limit, cursor=cursor, mode="keyword", **kwargs)
        out += page["results"]
        cursor = page["next_cursor"]
        if cursor is None:
            return out


def assert_ordered_once(results: list[dict[str, Any]]) -> None:
    keys = [r["key"] for r in results]
    assert len(keys) == len(set(keys))
    order = [(-r["score"], r["key"]) for r in results]
    assert order == sorted(order)


@pytest.mark.parametrize("query", ["common", "charlie", "alpha bravo", '"bravo charlie"', "ech*"])
def test_relevance_is_fts5s_bm25(m: MemoryLifecycleManager, query: str) -> None:
    conn = sqlite3.connect(m.memory_dir / "memory.db")
    parsed = parse(query)
    expression = match_expression(parsed, ())
    stats = search_window.Stats(conn, [])
    count = "SELECT count(*) FROM search WHERE search MATCH ?"
    idfs = [
        search_window.idf(
            stats.rows, conn.execute(count, (match_expression(Query((t,)), ()),)).fetchone()[0]
        )
        for t in parsed.terms
    ]  # fmt: skip (counted exactly: above the cut-off the search estimates it)
    rows = conn.execute(
        "SELECT -bm25(search, 2.0, 1.0, 0.0), e.search_key, e.search_body, e.tags "
        "FROM search JOIN entries AS e ON e.id = search.rowid WHERE search MATCH ?",
        (expression,),
    ).fetchall()
    assert rows
    for bm25, key, body, tags in rows:
        assert search_window.relevance(parsed, idfs, stats.avgdl, key, body, tags) == (
            pytest.approx(bm25, rel=1e-9)
        )


def test_a_query_over_the_cut_off_pages_through_every_match_once(
    m: MemoryLifecycleManager, clock: ManualClock
) -> None:
    first = m.search("common", mode="keyword")
    assert first["cut_off"] is True
    every = pages(m, "common", limit=7)
    assert_ordered_once(every)
    assert len(every) == 160
    newest_first = [int(r["score"]) for r in every]
    assert newest_first == sorted(newest_first, reverse=True)
    clock.tick(61)  # tmp/ expires: filtered before the page is cut
    live = pages(m, "common", limit=9)
    assert_ordered_once(live)
    assert {r["key"] for r in live} == {r["key"] for r in every if not r["key"].startswith("tmp/")}


def test_filters_apply_before_the_page_is_cut(m: MemoryLifecycleManager) -> None:
    even = pages(m, "common", limit=5, tags=["even"])
    assert_ordered_once(even)
    assert {r["key"] for r in even} == {f"{s}/n{i:03d}" for i, s in _spaces() if i % 2 == 0}
    mine = pages(m, "common", limit=6, provenance_filter=["agent_output"])
    assert_ordered_once(mine)
    assert {r["key"] for r in mine} == {f"{s}/n{i:03d}" for i, s in _spaces() if i % 3 == 0}
    under = pages(m, "common", limit=8, prefix="notes/")
    assert_ordered_once(under)
    assert len(under) == 120
    assert m.search("common", prefix="notes/", mode="keyword")["cut_off"] is True


def test_a_small_prefix_or_a_rare_word_is_ranked_exactly(m: MemoryLifecycleManager) -> None:
    small = m.search("common", prefix="small/", limit=100, mode="keyword")
    assert "cut_off" not in small
    assert {r["key"] for r in small["results"]} == {f"small/n{i:03d}" for i in range(150, 160)}
    rare = m.search("word7", mode="keyword")
    assert "cut_off" not in rare
    assert [r["key"] for r in rare["results"]] == ["notes/n007"]


def test_cut_off_scores_follow_relevance_within_a_window(m: MemoryLifecycleManager) -> None:
    """Within one window, the order is bm25's: the same as the exact ranking's."""
    results = pages(m, "common", limit=50)
    conn = sqlite3.connect(m.memory_dir / "memory.db")
    window = [r for r in results if int(r["score"]) == int(results[0]["score"])]
    ids = dict(conn.execute("SELECT key, id FROM entries").fetchall())
    exact = conn.execute(
        "SELECT rowid FROM search WHERE search MATCH ? AND rowid >= ? ORDER BY "
        "bm25(search, 2.0, 1.0, 0.0), rowid",
        (match_expression(parse("common"), ()), min(ids[r["key"]] for r in window)),
    ).fetchall()
    by_id = {v: k for k, v in ids.items()}
    exact_keys = [by_id[i] for (i,) in exact]
    assert [r["key"] for r in window] == sorted(exact_keys, key=exact_keys.index)
    assert set(exact_keys) == {r["key"] for r in window}


def _spaces() -> list[tuple[int, str]]:
    return [(i, "notes" if i < 120 else ("tmp" if i < 150 else "small")) for i in range(160)]
