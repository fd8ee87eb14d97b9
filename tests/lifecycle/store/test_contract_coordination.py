"""The storage contract, continued: revisions, the change log, change waits and locks.

Part of the contract suite (same fixtures as ``test_contract.py``): every test runs on
SQLite and on PostgreSQL. The feed test at the end is the one that keeps PostgreSQL
honest: writers whose commits are delayed after their revision is drawn, and a reader
that must still see every committed change exactly once, in order.
"""

from __future__ import annotations

import random
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from lifecycle.store.backend import open_store
from lifecycle.store.base import Store
from lifecycle.store.postgres import schema as postgres_schema
from lifecycle.store.postgres import settings as postgres_settings
from lifecycle.store.sqlite import schema as sqlite_schema
from tests.lifecycle.store.test_contract import T0, put, row
from tests.support.store import (  # noqa: F401  (fixtures register under their pytest names)
    UrlFactory,
    backend_fixture,
    store_fixture,
    store_url_factory_fixture,
    store_url_fixture,
)

# ---------------------------------------------------------------- revisions


def test_every_change_gets_the_next_revision_and_a_log_entry(store: Store) -> None:
    start = store.current_revision()
    put(store, row("a/1"), row("a/2"))
    with store.transaction(["a/1"]) as tx:
        tx.put(row("a/1", tombstone=True))
    with store.transaction(["a/2"]) as tx:
        assert tx.remove("a/2", "expire")
    assert store.current_revision() == start + 4
    assert store.get("a/1").revision == start + 3
    page = store.read_changes(start, "", 10)
    assert [(c.revision, c.key, c.op) for c in page.changes] == [
        (start + 1, "a/1", "put"),
        (start + 2, "a/2", "put"),
        (start + 3, "a/1", "delete"),
        (start + 4, "a/2", "expire"),
    ]
    assert {c.policy for c in page.changes} == {"p/*"}
    assert (page.head, page.complete) == (start + 4, True)


def test_revisions_are_reported_per_key_once_the_transaction_commits(store: Store) -> None:
    with store.transaction(["a/1", "a/2"]) as tx:
        tx.put(row("a/1"))
        tx.put(row("a/1", b"again"))  # one key, one transaction: one change
        tx.put(row("a/2"))
    assert tx.revisions == {"a/1": store.get("a/1").revision, "a/2": store.get("a/2").revision}
    assert sorted(tx.revisions.values()) == [1, 2]
    assert [c.key for c in store.read_changes(0, "", 10).changes] == ["a/1", "a/2"]


def test_a_rolled_back_transaction_leaves_no_revision_behind(store: Store) -> None:
    put(store, row("a/1"))
    with pytest.raises(RuntimeError), store.transaction(["a/2"]) as tx:
        tx.put(row("a/2"))
        raise RuntimeError("boom")
    put(store, row("a/3"))
    assert [c.revision for c in store.read_changes(0, "", 10).changes] == [1, 2]
    assert store.get("a/3").revision == 2


def test_a_metadata_rewrite_keeps_the_revision_and_logs_nothing(store: Store) -> None:
    put(store, row("a/1"))
    with store.transaction(["a/1"]) as tx:
        changed = tx.get("a/1")
        changed.expires_at = T0 + 60
        tx.put(changed, change=False)
    assert store.get("a/1").expires_at == T0 + 60
    assert store.get("a/1").revision == 1
    assert store.current_revision() == 1


def test_expiry_sweeps_log_expired_entries_but_not_purged_tombstones(store: Store) -> None:
    put(
        store,
        row("a/old", expires_at=T0),
        row("b/old", expires_at=T0, tombstone=True),
        row("a/live", expires_at=T0 + 100),
        row("a/lazy", expires_at=T0),
    )
    assert store.delete_expired_key("a/lazy", T0 + 1)
    store.delete_expired(T0 + 1, ["lazy"])
    page = store.read_changes(4, "", 10)
    assert [(c.key, c.op) for c in page.changes] == [("a/lazy", "expire"), ("a/old", "expire")]
    assert not store.delete_expired_key("a/live", T0 + 1)
    assert store.current_revision() == 6


