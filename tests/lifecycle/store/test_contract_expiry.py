"""Upcoming expiries by time bucket, the same on every backend (SQLite always, PostgreSQL
when a server is configured): the store's ``expiry_buckets`` range count and the
manager's ``upcoming_expiries`` built on it (what the dashboard's chart draws)."""

from __future__ import annotations

import pytest

from lifecycle import InvalidValueError, ManualClock, MemoryLifecycleManager
from lifecycle.store.base import ExpiryBucket, Store
from tests.lifecycle.store.test_contract import T0, put, row
from tests.support.store import (  # noqa: F401  (fixtures register under their pytest names)
    ManagerFactory,
    backend_fixture,
    make_backend_manager_fixture,
    manager_fixture,
    store_fixture,
    store_url_factory_fixture,
    store_url_fixture,
)

POLICIES = """
namespaces:
  - {namespace: "short/*", ttl_seconds: 600, cleanup_strategy: lazy, conflict_strategy: lww}
  - {namespace: "day/*", ttl_seconds: 86400, cleanup_strategy: scheduled, conflict_strategy: lww}
  - {namespace: "keep/*", ttl_seconds: 0, cleanup_strategy: manual, conflict_strategy: lww}
"""


def test_rows_are_counted_per_bucket_and_policy_in_order(store: Store) -> None:
    put(
        store,
        row("a/1", policy="a/*", expires_at=T0 + 5),
        row("a/2", policy="a/*", expires_at=T0 + 9.5),
        row("b/1", policy="b/*", expires_at=T0 + 7),
        row("a/3", policy="a/*", expires_at=T0 + 25),
        row("a/4", policy="a/*", expires_at=T0 + 10),  # bucket 1 starts at T0 + 10
    )
    assert store.expiry_buckets(T0, 10.0, 3) == [
        ExpiryBucket(0, "a/*", 2),
        ExpiryBucket(0, "b/*", 1),
        ExpiryBucket(1, "a/*", 1),
        ExpiryBucket(2, "a/*", 1),
    ]


def test_only_live_rows_inside_the_window_are_counted(store: Store) -> None:
    put(
        store,
        row("past", expires_at=T0 - 1),  # already expired: not upcoming
        row("never"),  # no expiry
        row("edge", expires_at=T0 + 30),  # the window is half-open: [T0, T0 + 30)
        row("gone", expires_at=T0 + 1, tombstone=True),
        row("first", expires_at=T0),
        row("last", expires_at=T0 + 29.999),
    )
    assert store.expiry_buckets(T0, 10.0, 3) == [
        ExpiryBucket(0, "p/*", 1),
        ExpiryBucket(2, "p/*", 1),
    ]


def test_an_empty_store_has_no_buckets(store: Store) -> None:
    assert store.expiry_buckets(T0, 3600.0, 24) == []


def test_upcoming_expiries_names_every_bucket_with_its_times(
    make_backend_manager: ManagerFactory, clock: ManualClock
) -> None:
    m = make_backend_manager(policies=POLICIES)
    m.store("short/a", 1)  # expires at +600: bucket 0 of 1 h buckets
    m.store("short/b", 2, ttl_seconds=5400)  # +1.5 h: bucket 1
    m.store("day/a", 3)  # +24 h: outside a 24 h window (half-open)
    m.store("day/b", 4, ttl_seconds=3000)  # +50 min: bucket 0
    m.store("keep/a", 5)  # never expires
    result = m.upcoming_expiries(horizon_seconds=86400, buckets=24)
    assert result["now"] == clock.now()
    assert result["bucket_seconds"] == 3600
    assert len(result["buckets"]) == 24
    first, second = result["buckets"][:2]
    assert first == {
        "start": clock.now(),
        "end": clock.now() + 3600,
        "entries": 2,
        "by_policy": {"short/*": 1, "day/*": 1},
    }
    assert second["entries"] == 1 and second["by_policy"] == {"short/*": 1}
    assert sum(b["entries"] for b in result["buckets"][2:]) == 0
    assert result["total"] == 3
    assert result["policies"] == ["day/*", "short/*"]


def test_a_deleted_entry_no_longer_counts(manager: MemoryLifecycleManager) -> None:
    manager.store("k", 1, ttl_seconds=100)
    assert manager.upcoming_expiries(3600, 1)["total"] == 1
    manager.delete("k")
    assert manager.upcoming_expiries(3600, 1)["total"] == 0


@pytest.mark.parametrize(
    ("horizon", "buckets", "fragment"),
    [
        (0, 24, "invalid horizon_seconds 0"),
        (-5, 24, "invalid horizon_seconds -5"),
        (float("inf"), 24, "invalid horizon_seconds inf"),
        (True, 24, "invalid horizon_seconds True"),
        (400 * 86400, 24, "at most"),
        (3600, 0, "invalid buckets 0: use 1-500"),
        (3600, 501, "invalid buckets 501"),
        (3600, 2.5, "invalid buckets 2.5"),
        (3600, "24", "invalid buckets '24'"),
    ],
)
def test_a_bad_window_is_refused_naming_the_field(
    manager: MemoryLifecycleManager, horizon: object, buckets: object, fragment: str
) -> None:
    with pytest.raises(InvalidValueError, match=fragment):
        manager.upcoming_expiries(horizon, buckets)  # type: ignore[arg-type]
