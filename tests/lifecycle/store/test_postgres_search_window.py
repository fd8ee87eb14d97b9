"""PostgreSQL's cut-off ranking of a query found in too many entries (``search_window``),
as SQLite's (``tests/lifecycle/store/sqlite/test_search_window.py``): with the cut-off and
the window made small, paging returns every match once, in order, newest window first,
with every filter applied before the page is cut; within a window the order is the exact
ranking's; migration 8 upgrades a populated store; the window walks the revision index."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lifecycle import ManualClock, MemoryLifecycleManager
from lifecycle.search.syntax import parse
from lifecycle.store.backend import open_store
from lifecycle.store.base import PREFIX_END
from lifecycle.store.postgres import schema as postgres_schema
from lifecycle.store.postgres import search as postgres_search
from lifecycle.store.postgres import search_window
from tests.support.query_plans import postgres_store_schema
from tests.support.store import (  # noqa: F401  (fixtures register under their pytest names)
    UrlFactory,
    store_url_factory_fixture,
)

pytestmark = pytest.mark.postgres

POLICIES = """
namespaces:
  - {namespace: "tmp/*", ttl_seconds: 60, cleanup_strategy: lazy, conflict_strategy: lww}
"""
WORDS = ["alpha", "bravo", "charlie", "delta", "echo"]


@pytest.fixture(name="m")
def m_fixture(
    store_url_factory: UrlFactory,
    tmp_path: Path,
    clock: ManualClock,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[MemoryLifecycleManager]:
    """120 entries under ``notes/``, 30 under ``tmp/`` (expiring), 10 under ``small/``;
    ``common`` in each; cut-off at 40 matches, windows of 16 revisions."""
    monkeypatch.setattr(search_window, "CUT_OFF", 40)
    monkeypatch.setattr(search_window, "WINDOW", 16)
    policies = tmp_path / "policies.yaml"
    policies.write_text(POLICIES)
    url = store_url_factory("postgres")
    with MemoryLifecycleManager(policy_file=policies, store=url, clock=clock) as m:
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
        for start in range(0, 160, 50):  # several batches: revisions in key order
            m.store_many(batch[start : start + 50])
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


def _spaces() -> list[tuple[int, str]]:
    return [(i, "notes" if i < 120 else ("tmp" if i < 150 else "small")) for i in range(160)]


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
    # the window is the revision's: the newest entries come first
    assert [int(r["score"]) for r in every] == [r["revision"] // 16 for r in every]
    assert every[0]["key"] in {f"small/n{i}" for i in range(150, 160)}
    clock.tick(61)  # tmp/ expires: filtered before the page is cut
    live = pages(m, "common", limit=9)
    assert_ordered_once(live)
    assert {r["key"] for r in live} == {r["key"] for r in every if not r["key"].startswith("tmp/")}


def test_a_page_size_larger_than_a_window_spans_several(m: MemoryLifecycleManager) -> None:
    every = pages(m, "common", limit=100)
    assert_ordered_once(every)
    assert len(every) == 160
    assert len({int(r["score"]) for r in every[:100]}) > 5


def test_a_paging_cut_off_stays_cut_off_to_its_end(
    m: MemoryLifecycleManager, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The next page of a cut ranking is ranked by windows without counting the matches
    again: raising the cut-off midway changes nothing for that paging."""
    first = m.search("common", limit=30, mode="keyword")
    assert first["cut_off"] is True
    monkeypatch.setattr(search_window, "CUT_OFF", 1000)
    second = m.search("common", limit=30, cursor=first["next_cursor"], mode="keyword")
    assert second["cut_off"] is True
    assert_ordered_once(first["results"] + second["results"])
    assert "cut_off" not in m.search("common", limit=30, mode="keyword")  # a new paging


def test_an_entry_written_again_is_the_newest(m: MemoryLifecycleManager) -> None:
    """Recency is the last write's (the revision), where SQLite's is the first write's."""
    m.store("notes/n000", {"title": "common again", "body": "rewritten"})
    first = m.search("common", mode="keyword")
    assert first["cut_off"] is True
    assert first["results"][0]["key"] == "notes/n000"


