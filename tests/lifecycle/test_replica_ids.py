"""One agent id writing to two stores still counts twice: components carry the store's id."""

from __future__ import annotations

from collections.abc import Callable

from lifecycle import MemoryLifecycleManager

MakeManager = Callable[..., MemoryLifecycleManager]


def _exchange(a: MemoryLifecycleManager, b: MemoryLifecycleManager) -> None:
    from_a, from_b = list(a.export_entries()), list(b.export_entries())
    a.merge_entries(from_b)
    b.merge_entries(from_a)


def test_same_agent_on_two_stores_loses_no_increment(make_manager: MakeManager) -> None:
    a, b = make_manager("a", shared_clock=False), make_manager("b", shared_clock=False)
    assert a.replica_id != b.replica_id
    a.store("metrics/builds", 5, agent_id="coder")
    b.store("metrics/builds", 3, agent_id="coder")
    _exchange(a, b)
    _exchange(a, b)
    assert a.retrieve("metrics/builds") == b.retrieve("metrics/builds") == 8


def test_same_agent_on_two_stores_keeps_both_siblings(make_manager: MakeManager) -> None:
    a, b = make_manager("a", shared_clock=False), make_manager("b", shared_clock=False)
    a.store("knowledge/choice", "rest", agent_id="coder", timestamp=100.0)
    b.store("knowledge/choice", "grpc", agent_id="coder", timestamp=200.0)
    _exchange(a, b)
    entry = a.retrieve_entry("knowledge/choice")
    assert entry is not None and entry.value == "grpc"
    assert [(c.value, c.actor) for c in entry.conflicts] == [("rest", "coder")]
    assert entry.actor == "coder"  # readers see the agent id, not the component id


def test_replica_id_is_stable_across_reopen(make_manager: MakeManager, tmp_path) -> None:
    first = make_manager("same")
    rid = first.replica_id
    first.close()
    with MemoryLifecycleManager(memory_dir=tmp_path / "same") as again:
        assert again.replica_id == rid


def test_import_keeps_when_an_entry_was_first_created(make_manager: MakeManager) -> None:
    a, b = make_manager("a", shared_clock=False), make_manager("b", shared_clock=False)
    a.store("metrics/c", 1, timestamp=100.0)
    a.store("metrics/c", 1, timestamp=500.0)
    b.store("metrics/c", 1, timestamp=300.0)
    b.merge_entries(a.export_entries())
    fresh = make_manager("c", shared_clock=False)
    fresh.merge_entries(a.export_entries())
    assert fresh.retrieve_entry("metrics/c").created_at == 100.0  # type: ignore[union-attr]
    assert b.retrieve_entry("metrics/c").created_at == 100.0  # type: ignore[union-attr]
