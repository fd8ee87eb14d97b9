"""A cleanup scoped to a namespace, and a dry run that reports what a cleanup would delete
and deletes nothing: the same on every backend (SQLite always, PostgreSQL when configured)."""

from __future__ import annotations

import pytest

from lifecycle import InvalidKeyError, ManualClock, MemoryLifecycleManager
from lifecycle.store.base import Store
from tests.lifecycle.store.test_contract import T0, put, row
from tests.support.store import (  # noqa: F401  (fixtures register under their pytest names)
    ManagerFactory,
    backend_fixture,
    make_backend_manager_fixture,
    store_fixture,
    store_url_factory_fixture,
    store_url_fixture,
)

POLICIES = """
namespaces:
  - {namespace: "session/*", ttl_seconds: 60, cleanup_strategy: lazy, conflict_strategy: lww}
  - {namespace: "swarm/*", ttl_seconds: 60, cleanup_strategy: scheduled, conflict_strategy: lww}
  - {namespace: "keep/*", ttl_seconds: 60, cleanup_strategy: manual, conflict_strategy: lww}
"""


@pytest.fixture(name="m")
def m_fixture(make_backend_manager: ManagerFactory, clock: ManualClock) -> MemoryLifecycleManager:
    m = make_backend_manager(policies=POLICIES)
    for key in ("session/a/1", "session/b/1", "swarm/x", "keep/y"):
        m.store(key, "old")
    clock.tick(61)
    m.store("session/a/2", "fresh")
    m.store("swarm/fresh", "fresh")
    return m


def physically_stored(m: MemoryLifecycleManager) -> set[str]:
    return {e["key"] for e in m.export_entries() if not e["tombstone"]}


def test_a_dry_run_reports_what_a_cleanup_would_delete_and_deletes_nothing(
    m: MemoryLifecycleManager,
) -> None:
    before = physically_stored(m)

    preview = m.cleanup(dry_run=True)
    forced = m.cleanup(force=True, dry_run=True)

    assert physically_stored(m) == before
    assert preview["dry_run"] is True and preview["deleted_count"] == 0
    assert preview["would_delete_count"] == 3
    assert preview["by_namespace"] == {"session/*": 2, "swarm/*": 1}
    assert preview["keys"] == ["session/a/1", "session/b/1", "swarm/x"]
    assert forced["would_delete_count"] == 4 and forced["forced"] is True
    assert "keep/y" in forced["keys"]
    done = m.cleanup()
    assert (done["deleted_count"], done["by_namespace"]) == (3, preview["by_namespace"])


def test_a_cleanup_in_a_namespace_deletes_only_under_it(m: MemoryLifecycleManager) -> None:
    preview = m.cleanup(namespace="session/a", dry_run=True)
    done = m.cleanup(namespace="session/a")

    assert preview["keys"] == ["session/a/1"]
    assert done["deleted_count"] == 1
    assert physically_stored(m) == {
        "session/a/2",
        "session/b/1",
        "swarm/x",
        "swarm/fresh",
        "keep/y",
    }
    assert m.cleanup(namespace="default", dry_run=True)["would_delete_count"] == 2  # everything
    assert m.cleanup(namespace="keep", force=True)["deleted_count"] == 1
    assert "keep/y" not in physically_stored(m)


def test_a_bad_namespace_is_refused_and_nothing_is_deleted(m: MemoryLifecycleManager) -> None:
    before = physically_stored(m)
    with pytest.raises(InvalidKeyError, match="namespace"):
        m.cleanup(namespace="a//b")
    assert physically_stored(m) == before


def test_find_expired_counts_like_a_sweep_in_key_order_and_keeps_every_row(store: Store) -> None:
    put(
        store,
        row("p/3", expires_at=T0 - 1),
        row("p/1", expires_at=T0 - 1),
        row("p/2", expires_at=T0 + 10),
        row("q/1", policy="q/*", cleanup="manual", expires_at=T0 - 1),
        row("p/gone", expires_at=T0 - 1, tombstone=True),
    )

    found = store.find_expired(T0, ["lazy"], sample=1)
    under_q = store.find_expired(T0, ["lazy", "manual"], prefix="q/")

    assert (found.by_policy, found.tombstones, found.sample_keys) == ({"p/*": 2}, 1, ["p/1"])
    assert (under_q.by_policy, under_q.sample_keys) == ({"q/*": 1}, ["q/1"])
    swept = store.delete_expired(T0, ["lazy"])
    assert (swept.by_policy, swept.tombstones) == (found.by_policy, found.tombstones)
