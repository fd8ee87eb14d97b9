"""The entry rules (``lifecycle/entries/transitions.py``) through the manager: what a write,
an import and a delete do, with real SQLite stores and a manual clock.

Live writes and imports follow one rule for an entry past its expiry: the
tests below run both paths on the same starting state and compare.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from lifecycle import InvalidValueError, ManualClock, MemoryLifecycleManager
from lifecycle.entries.crdt import COUNTER_LIMIT

MakeManager = Callable[..., MemoryLifecycleManager]

POLICIES = """
namespaces:
  - {namespace: "reg/*", ttl_seconds: 60, cleanup_strategy: manual, conflict_strategy: lww}
  - {namespace: "mv/*", ttl_seconds: 60, cleanup_strategy: manual, conflict_strategy: multi_value}
  - {namespace: "cnt/*", ttl_seconds: 60, cleanup_strategy: manual, conflict_strategy: counter}
  - {namespace: "metrics/*", ttl_seconds: 0, cleanup_strategy: manual, conflict_strategy: counter}
settings:
  tombstone_grace_seconds: 100
"""


def seen(m: MemoryLifecycleManager, key: str) -> tuple[Any, list[Any]] | None:
    entry = m.retrieve_entry(key)
    if entry is None:
        return None
    return entry.value, sorted(str(c.value) for c in entry.conflicts)


# ------------------------------------------------------------------ one rule, two paths


@pytest.mark.parametrize("key", ["reg/a", "mv/a", "cnt/a"])
@pytest.mark.parametrize("past", ["expired value", "purge-due tombstone"])
def test_a_live_write_and_an_import_treat_an_expired_entry_alike(
    make_manager: MakeManager, clock: ManualClock, key: str, past: str
) -> None:
    live, imported, source = (make_manager(n, POLICIES) for n in ("live", "imp", "src"))
    t0 = clock.time
    for m in (live, imported):
        m.store(key, 5, agent_id="old", timestamp=t0)
        if past == "purge-due tombstone":
            m.delete(key)
    clock.tick(500)  # past the TTL and the tombstone's grace period; no cleanup has run
    # a write stamped *before* the old one (and never expiring): only "as good as
    # collected" lets it through, on both paths
    source.store(key, 7, agent_id="new", timestamp=t0 - 1, ttl_seconds=0)
    live.store(key, 7, agent_id="new", timestamp=t0 - 1, ttl_seconds=0)
    imported.merge_entries(source.export_entries())
    assert seen(live, key) == seen(imported, key) == (7, [])
    source.store(key, 9, agent_id="new", ttl_seconds=0)
    live.store(key, 9, agent_id="new", ttl_seconds=0)
    imported.merge_entries(source.export_entries())
    assert seen(live, key) == seen(imported, key)


def test_an_expired_last_write_wins_value_does_not_swallow_an_older_write(
    make_manager: MakeManager, clock: ManualClock
) -> None:
    m = make_manager(policies=POLICIES)
    m.store("reg/x", "newer")
    clock.tick(70)  # expired (TTL 60 s), not collected
    result = m.put("reg/x", "older", timestamp=clock.time - 65, ttl_seconds=0)
    assert result.applied and m.retrieve("reg/x") == "older"


# ------------------------------------------------------------------ op ids (issue 11.1)


def test_a_retried_op_id_counts_once_however_many_ops_came_between(
    make_manager: MakeManager,
) -> None:
    m = make_manager(policies=POLICIES)
    m.store("metrics/n", 1, op_id="first")
    for i in range(2500):
        m.store("metrics/n", 1, op_id=f"op-{i}")
    retry = m.put("metrics/n", 1, op_id="first")
    assert retry.duplicate and not retry.applied
    assert m.retrieve("metrics/n") == 2501


def test_op_ids_are_forgotten_after_the_window_and_carried_by_exports(
    make_manager: MakeManager, clock: ManualClock
) -> None:
    window = POLICIES + "  op_id_window_seconds: 3600\n"
    a, b = make_manager("a", window), make_manager("b", window)
    a.store("metrics/n", 1, op_id="job-1")
    b.merge_entries(a.export_entries())
    assert b.put("metrics/n", 1, op_id="job-1").duplicate  # learned from the import
    clock.tick(3601)
    a.cleanup()
    assert a.put("metrics/n", 1, op_id="job-1").applied  # past the window: a new operation
    assert a.retrieve("metrics/n") == 2


def test_a_duplicate_op_id_is_recognised_after_its_key_was_deleted(
    make_manager: MakeManager,
) -> None:
    m = make_manager(policies=POLICIES)
    m.store("metrics/n", 3, op_id="once")
    m.delete("metrics/n")
    assert m.put("metrics/n", 3, op_id="once").duplicate
    assert m.retrieve("metrics/n") is None


# ------------------------------------------------------------------ timestamps (issue 11.2)


def test_a_delete_wins_over_an_imported_entry_with_a_large_timestamp(
    make_manager: MakeManager, clock: ManualClock
) -> None:
    source_clock = ManualClock(2.5e10)  # a replica whose clock says the year 2762
    source = make_manager("src", POLICIES.replace("60", "0"), clock=source_clock)
    target = make_manager("dst", POLICIES.replace("60", "0"))
    source.store("reg/far", "pinned")
    target.merge_entries(source.export_entries())
    assert target.retrieve("reg/far") == "pinned"
    assert target.delete("reg/far")
    assert target.retrieve("reg/far") is None
    written = target.put("reg/far", "writable again")  # a local write beats what it saw
    assert written.applied and target.retrieve("reg/far") == "writable again"


def test_a_timestamp_far_ahead_of_the_store_clock_is_refused_and_changes_nothing(
    make_manager: MakeManager, clock: ManualClock
) -> None:
    m = make_manager(policies=POLICIES)
    m.store("reg/k", "kept")
    with pytest.raises(InvalidValueError, match="max_clock_skew_seconds"):
        m.store("reg/k", "future", timestamp=clock.time + 1000)
    with pytest.raises(InvalidValueError, match="milliseconds"):
        m.store("reg/k", "ms", timestamp=clock.time * 1000)
    assert m.retrieve("reg/k") == "kept"
    assert m.put("reg/k", "near", timestamp=clock.time + 100).applied  # within the bound


# ------------------------------------------------------------------ counters (issue 11.5)


@pytest.mark.parametrize("delta", [10**400, 1e308, -(2**63), COUNTER_LIMIT + 1])
def test_a_counter_delta_outside_the_range_is_refused(
    make_manager: MakeManager, delta: float
) -> None:
    m = make_manager(policies=POLICIES)
    m.store("metrics/n", 5)
    with pytest.raises(InvalidValueError, match="counter range") as caught:
        m.store("metrics/n", delta)
    assert len(str(caught.value)) < 300
    assert m.retrieve("metrics/n") == 5


def test_a_counter_that_would_overflow_is_refused_and_keeps_its_value(
    make_manager: MakeManager,
) -> None:
    m = make_manager(policies=POLICIES)
    m.store("metrics/n", COUNTER_LIMIT - 1)
    with pytest.raises(InvalidValueError, match="would leave the range"):
        m.store("metrics/n", 2)
    with pytest.raises(InvalidValueError, match="would leave the range"):
        m.store("metrics/n", 9e18)
    assert m.retrieve("metrics/n") == COUNTER_LIMIT - 1
    m.store("metrics/n", -5)
    assert m.retrieve("metrics/n") == COUNTER_LIMIT - 6
    m.store("metrics/f", 2**60)
    m.store("metrics/f", 0.5)  # a float delta on a large integer count stays finite
    assert m.retrieve("metrics/f") == 2**60 + 0.5


# ------------------------------------------------------------------ expired writes (11.6)


def test_a_write_that_is_already_expired_says_so(
    make_manager: MakeManager, clock: ManualClock
) -> None:
    m = make_manager(policies=POLICIES)
    result = m.put("reg/old", "stale", timestamp=clock.time - 120)  # TTL 60 s
    assert result.applied and result.expired
    assert result.expires_at == clock.time - 60
    assert result.value is None
    assert m.retrieve("reg/old") is None
    fresh = m.put("reg/new", "fresh")
    assert not fresh.expired and fresh.expires_at == pytest.approx(clock.time + 60)


def test_a_store_result_filled_in_one_dict_update_is_a_whole_frozen_record() -> None:
    from lifecycle.entries.entry import StoreResult

    fast = StoreResult("a/k", "a/*", "lww", 5.0, True, {"v": 1}, False, True, True)
    made = StoreResult(
        key="a/k",
        policy="a/*",
        strategy="lww",
        expires_at=5.0,
        compressed=True,
        value={"v": 1},
        applied=False,
        duplicate=True,
        expired=True,
    )
    assert fast == made and fast.to_dict() == made.to_dict()
    assert list(fast.to_dict()) == list(StoreResult.field_names())
    assert fast.revision == 0 and fast.conflict is None
    with pytest.raises(AttributeError, match="frozen"):
        fast.key = "b"  # type: ignore[misc]


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"tags": ["b", "a"], "provenance_type": "tool_result"},
        {"op_id": "op-1", "ttl_seconds": 5, "agent_id": "other"},
        {"timestamp": 1_699_999_000.0, "tags": []},
    ],
)
def test_a_new_keys_lww_shortcut_writes_what_the_general_rules_write(
    fields: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``write`` of a key with no row under last-write-wins takes ``_first_lww_write``; the
    same write through the general rules (the shortcut switched off) gives the same row,
    result and op ids."""
    from lifecycle.entries import transitions
    from lifecycle.entries.write_request import WriteRequest, prepare
    from lifecycle.policies.file import parse_policies

    policies = parse_policies(POLICIES)
    request = WriteRequest("reg/k", {"status": "ok", "n": [1, 2.5]}, **fields)

    def effect() -> transitions.WriteEffect:
        now = 1_700_000_000.0
        w = prepare(request, policies, now, lambda agent: f"{agent or 'me'}#r1")
        terms = transitions.WriteTerms(w.policy, policies.settings, now, "me#r1")
        return transitions.write(None, w, ManualClock(now), terms, op_applied=False)

    fast = effect()
    monkeypatch.setattr(transitions, "_NEVER", float("inf"))  # no timestamp is above it
    general = effect()
    assert fast.row is not None and general.row is not None
    for name in type(fast.row).__slots__:
        assert getattr(fast.row, name) == getattr(general.row, name), name
    assert fast.result == general.result
    assert fast.ops == general.ops
