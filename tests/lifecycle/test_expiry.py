"""Expiry by strategy, cleanup reports, listing and statistics."""

from __future__ import annotations

from collections.abc import Callable

from lifecycle import ManualClock, MemoryLifecycleManager

MakeManager = Callable[..., MemoryLifecycleManager]


def test_expired_entries_are_never_returned_whatever_the_strategy(
    make_manager: MakeManager, clock: ManualClock
) -> None:
    m = make_manager()
    for key in ("coordination/a", "swarm/shared/b", "knowledge/c"):
        m.store(key, "v", ttl_seconds=10)
    clock.tick(11)
    for key in ("coordination/a", "swarm/shared/b", "knowledge/c"):
        assert m.retrieve(key) is None
        assert m.retrieve_entry(key) is None
    assert m.list()["entries"] == []


def test_physical_deletion_follows_the_strategy(
    make_manager: MakeManager, clock: ManualClock
) -> None:
    m = make_manager()
    m.store("coordination/lazy", "v", ttl_seconds=10)
    m.store("swarm/shared/scheduled", "v", ttl_seconds=10)
    m.store("knowledge/manual", "v", ttl_seconds=10)
    clock.tick(11)
    m.retrieve("coordination/lazy")  # lazy: deleted on access
    m.retrieve("swarm/shared/scheduled")  # scheduled: stays until cleanup
    m.retrieve("knowledge/manual")
    stats = m.get_stats()
    assert stats["total_entries"] == 2 and stats["expired_pending"] == 2
    report = m.cleanup()
    assert report["deleted_count"] == 1
    assert report["by_namespace"] == {"swarm/shared/*": 1}
    assert report["duration_ms"] >= 0
    assert m.cleanup(force=True)["by_namespace"] == {"knowledge/*": 1}
    assert m.get_stats()["total_entries"] == 0


def test_cleanup_deletes_only_expired_entries(
    make_manager: MakeManager, clock: ManualClock
) -> None:
    m = make_manager()
    m.store_many([{"key": f"coordination/old/{i}", "value": i} for i in range(50)])
    clock.tick(1800)
    m.store_many([{"key": f"coordination/new/{i}", "value": i} for i in range(30)])
    clock.tick(1801)
    report = m.cleanup()
    assert report["deleted_count"] == 50
    assert m.get_stats()["total_entries"] == 30
    assert m.retrieve("coordination/new/3") == 3


def test_a_write_after_expiry_starts_fresh(make_manager: MakeManager, clock: ManualClock) -> None:
    m = make_manager()
    m.store("metrics/c", 5, ttl_seconds=10)
    m.store("swarm/shared/s", "old")
    clock.tick(86400 + 1)
    m.store("metrics/c", 1)
    m.store("swarm/shared/s", "new")
    assert m.retrieve("metrics/c") == 1  # the expired 5 does not come back
    entry = m.retrieve_entry("swarm/shared/s")
    assert entry is not None and entry.value == "new" and entry.conflicts == ()


def test_rewrite_extends_expiry(make_manager: MakeManager, clock: ManualClock) -> None:
    m = make_manager()
    m.store("coordination/a", 1)
    clock.tick(3000)
    m.store("coordination/a", 2)
    clock.tick(3000)
    assert m.retrieve("coordination/a") == 2


def test_retrieve_entry_reports_lifecycle_metadata(
    make_manager: MakeManager, clock: ManualClock
) -> None:
    m = make_manager()
    m.store("coordination/a", {"x": 1}, agent_id="agent-7")
    entry = m.retrieve_entry("coordination/a")
    assert entry is not None
    assert entry.actor == "agent-7"
    assert entry.policy == "coordination/*"
    assert entry.expires_at == entry.updated_at + 3600
    assert abs(entry.updated_at - clock.time) < 1e-3
    assert entry.compressed is False and entry.context is None


def test_list_pages_through_live_entries_by_prefix(make_manager: MakeManager) -> None:
    m = make_manager()
    m.store_many([{"key": f"task/{i:03d}", "value": i} for i in range(25)])
    m.store("other/x", 1)
    m.delete("task/005")
    keys: list[str] = []
    cursor = None
    while True:
        page = m.list(prefix="task/", limit=10, cursor=cursor)
        keys += [e["key"] for e in page["entries"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert keys == [f"task/{i:03d}" for i in range(25) if i != 5]
    first = m.list(prefix="task/", limit=1)["entries"][0]
    assert set(first) == {
        "key",
        "policy",
        "size_bytes",
        "expires_at",
        "updated_at",
        "tags",
        "revision",
    }


def test_stats_report_sizes_and_compression(make_manager: MakeManager) -> None:
    m = make_manager()
    m.store("knowledge/big", {"text": "lorem ipsum " * 1000})
    m.store("knowledge/small", "x")
    stats = m.get_stats()
    assert stats["total_entries"] == 2
    assert stats["compressed_entries"] == 1
    assert stats["stored_bytes"] < stats["total_bytes"]
    assert stats["db_size_bytes"] > 0
    by_pattern = {p["pattern"]: p for p in stats["policies"]}
    assert by_pattern["knowledge/*"]["entries"] == 2


def test_delete_reports_whether_something_was_deleted(make_manager: MakeManager) -> None:
    m = make_manager()
    m.store("a/b", 1)
    assert m.delete("a/b") is True
    assert m.delete("a/b") is False
    assert m.delete("never/stored") is False
    m.store("a/b", 2)  # a write after a delete is visible again
    assert m.retrieve("a/b") == 2


def test_reset_deletes_everything(make_manager: MakeManager) -> None:
    m = make_manager()
    m.store_many([(f"k/{i}", i) for i in range(10)])
    assert m.reset() is True
    assert m.get_stats()["total_entries"] == 0
