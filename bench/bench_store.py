"""SQLite and PostgreSQL side by side, through the MemoryLifecycleManager API.

store     median of single ``store()`` calls (one read-modify-write transaction each)
retrieve  median of single ``retrieve()`` calls (one committed read each)
cleanup   one ``cleanup()`` of N expired entries (N = 100,000; 2,000 with --quick),
          bulk-loaded with ``store_many`` in batches of 1,000 at an old timestamp

PostgreSQL runs when ``MEMORY_LIFECYCLE_TEST_POSTGRES`` is set or ``--postgres URL`` is
given; it works in a fresh schema, dropped afterwards.

    python -m bench.bench_store [--quick] [--postgres postgresql://user@host/db] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from bench.common import fresh_schema, median_us
from lifecycle import ManualClock, MemoryLifecycleManager

VALUE = {"task_id": "task-123", "status": "running", "step": 3, "notes": "x" * 120}
BATCH = 1000


def measure(url: str, quick: bool) -> dict[str, float]:
    n, keys = (300, 50) if quick else (5000, 1000)
    expired_n = 2000 if quick else 100_000
    now = time.time()
    with MemoryLifecycleManager(store=url, clock=ManualClock(now)) as m:
        for i in range(keys):  # warm: every key exists, connections are open
            m.store(f"coordination/k{i}", VALUE)
        store_med, store_p95 = median_us(lambda i: m.store(f"coordination/k{i % keys}", VALUE), n)
        retrieve_med, retrieve_p95 = median_us(lambda i: m.retrieve(f"coordination/k{i % keys}"), n)

        started = time.perf_counter()
        old = now - 7200  # coordination/* lives 1 h: these expired an hour ago
        for start in range(0, expired_n, BATCH):
            m.store_many(
                {"key": f"coordination/old/{i:07d}", "value": VALUE, "timestamp": old + i * 1e-6}
                for i in range(start, min(start + BATCH, expired_n))
            )
        load_s = time.perf_counter() - started
        pending = m.get_stats()["expired_pending"]
        assert pending == expired_n, f"expected {expired_n} expired entries, found {pending}"

        started = time.perf_counter()
        report = m.cleanup()
        cleanup_ms = (time.perf_counter() - started) * 1000
        assert report["deleted_count"] == expired_n, report
        assert m.get_stats()["total_entries"] == keys
    return {
        "store_median_us": store_med,
        "store_p95_us": store_p95,
        "retrieve_median_us": retrieve_med,
        "retrieve_p95_us": retrieve_p95,
        "expired_n": expired_n,
        "bulk_load_rows_per_s": expired_n / load_s,
        "cleanup_ms": cleanup_ms,
        "cleanup_us_per_row": cleanup_ms * 1000 / expired_n,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, a few seconds")
    parser.add_argument("--postgres", metavar="URL", help="PostgreSQL server to compare with")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    pg_url = args.postgres or os.environ.get("MEMORY_LIFECYCLE_TEST_POSTGRES")

    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        results["sqlite"] = measure(str(Path(tmp) / "memory.db"), args.quick)
    if pg_url:
        with fresh_schema(pg_url) as schema_url:
            results["postgresql"] = measure(schema_url, args.quick)

    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    rows = [
        ("store median (µs/op)", "store_median_us", "{:.0f}"),
        ("store p95 (µs/op)", "store_p95_us", "{:.0f}"),
        ("retrieve median (µs/op)", "retrieve_median_us", "{:.0f}"),
        ("retrieve p95 (µs/op)", "retrieve_p95_us", "{:.0f}"),
        ("bulk load (rows/s)", "bulk_load_rows_per_s", "{:,.0f}"),
        ("cleanup of N expired (ms)", "cleanup_ms", "{:.0f}"),
        ("cleanup per row (µs)", "cleanup_us_per_row", "{:.1f}"),
    ]
    names = list(results)
    n = int(results["sqlite"]["expired_n"])
    print(f"bench_store ({'quick' if args.quick else 'full'}, N={n:,} expired)")
    print(f"{'':28}" + "".join(f"{name:>14}" for name in names))
    for label, field, fmt in rows:
        print(f"{label:28}" + "".join(f"{fmt.format(results[x][field]):>14}" for x in names))
    if not pg_url:
        print("(PostgreSQL skipped: set MEMORY_LIFECYCLE_TEST_POSTGRES or pass --postgres URL)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
