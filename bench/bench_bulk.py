"""Bulk writes on SQLite: ``store_many`` against a raw ``executemany`` of the same rows.

ours   ``MemoryLifecycleManager.store_many`` loading N new keys in batches of 1,000
       (N = 1,000,000; 5,000 with --quick), all validation, CRDT state, change feed and
       search index included, timed end to end
floor  the rows that load wrote, read back from its file (untimed) and written again
       into a fresh store of the same schema, same pragmas (WAL, ``synchronous=NORMAL``),
       by raw ``sqlite3`` in this process: per batch of 1,000, ``BEGIN IMMEDIATE``, one
       ``executemany`` each for the ``entries`` rows (every column, the indexed text
       included), their FTS5 rows and their change-log rows, ``COMMIT``. What the floor
       leaves out is everything that is not writing: checking values, reading what is
       there, merging, encoding, tokenizing, building results.

Two values: ``status``, a small status document (the one ``bench_store`` uses), and
``text``, ~40 words of prose from ``bench/corpus.py`` (more index work per row).

    python -m bench.bench_bulk [--quick] [--n N] [--json]
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from bench.corpus import Corpus
from lifecycle import MemoryLifecycleManager

STATUS = {"task_id": "task-123", "status": "running", "step": 3, "notes": "x" * 120}
BATCH = 1000
ENTRY_COLUMNS = (
    "id, key, policy, strategy, cleanup, codec, payload, size_bytes, created_at, updated_at, "
    "expires_at, ttl_seconds, actor, tombstone, tags, revision, search_key, search_body"
)


def load(path: Path, n: int, value: Callable[[int], Any]) -> float:
    """``store_many`` of ``n`` new keys in batches; seconds taken (making the values is
    not counted)."""
    elapsed = 0.0
    with MemoryLifecycleManager(store=str(path)) as m:
        m.store("notes/warm", 1)  # connections open, policies loaded
        for start in range(0, n, BATCH):
            items = [
                {"key": f"notes/bulk/{i:07d}", "value": value(i)}
                for i in range(start, min(start + BATCH, n))
            ]
            started = time.perf_counter()
            m.store_many(items)
            elapsed += time.perf_counter() - started
        assert m.get_stats()["total_entries"] == n + 1
    return elapsed


def _batches(source: Path) -> Iterator[tuple[list[Any], list[Any], list[Any]]]:
    """The loaded rows, batch by batch: entries, index rows, change-log rows."""
    conn = sqlite3.connect(source)
    last = ""
    while True:
        rows = conn.execute(
            f"SELECT {ENTRY_COLUMNS} FROM entries WHERE key > ? AND key LIKE 'notes/bulk/%' "
            "ORDER BY key LIMIT ?",
            (last, BATCH),
        ).fetchall()
        if not rows:
            conn.close()
            return
        last = rows[-1][1]
        index = [(r[0], r[16], r[17], _tag_tokens(r[14])) for r in rows]
        changes = [(r[15], r[1], "put", r[2]) for r in rows]
        yield rows, index, changes


def _tag_tokens(tags: str | None) -> str | None:
    return " ".join("t" + t.encode().hex() for t in json.loads(tags)) if tags else None


def floor(source: Path, target: Path) -> tuple[float, int]:
    """Write ``source``'s loaded rows into a fresh store at ``target`` with raw
    ``executemany``; seconds spent writing (reading the source is not counted), rows."""
    MemoryLifecycleManager(store=str(target)).close()  # the same schema, made by the store
    conn = sqlite3.connect(target, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    marks = ",".join("?" * 18)
    spent = 0.0
    count = 0
    for rows, index, changes in _batches(source):
        started = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(f"INSERT INTO entries ({ENTRY_COLUMNS}) VALUES ({marks})", rows)
        conn.executemany("INSERT INTO search(rowid, k, body, tags) VALUES (?, ?, ?, ?)", index)
        conn.executemany("INSERT INTO changes VALUES (?, ?, ?, ?)", changes)
        conn.execute("COMMIT")
        spent += time.perf_counter() - started
        count += len(rows)
    conn.close()
    return spent, count


def measure(n: int) -> dict[str, dict[str, float]]:
    corpus = Corpus()
    values: dict[str, Callable[[int], Any]] = {"status": lambda i: STATUS, "text": corpus.value}
    out: dict[str, dict[str, float]] = {}
    for name, value in values.items():
        with tempfile.TemporaryDirectory() as tmp:
            ours_s = load(Path(tmp) / "ours.db", n, value)
            floor_s, rows = floor(Path(tmp) / "ours.db", Path(tmp) / "floor.db")
        assert rows == n, (rows, n)
        out[name] = {
            "n": n,
            "ours_rows_per_s": n / ours_s,
            "floor_rows_per_s": n / floor_s,
            "ratio": ours_s / floor_s,
        }
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5,000 entries, a few seconds")
    parser.add_argument("--n", type=int, help="entries per value kind (default 1,000,000)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    n = args.n or (5000 if args.quick else 1_000_000)
    results = measure(n)
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    print(f"bench_bulk (N={n:,} new keys, batches of {BATCH:,})")
    print(f"{'value':10}{'store_many rows/s':>20}{'raw floor rows/s':>20}{'ratio':>8}")
    for name, r in results.items():
        print(
            f"{name:10}{r['ours_rows_per_s']:>20,.0f}{r['floor_rows_per_s']:>20,.0f}"
            f"{r['ratio']:>7.2f}x"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
