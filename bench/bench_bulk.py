"""Bulk writes on SQLite: ``store_many`` against a raw ``executemany`` of the same rows.

ours   ``MemoryLifecycleManager.store_many`` loading N new keys in batches of 1,000
       (N = 1,000,000; 5,000 with --quick), all validation, CRDT state, change feed and
       search index included, timed end to end
floor  the rows each batch wrote, read back from its file (untimed) and written again
       into a fresh store of the same schema, same pragmas (WAL, ``synchronous=NORMAL``),
       by raw ``sqlite3`` in this process, right after the batch (A B A B, so both sides
       see the same machine): per batch of 1,000, ``BEGIN IMMEDIATE``, one
       ``executemany`` each for the ``entries`` rows (every column, the indexed text
       included; rows with no expiry, TTL or tags without those NULL columns), their FTS5
       rows and their change-log rows, ``COMMIT``; payloads bound as ``bytearray``
       (the engine binds them so too: see ``_batch_rows``). What the floor
       leaves out is everything that is not writing: checking values, reading what is
       there, merging, encoding, tokenizing, building results.

Two values: ``status``, a small status document (the one ``bench_store`` uses), and
``text``, ~40 words of prose from ``bench/corpus.py`` (more index work per row).

    python -m bench.bench_bulk [--quick] [--n N] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
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
BARE_COLUMNS = (  # the same without the NULL ones (expiry, TTL, tags) and the default tombstone
    "id, key, policy, strategy, cleanup, codec, payload, size_bytes, created_at, updated_at, "
    "actor, revision, search_key, search_body"
)


def _batch_rows(conn: sqlite3.Connection, keys: list[str]) -> tuple[list[Any], ...]:
    """The rows ``store_many`` just wrote for ``keys``, ready to bind the cheapest way
    ``sqlite3`` has: entries, entries without NULL columns, index rows, index rows
    without tags, change-log rows. (``sqlite3`` looks for an adapter for every ``bytes``
    and ``None`` it binds, ~3k instructions each, and the engine avoids that: payloads
    as ``bytearray``, NULL columns left out. So does the floor, or it pays for binding
    work the engine does not do.)"""
    rows = conn.execute(
        f"SELECT {ENTRY_COLUMNS} FROM entries WHERE key IN (SELECT value FROM json_each(?)) "
        "ORDER BY key",
        (json.dumps(keys),),
    ).fetchall()
    full = [(*r[:6], bytearray(r[6]), *r[7:]) for r in rows if not _bare(r)]
    bare = [(*r[:6], bytearray(r[6]), *r[7:10], r[12], *r[15:]) for r in rows if _bare(r)]
    index = [(r[0], r[16], r[17], _tag_tokens(r[14])) for r in rows if r[14]]
    index_bare = [(r[0], r[16], r[17]) for r in rows if not r[14]]
    changes = [(r[15], r[1], "put", r[2]) for r in rows]
    return full, bare, index, index_bare, changes


FLOOR_STATEMENTS = (
    f"INSERT INTO entries ({ENTRY_COLUMNS}) VALUES ({','.join('?' * 18)})",
    f"INSERT INTO entries ({BARE_COLUMNS}) VALUES ({','.join('?' * 14)})",
    "INSERT INTO search(rowid, k, body, tags) VALUES (?, ?, ?, ?)",
    "INSERT INTO search(rowid, k, body) VALUES (?, ?, ?)",
    "INSERT INTO changes VALUES (?, ?, ?, ?)",
)


def write_floor(conn: sqlite3.Connection, batch: tuple[list[Any], ...]) -> None:
    """The floor's timed part: one transaction, one ``executemany`` per kind of row."""
    conn.execute("BEGIN IMMEDIATE")
    for statement, rows in zip(FLOOR_STATEMENTS, batch, strict=True):
        if rows:
            conn.executemany(statement, rows)
    conn.execute("COMMIT")


