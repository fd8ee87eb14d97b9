"""How many round trips each call costs on PostgreSQL, counted on the wire.

The store reaches the test server through a proxy that reads the protocol
(``tests.support.round_trips``) with a pool of one connection, so every message
of the call is seen. A round trip is the client sending and then waiting for the
server; a write must be two (lock + read, then write + COMMIT), whatever it
carries (tags, an op id, a precondition), and so must a batch.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from lifecycle import ManualClock, MemoryLifecycleManager
from lifecycle.store.postgres import pool as postgres_pool
from lifecycle.store.postgres import store as postgres
from tests.support.round_trips import RoundTrip, RoundTripCounter
from tests.support.store import drop_schema, new_schema, postgres_dsn, with_schema

pytestmark = [pytest.mark.postgres]

ONE_MESSAGE = ("Q",)  # one simple-protocol message: every statement of it sent at once


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[RoundTripCounter, str]]:
    dsn = postgres_dsn()
    # a connection idle for a while is probed before use (one more round trip): not here
    monkeypatch.setattr(postgres_pool, "IDLE_CHECK_SECONDS", 3600.0)
    host, port = _target(dsn)
    proxy = RoundTripCounter(host, port)
    proxy.start()
    schema = new_schema()
    url = with_schema(proxy.url(dsn), schema) + "&pool_min_size=1&pool_max_size=1"
    try:
        yield proxy, url
    finally:
        proxy.stop()
        drop_schema(dsn, schema)


def _target(dsn: str) -> tuple[str, int]:
    from urllib.parse import urlsplit

    parts = urlsplit(dsn)
    return parts.hostname or "127.0.0.1", parts.port or 5432


def trips(proxy: RoundTripCounter, call: object) -> list[RoundTrip]:
    mark = proxy.mark()
    call()  # type: ignore[operator]
    return proxy.since(mark)


@pytest.fixture
def manager(counted: tuple[RoundTripCounter, str]) -> Iterator[MemoryLifecycleManager]:
    _, url = counted
    with MemoryLifecycleManager(store=url, clock=ManualClock(time.time())) as m:
        m.store("notes/warm", "the pool's connection is open and prepared")
        yield m


def test_a_store_is_two_round_trips_whatever_it_carries(
    counted: tuple[RoundTripCounter, str], manager: MemoryLifecycleManager
) -> None:
    proxy, _ = counted
    m = manager
    calls = {
        "new key": lambda: m.store("notes/a", {"v": 1}),
        "existing key": lambda: m.store("notes/a", {"v": 2}),
        "tags": lambda: m.store("notes/a", {"v": 3}, tags=["x", "y"]),
        "op id": lambda: m.store("metrics/a", 1, op_id="op-1"),
        "op id again (a retry)": lambda: m.store("metrics/a", 1, op_id="op-1"),
        "if_revision": lambda: m.put("notes/b", 1, if_revision=0),
        "counter": lambda: m.store("metrics/a", 5),
    }
    seen = {name: trips(proxy, call) for name, call in calls.items()}
    assert seen == {name: [ONE_MESSAGE, ONE_MESSAGE] for name in calls}
    assert m.retrieve("notes/a") == {"v": 3}
    assert m.retrieve_entry("notes/a").tags == ("x", "y")  # type: ignore[union-attr]
    assert m.retrieve("metrics/a") == 6  # the retried op id counted once
    assert m.retrieve("notes/b") == 1


def test_a_refused_write_is_two_round_trips_and_changes_nothing(
    counted: tuple[RoundTripCounter, str], manager: MemoryLifecycleManager
) -> None:
    proxy, _ = counted
    m = manager
    revision = m.put("notes/c", "first").revision
    refused: list[object] = []
    seen = trips(proxy, lambda: refused.append(m.put("notes/c", "second", if_revision=99)))
    assert seen == [ONE_MESSAGE, ONE_MESSAGE]
    assert refused[0].conflict == "revision"  # type: ignore[attr-defined]
    assert m.retrieve("notes/c") == "first"
    assert m.retrieve_entry("notes/c").revision == revision  # type: ignore[union-attr]
    # ended without a ROLLBACK: the connection's prepared statements are still there
    assert trips(proxy, lambda: m.store("notes/c", "third")) == [ONE_MESSAGE, ONE_MESSAGE]


def test_a_delete_is_two_round_trips_and_a_retrieve_one(
    counted: tuple[RoundTripCounter, str], manager: MemoryLifecycleManager
) -> None:
    proxy, _ = counted
    m = manager
    m.store("notes/d", "here")
    assert len(trips(proxy, lambda: m.retrieve("notes/d"))) == 1
    assert len(trips(proxy, lambda: m.retrieve("notes/absent"))) == 1
    assert trips(proxy, lambda: m.delete("notes/d")) == [ONE_MESSAGE, ONE_MESSAGE]
    assert trips(proxy, lambda: m.delete("notes/never")) == [ONE_MESSAGE, ONE_MESSAGE]
    assert m.retrieve("notes/d") is None


def test_a_batch_is_two_round_trips_with_or_without_op_ids(
    counted: tuple[RoundTripCounter, str], manager: MemoryLifecycleManager
) -> None:
    proxy, _ = counted
    m = manager
    batch = [{"key": f"notes/batch/{i}", "value": i, "tags": ["b"]} for i in range(100)]
    assert trips(proxy, lambda: m.store_many(batch)) == [ONE_MESSAGE, ONE_MESSAGE]
    imported = [{"key": f"metrics/batch/{i}", "value": 1, "op_id": f"op-{i}"} for i in range(100)]
    assert trips(proxy, lambda: m.store_many(imported)) == [ONE_MESSAGE, ONE_MESSAGE]
    assert trips(proxy, lambda: m.store_many(imported)) == [ONE_MESSAGE, ONE_MESSAGE]  # retried
    assert m.retrieve("notes/batch/42") == 42
    assert m.retrieve("metrics/batch/42") == 1  # the retried batch counted once
    # every write logged once, revisions without a gap: the warm-up, the notes, the import
    logged = m.changes(since=0, limit=1000)["changes"]
    assert [c["revision"] for c in logged] == list(range(1, 202))
    assert logged[-1]["key"] == "metrics/batch/99"


def test_a_key_with_many_op_ids_still_counts_each_op_once(
    counted: tuple[RoundTripCounter, str], manager: MemoryLifecycleManager
) -> None:
    from lifecycle.store.postgres.transaction import OPS_PREFETCH

    proxy, _ = counted
    m = manager
    for i in range(OPS_PREFETCH + 1):  # more op ids than the read brings along
        m.store("metrics/busy", 1, op_id=f"op-{i}")
    seen = trips(proxy, lambda: m.store("metrics/busy", 1, op_id="op-3"))
    assert len(seen) == 3  # the op id is looked up on its own
    m.store("metrics/busy", 1, op_id="op-new")
    assert m.retrieve("metrics/busy") == OPS_PREFETCH + 2


def test_statements_psycopg_deallocated_are_prepared_again(
    counted: tuple[RoundTripCounter, str], manager: MemoryLifecycleManager
) -> None:
    """psycopg sends DEALLOCATE ALL after a ROLLBACK it sees once it has prepared
    statements of its own (a query run alike five times, e.g. a listing), which drops
    ours too: a read and a write each prepare them again."""
    proxy, _ = counted
    m = manager
    store = m._store
    assert isinstance(store, postgres.PostgresStore)
    m.store("notes/warm", "kept")
    for deallocated in ("retrieve", "store"):
        with store._connection() as conn:
            conn.execute("SELECT 1", prepare=True)  # one of psycopg's own
            conn.execute("BEGIN")
            conn.execute("SELECT 1")
            conn.execute("ROLLBACK")  # psycopg follows it with DEALLOCATE ALL
            left = conn.execute("SELECT count(*) FROM pg_prepared_statements").fetchone()
        assert left == (0,)
        if deallocated == "retrieve":
            assert m.retrieve("notes/warm") == "kept"
    assert m.store("notes/e", "after") is True
    assert m.retrieve("notes/e") == "after"
    assert trips(proxy, lambda: m.store("notes/e", "again")) == [ONE_MESSAGE, ONE_MESSAGE]
