"""Listing under a prefix that holds an unswept backlog of expired rows: the statement
leaves them out itself (a ``WHERE`` on ``expires_at``, with the reader's ``now``), so a
page is one statement whatever the backlog, and what it shows is what a read shows: an
entry is expired from the instant ``expires_at <= now``, on both backends."""

from __future__ import annotations

from pathlib import Path

from lifecycle import ManualClock, MemoryLifecycleManager
from lifecycle.entries import transitions
from lifecycle.store.base import Store
from lifecycle.store.sqlite.store import SQLiteStore
from tests.lifecycle.store.test_contract import T0, put, row
from tests.support.store import (  # noqa: F401  (fixtures register under their pytest names)
    ManagerFactory,
    backend_fixture,
    make_backend_manager_fixture,
    store_fixture,
    store_url_factory_fixture,
    store_url_fixture,
)

POLICIES = (
    'namespaces:\n  - {namespace: "coordination/*", ttl_seconds: 60, '
    "cleanup_strategy: scheduled, conflict_strategy: lww}\n"
)


def test_an_entry_expiring_exactly_now_is_neither_listed_nor_read(store: Store) -> None:
    rows = [row("a/at-now", expires_at=T0), row("a/after", expires_at=T0 + 0.001), row("a/never")]
    put(store, *rows)
    listed = [r.key for r in store.list_rows("a/", None, 10, T0)]
    assert listed == ["a/after", "a/never"]
    # the read path's rule (``reads.read`` hides what it calls expired), the same ``now``
    assert listed == [r.key for r in rows if not transitions.expired(r.expires_at, T0)]
    assert [r.key for r in store.newest_rows("a/", 10, T0)] == ["a/never", "a/after"]


def _pages(m: MemoryLifecycleManager, prefix: str, limit: int) -> list[list[str]]:
    pages, cursor = [], None
    while True:
        page = m.list(prefix, limit=limit, cursor=cursor)
        pages.append([e["key"] for e in page["entries"]])
        cursor = page["next_cursor"]
        if not cursor:
            return pages


def test_a_backlog_of_expired_rows_changes_no_page(
    make_backend_manager: ManagerFactory, clock: ManualClock
) -> None:
    """The same live entries in two stores, one also holding 400 expired ones interleaved
    with them by key: the same pages, the same cursors."""
    clean = make_backend_manager("clean", POLICIES)
    backlog = make_backend_manager("backlog", POLICIES)
    old = clock.now() - 3600  # expired under coordination/*'s minute
    backlog.store_many(
        [{"key": f"coordination/a/k{i:04d}x", "value": i, "timestamp": old} for i in range(400)]
    )
    for m in (clean, backlog):
        m.store_many([{"key": f"coordination/a/k{i:04d}", "value": i} for i in range(0, 400, 9)])
    assert backlog.get_stats()["expired_pending"] == 400
    assert _pages(backlog, "coordination/", 7) == _pages(clean, "coordination/", 7)
    assert sum(map(len, _pages(backlog, "coordination/", 7))) == 45


def test_sqlite_lists_a_page_in_one_statement_that_filters_on_expiry(
    tmp_path: Path, clock: ManualClock
) -> None:
    db = tmp_path / "memory.db"
    policy_file = tmp_path / "policies.yaml"
    policy_file.write_text(POLICIES)
    with MemoryLifecycleManager(store=f"sqlite:///{db}", policy_file=policy_file, clock=clock) as m:
        old = clock.now() - 3600
        m.store_many(
            [{"key": f"coordination/k{i:04d}", "value": i, "timestamp": old} for i in range(500)]
        )
        m.store("coordination/live", 1)
        assert isinstance(m.backend, SQLiteStore)
        conn = m.backend._conn()
        seen: list[str] = []
        conn.set_trace_callback(seen.append)
        try:
            page = m.list("coordination/", limit=10)
        finally:
            conn.set_trace_callback(None)
    assert [e["key"] for e in page["entries"]] == ["coordination/live"]
    listing = [s for s in seen if "FROM entries" in s]
    assert len(listing) == 1, seen  # not one read per expired row
    assert "expires_at IS NULL OR expires_at >" in listing[0]
