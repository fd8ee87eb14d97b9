"""Full-text search and tags, the same contract on every backend (SQLite always, PostgreSQL
when a server is configured): what is indexed, the query syntax, filters, paging, and that
the index follows every write, delete, sweep and expiry in the same transaction."""

from __future__ import annotations

import random
from typing import Any

import pytest

from lifecycle import (
    InvalidQueryError,
    InvalidValueError,
    LifecycleError,
    ManualClock,
    MemoryLifecycleManager,
)
from lifecycle.entries.searchable import strings, tokens
from tests.support.store import (  # noqa: F401  (fixtures register under their pytest names)
    ManagerFactory,
    backend_fixture,
    make_backend_manager_fixture,
    manager_fixture,
    store_url_factory_fixture,
)

POLICIES = """
namespaces:
  - {namespace: "tmp/*", ttl_seconds: 60, cleanup_strategy: lazy, conflict_strategy: lww}
  - {namespace: "keep/*", ttl_seconds: 60, cleanup_strategy: manual, conflict_strategy: lww}
  - {namespace: "mv/*", ttl_seconds: 0, cleanup_strategy: manual, conflict_strategy: multi_value}
  - namespace: "big/*"
    ttl_seconds: 0
    cleanup_strategy: manual
    conflict_strategy: lww
    compression_threshold_bytes: 64
"""


def keys(result: dict[str, Any]) -> list[str]:
    return [r["key"] for r in result["results"]]


def found(m: MemoryLifecycleManager, query: str, **kwargs: Any) -> set[str]:
    return set(keys(m.search(query, limit=100, **kwargs)))


@pytest.fixture(name="m")
def m_fixture(make_backend_manager: ManagerFactory) -> MemoryLifecycleManager:
    return make_backend_manager(policies=POLICIES)


# ---------------------------------------------------------------- what is indexed


def test_every_string_of_a_nested_value_is_searchable(m: MemoryLifecycleManager) -> None:
    m.store(
        "notes/deep",
        {"a": {"b": [1, {"c": ["level four holds the needle"]}], "n": 42}, "flag": True},
    )
    m.store("notes/flat", "nothing to see here")
    assert found(m, "needle") == {"notes/deep"}
    assert found(m, "level four") == {"notes/deep"}
    assert found(m, "c") == {"notes/deep"}  # member names are text too
    assert found(m, "42") == set()  # numbers and booleans are not text
    assert found(m, "true") == set()


def test_the_segments_of_the_key_are_searchable(m: MemoryLifecycleManager) -> None:
    m.store("coordination/agent_7/status", 3)
    assert found(m, "coordination") == {"coordination/agent_7/status"}
    assert found(m, "agent 7 status") == {"coordination/agent_7/status"}
    assert found(m, "agent_7") == {"coordination/agent_7/status"}


def test_words_are_anded_case_and_accents_ignored(m: MemoryLifecycleManager) -> None:
    m.store("notes/a", "We met at the Café to decide about AUTH")
    m.store("notes/b", "the cafe was closed")
    assert found(m, "cafe") == {"notes/a", "notes/b"}
    assert found(m, "CAFÉ auth") == {"notes/a"}
    assert found(m, "cafe missing") == set()


def test_every_sibling_of_a_multi_value_key_is_searchable(m: MemoryLifecycleManager) -> None:
    m.store("mv/style", "we chose REST", agent_id="architect")
    m.store("mv/style", "we chose GraphQL", agent_id="coder")
    entry = m.retrieve_entry("mv/style")
    assert entry is not None and len(entry.conflicts) == 1
    assert found(m, "rest") == {"mv/style"}
    assert found(m, "graphql") == {"mv/style"}
    m.store("mv/style", "settled on gRPC", agent_id="lead", context=entry.context)
    assert found(m, "rest") == set()  # the siblings it saw are replaced, and unindexed
    assert found(m, "grpc") == {"mv/style"}


def test_compressed_values_are_searchable(m: MemoryLifecycleManager) -> None:
    text = "The deployment runbook says: drain the node first. " * 40
    m.store("big/runbook", {"body": text, "owner": "ops"})
    entry = m.retrieve_entry("big/runbook")
    assert entry is not None and entry.compressed
    assert found(m, '"drain the node"') == {"big/runbook"}
    hit = m.search("runbook drain")["results"][0]
    assert "**drain**" in hit["snippet"]