def test_changes_are_read_by_prefix_and_in_pages(store: Store) -> None:
    put(store, *(row(f"{p}/{i}") for i in range(3) for p in ("a", "b")))  # a/0 b/0 a/1 ...
    page = store.read_changes(0, "b/", 2)
    assert [c.key for c in page.changes] == ["b/0", "b/1"]
    assert page.complete is False
    rest = store.read_changes(page.changes[-1].revision, "b/", 2)
    assert [c.key for c in rest.changes] == ["b/2"]
    assert (rest.complete, rest.head) == (True, 6)


def test_compaction_keeps_the_newest_changes_and_says_how_far_it_went(store: Store) -> None:
    for i in range(5):
        put(store, row(f"a/{i}"))
    assert store.compact_changes(keep=2) == 3
    assert store.compact_changes(keep=2) == 0
    page = store.read_changes(3, "", 10)
    assert page.compacted == 3
    assert [c.revision for c in page.changes] == [4, 5]


def test_reset_forgets_the_log_but_never_reuses_a_revision(store: Store) -> None:
    put(store, row("a/1"), row("a/2"))
    store.reset()
    assert store.read_changes(2, "", 10).compacted == 2
    put(store, row("a/1"))
    assert store.get("a/1").revision == 3


def test_a_store_written_before_revisions_gets_them_when_it_migrates(
    backend: str, store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for module in (sqlite_schema, postgres_schema):
        before = {n: m for n, m in module.NUMBERED.items() if n <= 2}
        monkeypatch.setattr(module, "NUMBERED", before)
    open_store(store_url).close()  # the schema as migration 2 left it
    monkeypatch.undo()
    _insert_rows_the_old_way(backend, store_url, ["a/1", "a/2"])
    with _opened(store_url) as new:
        revisions = {new.get("a/1").revision, new.get("a/2").revision}
        assert revisions == {1, 2}  # existing rows are distinct from "absent" (0)
        assert new.current_revision() == 2
        assert new.read_changes(2, "", 10).compacted == 2  # no history from before
        put(new, row("a/3"))
        assert new.get("a/3").revision == 3


def _insert_rows_the_old_way(backend: str, url: str, keys: list[str]) -> None:
    columns = (
        "key, policy, strategy, cleanup, codec, payload, size_bytes, created_at, updated_at, "
        "expires_at, ttl_seconds, actor, tombstone"
    )
    values = [
        (k, "p/*", "lww", "lazy", "json", b"{}", 2, T0, T0, None, None, "x", False) for k in keys
    ]
    if backend == "sqlite":
        with sqlite3.connect(url[len("sqlite:///") :]) as conn:
            conn.executemany(
                f"INSERT INTO entries ({columns}) VALUES ({','.join('?' * 13)})", values
            )
        return
    import psycopg

    conninfo, schema, *_ = postgres_settings.parse_url(url, url)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f"SET search_path TO {schema}")
        conn.cursor().executemany(
            f"INSERT INTO entries ({columns}) VALUES ({','.join(['%s'] * 13)})", values
        )


@contextmanager
def _opened(url: str) -> Iterator[Store]:
    store = open_store(url)
    try:
        yield store
    finally:
        store.close()


# ---------------------------------------------------------------- waiting for changes


def test_a_waiter_wakes_when_another_connection_commits(store: Store) -> None:
    token = store.change_token()
    timer = threading.Timer(0.1, lambda: put(store, row("a/1")))
    started = time.monotonic()
    timer.start()
    try:
        assert store.wait_for_change(token, 10)
    finally:
        timer.join()
    assert time.monotonic() - started < 5
    assert store.current_revision() == 1


def test_a_waiter_with_nothing_committed_returns_after_its_timeout(store: Store) -> None:
    """A spurious wakeup is allowed (say, PostgreSQL's listener reconnected), an early
    return without one is not: of three quiet waits, at least one times out, and every
    wait that reports no change lasted its full timeout."""
    outcomes = []
    for _ in range(3):
        token = store.change_token()
        started = time.monotonic()
        woke = store.wait_for_change(token, 0.2)
        elapsed = time.monotonic() - started
        assert elapsed < 5
        assert woke or elapsed >= 0.15
        outcomes.append(woke)
    assert not all(outcomes)


# ---------------------------------------------------------------- locks


