"""One storage contract, every backend: SQLite always, PostgreSQL when a server is configured.

The first half drives the primitive ``Store`` protocol directly; the second half
checks that the manager behaves the same on each backend, and that data moves
between SQLite and PostgreSQL both ways.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

import pytest

from lifecycle import (
    ConfigurationError,
    ManualClock,
    MemoryLifecycleManager,
    StoreError,
)
from lifecycle.basics.dataclass_lite import replace
from lifecycle.store.backend import open_store
from lifecycle.store.base import Row, Store, SweepResult
from tests.support.store import (  # noqa: F401  (fixtures register under their pytest names)
    UrlFactory,
    backend_fixture,
    drop_schema,
    make_backend_manager_fixture,
    manager_fixture,
    new_schema,
    postgres_dsn,
    store_fixture,
    store_url_factory_fixture,
    store_url_fixture,
    with_schema,
)

T0 = 1_800_000_000.0


def row(
    key: str,
    payload: bytes = b'{"s":1}',
    *,
    policy: str = "p/*",
    cleanup: str = "lazy",
    codec: str = "json",
    expires_at: float | None = None,
    tombstone: bool = False,
    size: int = 7,
    at: float = T0,
) -> Row:
    return Row(
        key=key,
        policy=policy,
        strategy="lww",
        cleanup=cleanup,
        codec=codec,
        payload=payload,
        size_bytes=size,
        created_at=at,
        updated_at=at,
        expires_at=expires_at,
        ttl_seconds=None,
        actor="tester",
        tombstone=tombstone,
    )


def put(store: Store, *rows: Row) -> None:
    with store.transaction([r.key for r in rows]) as tx:
        for r in rows:
            tx.put(r)


def byte_order(keys: list[str]) -> list[str]:
    return sorted(keys, key=lambda k: k.encode("utf-8"))


# ---------------------------------------------------------------- transactions


def test_a_committed_transaction_is_read_back_outside_it(store: Store) -> None:
    with store.transaction(["a/1"]) as tx:
        assert tx.get("a/1") is None
        tx.put(row("a/1", b"one"))
        assert tx.get("a/1").payload == b"one"  # a transaction reads its own write
    assert tx.revisions == {"a/1": store.current_revision()}
    assert store.get("a/1") == replace(row("a/1", b"one"), revision=tx.revisions["a/1"])


def test_an_exception_inside_a_transaction_rolls_back_every_write(store: Store) -> None:
    put(store, row("a/keep", b"v1"), row("a/gone", b"v1"))
    with pytest.raises(RuntimeError, match="boom"), store.transaction(["a/keep"]) as tx:
        tx.put(row("a/keep", b"v2"))
        tx.put(row("a/new", b"v1"))
        assert tx.remove("a/gone")
        raise RuntimeError("boom")
    assert store.get("a/keep").payload == b"v1"
    assert store.get("a/new") is None
    assert store.get("a/gone") is not None


def test_a_transaction_sees_its_own_writes_of_announced_keys_in_any_order(
    store: Store,
) -> None:
    """Rows announced to ``transaction`` may be read ahead and writes queued (SQLite): a
    read after a write of the same key must still see it, and one key changed twice is
    one change, at one revision."""
    put(store, row("a/old", b"v1"), row("a/gone", b"v1"))
    keys = ["a/old", "a/new", "a/gone", "a/old"]
    with store.transaction(keys) as tx:
        assert tx.get("a/old").payload == b"v1"
        tx.put(row("a/old", b"v2"))
        assert tx.get("a/new") is None
        tx.put(row("a/new", b"n1"))
        assert tx.get("a/new").payload == b"n1"
        tx.put(row("a/new", b"n2"))
        assert tx.remove("a/gone") is True
        assert tx.get("a/gone") is None
        assert tx.get("a/old").payload == b"v2"
        tx.put(row("a/old", b"v3"))
        tx.put(row("a/gone", b"back"))
        assert tx.remove("a/new") is True
    assert {k: store.get(k).payload for k in ("a/old", "a/gone")} == {
        "a/old": b"v3",
        "a/gone": b"back",
    }
    assert store.get("a/new") is None
    assert sorted(tx.revisions.values()) == list(
        range(min(tx.revisions.values()), store.current_revision() + 1)
    )
    page = store.read_changes(0, "a/", 100)
    logged = [(c.key, c.op) for c in page.changes if c.revision >= min(tx.revisions.values())]
    assert sorted(logged) == [("a/gone", "put"), ("a/new", "delete"), ("a/old", "put")]
    assert {k: store.get(k).revision for k in ("a/old", "a/gone")} == {
        k: tx.revisions[k] for k in ("a/old", "a/gone")
    }


def test_remove_reports_whether_a_row_was_there(store: Store) -> None:
    put(store, row("a/1"))
    with store.transaction(["a/1", "a/2"]) as tx:
        assert tx.remove("a/1") is True
        assert tx.remove("a/2") is False
    assert store.get("a/1") is None


def test_payload_bytes_and_float_timestamps_round_trip_exactly(store: Store) -> None:
    original = Row(
        key="a/exact",
        policy="p/*",
        strategy="counter",
        cleanup="scheduled",
        codec="json+gzip",
        payload=bytes(range(256)) * 3,
        size_bytes=2**40,
        created_at=T0 + 0.123456789,
        updated_at=T0 + 1e-6,
        expires_at=T0 + 0.5,
        ttl_seconds=0.25,
        actor="agent-é",
        tombstone=True,
    )
    put(store, original)
    stored = replace(original, revision=store.current_revision())
    assert store.get("a/exact") == stored
    assert next(store.iter_rows()) == stored


def test_concurrent_first_writes_of_one_key_lose_no_update(store: Store) -> None:
    """Read-modify-write of a key that does not exist yet is serialized like any other:
    every round, all threads race to create the same new key."""
    threads, rounds = 4, 25
    errors: list[BaseException] = []
    barrier = threading.Barrier(threads)

    def work() -> None:
        try:
            for r in range(rounds):
                barrier.wait(timeout=10)
                with store.transaction([f"c/{r}"]) as tx:
                    current = tx.get(f"c/{r}")
                    n = int(current.payload) if current else 0
                    tx.put(row(f"c/{r}", str(n + 1).encode()))
        except BaseException as exc:
            errors.append(exc)
            barrier.abort()

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=60)
    assert not errors
    assert {store.get(f"c/{r}").payload for r in range(rounds)} == {str(threads).encode()}


def test_a_closed_store_refuses_work_with_a_store_error(store_url: str) -> None:
    s = open_store(store_url)
    s.close()
    with pytest.raises(StoreError):
        s.get("a/1")


# ---------------------------------------------------------------- listing


KEYS = ["a/b", "a/B", "a/a", "a/é", "a/日本", "a/z", "a/😀", "a/a/deep", "a/_", "a/~"]


def test_list_rows_returns_live_rows_under_a_prefix_in_byte_order(store: Store) -> None:
    put(
        store,
        *(row(k) for k in KEYS),
        row("a-b"),
        row("ab/x"),
        row("b/a"),
        row("a/expired", expires_at=T0),
        row("a/later", expires_at=T0 + 10),
        row("a/tomb", tombstone=True),
    )
    listed = [r.key for r in store.list_rows("a/", None, 100, T0)]
    assert listed == byte_order([*KEYS, "a/later"])
    everything = [r.key for r in store.list_rows("", None, 100, T0)]
    assert everything == byte_order([*KEYS, "a/later", "a-b", "ab/x", "b/a"])


def test_list_rows_pages_after_a_key_without_gaps_or_repeats(store: Store) -> None:
    put(store, *(row(k) for k in KEYS), row("b/1"))
    pages: list[str] = []
    after = None
    while True:
        page = store.list_rows("a/", after, 3, T0)
        assert len(page) <= 3
        if not page:
            break
        pages += [r.key for r in page]
        after = page[-1].key
    assert pages == byte_order(KEYS)
    # a cursor before the prefix starts at the prefix; one past it finds nothing
    assert [r.key for r in store.list_rows("a/", "0", 2, T0)] == byte_order(KEYS)[:2]
    assert store.list_rows("a/", "a0", 5, T0) == []


# ---------------------------------------------------------------- expiry


def test_delete_expired_removes_only_expired_rows_of_the_given_strategies(store: Store) -> None:
    put(
        store,
        row("x/lazy", policy="l/*", cleanup="lazy", expires_at=T0 - 1),
        row("x/scheduled", policy="s/*", cleanup="scheduled", expires_at=T0),  # now counts
        row("x/scheduled2", policy="s/*", cleanup="scheduled", expires_at=T0 - 9),
        row("x/manual", policy="m/*", cleanup="manual", expires_at=T0 - 1),
        row("x/fresh", cleanup="lazy", expires_at=T0 + 1),
        row("x/forever", cleanup="lazy"),
        row("x/tomb", cleanup="manual", expires_at=T0 - 1, tombstone=True),
    )
    swept = store.delete_expired(T0, ["lazy", "scheduled"])
    assert swept.by_policy == {"l/*": 1, "s/*": 2}
    assert swept.tombstones == 1
    assert sorted(swept.sample_keys) == ["x/lazy", "x/scheduled", "x/scheduled2"]
    assert store.delete_expired(T0, []) == SweepResult({}, 0, [])  # tombstone already gone
    forced = store.delete_expired(T0, ["lazy", "scheduled", "manual"])
    assert (forced.by_policy, forced.sample_keys) == ({"m/*": 1}, ["x/manual"])
    assert {r.key for r in store.iter_rows()} == {"x/fresh", "x/forever"}


def test_delete_expired_honours_the_prefix_and_samples_at_most_the_asked_keys(
    store: Store,
) -> None:
    put(
        store,
        *(row(f"a/{i}", expires_at=T0 - 1) for i in range(7)),
        *(row(f"b/{i}", expires_at=T0 - 1) for i in range(3)),
        row("a-x", expires_at=T0 - 1),
        row("a/tomb", expires_at=T0 - 1, tombstone=True),
    )
    swept = store.delete_expired(T0, ["lazy"], "a/", sample=3)
    assert (swept.by_policy, swept.tombstones) == ({"p/*": 7}, 1)
    assert len(swept.sample_keys) == 3
    assert set(swept.sample_keys) <= {f"a/{i}" for i in range(7)}
    assert {r.key for r in store.iter_rows()} == {"b/0", "b/1", "b/2", "a-x"}
    assert store.delete_expired(T0, ["lazy"], sample=0).by_policy == {"p/*": 4}


def test_delete_expired_key_deletes_a_row_only_while_it_is_expired(store: Store) -> None:
    put(store, row("k/old", expires_at=T0 - 1), row("k/new", expires_at=T0 + 5), row("k/inf"))
    assert store.delete_expired_key("k/old", T0) is True
    assert store.delete_expired_key("k/old", T0) is False
    assert store.delete_expired_key("k/new", T0) is False
    assert store.delete_expired_key("k/inf", T0) is False
    assert store.delete_expired_key("k/missing", T0) is False
    assert {r.key for r in store.iter_rows()} == {"k/new", "k/inf"}


def test_keys_with_prefix_lists_live_rows_expired_included(store: Store) -> None:
    put(
        store,
        row("session/s1"),
        row("session/s1/a", expires_at=T0 - 10),
        row("session/s1/b/c"),
        row("session/s10/x"),
        row("session/s1/tomb", tombstone=True),
    )
    assert store.keys_with_prefix("session/s1/", 100) == ["session/s1/a", "session/s1/b/c"]
    assert store.keys_with_prefix("session/s1", 2) == ["session/s1", "session/s1/a"]
    assert store.keys_with_prefix("nothing/", 10) == []


# ---------------------------------------------------------------- aggregates and metadata


def test_stats_aggregate_live_rows_per_policy(store: Store) -> None:
    put(
        store,
        row("a/1", b"12345", policy="a/*", size=10, expires_at=T0 + 50),
        row("a/2", b"123", policy="a/*", size=20, codec="json+gzip", expires_at=T0 + 20),
        row("a/3", b"1", policy="a/*", size=1, expires_at=T0 - 1),
        row("b/1", b"12", policy="b/*", size=2),
        row("b/t", b"1234", policy="b/*", size=4, tombstone=True),
    )
    stats = {s.policy: s for s in store.stats(T0)}
    assert sorted(stats) == ["a/*", "b/*"]
    a, b = stats["a/*"], stats["b/*"]
    assert (a.entries, a.total_bytes, a.stored_bytes) == (3, 31, 9)
    assert (int(a.compressed), int(a.expired_pending), a.next_expiry) == (1, 1, T0 + 20)
    assert (b.entries, b.total_bytes, b.stored_bytes, int(b.compressed)) == (1, 2, 2, 0)
    assert (int(b.expired_pending), b.next_expiry) == (0, None)
    assert store.count_tombstones() == 1


def test_reset_deletes_every_row_tombstones_included(store: Store) -> None:
    put(store, row("a/1"), row("a/2", tombstone=True), row("b/3", expires_at=T0 - 1))
    assert store.reset() == 3
    assert list(store.iter_rows()) == []
    assert store.count_tombstones() == 0


def test_iter_rows_yields_every_row_in_key_order_across_batches(store: Store) -> None:
    keys = [f"i/{n:05d}" for n in range(1203)]
    for start in range(0, len(keys), 400):
        put(store, *(row(k, tombstone=(k == "i/00700")) for k in keys[start : start + 400]))
    assert [r.key for r in store.iter_rows()] == keys
    live = [r.key for r in store.iter_rows(include_tombstones=False)]
    assert live == [k for k in keys if k != "i/00700"]


def test_meta_values_are_stored_and_overwritten(store: Store) -> None:
    assert store.get_meta("fingerprint") is None
    store.set_meta("fingerprint", "one")
    store.set_meta("fingerprint", "two")
    assert store.get_meta("fingerprint") == "two"


def test_size_bytes_reports_the_space_used(store: Store) -> None:
    put(store, *(row(f"s/{i}", b"x" * 1000) for i in range(50)))
    assert store.size_bytes() > 0


# ---------------------------------------------------------------- leases


def test_a_lease_is_exclusive_until_it_expires(store: Store) -> None:
    assert store.take_turn("maintenance", "h1", T0, 10)
    assert not store.take_turn("maintenance", "h2", T0 + 9.9, 10)
    assert store.take_turn("other", "h2", T0, 10)  # leases are independent by name
    assert store.take_turn("maintenance", "h2", T0 + 10, 10)  # expired: taken over
    assert not store.take_turn("maintenance", "h1", T0 + 11, 10)


def test_a_lease_is_renewable_by_its_holder_and_released_only_by_it(store: Store) -> None:
    assert store.take_turn("m", "h1", T0, 10)
    assert store.take_turn("m", "h1", T0 + 5, 10)  # renewed until T0 + 15
    assert not store.take_turn("m", "h2", T0 + 12, 10)
    store.end_turn("m", "h2")  # not the holder: no effect
    assert not store.take_turn("m", "h2", T0 + 12, 10)
    store.end_turn("m", "h1")
    assert store.take_turn("m", "h2", T0 + 12, 10)


def test_threads_racing_for_a_free_lease_let_exactly_one_win(store: Store) -> None:
    results: list[bool] = []
    barrier = threading.Barrier(6)

    def take(n: int) -> None:
        barrier.wait(timeout=10)
        results.append(store.take_turn("race", f"h{n}", T0, 60))

    workers = [threading.Thread(target=take, args=(n,)) for n in range(6)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=30)
    assert sorted(results) == [False] * 5 + [True]


# ---------------------------------------------------------------- the manager on each backend


def test_manager_stores_retrieves_and_deletes(manager: MemoryLifecycleManager) -> None:
    assert manager.store("knowledge/api", {"version": 2, "tags": ["a", "é"]})
    assert manager.retrieve("knowledge/api") == {"version": 2, "tags": ["a", "é"]}
    assert manager.store("api", "v", namespace="coordination")
    assert manager.retrieve("coordination/api") == "v"
    assert manager.delete("knowledge/api") is True
    assert manager.delete("knowledge/api") is False
    assert manager.retrieve("knowledge/api") is None
    assert [e["key"] for e in manager.list()["entries"]] == ["coordination/api"]
    assert manager.get_stats()["tombstones"] == 1


def test_manager_never_returns_an_expired_entry_and_deletes_lazy_ones_on_access(
    manager: MemoryLifecycleManager, clock: ManualClock
) -> None:
    manager.store("coordination/task", "running")
    manager.store("swarm/shared/plan", "draft", ttl_seconds=10)
    clock.tick(3601)
    assert manager.retrieve("coordination/task") is None
    assert manager.backend.get("coordination/task") is None  # lazy: gone on access
    assert manager.retrieve("swarm/shared/plan") is None
    assert manager.backend.get("swarm/shared/plan") is not None  # scheduled: waits for cleanup


def test_manager_counters_sum_per_actor_increments_once_per_op_id(
    manager: MemoryLifecycleManager,
) -> None:
    manager.store("metrics/tasks", 5, agent_id="a1")
    manager.store("metrics/tasks", -2, agent_id="a2")
    manager.store("metrics/tasks", 4, agent_id="a1", op_id="op-1")
    result = manager.put("metrics/tasks", 4, agent_id="a1", op_id="op-1")
    assert result.duplicate
    assert manager.retrieve("metrics/tasks") == 7


def test_manager_keeps_concurrent_multi_value_writes_as_siblings(
    manager: MemoryLifecycleManager,
) -> None:
    manager.store("swarm/shared/plan", "A", agent_id="a1")
    manager.store("swarm/shared/plan", "B", agent_id="a2")
    entry = manager.retrieve_entry("swarm/shared/plan")
    assert entry.value == "B"
    assert [(c.value, c.actor) for c in entry.conflicts] == [("A", "a1")]
    manager.store("swarm/shared/plan", "C", agent_id="a3", context=entry.context)
    resolved = manager.retrieve_entry("swarm/shared/plan")
    assert (resolved.value, resolved.conflicts) == ("C", ())


def test_manager_cleanup_follows_each_strategy(
    manager: MemoryLifecycleManager, clock: ManualClock
) -> None:
    manager.store_many(
        [
            {"key": "coordination/a", "value": 1, "ttl_seconds": 10},
            {"key": "swarm/shared/b", "value": 2, "ttl_seconds": 10},
            {"key": "knowledge/c", "value": 3, "ttl_seconds": 10},
            {"key": "knowledge/keep", "value": 4},
        ]
    )
    clock.tick(11)
    stats = manager.get_stats()
    assert (stats["total_entries"], stats["expired_pending"]) == (4, 3)
    report = manager.cleanup()
    assert report["deleted_count"] == 2
    assert report["by_namespace"] == {"coordination/*": 1, "swarm/shared/*": 1}
    assert manager.cleanup(force=True)["by_namespace"] == {"knowledge/*": 1}
    assert manager.retrieve("knowledge/keep") == 4
    assert manager.get_stats()["total_entries"] == 1


def test_manager_stats_count_entries_bytes_and_compression(
    manager: MemoryLifecycleManager,
) -> None:
    manager.store("knowledge/big", "abc" * 2000)  # compressible, over the 1 KiB threshold
    manager.store("metrics/n", 3)
    manager.store("misc/thing", True)
    stats = manager.get_stats()
    assert stats["total_entries"] == 3
    assert stats["compressed_entries"] == 1
    assert stats["namespace_counts"]["knowledge/*"] == 1
    assert stats["namespace_counts"]["metrics/*"] == 1
    assert stats["namespace_counts"]["default"] == 1
    assert stats["stored_bytes"] < stats["total_bytes"]
    assert stats["db_size_bytes"] > 0


def test_manager_lists_in_byte_order_across_pages(manager: MemoryLifecycleManager) -> None:
    keys = [f"knowledge/{k[2:]}" for k in KEYS if k.count("/") == 1]
    manager.store_many([{"key": k, "value": i} for i, k in enumerate(keys)])
    seen: list[str] = []
    cursor = None
    while True:
        page = manager.list("knowledge/", limit=2, cursor=cursor)
        seen += [e["key"] for e in page["entries"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == byte_order(keys)


def test_manager_store_many_is_all_or_nothing(manager: MemoryLifecycleManager) -> None:
    with pytest.raises(ValueError, match="metrics/bad"):
        manager.store_many([{"key": "knowledge/ok", "value": 1}, ("metrics/bad", "x")])
    assert manager.retrieve("knowledge/ok") is None
    assert manager.get_stats()["total_entries"] == 0


def test_manager_store_many_applies_repeated_keys_in_order(
    manager: MemoryLifecycleManager,
) -> None:
    manager.store("notes/seen", {"note": "alpha words"}, tags=["x"])
    manager.store("metrics/hits", 1)
    before = manager.changes()["next"]
    results = manager.store_many(
        [
            {"key": "notes/seen", "value": {"note": "bravo words"}},
            {"key": "notes/fresh", "value": {"note": "charlie"}, "tags": ["y"]},
            {"key": "metrics/hits", "value": 2},
            {"key": "notes/seen", "value": {"note": "delta words"}, "tags": ["z"]},
            {"key": "metrics/hits", "value": 3},
            {"key": "notes/fresh", "value": {"note": "echo"}},
        ]
    )
    assert all(r.applied for r in results)
    assert manager.retrieve("notes/seen") == {"note": "delta words"}
    assert manager.retrieve("notes/fresh") == {"note": "echo"}
    assert manager.retrieve("metrics/hits") == 6
    # one change per key, at the revision each result reports and the entry carries
    feed = manager.changes(since=before)["changes"]
    assert sorted(c["key"] for c in feed) == ["metrics/hits", "notes/fresh", "notes/seen"]
    by_key = {c["key"]: c["revision"] for c in feed}
    assert {r.key: r.revision for r in results} == by_key
    assert manager.retrieve_entry("notes/seen").revision == by_key["notes/seen"]
    # the index holds each entry's last text and tags only
    found = {h["key"] for h in manager.search("words")["results"]}
    assert found == {"notes/seen"}
    assert manager.search("bravo")["results"] == []
    assert manager.search("alpha")["results"] == []
    assert [h["key"] for h in manager.search("echo", tags=["y"])["results"]] == ["notes/fresh"]
    assert manager.search("charlie")["results"] == []
    assert [h["key"] for h in manager.search("delta", tags=["z"])["results"]] == ["notes/seen"]


# ---------------------------------------------------------------- moving data across backends


def _fill(m: MemoryLifecycleManager) -> None:
    m.store("knowledge/doc", {"text": "x" * 3000})  # compressed
    m.store("metrics/hits", 3, agent_id="a1")
    m.store("metrics/hits", 4, agent_id="a2", op_id="op-9")
    m.store("swarm/shared/plan", "A", agent_id="a1")
    m.store("swarm/shared/plan", "B", agent_id="a2")
    m.store("coordination/task", "done", ttl_seconds=600)
    m.store("misc/gone", 1)
    m.delete("misc/gone")


def _without_created(entries: Iterable[dict]) -> list[dict]:
    return [{k: v for k, v in e.items() if k != "created_at"} for e in entries]


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("source", "target"),
    [("sqlite", "postgres"), ("postgres", "sqlite")],
    ids=["to-pg", "to-sqlite"],
)
def test_an_export_moves_every_entry_between_sqlite_and_postgresql(
    source: str,
    target: str,
    store_url_factory: UrlFactory,
    clock: ManualClock,
) -> None:
    a = MemoryLifecycleManager(store=store_url_factory(source, "a"), clock=clock)
    b = MemoryLifecycleManager(store=store_url_factory(target, "b"), clock=clock)
    try:
        _fill(a)
        exported = list(a.export_entries())
        report = b.merge_entries(exported)
        assert report["created"] == len(exported) == 5
        # everything but created_at (an import creates the entry anew) arrives unchanged
        assert _without_created(b.export_entries()) == _without_created(exported)
        assert b.retrieve("metrics/hits") == 7
        assert b.put("metrics/hits", 4, agent_id="a2", op_id="op-9").duplicate
        assert [c.value for c in b.retrieve_entry("swarm/shared/plan").conflicts] == ["A"]
        assert b.retrieve("misc/gone") is None
        assert b.retrieve_entry("knowledge/doc").compressed
        again = b.merge_entries(a.export_entries())  # merging twice changes nothing
        assert again["unchanged"] == len(exported)
    finally:
        a.close()
        b.close()


# ---------------------------------------------------------------- PostgreSQL specifics


def test_a_password_in_a_postgres_url_never_reaches_an_error_message() -> None:
    pytest.importorskip("psycopg")
    url = "postgresql://agent:s3cret-pw@127.0.0.1:1/memory?schema=x"  # nothing listens on 1
    with pytest.raises(StoreError) as caught:
        open_store(url)
    assert "s3cret-pw" not in str(caught.value)
    assert "agent:***@127.0.0.1:1" in str(caught.value)
    assert "cannot reach" in str(caught.value)


@pytest.mark.parametrize(
    "query", ["schema=bad-name", "schema=1abc", "pool_max_size=0", "pool_min_size=x"]
)
def test_a_bad_postgres_url_parameter_is_rejected_by_name(query: str) -> None:
    pytest.importorskip("psycopg")
    with pytest.raises(ConfigurationError, match=query.split("=")[0]):
        open_store(f"postgresql://u@127.0.0.1:1/db?{query}")


@pytest.mark.postgres
def test_both_postgres_url_spellings_reach_the_same_store(store_url_factory: UrlFactory) -> None:
    url = store_url_factory("postgres")
    assert url.startswith("postgresql://")
    with MemoryLifecycleManager(store=url) as m:
        m.store("knowledge/shared", "hello")
    short = "postgres://" + url[len("postgresql://") :]
    with MemoryLifecycleManager(store=short) as m:
        assert m.retrieve("knowledge/shared") == "hello"
        assert m.store_url.startswith("postgres://")


@pytest.mark.postgres
def test_the_store_environment_variable_selects_postgresql(
    store_url_factory: UrlFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = store_url_factory("postgres")
    monkeypatch.setenv("MEMORY_LIFECYCLE_STORE", url)
    with MemoryLifecycleManager() as m:
        m.store("knowledge/env", 1)
        assert m.backend.__class__.__name__ == "PostgresStore"
    with MemoryLifecycleManager(store=url) as m:
        assert m.retrieve("knowledge/env") == 1


@pytest.mark.postgres
def test_schemas_in_one_database_do_not_see_each_other(store_url_factory: UrlFactory) -> None:
    with (
        MemoryLifecycleManager(store=store_url_factory("postgres", "one")) as one,
        MemoryLifecycleManager(store=store_url_factory("postgres", "two")) as two,
    ):
        one.store("knowledge/x", "one")
        assert two.retrieve("knowledge/x") is None
        assert two.get_stats()["total_entries"] == 0


@pytest.mark.postgres
def test_concurrent_first_opens_of_a_new_schema_all_succeed() -> None:
    dsn = postgres_dsn()
    schema = new_schema()
    url = with_schema(dsn, schema)
    opened: list[Store] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(5)

    def open_one() -> None:
        try:
            barrier.wait(timeout=10)
            opened.append(open_store(url))
        except BaseException as exc:
            errors.append(exc)

    workers = [threading.Thread(target=open_one) for _ in range(5)]
    try:
        for w in workers:
            w.start()
        for w in workers:
            w.join(timeout=60)
        assert not errors
        assert len(opened) == 5
        put(opened[0], row("a/1"))
        assert opened[4].get("a/1") is not None
    finally:
        for s in opened:
            s.close()
        drop_schema(dsn, schema)


@pytest.mark.postgres
def test_a_connection_the_server_dropped_is_replaced_not_reported(
    store_url_factory: UrlFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    import psycopg

    from lifecycle.store.postgres import pool as postgres_pool

    monkeypatch.setattr(postgres_pool, "IDLE_CHECK_SECONDS", -1.0)  # probe on every checkout
    s = open_store(store_url_factory("postgres") + "&pool_max_size=1")  # one connection
    try:
        put(s, row("a/1"))
        with s._connection() as conn:  # the pooled connection's server process
            pid = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
        with psycopg.connect(postgres_dsn(), autocommit=True) as admin:
            assert admin.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone()[0]
        assert s.get("a/1") is not None  # as after a database restart
    finally:
        s.close()