def test_filters_apply_before_the_page_is_cut(m: MemoryLifecycleManager) -> None:
    even = pages(m, "common", limit=5, tags=["even"])
    assert_ordered_once(even)
    assert {r["key"] for r in even} == {f"{s}/n{i:03d}" for i, s in _spaces() if i % 2 == 0}
    assert m.search("common", tags=["even"], mode="keyword")["cut_off"] is True
    mine = pages(m, "common", limit=6, provenance_filter=["agent_output"])
    assert_ordered_once(mine)
    assert {r["key"] for r in mine} == {f"{s}/n{i:03d}" for i, s in _spaces() if i % 3 == 0}
    under = pages(m, "common", limit=8, prefix="notes/")
    assert_ordered_once(under)
    assert len(under) == 120
    assert m.search("common", prefix="notes/", mode="keyword")["cut_off"] is True


def test_a_small_prefix_or_a_rare_word_is_ranked_exactly(m: MemoryLifecycleManager) -> None:
    """At most ``CUT_OFF`` live matches after the filters: the exact ranking, no cut."""
    small = m.search("common", prefix="small/", limit=100, mode="keyword")
    assert "cut_off" not in small
    assert {r["key"] for r in small["results"]} == {f"small/n{i:03d}" for i in range(150, 160)}
    assert all(r["score"] < 1 for r in small["results"])  # ts_rank itself
    rare = m.search("word7", mode="keyword")
    assert "cut_off" not in rare
    assert [r["key"] for r in rare["results"]] == ["notes/n007"]
    tmp = m.search("common", prefix="tmp/", limit=100, mode="keyword")
    assert "cut_off" not in tmp and len(tmp["results"]) == 30


