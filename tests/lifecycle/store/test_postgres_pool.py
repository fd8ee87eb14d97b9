"""The PostgreSQL store's own pool (``lifecycle.store.postgres.pool``) on a real server:
a full pool makes a call wait for its deadline at most, a connection given back goes to
a waiting call, threads never open more than ``pool_max_size`` connections, closing
closes them, and a connection given back mid-transaction or broken is not reused."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest

from lifecycle import MemoryLifecycleManager, StoreBusyError
from lifecycle.store.backend import open_store
from lifecycle.store.postgres.store import PostgresStore
from tests.support.store import drop_schema, new_schema, postgres_dsn, with_schema

pytestmark = [pytest.mark.postgres]


@pytest.fixture
def url() -> Iterator[str]:
    dsn = postgres_dsn()
    schema = new_schema()
    try:
        yield with_schema(dsn, schema)
    finally:
        drop_schema(dsn, schema)


def _open(url: str) -> PostgresStore:
    store = open_store(url)
    assert isinstance(store, PostgresStore)
    return store


def test_a_call_finding_the_pool_full_fails_busy_at_its_deadline(url: str) -> None:
    store = _open(f"{url}&pool_max_size=1&timeout=0.5")
    try:
        held = store._pool.getconn(time.monotonic() + 10)  # the pool's only connection
        with pytest.raises(StoreBusyError, match="pool_max_size connections stayed busy"):
            store.get("a/1")
        store._pool.putconn(held)
        assert store.get("a/1") is None  # given back: the next call has it
    finally:
        store.close()


def test_a_connection_given_back_goes_to_the_call_waiting_for_it(url: str) -> None:
    store = _open(f"{url}&pool_max_size=1")
    try:
        got: list[object] = []
        with store._connection() as held:
            waiter = threading.Thread(target=lambda: got.append(store.get("a/1")))
            waiter.start()
            pid = held.info.backend_pid
        waiter.join(timeout=30)
        assert not waiter.is_alive() and got == [None]
        with store._connection() as again:
            assert again.info.backend_pid == pid  # the same connection, not a new one
    finally:
        store.close()


def test_threads_share_at_most_pool_max_size_connections(url: str) -> None:
    store = _open(f"{url}&pool_max_size=2")
    pids: set[int] = set()

    def call(i: int) -> None:
        m.store(f"a/{i % 5}", i)
        with store._connection() as conn:
            pids.add(conn.info.backend_pid)

    try:
        with MemoryLifecycleManager(store=store) as m, ThreadPoolExecutor(8) as threads:
            list(threads.map(call, range(200)))
            assert sorted(m.retrieve(f"a/{k}") % 5 for k in range(5)) == [0, 1, 2, 3, 4]
        assert 1 <= len(pids) <= 2
    finally:
        store.close()


def test_closing_the_store_closes_its_connections(url: str) -> None:
    store = _open(f"{url}&pool_max_size=3")
    with store._connection() as a, store._connection() as b:
        pass
    assert not a.closed and not b.closed
    store.close()
    assert a.closed and b.closed
    with pytest.raises(Exception, match="closed"):
        store.get("a/1")


def test_a_connection_given_back_inside_a_transaction_is_not_reused(url: str) -> None:
    store = _open(f"{url}&pool_max_size=1")
    try:
        conn = store._pool.getconn(time.monotonic() + 10)
        pid = conn.info.backend_pid
        conn.execute("BEGIN")
        store._pool.putconn(conn)  # what it holds must not leak into the next call
        assert conn.closed
        with store._connection() as fresh:
            assert fresh.info.backend_pid != pid
            assert fresh.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    finally:
        store.close()


def test_a_connection_whose_server_process_ended_fails_one_call_only(url: str) -> None:
    store = _open(f"{url}&pool_max_size=1")
    try:
        with store._connection() as conn:
            pid = conn.info.backend_pid
        with psycopg.connect(postgres_dsn(), autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        try:  # used a moment ago, so not checked first: this call may fail …
            store.get("a/1")
        except Exception as exc:
            assert "cannot reach the database" in str(exc)
        assert store.get("a/1") is None  # … and the next has a new connection
        assert store._pool._size == 1
    finally:
        store.close()
