"""The query plans hooks depend on, read from ``EXPLAIN QUERY PLAN`` rather than timed.

A hook sweeps ``coordination/`` on every task: the sweep must walk the expiry index
(``entries_expires_at``, whose range holds only what has expired) and not the key
index over every ``coordination/*`` row, expired or not, which grows with the store;
nor may the change log's ``ORDER BY key`` walk the key index over the whole store.
The statements are the ones the store really runs, caught with a trace callback.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lifecycle.store.sqlite.store import SQLiteStore
from tests.support.query_plans import postgres_store_schema, sqlite_plans


@pytest.mark.parametrize("limit", [None, 5])
@pytest.mark.parametrize("prefix", ["coordination/", ""])
def test_a_sweep_walks_the_expiry_index_not_every_key_under_its_prefix(
    tmp_path: Path, prefix: str, limit: int | None
) -> None:
    """Also a hook's bounded sweep (``limit``: the rows that expired first) and its count
    of what is left."""
    db = tmp_path / "memory.db"
    store = SQLiteStore(db)
    conn = store._conn()
    conn.execute(
        "INSERT INTO entries (key, policy, strategy, cleanup, codec, payload, size_bytes, "
        "created_at, updated_at, expires_at, actor) "
        "SELECT 'coordination/agent' || value, 'coordination/*', 'lww', 'scheduled', 'json', "
        "x'00', 1, 0, 0, CASE WHEN value % 100 = 0 THEN 10 ELSE 1e12 END, 'a' "
        "FROM json_each(?)",
        (json.dumps(list(range(1, 2001))),),
    )
    seen: list[str] = []
    conn.set_trace_callback(seen.append)
    try:
        swept = store.delete_expired(100.0, ["lazy", "scheduled"], prefix=prefix, limit=limit)
        if limit is not None:
            left = store.find_expired(100.0, ["lazy", "scheduled"], prefix, sample=3, limit=100)
    finally:
        conn.set_trace_callback(None)
        store.close()
    assert sum(swept.by_policy.values()) == (20 if limit is None else limit)
    if limit is not None:
        assert sum(left.by_policy.values()) == 20 - limit
    touching = [s for s in seen if "FROM entries" in s and "expires_at" in s]
    assert len(touching) >= 3, seen  # counts, sample, change log, delete
    for sql, plan in sqlite_plans(db, touching).items():
        assert "entries_expires_at" in plan, (sql, plan)
        assert "sqlite_autoindex_entries" not in plan, (sql, plan)


@pytest.mark.postgres
def test_a_postgres_prefix_sweep_walks_the_expiry_index_once_the_table_is_analyzed() -> None:
    """PostgreSQL weighs both indexes by their statistics (autovacuum's ANALYZE keeps them):
    with few rows expired among many under the prefix, it must pick the expiry index."""
    from lifecycle.store.postgres.store import sweep_arguments, sweep_statement

    with postgres_store_schema() as conn:
        conn.execute(
            "INSERT INTO entries (key, policy, strategy, cleanup, codec, payload, "
            "size_bytes, created_at, updated_at, expires_at, actor) "
            "SELECT 'coordination/agent' || i, 'coordination/*', 'lww', 'scheduled', "
            "'json', '\\x00', 1, 0, 0, CASE WHEN mod(i, 100) = 0 THEN 10 ELSE 1e12 END, "
            "'a' FROM generate_series(1, 20000) AS i"
        )
        conn.execute("ANALYZE entries")
        plans = []
        for batch in (10_000, 1000):  # a cleanup's batch, a hook's bounded sweep
            args = sweep_arguments(100.0, ["lazy", "scheduled"], "coordination/", 100, batch)
            explained = conn.execute("EXPLAIN " + sweep_statement(True), args)
            plans.append("\n".join(r[0] for r in explained))
    for plan in plans:
        assert "entries_expires_at" in plan, plan
        assert "entries_pkey" not in plan, plan  # no walk of the key range
        # the DELETE takes the chosen rows by address, not by a join over every expired row
        assert "Tid Scan" in plan and "Hash Semi Join" not in plan, plan


@pytest.mark.postgres
def test_a_postgres_sweep_larger_than_a_batch_deletes_everything_in_batches(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each batch is a transaction of its own, bounded by the store's timeout; together
    they delete and report what one statement would have."""
    from lifecycle import ManualClock, MemoryLifecycleManager
    from lifecycle.store.postgres import store as postgres
    from tests.support.store import drop_schema, new_schema, postgres_dsn, with_schema

    monkeypatch.setattr(postgres, "SWEEP_BATCH", 10)
    dsn = postgres_dsn()
    schema = new_schema()
    clock = ManualClock(1_800_000_000.0)
    try:
        with MemoryLifecycleManager(store=with_schema(dsn, schema), clock=clock) as m:
            m.store_many([{"key": f"coordination/a{i}", "value": i} for i in range(25)])
            m.store("knowledge/kept", 1)
            clock.tick(7200)  # past coordination/*'s hour
            report = m.gc.collect()
            assert report.deleted_count == 25
            assert report.by_namespace == {"coordination/*": 25}
            assert sorted(report.deleted_keys) == sorted(f"coordination/a{i}" for i in range(25))
            assert m.retrieve("knowledge/kept") == 1
            assert m.list("coordination/")["entries"] == []
    finally:
        drop_schema(dsn, schema)
