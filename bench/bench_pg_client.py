"""PostgreSQL client CPU per call against raw psycopg sending the same statements (issue 24).

What our client adds on top of psycopg: the statements a ``store()`` and a ``retrieve()``
send are captured from the store itself (every ``Cursor.execute`` / ``ClientCursor.execute``
during one call: the same SQL text, the same parameters, the same cursor class, so the
same protocol and preparation), then replayed by a bare psycopg connection configured as
the store's pooled ones are (the same prepared statements). Interleaved blocks, in turn:

ours store       ``MemoryLifecycleManager.store()`` on existing ``coordination/*`` keys
same statements  the statements one such ``store()`` sent, replayed (results fetched)
minimal upsert   one prepared ``INSERT … ON CONFLICT DO UPDATE`` of the entry row, in
                 autocommit: a lower floor (no lock, no read, no merge, no change log)
ours retrieve    ``MemoryLifecycleManager.retrieve()``
same statements  the statement one ``retrieve()`` sent, replayed (the row fetched)

Each call is timed alone: client CPU (``time.process_time``) and wall time, medians over
every call of a side. Client CPU is what the shared VM's load blurs least; the aim is
ours within ~1.5x of the same statements. Runs with the server's durable commit and with
``synchronous_commit=off`` (the client's work is the same; the wall time is not).

Runs when ``MEMORY_LIFECYCLE_TEST_POSTGRES`` is set or ``--postgres URL`` is given (else
it says so and exits 0); it works in fresh schemas, dropped afterwards.

    python -m bench.bench_pg_client [--quick] [--postgres URL] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg.pq import ExecStatus

from bench.bench_pg_write import _sync_off
from bench.bench_store import VALUE
from bench.common import fresh_schema
from lifecycle import ManualClock, MemoryLifecycleManager
from lifecycle.store.postgres import wire
from lifecycle.store.postgres.rows import COLUMNS, row_values

Sent = tuple[type, Any, Any, dict[str, Any]]  # cursor class, query, params, kwargs


@contextmanager
def _capture() -> Iterator[list[Sent]]:
    """Record every statement psycopg's cursors execute meanwhile (in this thread)."""
    sent: list[Sent] = []
    originals = {cls: cls.execute for cls in (psycopg.Cursor, psycopg.ClientCursor)}

    def recorder(cls: type) -> Callable[..., Any]:
        original = originals[cls]

        def execute(self: Any, query: Any, params: Any = None, **kwargs: Any) -> Any:
            sent.append((type(self), query, params, kwargs))
            return original(self, query, params, **kwargs)

        return execute

    # the store's hot statements go through ``wire`` (psycopg's lower layer): recorded as
    # the cursor call that sends the same statement the same way (simple protocol with
    # client-side binding; a prepared statement with server-side binding)
    execute, execute_prepared = wire.execute, wire.execute_prepared

    def wire_execute(conn: Any, tx: Any, sql: str, args: Any) -> Any:
        sent.append((psycopg.ClientCursor, sql, args, {}))
        return execute(conn, tx, sql, args)

    def wire_execute_prepared(conn: Any, tx: Any, name: bytes, sql: str, args: Any) -> Any:
        sent.append((psycopg.Cursor, sql, args, {"prepare": True}))
        return execute_prepared(conn, tx, name, sql, args)

    for cls in originals:
        cls.execute = recorder(cls)  # type: ignore[method-assign]
    wire.execute, wire.execute_prepared = wire_execute, wire_execute_prepared
    try:
        yield sent
    finally:
        for cls, original in originals.items():
            cls.execute = original  # type: ignore[method-assign]
        wire.execute, wire.execute_prepared = execute, execute_prepared


def _replay(conn: psycopg.Connection, sent: list[Sent]) -> None:
    """Send ``sent`` as the store did, reading every result of every statement: through
    one cursor of each class per connection, made once (psycopg's cheapest way)."""
    cursors = _CURSORS.setdefault(id(conn), {})
    for cls, query, params, kwargs in sent:
        cur = cursors.get(cls)
        if cur is None:
            cur = cursors[cls] = cls(conn)
        cur.execute(query, params, **kwargs)
        while True:
            result = cur.pgresult
            if result is not None and result.status == ExecStatus.TUPLES_OK:
                cur.fetchall()
            if not cur.nextset():
                break


_CURSORS: dict[int, dict[type, Any]] = {}  # the replaying connection's cursors, by class


def _timed(fn: Callable[[int], object], start: int, n: int, cpu: list[float], wall: list[float]):
    for i in range(start, start + n):
        c, w = time.process_time(), time.perf_counter()
        fn(i)
        w, c = time.perf_counter() - w, time.process_time() - c
        cpu.append(c * 1e6)
        wall.append(w * 1e6)


