"""A hook's sweep is bounded: on a store holding more expired entries than the bound, one
hook deletes exactly the bound, those that expired first, and says how many are left; the
next hook goes on where it stopped; ``cleanup`` still removes everything. The bound and the
batch are made small here, so the store holds "more than the bound" in a few rows, on every
backend (SQLite always, PostgreSQL when configured)."""

from __future__ import annotations

import random

import pytest

from lifecycle import ManualClock, MemoryLifecycleManager, gc
from lifecycle.hooks import actions
from lifecycle.store.postgres import store as postgres_store
from lifecycle.store.sqlite import store as sqlite_store
from tests.support.store import (  # noqa: F401  (fixtures register under their pytest names)
    ManagerFactory,
    backend_fixture,
    make_backend_manager_fixture,
    store_url_factory_fixture,
)

POLICIES = """
namespaces:
  - {namespace: "coordination/*", ttl_seconds: 60, cleanup_strategy: lazy, conflict_strategy: lww}
  - {namespace: "swarm/*", ttl_seconds: 60, cleanup_strategy: scheduled, conflict_strategy: lww}
"""
BOUND = 10
EXPIRED = 25  # more than two bounds


@pytest.fixture(autouse=True)
def small_bounds(monkeypatch: pytest.MonkeyPatch) -> None:
    """A bound of 10 swept in transactions of 4 rows (so a hook's sweep spans batches)."""
    monkeypatch.setattr(actions, "HOOK_SWEEP_LIMIT", BOUND)
    monkeypatch.setattr(sqlite_store, "SWEEP_BATCH", 4)
    monkeypatch.setattr(postgres_store, "SWEEP_BATCH", 4)


@pytest.fixture(name="m")
def m_fixture(make_backend_manager: ManagerFactory, clock: ManualClock) -> MemoryLifecycleManager:
    """25 expired coordination entries written in shuffled key order, entry i written i
    seconds after the first (so expiry order is not key order), a live one, and an
    expired ``swarm/`` entry that a ``coordination/`` sweep must leave."""
    m = make_backend_manager(policies=POLICIES)
    start = clock.now()
    order = list(range(EXPIRED))
    random.Random(7).shuffle(order)
    for i in order:
        m.store(f"coordination/a{i:02d}", i, timestamp=start + i)
    m.store("swarm/old", "x", timestamp=start)
    clock.tick(1000)
    m.store("coordination/live", "fresh")
    return m


def oldest(first: int, count: int) -> list[str]:
    return sorted(f"coordination/a{i:02d}" for i in range(first, first + count))


def stored(m: MemoryLifecycleManager) -> set[str]:
    return {e["key"] for e in m.export_entries() if not e["tombstone"]}


def test_each_pre_task_deletes_the_bound_oldest_first_and_the_next_goes_on(
    m: MemoryLifecycleManager,
) -> None:
    first = actions.pre_task(m)
    assert first["deleted_count"] == BOUND
    assert sorted(first["deleted_keys"]) == oldest(0, BOUND)
    assert (first["expired_remaining"], first["more_expired"]) == (EXPIRED - BOUND, True)

    second = actions.pre_task(m)
    assert sorted(second["deleted_keys"]) == oldest(BOUND, BOUND)
    assert (second["expired_remaining"], second["more_expired"]) == (EXPIRED - 2 * BOUND, True)

    third = actions.pre_task(m)
    assert sorted(third["deleted_keys"]) == oldest(2 * BOUND, EXPIRED - 2 * BOUND)
    assert (third["expired_remaining"], third["more_expired"]) == (0, False)
    assert stored(m) == {"coordination/live", "swarm/old"}  # not under coordination/
    assert actions.pre_task(m)["deleted_count"] == 0


def test_what_is_left_is_counted_only_up_to_its_limit(
    m: MemoryLifecycleManager, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(gc, "REMAINING_COUNT_LIMIT", 7)
    report = actions.pre_task(m)
    assert report["deleted_count"] == BOUND
    assert (report["expired_remaining"], report["more_expired"]) == (7, True)  # at least 7


def test_session_end_sweeps_the_bound_after_deleting_the_session(
    m: MemoryLifecycleManager,
) -> None:
    m.store("session/s1", {"started_at": 1})
    m.store("session/s1/k", 1)
    report = actions.session_end(m, "s1")
    assert report["session_deleted"] == 2
    assert report["expired_deleted"] == BOUND
    assert report["deleted_count"] == 2 + BOUND
    # the whole store's oldest: swarm/old expired with coordination/a00
    assert report["expired_remaining"] == EXPIRED + 1 - BOUND
    assert report["more_expired"] is True


def test_cleanup_still_removes_everything_in_batches(m: MemoryLifecycleManager) -> None:
    report = m.cleanup()
    assert report["deleted_count"] == EXPIRED + 1
    assert report["by_namespace"] == {"coordination/*": EXPIRED, "swarm/*": 1}
    assert stored(m) == {"coordination/live"}
    assert m.collect().remaining == 0


def test_a_limited_dry_run_counts_what_a_limited_sweep_takes(m: MemoryLifecycleManager) -> None:
    store, now = m.backend, m.clock.now()
    found = store.find_expired(now, ["lazy"], "coordination/", sample=3, limit=BOUND)
    assert found.by_policy == {"coordination/*": BOUND}
    assert found.sample_keys == oldest(0, BOUND)[:3]  # key order within the oldest
    swept = store.delete_expired(now, ["lazy"], "coordination/", limit=BOUND)
    assert swept.by_policy == found.by_policy
    assert store.find_expired(now, ["lazy"], "coordination/").by_policy == {
        "coordination/*": EXPIRED - BOUND
    }


def test_session_end_deletes_at_most_its_bound_of_the_session_and_says_what_is_left(
    m: MemoryLifecycleManager, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(actions, "SESSION_DELETE_LIMIT", 5)
    m.store("session/s2", {"started_at": 1})
    for i in range(8):
        m.store(f"coordination/s2/k{i}", i)
    first = actions.session_end(m, "s2")
    assert (first["session_deleted"], first["session_remaining"]) == (5, 4)
    second = actions.session_end(m, "s2")
    assert (second["session_deleted"], second["session_remaining"]) == (4, 0)
    assert not {k for k in stored(m) if k.startswith(("session/s2", "coordination/s2/"))}