def test_a_lock_is_exclusive_renewable_and_free_once_expired(store: Store) -> None:
    first = store.acquire_lock("job", "a", T0, 10)
    assert (first.acquired, first.owner, first.expires_at) == (True, "a", T0 + 10)
    refused = store.acquire_lock("job", "b", T0 + 1, 10)
    assert (refused.acquired, refused.owner, refused.token) == (False, "a", None)
    assert refused.expires_at == T0 + 10
    renewed = store.acquire_lock("job", "a", T0 + 5, 10)
    assert (renewed.token, renewed.expires_at) == (first.token, T0 + 15)
    taken = store.acquire_lock("job", "b", T0 + 15, 10)  # expired: free, no cleanup needed
    assert taken.acquired and taken.token > first.token
    assert store.last_lock_token() == taken.token


def test_tokens_grow_across_every_lock_of_the_store(store: Store) -> None:
    tokens = [store.acquire_lock(f"lock/{i % 3}", f"o{i}", T0 + 10 * i, 5).token for i in range(9)]
    assert tokens == sorted(tokens) and len(set(tokens)) == 9


def test_release_needs_the_current_token_of_an_unexpired_lock(store: Store) -> None:
    held = store.acquire_lock("job", "a", T0, 10)
    assert held.token is not None
    assert not store.release_lock("job", held.token + 1, T0)
    assert not store.release_lock("other", held.token, T0)
    assert store.release_lock("job", held.token, T0 + 1)
    assert not store.release_lock("job", held.token, T0 + 1)  # released already
    again = store.acquire_lock("job", "b", T0 + 2, 10)
    assert again.acquired and again.token is not None
    assert not store.release_lock("job", again.token, T0 + 20)  # expired before release


def test_locks_are_listed_while_they_are_held(store: Store) -> None:
    store.acquire_lock("b", "x", T0, 10)
    store.acquire_lock("a", "y", T0, 1)
    assert [(s.name, s.owner) for s in store.list_locks(T0)] == [("a", "y"), ("b", "x")]
    assert [s.name for s in store.list_locks(T0 + 5)] == ["b"]


def test_a_write_transaction_sees_who_holds_a_lock(store: Store) -> None:
    held = store.acquire_lock("job", "a", T0, 10)
    with store.transaction(["a/1"]) as tx:
        assert tx.held_lock("job", T0 + 1) == held.token
        assert tx.held_lock("job", T0 + 10) is None
        assert tx.held_lock("none", T0) is None


def test_threads_racing_for_a_lock_let_exactly_one_win(store: Store) -> None:
    barrier = threading.Barrier(6)
    won: list[int] = []

    def take(i: int) -> None:
        barrier.wait(timeout=10)
        state = store.acquire_lock("race", f"owner-{i}", T0, 60)
        if state.acquired:
            assert state.token is not None
            won.append(state.token)

    threads = [threading.Thread(target=take, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert len(won) == 1


# ---------------------------------------------------------------- the feed never skips


def test_a_polling_reader_sees_every_committed_change_once_despite_slow_commits(
    store: Store,
) -> None:
    """Writers draw their revision, then dawdle before COMMIT (on PostgreSQL the flush
    draws it; on SQLite the put): a reader polling with its cursor must neither skip a
    late-committing revision nor see one twice."""
    writers, per_writer = 4, 25
    seen: list[int] = []
    done = threading.Event()
    errors: list[BaseException] = []

    def write(w: int) -> None:
        rng = random.Random(w)
        try:
            for i in range(per_writer):
                with store.transaction([f"w{w}/{i}"]) as tx:
                    tx.put(row(f"w{w}/{i}"))
                    flush = getattr(tx, "flush", None)  # PostgreSQL: draw the revision now
                    if flush is not None:
                        flush()
                    time.sleep(rng.random() * 0.01)  # ... and commit late
        except BaseException as exc:
            errors.append(exc)

    def read() -> None:
        cursor = 0
        try:
            while True:
                finished = done.is_set()
                page = store.read_changes(cursor, "", 7)
                seen.extend(c.revision for c in page.changes)
                cursor = page.changes[-1].revision if page.changes else cursor
                if finished and page.complete and not page.changes:
                    return
                time.sleep(0.001)
        except BaseException as exc:
            errors.append(exc)

    reader = threading.Thread(target=read)
    threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
    reader.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    done.set()
    reader.join(timeout=60)
    assert not errors
    total = writers * per_writer
    assert seen == list(range(1, total + 1))  # every revision, once, in order
    assert store.current_revision() == total
