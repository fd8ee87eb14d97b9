"""PostgreSQL's write path through ``MemoryLifecycleManager``: what a write costs (issue 15).

store          median / p95 of single ``store()`` calls on existing keys (``coordination/*``:
               last-write-wins with a TTL; the value of ``bench_store``)
store (new)    the same on keys that do not exist yet
store (op_id)  existing keys, each call with a fresh ``op_id`` (the idempotent retry path)
retrieve       median / p95 of single ``retrieve()`` calls
delete         median of single ``delete()`` calls (each leaves a tombstone)
store_many     rows/s of new keys in batches of 1,000: the short value, and text values
               from ``bench/corpus.py`` (more words for the search index)
CPU per store  the client process's CPU time and the server backend's (its
               ``/proc/<pid>/schedstat``, when the server runs on this machine) per
               ``store()``, over the same calls on a pool of one connection: what a write
               costs the two machines, which the shared VM's load does not blur as much
               as the wall-clock times above

Every row is measured twice: with the server's durable commit (``synchronous_commit=on``,
PostgreSQL's default: each commit waits for the write-ahead log to reach the disk), and
with ``options=-csynchronous_commit=off`` in the store URL, which shows what the write path
costs without that disk flush.

Runs when ``MEMORY_LIFECYCLE_TEST_POSTGRES`` is set or ``--postgres URL`` is given (else it
says so and exits 0); it works in fresh schemas, dropped afterwards.

    python -m bench.bench_pg_write [--quick] [--postgres URL] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from bench.bench_store import VALUE
from bench.common import fresh_schema, median_us
from bench.corpus import Corpus
from lifecycle import ManualClock, MemoryLifecycleManager

BATCH = 1000
SYNC_OFF = "-csynchronous_commit=off"


def _rows_per_s(m: MemoryLifecycleManager, items: list[tuple[str, object]]) -> float:
    started = time.perf_counter()
    for start in range(0, len(items), BATCH):
        m.store_many(items[start : start + BATCH])
    return len(items) / (time.perf_counter() - started)


def measure(url: str, quick: bool) -> dict[str, float]:
    n, keys = (300, 100) if quick else (3000, 1000)
    bulk = 2000 if quick else 20_000
    corpus = Corpus()
    texts = [corpus.value(i) for i in range(bulk)]
    out: dict[str, float] = {}
    with MemoryLifecycleManager(store=url, clock=ManualClock(time.time())) as m:
        for i in range(keys):  # warm: every key exists, connections are open
            m.store(f"coordination/k{i}", VALUE)
        out["store_median_us"], out["store_p95_us"] = median_us(
            lambda i: m.store(f"coordination/k{i % keys}", VALUE), n
        )
        out["store_new_median_us"], out["store_new_p95_us"] = median_us(
            lambda i: m.store(f"coordination/new/{i}", VALUE), n
        )
        out["store_op_id_median_us"], out["store_op_id_p95_us"] = median_us(
            lambda i: m.store(f"coordination/k{i % keys}", VALUE, op_id=f"op-{i}"), n
        )
        out["retrieve_median_us"], out["retrieve_p95_us"] = median_us(
            lambda i: m.retrieve(f"coordination/k{i % keys}"), n
        )
        out["delete_median_us"], out["delete_p95_us"] = median_us(
            lambda i: m.delete(f"coordination/new/{i}"), n
        )
        out["store_many_rows_per_s"] = _rows_per_s(
            m, [(f"coordination/bulk/{i:07d}", VALUE) for i in range(bulk)]
        )
        out["store_many_text_rows_per_s"] = _rows_per_s(
            m, [(corpus.key(i), texts[i]) for i in range(bulk)]
        )
    out["bulk_n"] = bulk
    out.update(_cpu(url, n, keys))
    return out


def _cpu(url: str, n: int, keys: int) -> dict[str, float]:
    """Client and server CPU µs per ``store()``; empty when the backend's /proc is not ours."""
    single = url + ("&" if "?" in url else "?") + "pool_min_size=1&pool_max_size=1"
    with MemoryLifecycleManager(store=single, clock=ManualClock(time.time())) as m:
        for i in range(keys):
            m.store(f"coordination/cpu/{i}", VALUE)
        pid = _backend_pid(m)
        schedstat = f"/proc/{pid}/schedstat"
        if not os.access(schedstat, os.R_OK):
            return {}

        def server_ns() -> int:
            with open(schedstat) as f:
                return int(f.read().split()[0])

        client, server = time.process_time(), server_ns()
        for i in range(n):
            m.store(f"coordination/cpu/{i % keys}", VALUE)
        client, server = time.process_time() - client, server_ns() - server
    return {"store_client_cpu_us": client / n * 1e6, "store_server_cpu_us": server / n / 1e3}


def _backend_pid(m: MemoryLifecycleManager) -> int:
    store = m._store  # the bench reaches into the store for its one connection's pid
    with store._connection() as conn:  # type: ignore[attr-defined]
        return int(conn.execute("SELECT pg_backend_pid()").fetchone()[0])


def _sync_off(url: str) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "options"] + [("options", SYNC_OFF)]
    return urlunsplit(parts._replace(query=urlencode(query)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, a few seconds")
    parser.add_argument("--postgres", metavar="URL", help="the PostgreSQL server to measure")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    pg_url = args.postgres or os.environ.get("MEMORY_LIFECYCLE_TEST_POSTGRES")
    if not pg_url:
        print("bench_pg_write skipped: set MEMORY_LIFECYCLE_TEST_POSTGRES or pass --postgres URL")
        return 0

    results: dict[str, dict[str, float]] = {}
    for name, url in (("durable", pg_url), ("synchronous_commit=off", _sync_off(pg_url))):
        with fresh_schema(url) as schema_url:
            results[name] = measure(schema_url, args.quick)

    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    rows = [
        ("store median / p95 (µs)", "store_median_us", "store_p95_us"),
        ("store new key (µs)", "store_new_median_us", "store_new_p95_us"),
        ("store with op_id (µs)", "store_op_id_median_us", "store_op_id_p95_us"),
        ("retrieve (µs)", "retrieve_median_us", "retrieve_p95_us"),
        ("delete (µs)", "delete_median_us", "delete_p95_us"),
    ]
    names = list(results)
    print(f"bench_pg_write ({'quick' if args.quick else 'full'}, median / p95)")
    print(f"{'':28}" + "".join(f"{name:>24}" for name in names))
    for label, med, p95 in rows:
        cells = [f"{results[x][med]:.0f} / {results[x][p95]:.0f}" for x in names]
        print(f"{label:28}" + "".join(f"{c:>24}" for c in cells))
    n = int(results[names[0]]["bulk_n"])
    for label, field in (
        (f"store_many, {n:,} rows/s", "store_many_rows_per_s"),
        (f"store_many text, {n:,} rows/s", "store_many_text_rows_per_s"),
    ):
        print(f"{label:28}" + "".join(f"{results[x][field]:>24,.0f}" for x in names))
    if all("store_client_cpu_us" in results[x] for x in names):
        cells = [
            f"{results[x]['store_client_cpu_us']:.0f} + {results[x]['store_server_cpu_us']:.0f}"
            for x in names
        ]
        print(f"{'CPU per store, client + server (µs)':28}" + "".join(f"{c:>24}" for c in cells))
    return 0


if __name__ == "__main__":
    sys.exit(main())
