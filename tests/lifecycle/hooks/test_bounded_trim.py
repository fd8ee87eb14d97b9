"""session-end's trim of the op ids and the change log is bounded like its sweep: each hook
forgets at most ``HOOK_SWEEP_LIMIT`` op ids past their window and as many changes past
the log's size, the oldest, and says what it left (``trim_remaining``); ``cleanup`` still
trims everything. The bound and the log's size are made small, on every backend."""

from __future__ import annotations

import pytest

from lifecycle import ManualClock, MemoryLifecycleManager
from lifecycle.hooks import actions
from tests.support.store import (  # noqa: F401  (fixtures register under their pytest names)
    ManagerFactory,
    backend_fixture,
    make_backend_manager_fixture,
    store_url_factory_fixture,
)

BOUND = 10
KEEP = 5  # changes the log keeps
WINDOW = 60  # seconds an op id is remembered
WRITES = 30
POLICIES = f"""
namespaces:
  - {{namespace: "notes/*", ttl_seconds: 0, cleanup_strategy: manual, conflict_strategy: lww}}
settings:
  change_log_max_entries: {KEEP}
  op_id_window_seconds: {WINDOW}
"""


@pytest.fixture(autouse=True)
def small_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(actions, "HOOK_SWEEP_LIMIT", BOUND)


@pytest.fixture(name="m")
def m_fixture(make_backend_manager: ManagerFactory, clock: ManualClock) -> MemoryLifecycleManager:
    """30 writes, each with an op id, each a change; then past the op ids' window."""
    m = make_backend_manager(policies=POLICIES)
    for i in range(WRITES):
        m.store(f"notes/k{i:02d}", i, op_id=f"op-{i}")
    clock.tick(WINDOW + 1)
    return m


def op_ids(m: MemoryLifecycleManager) -> int:
    return sum(map(len, m.backend.applied_ops([f"notes/k{i:02d}" for i in range(WRITES)]).values()))


def compacted(m: MemoryLifecycleManager) -> int:
    return m.backend.read_changes(0, "", 1).compacted


def test_each_session_end_trims_the_bound_oldest_first_and_says_what_is_left(
    m: MemoryLifecycleManager,
) -> None:
    head = m.backend.current_revision()
    over = head - KEEP  # changes past the log's size
    assert (op_ids(m), compacted(m)) == (WRITES, 0)

    first = actions.session_end(m, None)
    assert op_ids(m) == WRITES - BOUND  # the oldest first
    assert set(m.backend.applied_ops(["notes/k00", "notes/k29"])) == {"notes/k29"}
    assert compacted(m) == BOUND
    assert first["trim_remaining"] == (WRITES - BOUND) + (over - BOUND)

    second = actions.session_end(m, None)
    assert second["trim_remaining"] == (WRITES - 2 * BOUND) + max(over - 2 * BOUND, 0)
    while actions.session_end(m, None)["trim_remaining"]:
        pass
    assert (op_ids(m), compacted(m)) == (0, over)
    assert m.backend.current_revision() == head  # trimming is no change


def test_cleanup_still_trims_everything(m: MemoryLifecycleManager) -> None:
    over = m.backend.current_revision() - KEEP
    m.cleanup()
    assert (op_ids(m), compacted(m)) == (0, over)
    assert m.collect(limit=BOUND).trim_remaining == 0


def test_a_sweep_under_a_prefix_trims_nothing(m: MemoryLifecycleManager) -> None:
    report = actions.pre_task(m)
    assert "trim_remaining" not in report
    assert (op_ids(m), compacted(m)) == (WRITES, 0)
