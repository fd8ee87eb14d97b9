"""The change feed through the manager: ``changes()``, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import time

import pytest

from lifecycle import CompactedError, InvalidValueError, ManualClock, MemoryLifecycleManager
from tests.support.store import (  # noqa: F401  (fixtures register under their pytest names)
    ManagerFactory,
    backend_fixture,
    make_backend_manager_fixture,
    manager_fixture,
    store_url_factory_fixture,
)


def ops(result: dict[str, object]) -> list[tuple[str, str]]:
    return [(c["key"], c["op"]) for c in result["changes"]]  # type: ignore[index, union-attr]


def test_without_since_the_feed_starts_now_with_nothing_to_report(
    manager: MemoryLifecycleManager,
) -> None:
    manager.put("task/a", 1)
    assert manager.changes() == {"changes": [], "next": manager.get_stats()["revision"]}


def test_puts_deletes_and_expiries_are_reported_in_revision_order(
    manager: MemoryLifecycleManager, clock: ManualClock
) -> None:
    start = manager.changes()["next"]
    manager.put("coordination/a", 1)  # lazy, 1 h
    manager.put("swarm/shared/b", 2)  # scheduled, 24 h
    manager.put("task/c", 3)
    manager.delete("task/c")
    clock.tick(3601)
    assert manager.retrieve("coordination/a") is None  # a lazy read removes it
    clock.tick(86400)
    manager.cleanup()  # the sweep removes the other
    feed = manager.changes(since=start)
    assert ops(feed) == [
        ("coordination/a", "put"),
        ("swarm/shared/b", "put"),
        ("task/c", "put"),
        ("task/c", "delete"),
        ("coordination/a", "expire"),
        ("swarm/shared/b", "expire"),
    ]
    revisions = [c["revision"] for c in feed["changes"]]
    assert revisions == sorted(revisions) and feed["next"] == revisions[-1]
    assert feed["changes"][0]["policy"] == "coordination/*"
    assert manager.changes(since=feed["next"]) == {"changes": [], "next": feed["next"]}


def test_a_prefix_keeps_its_changes_and_the_cursor_moves_past_the_others(
    manager: MemoryLifecycleManager,
) -> None:
    start = manager.changes()["next"]
    manager.put("task/a", 1)
    manager.put("other/b", 2)
    feed = manager.changes(prefix="task/", since=start)
    assert ops(feed) == [("task/a", "put")]
    manager.put("other/c", 3)
    quiet = manager.changes(prefix="task/", since=feed["next"])
    assert quiet["changes"] == []
    assert quiet["next"] == manager.get_stats()["revision"]  # past other/c


def test_a_limited_page_continues_where_it_stopped(manager: MemoryLifecycleManager) -> None:
    start = manager.changes()["next"]
    for i in range(5):
        manager.put(f"task/{i}", i)
    seen: list[str] = []
    cursor = start
    for _ in range(5):
        page = manager.changes(since=cursor, limit=2)
        seen += [c["key"] for c in page["changes"]]
        cursor = page["next"]
    assert seen == [f"task/{i}" for i in range(5)]


def test_a_cursor_older_than_the_log_is_an_error_naming_the_oldest_revision(
    make_backend_manager: ManagerFactory,
) -> None:
    manager = make_backend_manager("c", "settings:\n  change_log_max_entries: 3\n")
    for i in range(6):
        manager.put(f"task/{i}", i)
    manager.cleanup()
    with pytest.raises(CompactedError, match="oldest revision is now 4") as caught:
        manager.changes(since=1)
    assert caught.value.oldest == 4
    assert [c["revision"] for c in manager.changes(since=3)["changes"]] == [4, 5, 6]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"since": -1}, "invalid since -1"),
        ({"since": "5"}, "invalid since '5'"),
        ({"since": True}, "invalid since True"),
        ({"since": 10**6}, "invalid since 1000000: this store's latest revision is"),
        ({"limit": 0}, "invalid limit 0"),
        ({"limit": 1001}, "invalid limit 1001"),
        ({"wait_seconds": 31}, "invalid wait_seconds 31"),
        ({"prefix": 5}, "invalid prefix 5"),
    ],
)
def test_bad_feed_arguments_are_clear_errors(
    manager: MemoryLifecycleManager, kwargs: dict[str, object], message: str
) -> None:
    manager.put("task/a", 1)
    with pytest.raises(InvalidValueError, match=message):
        manager.changes(**kwargs)  # type: ignore[arg-type]


def test_a_long_poll_wakes_on_a_write_from_another_thread(
    manager: MemoryLifecycleManager,
) -> None:
    start = manager.changes()["next"]
    writer = threading.Timer(0.2, manager.put, args=("task/late", 1))
    started = time.monotonic()
    writer.start()
    try:
        feed = manager.changes(prefix="task/", since=start, wait_seconds=10)
    finally:
        writer.join()
    assert ops(feed) == [("task/late", "put")]
    assert time.monotonic() - started < 5


def test_a_long_poll_ignores_other_prefixes_and_returns_empty_at_its_deadline(
    manager: MemoryLifecycleManager,
) -> None:
    start = manager.changes()["next"]
    writer = threading.Timer(0.05, manager.put, args=("other/x", 1))
    began = time.monotonic()
    writer.start()
    try:
        feed = manager.changes(prefix="task/", since=start, wait_seconds=1.0)
    finally:
        writer.join()
    assert feed["changes"] == []  # woken by other/x, it went back to waiting
    assert 0.95 < time.monotonic() - began < 5
    assert feed["next"] in (start, start + 1)  # past other/x once it was seen
    again = manager.changes(prefix="task/", since=feed["next"])
    assert again == {"changes": [], "next": start + 1}