def test_a_phrase_matches_adjacent_words_in_order_within_one_string(
    m: MemoryLifecycleManager,
) -> None:
    m.store("notes/1", {"decision": "use JWT tokens for auth", "other": "tokens expire"})
    m.store("notes/2", {"first": "use JWT", "second": "tokens for auth"})
    assert found(m, '"jwt tokens"') == {"notes/1"}
    assert found(m, '"tokens jwt"') == set()
    assert found(m, "jwt tokens") == {"notes/1", "notes/2"}  # words alone: anywhere
    assert found(m, '"decision use jwt"') == {"notes/1"}  # a member name and its value
    assert found(m, "jwt-tokens") == {"notes/1"}  # one term of several words is a phrase


def test_a_prefix_matches_every_word_that_starts_with_it(m: MemoryLifecycleManager) -> None:
    m.store("notes/1", "deployment done")
    m.store("notes/2", "we deployed it")
    m.store("notes/3", "deploy tomorrow")
    m.store("notes/4", "redeploy later")
    assert found(m, "deploy*") == {"notes/1", "notes/2", "notes/3"}
    assert found(m, "deploy") == {"notes/3"}
    assert found(m, '"deployment d"*') == {"notes/1"}


def test_chinese_japanese_and_korean_words_are_found_inside_longer_text(
    m: MemoryLifecycleManager,
) -> None:
    m.store("notes/jp", "東京都の会議は明日です")
    m.store("notes/kr", "서울에서 회의")
    assert found(m, "東京") == {"notes/jp"}
    assert found(m, "会議") == {"notes/jp"}
    assert found(m, "京東") == set()
    assert found(m, "서울") == {"notes/kr"}


# ---------------------------------------------------------------- the index follows writes


def test_an_update_replaces_the_indexed_text(m: MemoryLifecycleManager) -> None:
    m.store("notes/plan", "migrate to postgres")
    m.store("notes/plan", "stay on sqlite")
    assert found(m, "postgres") == set()
    assert found(m, "sqlite") == {"notes/plan"}


def test_a_deleted_entry_never_appears(m: MemoryLifecycleManager) -> None:
    m.store("notes/gone", "secret plan", tags=["x"])
    m.store("notes/kept", "public plan")
    assert m.delete("notes/gone")
    assert found(m, "plan") == {"notes/kept"}
    assert found(m, "plan", tags=["x"]) == set()
    assert m.list(tags=["x"])["entries"] == []
    m.store("notes/gone", "a new plan")  # written again: found, without its old tags
    assert found(m, "plan") == {"notes/gone", "notes/kept"}
    assert m.list(prefix="notes/gone")["entries"][0]["tags"] == []


def test_an_expired_entry_never_appears_even_before_cleanup(
    m: MemoryLifecycleManager, clock: ManualClock
) -> None:
    m.store("tmp/short", "ephemeral marker", tags=["t"])
    m.store("keep/manual", "ephemeral marker")  # manual cleanup: never swept by itself
    m.store("notes/forever", "ephemeral marker")
    m.store("tmp/own-ttl", "ephemeral marker", ttl_seconds=1000)
    assert len(found(m, "ephemeral")) == 4
    clock.tick(61)
    assert found(m, "ephemeral") == {"notes/forever", "tmp/own-ttl"}
    assert found(m, "ephemeral", tags=["t"]) == set()
    assert [e["key"] for e in m.list(prefix="tmp/")["entries"]] == ["tmp/own-ttl"]
    m.cleanup(force=True)
    assert found(m, "ephemeral") == {"notes/forever", "tmp/own-ttl"}


def test_the_index_matches_the_entries_after_random_writes_deletes_and_sweeps(
    m: MemoryLifecycleManager, clock: ManualClock
) -> None:
    """Whatever happened, each word finds exactly the live entries whose text holds it."""
    rng = random.Random(5)
    vocabulary = [f"w{i}" for i in range(12)]
    keys_ = [f"{ns}/k{i}" for ns in ("tmp", "notes", "mv") for i in range(6)]

    def value() -> Any:
        words = " ".join(rng.sample(vocabulary, 3))
        return rng.choice([words, {"text": words}, [words, {"n": 1}]])

    for _ in range(250):
        key, action = rng.choice(keys_), rng.random()
        if action < 0.6:
            m.store(key, value(), tags=rng.choice([None, [], ["a"], ["a", "b"]]))
        elif action < 0.75:
            m.delete(key)
        elif action < 0.85:
            clock.tick(rng.choice([1, 30]))
        elif action < 0.95:
            m.retrieve(key)  # a lazy expiry deletes on read
        else:
            m.cleanup(force=rng.random() < 0.5)
    live = {}
    for key in keys_:
        entry = m.retrieve_entry(key)
        if entry is not None:
            texts = strings(entry.value) + [s for c in entry.conflicts for s in strings(c.value)]
            live[key] = {t for s in texts for t in tokens(s)}
    assert live, "the random walk should leave some entries"
    for word in vocabulary:
        assert found(m, word) == {k for k, words in live.items() if word in words}, word