_UPSERT = (
    f"INSERT INTO entries ({COLUMNS}) VALUES ({', '.join(['%s'] * 15)}) "
    "ON CONFLICT (key) DO UPDATE SET payload = excluded.payload, "
    "updated_at = excluded.updated_at, revision = excluded.revision"
)


def measure(url: str, quick: bool) -> dict[str, dict[str, float]]:
    keys = 50
    blocks, per_block = (6, 50) if quick else (30, 100)
    with MemoryLifecycleManager(store=url, clock=ManualClock(time.time())) as m:
        store = m._store  # the bench reaches into the store for its connection settings
        stores: list[list[Sent]] = []
        gets: list[list[Sent]] = []
        for i in range(keys):
            m.store(f"coordination/k{i}", VALUE)  # ours works on these
            m.store(f"coordination/f{i}", VALUE)  # the replays on these
        for _ in range(10):  # past psycopg's prepare threshold, as in steady use
            for i in range(keys):
                m.store(f"coordination/f{i}", VALUE)
                m.retrieve(f"coordination/f{i}")
        for i in range(keys):
            with _capture() as sent:
                m.store(f"coordination/f{i}", VALUE)
            stores.append(sent)
            with _capture() as sent:
                m.retrieve(f"coordination/f{i}")
            gets.append(sent)
        row = store.get("coordination/f0")
        raw = psycopg.connect(store._conninfo, autocommit=True)
        store._configure_pooled(raw)
        upsert_args = [(f"coordination/u{i}", *row_values(row)[1:], None, 1) for i in range(keys)]
        for args in upsert_args:
            raw.execute(_UPSERT, args, prepare=True)

        sides: dict[str, Callable[[int], object]] = {
            "store": lambda i: m.store(f"coordination/k{i % keys}", VALUE),
            "store_same_statements": lambda i: _replay(raw, stores[i % keys]),
            "store_minimal_upsert": lambda i: raw.execute(
                _UPSERT, upsert_args[i % keys], prepare=True
            ),
            "retrieve": lambda i: m.retrieve(f"coordination/k{i % keys}"),
            "retrieve_same_statements": lambda i: _replay(raw, gets[i % keys]),
        }
        cpu: dict[str, list[float]] = {name: [] for name in sides}
        wall: dict[str, list[float]] = {name: [] for name in sides}
        order = list(sides)
        for block in range(blocks):  # A B C … then rotated, so no side always goes first
            shift = block % len(order)
            for name in order[shift:] + order[:shift]:
                _timed(sides[name], block * per_block, per_block, cpu[name], wall[name])
        raw.close()
        statements = {
            "store": [q if isinstance(q, str) else repr(q) for _, q, _, _ in stores[0]],
            "retrieve": [q if isinstance(q, str) else repr(q) for _, q, _, _ in gets[0]],
        }
    out: dict[str, dict[str, float]] = {
        name: {
            "cpu_us": statistics.median(cpu[name]),
            "wall_us": statistics.median(wall[name]),
            "calls": len(cpu[name]),
        }
        for name in sides
    }
    out["statements"] = statements  # type: ignore[assignment]
    return out


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, a few seconds")
    parser.add_argument("--postgres", metavar="URL", help="the PostgreSQL server to measure")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--durable-only", action="store_true", help="skip synchronous_commit=off")
    args = parser.parse_args(argv)
    pg_url = args.postgres or os.environ.get("MEMORY_LIFECYCLE_TEST_POSTGRES")
    if not pg_url:
        print("bench_pg_client skipped: set MEMORY_LIFECYCLE_TEST_POSTGRES or pass --postgres URL")
        return 0
    modes = [("durable", pg_url)]
    if not args.durable_only:
        modes.append(("synchronous_commit=off", _sync_off(pg_url)))
    results: dict[str, Any] = {}
    for name, url in modes:
        load_before = _load()
        with fresh_schema(url) as schema_url:
            results[name] = measure(schema_url, args.quick)
        results[name]["load"] = {"before": load_before, "after": _load()}
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    print(f"bench_pg_client ({'quick' if args.quick else 'full'}; medians, µs per call)")
    for name, r in results.items():
        load = r["load"]
        print(f"\n{name} (1/5/15-min load before: {load['before']}, after: {load['after']})")
        print(f"{'':28}{'client CPU':>12}{'wall':>10}{'CPU ratio':>11}")
        for side, floor in (
            ("store", None),
            ("store_same_statements", "store"),
            ("store_minimal_upsert", "store"),
            ("retrieve", None),
            ("retrieve_same_statements", "retrieve"),
        ):
            ratio = "" if floor is None else f"{r[floor]['cpu_us'] / r[side]['cpu_us']:.2f}x"
            print(f"{side:28}{r[side]['cpu_us']:>12.0f}{r[side]['wall_us']:>10.0f}{ratio:>11}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