def _bare(row: Any) -> bool:
    """No expiry, TTL or tags: the row's NULL columns can be left out of its insert."""
    return bool(row[10] is None and row[11] is None and row[14] is None and row[13] == 0)


def _tag_tokens(tags: str | None) -> str | None:
    return " ".join("t" + t.encode().hex() for t in json.loads(tags)) if tags else None


class Timer:
    """Wall and CPU seconds spent inside ``with`` blocks."""

    def __init__(self) -> None:
        self.wall = 0.0
        self.cpu = 0.0

    def __enter__(self) -> Timer:
        self._wall, self._cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall += time.perf_counter() - self._wall
        self.cpu += time.process_time() - self._cpu


def load(tmp: Path, n: int, value: Callable[[int], Any]) -> tuple[Timer, Timer]:
    """Batch by batch, A B A B: ``store_many`` of ``BATCH`` new keys into our store, then
    the rows it wrote, read back (untimed), written by raw ``executemany`` into the
    floor's store (the same schema, made by the store; the same pragmas)."""
    ours, floor = Timer(), Timer()
    target = tmp / "floor.db"
    MemoryLifecycleManager(store=str(target)).close()  # the same schema, made by the store
    conn = sqlite3.connect(target, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    with MemoryLifecycleManager(store=str(tmp / "ours.db")) as m:
        m.store("notes/warm", 1)  # connections open, policies loaded
        source = sqlite3.connect(tmp / "ours.db")
        for start in range(0, n, BATCH):
            items = [
                {"key": f"notes/bulk/{i:07d}", "value": value(i)}
                for i in range(start, min(start + BATCH, n))
            ]
            with ours:
                m.store_many(items)
            full, bare, index, index_bare, changes = _batch_rows(
                source, [item["key"] for item in items]
            )
            assert len(full) + len(bare) == len(items)
            with floor:
                write_floor(conn, (full, bare, index, index_bare, changes))
        source.close()
        assert m.get_stats()["total_entries"] == n + 1
    conn.close()
    return ours, floor


def measure(n: int) -> dict[str, dict[str, float]]:
    corpus = Corpus()
    values: dict[str, Callable[[int], Any]] = {"status": lambda i: STATUS, "text": corpus.value}
    out: dict[str, dict[str, float]] = {}
    for name, value in values.items():
        with tempfile.TemporaryDirectory() as tmp:
            ours, floor = load(Path(tmp), n, value)
        out[name] = {
            "n": n,
            "ours_rows_per_s": n / ours.wall,
            "floor_rows_per_s": n / floor.wall,
            "ratio": ours.wall / floor.wall,
            "ours_cpu_s": ours.cpu,
            "floor_cpu_s": floor.cpu,
            "cpu_ratio": ours.cpu / floor.cpu,
        }
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5,000 entries, a few seconds")
    parser.add_argument("--n", type=int, help="entries per value kind (default 1,000,000)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    n = args.n or (5000 if args.quick else 1_000_000)
    load_before = os.getloadavg()[0]
    results = measure(n)
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    print(
        f"bench_bulk (N={n:,} new keys, batches of {BATCH:,}, interleaved; 1-minute load "
        f"{load_before:.1f} at the start, {os.getloadavg()[0]:.1f} at the end)"
    )
    print(
        f"{'value':10}{'store_many rows/s':>20}{'raw floor rows/s':>20}{'ratio':>8}"
        f"{'CPU s ours':>12}{'floor':>8}{'ratio':>8}"
    )
    for name, r in results.items():
        print(
            f"{name:10}{r['ours_rows_per_s']:>20,.0f}{r['floor_rows_per_s']:>20,.0f}"
            f"{r['ratio']:>7.2f}x{r['ours_cpu_s']:>12.2f}{r['floor_cpu_s']:>8.2f}"
            f"{r['cpu_ratio']:>7.2f}x"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
