"""The hooks read the newest activity records, not the first ones in key order.

A store holding more than ``MAX_SCAN`` (1,000) task records used to give session-start's
open tasks and session-end's summary the first 1,000 by key: an open task whose id sorts
late was never reported, though it is the newest and the one a session needs. Now each
kind is read newest first (by revision) through a partial index per prefix: on both
backends, with the plan read from ``EXPLAIN`` rather than timed.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from lifecycle import ManualClock, MemoryLifecycleManager
from lifecycle.hooks import activity, session_memory
from lifecycle.store import newest
from lifecycle.store.sqlite.store import SQLiteStore
from tests.support.query_plans import postgres_store_schema, sqlite_plans
from tests.support.store import (  # noqa: F401  (fixtures register under their pytest names)
    ManagerFactory,
    backend_fixture,
    make_backend_manager_fixture,
    store_url_factory_fixture,
)

OLD_TASKS = 1200  # more than one read's worth (MAX_SCAN)


def _old_tasks(m: MemoryLifecycleManager, count: int = OLD_TASKS) -> None:
    """``count`` finished tasks of an earlier session, keys sorting before the open one."""
    items = [
        {
            "key": f"{activity.TASKS}task-a{i:05d}",
            "value": {"task_id": f"task-a{i:05d}", "status": "completed", "session_id": "old"},
        }
        for i in range(count)
    ]
    for start in range(0, count, 500):
        m.store_many(items[start : start + 500])


def test_an_open_task_that_sorts_last_by_key_but_is_newest_is_reported(
    make_backend_manager: ManagerFactory, clock: ManualClock
) -> None:
    m = make_backend_manager()
    _old_tasks(m)
    clock.tick(1)
    activity.start_task(m, "zzz-open", "the newest task", session_id="s1")
    assert sum(1 for _ in m.export_entries()) > session_memory.MAX_SCAN
    # the first 1,000 in key order (what was read before) do not hold it
    first = session_memory.scan(m, activity.TASKS)
    assert len(first) == session_memory.MAX_SCAN
    assert all(e.value["status"] == "completed" for e in first)

    found = session_memory.context(m, "s1", fall_back_to_latest=False)
    assert [t["task_id"] for t in found["open_tasks"]] == ["zzz-open"]
    summary = session_memory.summarize(m, "s1")
    assert (summary["tasks"], summary["tasks_open"]) == (1, 1)


def test_newest_reads_most_recent_write_first_skips_expired_and_deleted(
    make_backend_manager: ManagerFactory, clock: ManualClock
) -> None:
    m = make_backend_manager(
        policies='namespaces:\n  - {namespace: "swarm/*", ttl_seconds: 60, '
        "cleanup_strategy: scheduled, conflict_strategy: lww}\n"
    )
    for name in ("c", "a", "d", "b"):
        m.store(f"{activity.TASKS}{name}", {"task_id": name})
        clock.tick(1)
    m.store(f"{activity.TASKS}a", {"task_id": "a", "status": "again"})  # rewritten: newest
    m.delete(f"{activity.TASKS}d")
    m.store(f"{activity.TASKS}e", {"task_id": "e"}, ttl_seconds=0.5)  # expires first
    clock.tick(1)  # e has expired: a read no longer sees it
    assert m.retrieve(f"{activity.TASKS}e") is None
    assert [e.key[len(activity.TASKS) :] for e in session_memory.newest(m, activity.TASKS)] == [
        "a",
        "b",
        "c",
    ]
    assert [e.key for e in session_memory.newest(m, activity.TASKS, 2)][-1].endswith("/b")
    # a prefix without an index gives the same order (by sorting its range)
    assert [e.key for e in session_memory.newest(m, "swarm/shared/")] == [
        f"{activity.TASKS}{n}" for n in "abc"
    ]


def test_every_kind_the_hooks_read_newest_first_has_its_index() -> None:
    read = {
        activity.TASKS,
        activity.EDITS,
        activity.COMMANDS,
        activity.NOTIFICATIONS,
        session_memory.SAVED,
    }
    assert read == set(newest.INDEXED)


def test_sqlite_reads_the_newest_through_each_kinds_index_not_the_key_range(
    tmp_path: Path, clock: ManualClock
) -> None:
    """The statements session-start and session-end really run (caught with a trace), on a
    store with 1,200 tasks and other records: each walks its prefix's partial index, with
    no sort of the range."""
    db = tmp_path / "memory.db"
    with MemoryLifecycleManager(store=f"sqlite:///{db}", clock=clock) as m:
        _old_tasks(m)
        m.store_many([{"key": f"knowledge/k{i}", "value": i} for i in range(500)])
        activity.start_task(m, "zzz-open", "d", session_id="s1")
        assert isinstance(m.backend, SQLiteStore)
        conn = m.backend._conn()
        seen: list[str] = []
        conn.set_trace_callback(seen.append)
        try:
            session_memory.context(m, "s1", fall_back_to_latest=True)
            session_memory.summarize(m, "s1")
        finally:
            conn.set_trace_callback(None)
    newest_first = [s for s in seen if "ORDER BY revision DESC" in s]
    read = {p for p in newest.INDEXED for s in newest_first if f"key >= '{p}'" in s}
    assert read == set(newest.INDEXED), newest_first
    for sql, plan in sqlite_plans(db, newest_first).items():
        index = next(newest.index_name(p) for p in newest.INDEXED if f"key >= '{p}'" in sql)
        assert f"USING INDEX {index}" in plan, (sql, plan)
        assert "TEMP B-TREE" not in plan and "autoindex" not in plan, (sql, plan)


def test_a_store_without_the_index_still_reads_newest_first(
    tmp_path: Path, clock: ManualClock
) -> None:
    """Migration 7 waits for a writer on a store opened read-only: the read then sorts the
    range instead (here the index is dropped, the migration left recorded)."""
    db = tmp_path / "memory.db"
    with MemoryLifecycleManager(store=f"sqlite:///{db}", clock=clock) as m:
        for name in ("b", "a"):
            m.store(f"{activity.TASKS}{name}", {"task_id": name})
    with sqlite3.connect(db) as conn:
        conn.execute(f"DROP INDEX {newest.index_name(activity.TASKS)}")
    store = SQLiteStore(db)
    try:
        rows = store.newest_rows(activity.TASKS, 10, clock.now())
    finally:
        store.close()
    assert [r.key[len(activity.TASKS) :] for r in rows] == ["a", "b"]


@pytest.mark.postgres
def test_postgres_reads_the_newest_through_each_kinds_index_once_analyzed() -> None:
    from lifecycle.store.postgres.store import newest_statement

    with postgres_store_schema() as conn:
        for n, prefix in enumerate((*newest.INDEXED, "knowledge/", "coordination/a/")):
            conn.execute(
                "INSERT INTO entries (key, policy, strategy, cleanup, codec, payload, "
                "size_bytes, created_at, updated_at, expires_at, actor, revision) "
                "SELECT %s || i, 'p', 'lww', 'lazy', 'json', '\\x00', 1, 0, 0, NULL, 'a', "
                "%s + i FROM generate_series(1, 5000) AS i",
                (prefix, n * 5000),
            )
        conn.execute("ANALYZE entries")
        plans = {}
        for prefix in newest.INDEXED:
            query, key_range = newest_statement(prefix)
            explained = conn.execute("EXPLAIN " + query, (*key_range, 100.0, 1000))
            plans[prefix] = "\n".join(r[0] for r in explained)
    for prefix, plan in plans.items():
        assert newest.index_name(prefix) in plan, plan
        assert "Backward" in plan and "Sort" not in plan, plan
