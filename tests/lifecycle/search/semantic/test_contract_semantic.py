"""Search by meaning, the same contract on every backend, with the real model: vectors are
made off the write path, live in the store, go with their entry, are never used once
stale; modes, fusion, filters, thresholds and cursors."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from lifecycle import InvalidValueError, ManualClock, MemoryLifecycleManager
from lifecycle.search.semantic.engine import SemanticUnavailableError
from tests.support.semantic import embedding_model_fixture  # noqa: F401
from tests.support.store import (  # noqa: F401  (fixtures register under their pytest names)
    ManagerFactory,
    backend_fixture,
    make_backend_manager_fixture,
    manager_fixture,
    store_url_factory_fixture,
)

pytestmark = pytest.mark.usefixtures("embedding_model")

POLICIES = """
namespaces:
  - {namespace: "tmp/*", ttl_seconds: 3600, cleanup_strategy: lazy, conflict_strategy: lww}
  - {namespace: "notes/*", ttl_seconds: 0, cleanup_strategy: manual, conflict_strategy: lww}
"""

MEMORIES = {
    "notes/auth": "We decided to use JWT tokens for authentication of API users",
    "notes/ci": "The deploy pipeline runs on GitHub Actions and pushes images to the registry",
    "notes/db": "Database migrations must stay backwards compatible for one release",
    "notes/errors": "ERR_CONN_RESET happens when the load balancer drops idle connections",
    "notes/incident": "Incident INC-4821: the payment service went down, an expired TLS cert",
}


@pytest.fixture
def m(make_backend_manager: ManagerFactory) -> MemoryLifecycleManager:
    manager = make_backend_manager("store", POLICIES)
    for key, text in MEMORIES.items():
        manager.store(key, text)
    return manager


def keys(found: dict[str, Any]) -> list[str]:
    return [r["key"] for r in found["results"]]


def vector_rows(m: MemoryLifecycleManager) -> int:
    return m.backend.vectors().counts(None, 0).live and sum(
        1 for s in m.backend.vectors().states(m.semantic.embedder().model_id, "", 1000) if s.vector
    )


def test_a_write_embeds_nothing_and_index_embeds_what_is_pending(
    m: MemoryLifecycleManager,
) -> None:
    stats = m.get_stats()
    assert (stats["embedded_entries"], stats["pending_embeddings"]) == (0, 5)
    assert stats["embedding_model"] and stats["embedding_error"] is None

    report = m.index()

    assert report["indexed"] == 5 and report["embedded"] == 5 and report["pending"] == 0
    assert report["model"] == m.get_stats()["embedding_model"]
    assert m.index()["indexed"] == 0  # nothing left to do
    assert (m.get_stats()["embedded_entries"], m.get_stats()["pending_embeddings"]) == (5, 0)


def test_a_paraphrase_is_found_by_meaning_where_keywords_find_nothing(
    m: MemoryLifecycleManager,
) -> None:
    m.index()
    question = "how do we log users in"

    assert keys(m.search(question, mode="keyword")) == []
    semantic = m.search(question, mode="semantic", limit=1)
    hybrid = m.search(question, limit=1)  # the default with a model

    assert keys(semantic) == ["notes/auth"] and keys(hybrid) == ["notes/auth"]
    assert hybrid["mode"] == "hybrid" and semantic["mode"] == "semantic"
    best = semantic["results"][0]
    assert best["matched"] == "semantic" and 0 < best["similarity"] <= 1
    assert best["score"] == pytest.approx(best["similarity"], abs=1e-3)


def test_hybrid_ranks_an_exact_identifier_first_and_says_both_rankings_found_it(
    m: MemoryLifecycleManager,
) -> None:
    m.index()
    found = m.search("INC-4821")
    assert keys(found)[0] == "notes/incident"
    assert found["results"][0]["matched"] == "both"
    keyword = m.search("INC-4821", mode="keyword")
    assert keys(keyword) == ["notes/incident"]
    assert keyword["results"][0]["similarity"] is None


def test_a_query_the_keyword_syntax_refuses_is_ranked_by_meaning_in_hybrid(
    m: MemoryLifecycleManager,
) -> None:
    m.index()
    found = m.search("login OR authentication", limit=1)
    assert keys(found) == ["notes/auth"] and found["results"][0]["matched"] == "semantic"


def test_a_changed_text_is_matched_by_keywords_only_until_embedded_again(
    m: MemoryLifecycleManager,
) -> None:
    m.index()
    m.store("notes/auth", "The office coffee machine is on the third floor")

    semantic = m.search("authentication tokens for API users", mode="semantic", limit=5)
    assert "notes/auth" not in keys(semantic)  # its old vector is stale: never used
    assert semantic["pending"] == 1
    assert keys(m.search("coffee", limit=5))[0] == "notes/auth"  # keywords still find it

    assert m.index()["indexed"] == 1
    found = m.search("where can I get an espresso", mode="semantic", limit=1)
    assert keys(found) == ["notes/auth"] and found["pending"] == 0


def test_a_rewrite_of_the_same_text_keeps_its_vector_without_the_model(
    m: MemoryLifecycleManager, clock: ManualClock
) -> None:
    m.index()
    clock.tick(5)
    m.store("notes/auth", MEMORIES["notes/auth"])  # a new revision, the same text

    found = m.search("how do we log users in", mode="semantic", limit=1)
    assert keys(found) == ["notes/auth"] and found["pending"] == 0
    report = m.index()
    assert report["indexed"] == 1 and report["pending"] == 0  # restamped, not re-embedded


def test_a_deleted_entry_loses_its_vector_and_is_never_returned(
    m: MemoryLifecycleManager,
) -> None:
    m.index()
    vectors = m.backend.vectors()
    model = m.semantic.embedder().model_id
    assert "notes/auth" in {s.key for s in vectors.states(model, "", 100) if s.vector}

    m.delete("notes/auth")

    assert "notes/auth" not in {s.key for s in vectors.states(model, "", 100)}
    for mode in ("keyword", "semantic", "hybrid"):
        assert "notes/auth" not in keys(m.search("JWT authentication users", mode=mode))
    assert m.get_stats()["embedded_entries"] == 4


def test_an_expired_entry_is_never_returned_before_or_after_cleanup(
    make_backend_manager: ManagerFactory, clock: ManualClock
) -> None:
    m = make_backend_manager("store", POLICIES)
    m.store("tmp/auth", MEMORIES["notes/auth"])
    m.store("notes/other", MEMORIES["notes/db"])
    m.index()
    assert keys(m.search("how do we log users in", mode="semantic"))[0] == "tmp/auth"

    clock.tick(3601)
    for mode in ("keyword", "semantic", "hybrid"):
        assert "tmp/auth" not in keys(m.search("JWT authentication users", mode=mode))
    assert m.get_stats()["pending_embeddings"] == 0 and m.get_stats()["embedded_entries"] == 1

    m.cleanup()
    assert m.backend.vectors().states(m.semantic.embedder().model_id, "", 100)[0].key == (
        "notes/other"
    )
    assert "tmp/auth" not in keys(m.search("JWT authentication users", mode="semantic"))


def test_filters_apply_before_ranking_in_every_mode(
    make_backend_manager: ManagerFactory,
) -> None:
    m = make_backend_manager("store", POLICIES)
    for i in range(40):  # forty close matches outside the filter
        m.store(f"notes/auth/{i:02}", f"JWT tokens authenticate API users, note {i}")
    m.store("team/x/login", "Sign-in uses a magic link sent by email", tags=["adr"])
    m.store("team/x/lunch", "Lunch is at noon", tags=["adr"])
    m.index()

    for mode in ("semantic", "hybrid"):
        found = m.search("how do users log in", mode=mode, prefix="team/", limit=1)
        assert keys(found) == ["team/x/login"]
        tagged = m.search("how do users log in", mode=mode, tags=["adr"], limit=1)
        assert keys(tagged) == ["team/x/login"]
        spaced = m.search("how do users log in", mode=mode, namespace="team/x", limit=2)
        assert keys(spaced) == ["team/x/login", "team/x/lunch"]


def test_a_provenance_filter_applies_before_ranking_in_every_mode(
    make_backend_manager: ManagerFactory,
) -> None:
    m = make_backend_manager("store", POLICIES)
    for i in range(40):  # forty close matches an agent wrote
        m.store(f"notes/auth/{i:02}", f"JWT tokens authenticate users, {i}", provenance_type="x")
    m.store("notes/login", "Sign-in uses a magic link sent by email", provenance_type="user_claim")
    m.store("notes/plain", "Users log in with a password")  # no provenance: 'unknown'
    m.index()

    for mode in ("keyword", "semantic", "hybrid"):
        query = "users" if mode == "keyword" else "how do users log in"
        claims = m.search(query, mode=mode, provenance_filter=["user_claim", "unknown"])
        assert set(keys(claims)) <= {"notes/login", "notes/plain"}, mode
        assert keys(claims), mode
        assert all(r["provenance_type"] in ("user_claim", None) for r in claims["results"])
    hybrid = m.search("how do users log in", mode="hybrid", provenance_filter=["user_claim"])
    assert keys(hybrid) == ["notes/login"]


def test_cursor_pages_cover_every_entry_once_in_semantic_and_hybrid(
    make_backend_manager: ManagerFactory,
) -> None:
    m = make_backend_manager("store", POLICIES)
    for i in range(23):
        m.store(f"notes/n{i:02}", f"release note {i}: the deploy went fine")
    m.store("notes/dup-a", "release: the deploy went fine")
    m.store("notes/dup-b", "release: the deploy went fine")  # an exact tie: ordered by key
    m.index()

    for mode in ("semantic", "hybrid"):
        seen: list[str] = []
        cursor = None
        while True:
            page = m.search("deploy release", mode=mode, limit=4, cursor=cursor)
            seen += keys(page)
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert len(seen) == len(set(seen)) == 25
        with pytest.raises(InvalidValueError, match="another search"):
            first = m.search("deploy release", mode=mode, limit=4)
            m.search("deploy", mode=mode, limit=4, cursor=first["next_cursor"])


def test_threshold_bounds_semantic_matches_only(m: MemoryLifecycleManager) -> None:
    m.index()
    question = "what caused the payments outage"
    everything = m.search(question, mode="semantic", limit=10)
    assert len(everything["results"]) >= 2  # nearest entries, even when nothing is close
    assert all(r["similarity"] >= 0 for r in everything["results"])  # the default bound: 0
    close = m.search(question, mode="semantic", threshold=0.4, limit=10)
    assert keys(close) == ["notes/incident"]
    assert all(r["similarity"] >= 0.4 for r in close["results"])
    hybrid = m.search("ERR_CONN_RESET", threshold=0.99, limit=10)
    assert keys(hybrid) == ["notes/errors"]  # the keyword match is not bounded by it
    for bad in (-0.1, 1.5, True, "high"):
        with pytest.raises(InvalidValueError, match="threshold"):
            m.search("x", mode="semantic", threshold=bad)  # type: ignore[arg-type]


def test_an_unknown_mode_is_refused_naming_the_modes(m: MemoryLifecycleManager) -> None:
    with pytest.raises(InvalidValueError, match="keyword, semantic or hybrid"):
        m.search("x", mode="fuzzy")


def test_before_anything_is_embedded_a_semantic_search_is_empty_and_says_pending(
    m: MemoryLifecycleManager,
) -> None:
    found = m.search("how do we log users in", mode="semantic")
    assert found["results"] == [] and found["pending"] == 5
    assert keys(m.search("JWT"))[0] == "notes/auth"  # hybrid still has the keywords


def test_another_process_sees_vectors_this_one_saved(
    make_backend_manager: ManagerFactory, store_url_factory: Any, backend: str
) -> None:
    m = make_backend_manager("store", POLICIES)
    m.store("notes/auth", MEMORIES["notes/auth"])
    other = MemoryLifecycleManager(store=m.store_url if backend == "sqlite" else m.backend)
    try:
        assert other.search("how do we log users in", mode="semantic")["results"] == []
        m.index()
        assert keys(other.search("how do we log users in", mode="semantic")) == ["notes/auth"]
    finally:
        if backend == "sqlite":
            other.close()


def test_vectors_are_derived_data_an_import_leaves_them_pending(
    make_backend_manager: ManagerFactory,
) -> None:
    source = make_backend_manager("a", POLICIES)
    source.store("notes/auth", MEMORIES["notes/auth"])
    source.index()
    target = make_backend_manager("b", POLICIES)
    target.merge_entries(source.export_entries())
    assert target.get_stats()["pending_embeddings"] == 1
    assert target.index()["embedded"] == 1


def test_a_copied_sqlite_file_carries_its_vectors(make_manager: Any, tmp_path: Path) -> None:
    m = make_manager("a", POLICIES)
    m.store("notes/auth", MEMORIES["notes/auth"])
    m.index()
    m.close()
    (tmp_path / "b").mkdir()
    shutil.copy(tmp_path / "a" / "memory.db", tmp_path / "b" / "memory.db")
    copy = make_manager("b", POLICIES)
    found = copy.search("how do we log users in", mode="semantic")
    assert keys(found) == ["notes/auth"] and found["pending"] == 0


def test_without_a_model_semantic_is_one_clear_error_and_keyword_is_unchanged(
    m: MemoryLifecycleManager, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("MEMORY_LIFECYCLE_EMBEDDING_MODEL_PATH", str(tmp_path / "nowhere"))
    with pytest.raises(SemanticUnavailableError, match="nowhere does not exist") as caught:
        m.search("how do we log users in", mode="semantic")
    assert "MEMORY_LIFECYCLE_EMBEDDING_MODEL_PATH" in str(caught.value)
    found = m.search("JWT", smart=True)  # smart never errs: keyword without a model
    assert found["mode"] == "keyword" and found["pending"] == 0 and keys(found) == ["notes/auth"]
    stats = m.get_stats()
    assert stats["embedding_model"] is None and "nowhere" in stats["embedding_error"]


def test_an_index_run_forgets_the_vectors_of_another_model(m: MemoryLifecycleManager) -> None:
    m.index()
    vectors = m.backend.vectors()
    model = m.semantic.embedder().model_id
    (first, *_) = vectors.pending("another-model", 0, "", 1)
    vectors.save("another-model", [_copy_of(vectors, model, first.row.key)], 0)
    assert vectors.counts("another-model", 0).embedded == 1

    m.index()

    assert vectors.counts("another-model", 0).embedded == 0
    assert vectors.counts(model, 0).embedded == 5


def _copy_of(vectors: Any, model: str, key: str) -> Any:
    from lifecycle.store.vectors import NewVector

    (state,) = vectors.states_of(model, [key])
    return NewVector(key, state.revision, state.text_hash, state.scale, state.vector)


def test_an_index_step_with_nothing_pending_does_not_load_the_model(
    make_backend_manager: ManagerFactory,
) -> None:
    """The server's background indexer runs a step soon after every start: on a store with
    nothing to embed it must not pay the model's load (numpy, ONNX Runtime, the file)."""
    manager = make_backend_manager("store", POLICIES)
    assert manager.semantic.index_step(64) == 0
    assert manager.semantic._embedder is None  # the model was not loaded

    manager.store("notes/auth", MEMORIES["notes/auth"])
    assert manager.semantic.index_step(64) == 1  # work to do: now it loads and embeds
    assert manager.semantic._embedder is not None
    assert manager.semantic.index_step(64) == 0  # loaded: the usual step, nothing left