def test_exactly_the_cut_off_is_ranked_exactly(
    m: MemoryLifecycleManager, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(search_window, "CUT_OFF", 160)
    assert "cut_off" not in m.search("common", mode="keyword")
    monkeypatch.setattr(search_window, "CUT_OFF", 159)
    assert m.search("common", mode="keyword")["cut_off"] is True


def test_a_store_of_few_entries_but_many_writes_is_ranked_exactly(
    store_url_factory: UrlFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """More revisions than ``CUT_OFF`` (the small-store shortcut does not apply) but fewer
    live matches: ranked exactly, by the larger store's statement."""
    monkeypatch.setattr(search_window, "CUT_OFF", 40)
    with MemoryLifecycleManager(store=store_url_factory("postgres")) as m:
        for round_ in range(6):
            m.store_many({"key": f"notes/{i}", "value": f"churn {round_} {i}"} for i in range(10))
        assert m.backend.current_revision() > 40
        found = m.search("churn", limit=100, mode="keyword")
        assert "cut_off" not in found
        assert sorted(r["key"] for r in found["results"]) == sorted(f"notes/{i}" for i in range(10))
        assert [r["key"] for r in m.search("churn 5 3", mode="keyword")["results"]] == ["notes/3"]


def test_cut_off_scores_follow_ts_rank_within_a_window(m: MemoryLifecycleManager) -> None:
    """Within one window, the order is the exact ranking's (``ts_rank``, then the key), and
    the score is ``window + rank / (1 + rank)``."""
    results = pages(m, "common", limit=50)
    top = int(results[0]["score"])
    window = [r for r in results if int(r["score"]) == top]
    import psycopg

    from tests.lifecycle.store.test_search_migration import _pg_parts

    dsn, schema = _pg_parts(m.store_url)
    with psycopg.connect(dsn) as conn:
        conn.execute(f'SET search_path TO "{schema}"')
        exact = conn.execute(
            f"SELECT key, ts_rank({postgres_search._WEIGHTS}, search, %s::tsquery, 1)::float8 "
            "AS rank FROM entries WHERE revision >= %s AND NOT tombstone "
            "ORDER BY rank DESC, key",
            (postgres_search.tsquery(parse("common")), top * 16),
        ).fetchall()
    assert [r["key"] for r in window] == [k for k, _ in exact]
    for r, (_, rank) in zip(window, exact, strict=True):
        assert r["score"] == top + rank / (1 + rank)


def test_the_migration_indexes_a_populated_store_once_for_concurrent_openers(
    store_url_factory: UrlFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A store written before migration 8 gets it when opened, whoever opens it first (the
    others wait for it and find it done), and its search is then cut off."""
    url = store_url_factory("postgres")
    without_8 = {n: s for n, s in postgres_schema.NUMBERED.items() if n != 8}
    monkeypatch.setattr(postgres_schema, "NUMBERED", without_8)
    with MemoryLifecycleManager(store=url) as old:
        old.store_many({"key": f"notes/{i}", "value": f"common {i}"} for i in range(100))
    monkeypatch.undo()
    errors: list[BaseException] = []

    def open_close() -> None:
        try:
            open_store(url).close()
        except BaseException as exc:  # (reported below)
            errors.append(exc)

    threads = [threading.Thread(target=open_close) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    import psycopg

    from tests.lifecycle.store.test_search_migration import _pg_parts

    dsn, schema = _pg_parts(url)
    with psycopg.connect(dsn) as conn:
        conn.execute(f'SET search_path TO "{schema}"')
        versions = [v for (v,) in conn.execute("SELECT version FROM schema_migrations")]
        index = conn.execute(
            "SELECT indexdef FROM pg_indexes WHERE schemaname = %s AND indexname = "
            "'entries_revision'",
            (schema,),
        ).fetchone()
    assert versions.count(8) == 1
    assert index is not None and "WHERE (search IS NOT NULL)" in index[0]
    monkeypatch.setattr(search_window, "CUT_OFF", 40)
    with MemoryLifecycleManager(store=url) as m:
        every = pages(m, "common", limit=30)
        assert len(every) == 100
        assert_ordered_once(every)
        assert m.search("common", mode="keyword")["cut_off"] is True


@pytest.mark.parametrize("analyzed", [True, False])
def test_the_window_walks_the_revision_index(analyzed: bool) -> None:
    """Each window reads its revisions from the index (its newest match, walking the index
    backwards, then the window's range), whether or not the table was analyzed, and never
    ranks every match (no scan of the full-text index). With a prefix and a tag most
    entries carry, once analyzed (a selective tag is better read from its own index)."""
    cases: list[tuple[str, tuple[str, ...], tuple[float, str] | None]] = [("", (), None)]
    if analyzed:
        cases.append(("knowledge/", ("t",), (3.5, "k")))
    with postgres_store_schema() as conn:
        conn.execute(
            "INSERT INTO entries (key, policy, strategy, cleanup, codec, payload, size_bytes, "
            "created_at, updated_at, actor, revision, tags, search) "
            "SELECT 'knowledge/topic' || mod(i, 100) || '/note' || i, 'knowledge/*', 'lww', "
            "'manual', 'json', '\\x00', 1, 0, 0, 'a', i, "
            "CASE WHEN mod(i, 5) > 0 THEN ARRAY['t'] END, "
            "('''knowledge'':1A ''note' || i || ''':2A ''common'':4 ''word' || mod(i, 7) "
            "|| ''':5')::tsvector FROM generate_series(1, 30000) AS i"
        )
        if analyzed:
            conn.execute("ANALYZE entries")
        plans = []
        for prefix, tags, after in cases:
            match = postgres_search.match_condition(prefix, tags)
            sql = search_window.statement(
                match, postgres_search._RANK, postgres_search._AFTER if after else ""
            )
            args = {
                "q": postgres_search.tsquery(parse("knowledge")),
                "now": 0.0,
                "low": prefix,
                "high": prefix + PREFIX_END,
                "tags": list(tags),
                "score": after[0] if after else None,
                "key": after[1] if after else None,
                "width": 2048,
                "below": 1 << 62,
                "limit": 11,
            }
            explained = conn.execute("EXPLAIN " + sql, args)
            plans.append("\n".join(r[0] for r in explained))
        small = postgres_search._SEARCH.format(
            columns="key", match=postgres_search.match_condition("", ()), rank="1.0", after=""
        )
        gate = "\n".join(r[0] for r in conn.execute("EXPLAIN " + small, {**args, "cut": 20000}))
    # the small-store shortcut reads the revision counter once, not per row
    assert "One-Time Filter" in gate and "counters" in gate, gate
    for plan in plans:
        assert "Index Scan Backward using entries_revision" in plan, plan  # the newest
        walks = [s for s in plan.splitlines() if "Scan" in s and "entries_revision" in s]
        assert len(walks) == 2, plan  # then its window's range (an index or bitmap scan)
        assert "entries_search" not in plan, plan
        assert "Seq Scan" not in plan, plan
