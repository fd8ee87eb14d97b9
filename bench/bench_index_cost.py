"""What the full-text index adds to writes: ``store`` and ``store_many`` with text values.

store (new text)   median of single ``store()`` calls whose value's words change each
                   time, so the index entry is rewritten (1,000 keys, cycled; ``notes/*``
                   matches no policy: last-write-wins, never expires)
store (same text)  median of single ``store()`` calls that change only a number, so the
                   indexed text is unchanged (the common status update)
store_many         rows/s of a bulk load of new keys in batches of 1,000

Aim (issue 14): at most 1.3x of the same calls before the index existed. The numbers
before were measured by running this module against the commit before search
(``git archive 89017b5``), with the same corpus; see bench/RESULTS.md.

    python -m bench.bench_index_cost [--quick] [--postgres URL] [--json]
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
from bench.corpus import Corpus
from lifecycle import ManualClock, MemoryLifecycleManager

KEYS = 1000
BATCH = 1000


def measure(url: str, quick: bool) -> dict[str, float]:
    n = 300 if quick else 5000
    bulk = 2000 if quick else 50_000
    corpus = Corpus()
    values = [corpus.value(i) for i in range(max(n, KEYS))]
    bulk_values = [corpus.value(i) for i in range(bulk)]
    with MemoryLifecycleManager(store=url, clock=ManualClock(time.time())) as m:
        for i in range(KEYS):  # warm: every key exists, connections are open
            m.store(f"notes/k{i}", values[i])
        new_med, new_p95 = median_us(
            lambda i: m.store(f"notes/k{i % KEYS}", values[(i * 7 + 1) % len(values)]), n
        )
        same_med, same_p95 = median_us(
            lambda i: m.store(f"coordination/k{i % KEYS}", {"status": "running", "step": i}), n
        )
        started = time.perf_counter()
        for start in range(0, bulk, BATCH):
            m.store_many(
                {"key": corpus.key(i), "value": bulk_values[i]}
                for i in range(start, min(start + BATCH, bulk))
            )
        load_s = time.perf_counter() - started
    return {
        "store_new_text_median_us": new_med,
        "store_new_text_p95_us": new_p95,
        "store_same_text_median_us": same_med,
        "store_same_text_p95_us": same_p95,
        "store_many_rows_per_s": bulk / load_s,
        "bulk_n": bulk,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, a few seconds")
    parser.add_argument("--postgres", metavar="URL", help="also measure this PostgreSQL server")
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
        ("store, new text (µs)", "store_new_text_median_us", "store_new_text_p95_us"),
        ("store, same text (µs)", "store_same_text_median_us", "store_same_text_p95_us"),
    ]
    names = list(results)
    print(f"bench_index_cost ({'quick' if args.quick else 'full'})")
    print(f"{'median / p95':28}" + "".join(f"{name:>16}" for name in names))
    for label, med, p95 in rows:
        cells = "".join(f"{results[x][med]:>9.0f} /{results[x][p95]:>5.0f}" for x in names)
        print(f"{label:28}{cells}")
    print(
        f"{'store_many (rows/s)':28}"
        + "".join(f"{results[x]['store_many_rows_per_s']:>16,.0f}" for x in names)
    )
    if not pg_url:
        print("(PostgreSQL skipped: set MEMORY_LIFECYCLE_TEST_POSTGRES or pass --postgres URL)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