# ---------------------------------------------------------------- tags


def test_tags_are_kept_replaced_and_cleared_by_writes(m: MemoryLifecycleManager) -> None:
    m.store("notes/t", "tagged", tags=["b", "a", "b"])
    assert m.list(prefix="notes/")["entries"][0]["tags"] == ["a", "b"]
    m.store("notes/t", "written again without tags")
    assert m.list(prefix="notes/")["entries"][0]["tags"] == ["a", "b"]
    assert m.retrieve_entry("notes/t").tags == ("a", "b")
    m.store("notes/t", "retagged", tags=["c"])
    assert m.list(tags=["c"])["entries"][0]["key"] == "notes/t"
    assert m.list(tags=["a"])["entries"] == []
    m.store_many([{"key": "notes/t", "value": "cleared", "tags": []}])
    assert m.list(prefix="notes/")["entries"][0]["tags"] == []


def test_a_tags_filter_keeps_entries_carrying_all_of_them(m: MemoryLifecycleManager) -> None:
    m.store("notes/1", "auth decision", tags=["decision", "auth"])
    m.store("notes/2", "auth question", tags=["auth"])
    m.store("notes/3", "db decision", tags=["decision", "db"])
    m.store("other/4", "auth decision", tags=["decision", "auth"])
    assert found(m, "auth", tags=["auth"]) == {"notes/1", "notes/2", "other/4"}
    assert found(m, "auth", tags=["auth", "decision"]) == {"notes/1", "other/4"}
    assert found(m, "auth", tags=["auth", "decision"], prefix="notes/") == {"notes/1"}
    listed = m.list(tags=["decision"], limit=1)
    assert [e["key"] for e in listed["entries"]] == ["notes/1"]
    rest = m.list(tags=["decision"], cursor=listed["next_cursor"])
    assert [e["key"] for e in rest["entries"]] == ["notes/3", "other/4"]
    assert [e["key"] for e in m.list(tags=["auth"], namespace="notes")["entries"]] == [
        "notes/1",
        "notes/2",
    ]


@pytest.mark.parametrize(
    ("tags", "problem"),
    [
        ("auth", "pass a list of strings"),
        ([""], "1-64 characters"),
        (["x" * 65], "1-64 characters"),
        ([f"t{i}" for i in range(17)], "over the limit of 16"),
        (["a\nb"], "control characters"),
        ([3], "1-64 characters"),
    ],
)
def test_bad_tags_are_refused_and_nothing_is_written(
    m: MemoryLifecycleManager, tags: Any, problem: str
) -> None:
    m.store("notes/x", "old", tags=["keep"])
    with pytest.raises(InvalidValueError, match=problem):
        m.store("notes/x", "new", tags=tags)
    with pytest.raises(InvalidValueError, match=problem):
        m.search("old", tags=tags)
    assert m.retrieve("notes/x") == "old"
    assert m.list()["entries"][0]["tags"] == ["keep"]


# ---------------------------------------------------------------- results and paging


def test_a_result_carries_key_score_snippet_policy_revision_time_and_tags(
    m: MemoryLifecycleManager, clock: ManualClock
) -> None:
    m.store("notes/auth", {"decision": "We decided to use JWT for auth."}, tags=["adr"])
    result = m.search("jwt")
    assert result["next_cursor"] is None
    (hit,) = result["results"]
    assert set(hit) == {
        "key", "score", "snippet", "policy", "revision", "updated_at", "tags", "value",
        "provenance_type", "similarity", "matched",
    }  # fmt: skip
    assert hit["value"] == {"decision": "We decided to use JWT for auth."}
    assert hit["provenance_type"] is None
    assert result["mode"] == "keyword" and hit["matched"] == "keyword"
    assert hit["similarity"] is None
    assert hit["key"] == "notes/auth"
    assert hit["snippet"] == "decision: We decided to use **JWT** for auth."
    assert hit["policy"] == "default"
    assert hit["updated_at"] == pytest.approx(clock.time, abs=1)
    assert hit["tags"] == ["adr"]
    assert isinstance(hit["score"], float) and hit["score"] > 0


def test_a_result_carries_the_entrys_real_revision(m: MemoryLifecycleManager) -> None:
    m.store("notes/a", "first draft about kafka")
    m.store("notes/b", "kafka again")
    m.store("notes/a", "second draft about kafka")
    revisions = {r["key"]: r["revision"] for r in m.search("kafka")["results"]}
    for key in ("notes/a", "notes/b"):
        entry = m.retrieve_entry(key)
        assert entry is not None
        assert revisions[key] == entry.revision
    assert revisions["notes/a"] > revisions["notes/b"] > 0


def test_better_matches_rank_first(m: MemoryLifecycleManager) -> None:
    m.store("notes/once", "a long note that mentions kafka once among many other words here")
    m.store("notes/often", "kafka kafka kafka")
    m.store("kafka/topic", "the key says it")
    for i in range(20):
        m.store(f"notes/filler{i}", f"unrelated filler text number {i}")
    ranked = keys(m.search("kafka"))
    assert ranked.index("notes/often") < ranked.index("notes/once")
    scores = [r["score"] for r in m.search("kafka")["results"]]
    assert scores == sorted(scores, reverse=True)


def test_paging_returns_every_match_exactly_once(m: MemoryLifecycleManager) -> None:
    # ties (identical texts score alike) and distinct scores, across page boundaries
    m.store_many(
        [{"key": f"notes/same{i:02d}", "value": "paging target"} for i in range(23)]
        + [
            {"key": f"notes/varied{i:02d}", "value": "paging target " + "pad " * i}
            for i in range(24)
        ]
    )
    m.store("notes/other", "not a match")
    seen: list[str] = []
    cursor = None
    scores: list[float] = []
    for _ in range(20):
        page = m.search("paging target", limit=7, cursor=cursor)
        assert len(page["results"]) <= 7
        seen += keys(page)
        scores += [r["score"] for r in page["results"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 47
    assert scores == sorted(scores, reverse=True)


def test_a_page_boundary_on_a_tie_neither_skips_nor_repeats(m: MemoryLifecycleManager) -> None:
    m.store_many([{"key": f"notes/{i}", "value": "tie"} for i in range(5)])
    first = m.search("tie", limit=2)
    second = m.search("tie", limit=2, cursor=first["next_cursor"])
    third = m.search("tie", limit=2, cursor=second["next_cursor"])
    assert keys(first) + keys(second) + keys(third) == [f"notes/{i}" for i in range(5)]
    assert third["next_cursor"] is None


def _all_pages(m: MemoryLifecycleManager, query: str, limit: int) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = []
    cursor = None
    for _ in range(1000):
        page = m.search(query, limit=limit, cursor=cursor)
        results += page["results"]
        cursor = page["next_cursor"]
        if cursor is None:
            return results
    raise AssertionError("the pages never ended")


def test_pages_skip_expired_best_matches_and_long_runs_of_ties(
    m: MemoryLifecycleManager, clock: ManualClock
) -> None:
    # the best matches expired (short texts score best), and more ties than a search
    # reads beside the best few (300 identical texts): each live match once, in order
    m.store_many([{"key": f"tmp/best{i:02d}", "value": "runs"} for i in range(30)])
    m.store_many([{"key": f"notes/tie{i:03d}", "value": "runs long"} for i in range(300)])
    m.store_many(
        [{"key": f"notes/low{i:02d}", "value": "runs " + "pad " * (i + 2)} for i in range(9)]
    )
    clock.tick(61)
    results = _all_pages(m, "runs", limit=10)
    got = [r["key"] for r in results]
    scores = [r["score"] for r in results]
    assert len(got) == len(set(got)) == 309
    assert got[:300] == [f"notes/tie{i:03d}" for i in range(300)]
    assert scores == sorted(scores, reverse=True)
    assert all(r["value"] is not None and r["revision"] > 0 for r in results)


def test_a_cursor_belongs_to_its_search(m: MemoryLifecycleManager) -> None:
    m.store_many([{"key": f"notes/{i}", "value": "alpha beta"} for i in range(3)])
    cursor = m.search("alpha", limit=1)["next_cursor"]
    assert cursor
    with pytest.raises(InvalidValueError, match="another search"):
        m.search("beta", limit=1, cursor=cursor)
    with pytest.raises(InvalidValueError, match="another search"):
        m.search("alpha", limit=1, cursor=cursor, prefix="other/")
    with pytest.raises(InvalidValueError, match="next_cursor of the previous page"):
        m.search("alpha", cursor="not a cursor!")
    for limit in (0, 101, True, "5"):
        with pytest.raises(InvalidValueError, match="limit"):
            m.search("alpha", limit=limit)  # type: ignore[arg-type]


def test_prefix_and_namespace_narrow_a_search_and_a_list(m: MemoryLifecycleManager) -> None:
    m.store("coordination/a/x", "shared word")
    m.store("coordination/b/y", "shared word")
    m.store("coordinationx/z", "shared word")
    assert found(m, "shared", namespace="coordination") == {"coordination/a/x", "coordination/b/y"}
    assert found(m, "shared", namespace="coordination/*", prefix="a/") == {"coordination/a/x"}
    assert found(m, "shared", prefix="coordination/b") == {"coordination/b/y"}
    listed = m.list(namespace="coordination")["entries"]
    assert [e["key"] for e in listed] == ["coordination/a/x", "coordination/b/y"]
    with pytest.raises(LifecycleError, match="namespace"):
        m.list(namespace="a//b")


# ---------------------------------------------------------------- hostile queries

ACCEPTED = [
    '"auth" "token"',
    "auth)",
    "(auth",
    "auth:token",
    "k : auth",
    "{k body} : auth",
    "^auth",
    "auth^",
    "auth and token",  # operators in lower case are words
    "DROP TABLE entries; --",
    "auth' or '1'='1",
    "a\\b",
    "auth\x00token",
    "naïve café",
    "東京",
    "🚀 auth",
    "auth*",
    '"auth token"*',
    "auth**",
    "--verbose auth",
    "a*b",
    "'auth'",
    "auth & token | x",
    "auth <-> token",
    "auth:*",
    "x" * 128,
]
REFUSED = [
    ("", "empty"),
    ("   ", "empty"),
    ('"', "unterminated quote"),
    ('"auth token', "unterminated quote"),
    ("*", "needs letters or digits"),
    ("**", "needs letters or digits"),
    ("auth OR token", "'OR' is not an operator"),
    ("auth' OR '1'='1", "'OR' is not an operator"),
    ("NOT auth", "'NOT' is not an operator"),
    ("auth NEAR token", "'NEAR' is not an operator"),
    ("-auth", "excluding words"),
    ("🚀", "no words to search for"),
    ("()", "no words to search for"),
    ('""', "no words to search for"),
    ("a" * 10_240, "over the limit of 1000"),
    ("x" * 129, "longer than 128 characters"),
    (" ".join(["w"] * 65), "more than 64 words"),
]


@pytest.mark.parametrize("query", ACCEPTED)
def test_a_hostile_query_is_searched_as_words(m: MemoryLifecycleManager, query: str) -> None:
    m.store("notes/hit", "auth token naïve café 東京 " + "x" * 128)
    result = m.search(query)
    assert set(result) == {"results", "next_cursor", "mode", "pending"}
    assert all(r["key"] == "notes/hit" for r in result["results"])


def test_hostile_queries_find_what_their_words_say(m: MemoryLifecycleManager) -> None:
    m.store("notes/hit", "auth token")
    m.store("notes/miss", "auth only")
    assert found(m, "auth:token") == {"notes/hit"}  # ':' separates words, nothing more
    assert found(m, "{k body} : token") == set()  # 'k' and 'body' are words here
    assert found(m, "auth' or '1'='1") == set()  # every word must match: '1' does not
    assert found(m, "🚀 auth") == {"notes/hit", "notes/miss"}  # symbols are not words


@pytest.mark.parametrize(("query", "problem"), REFUSED)
def test_a_malformed_query_is_refused_with_what_to_fix(
    m: MemoryLifecycleManager, query: str, problem: str
) -> None:
    m.store("notes/hit", "auth token")
    with pytest.raises(InvalidQueryError, match=problem) as raised:
        m.search(query)
    message = str(raised.value)
    assert message.startswith("invalid query: ")
    assert len(message) < 300
    for leak in ("sqlite", "fts5", "tsquery", "psycopg", "syntax error", "Traceback"):
        assert leak not in message.lower()
    assert isinstance(raised.value, ValueError)
    assert found(m, "auth") == {"notes/hit"}  # and the store still answers
