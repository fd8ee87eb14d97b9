"""Sweeps on SQLite: flat as the store grows, and what the search index costs them.

prefix sweep   ``delete_expired(prefix="coordination/")`` with nothing expired (what a
               hook runs on every task), on stores of S and 20*S ``coordination/*``
               entries; beside it the same statement in its old shape (the prefix as a
               key range), which SQLite's planner ran over the key index: every row
               under the prefix, expired or not.
index delete   deleting N expired rows (of 2N, text values) three ways, each on its own
               copy of one database file: the DELETE whose trigger removes each row's
               FTS5 entry (what a sweep does), one set-based ``INSERT … SELECT 'delete'``
               into FTS5 followed by the DELETE without the trigger, and the floor, the
               bare DELETE with no index maintenance at all; the same-work floor (what
               the sweep writes, in raw SQL in one transaction: the change-log rows,
               the set-based unindexing, the DELETE); and the store's own sweep
               (``delete_expired``: counts, a sample of keys, the change log, and the
               set-based deletion), to compare with the floors.

Interleaved rounds, medians, in one run. ``--quick`` (CI) runs small sizes once.
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from lifecycle import ManualClock, MemoryLifecycleManager
from lifecycle.store.sqlite.store import SQLiteStore

NOW = 1_800_000_000.0
POLICIES = """
namespaces:
  - {namespace: "tmp/*", ttl_seconds: 60, cleanup_strategy: scheduled, conflict_strategy: lww}
"""
STRATEGIES = ["lazy", "scheduled"]
OLD_SHAPE = (
    "SELECT policy, tombstone, COUNT(*) FROM entries WHERE expires_at <= ? AND "
    "(tombstone = 1 OR cleanup IN (?, ?)) AND key >= ? AND key < ? GROUP BY policy, tombstone"
)


def fill(directory: Path, count: int, prefix: str, clock: ManualClock) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    policy = directory / "policies.yaml"
    policy.write_text(POLICIES)
    with MemoryLifecycleManager(memory_dir=directory, policy_file=policy, clock=clock) as m:
        for low in range(0, count, 1000):
            m.store_many(
                [
                    {"key": f"{prefix}/k{i}", "value": {"note": f"entry {i} about w{i % 997}"}}
                    for i in range(low, min(count, low + 1000))
                ]
            )
    return directory / "memory.db"


def prefix_sweep(sizes: list[int], rounds: int) -> dict[str, dict[str, float]]:
    """Median ms of one prefix sweep (and of the old statement shape) per store size."""
    out: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        stores = {}
        for size in sizes:
            db = fill(Path(tmp) / f"s{size}", size, "coordination", ManualClock(NOW))
            stores[size] = SQLiteStore(db)
        times: dict[tuple[int, str], list[float]] = {}
        for _ in range(rounds):
            for size, store in stores.items():
                for name, run in _sweeps(store):
                    started = time.perf_counter()
                    for _ in range(20):
                        run()
                    times.setdefault((size, name), []).append(
                        (time.perf_counter() - started) / 20 * 1000
                    )
        for store in stores.values():
            store.close()
    for (size, name), samples in times.items():
        out.setdefault(f"{size} entries", {})[name] = statistics.median(samples)
    return out


def _sweeps(store: SQLiteStore) -> list[tuple[str, Callable[[], object]]]:
    conn = store._conn()
    old = (NOW + 1, *STRATEGIES, "coordination/", "coordination/\U0010ffff")
    return [
        ("ours", lambda: store.delete_expired(NOW + 1, STRATEGIES, "coordination/")),
        ("old shape", lambda: conn.execute(OLD_SHAPE, old).fetchall()),
    ]


def _deleting(db: Path, how: str) -> Callable[[], float]:
    def run() -> float:
        if how == "sweep":  # the store's own, counts, sample and change log included
            store = SQLiteStore(db)
            # every way starts with the copy's WAL and -shm made (and here the writers'
            # gate file): making them is file-system work none of the ways is about
            store.end_turn("bench", "nobody")
            started = time.perf_counter()
            store.delete_expired(NOW + 120, STRATEGIES)
            elapsed = (time.perf_counter() - started) * 1000
            store.close()
            return elapsed
        conn = sqlite3.connect(db, isolation_level=None)
        conn.execute("PRAGMA synchronous = NORMAL")
        if how != "trigger":
            conn.execute("DROP TRIGGER entries_search_delete")
        else:
            conn.execute("DELETE FROM leases WHERE name = 'bench'")  # the WAL made, as above
        started = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        if how == "same work":  # what the sweep writes: change log, unindexing, DELETE
            conn.execute(
                "INSERT INTO changes (key, op, policy) SELECT key, 'expire', policy "
                "FROM entries WHERE expires_at <= ? AND tombstone = 0 ORDER BY +key",
                (NOW + 120,),
            )
        if how in ("set-based", "same work"):
            conn.execute(
                "INSERT INTO search(search, rowid, k, body, tags) SELECT 'delete', id, "
                "search_key, search_body, NULL FROM entries WHERE expires_at <= ? "
                "AND search_key IS NOT NULL",
                (NOW + 120,),
            )
        conn.execute("DELETE FROM entries WHERE expires_at <= ?", (NOW + 120,))
        conn.execute("COMMIT")
        elapsed = (time.perf_counter() - started) * 1000
        conn.close()
        return elapsed

    return run


def index_delete(expired: int, rounds: int) -> dict[str, float]:
    """Median ms to delete ``expired`` rows (of twice as many) each way."""
    with tempfile.TemporaryDirectory() as tmp:
        clock = ManualClock(NOW)
        base = fill(Path(tmp) / "base", expired, "tmp", clock)  # expire at NOW + 60
        clock.tick(3600)
        policy = Path(tmp) / "base" / "policies.yaml"
        with MemoryLifecycleManager(memory_dir=base.parent, policy_file=policy, clock=clock) as m:
            for low in range(0, expired, 1000):
                m.store_many(
                    [
                        {"key": f"keep/k{i}", "value": f"kept note {i}"}
                        for i in range(low, min(expired, low + 1000))
                    ]
                )
        times: dict[str, list[float]] = {}
        ways = ["sweep", "trigger", "set-based", "same work", "floor"]
        for r in range(rounds):
            for how in ways[r % 5 :] + ways[: r % 5]:  # rotate the order
                copy = Path(tmp) / f"{how}-{r}.db"
                shutil.copy(base, copy)
                times.setdefault(how, []).append(_deleting(copy, how)())
                copy.unlink()
    return {how: statistics.median(samples) for how, samples in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="small sizes, one round (CI)")
    args = parser.parse_args()
    sizes = [500, 10_000] if args.quick else [5_000, 100_000]
    rounds = 1 if args.quick else 7
    print("prefix sweep, nothing expired (ms, median):")
    for size, row in prefix_sweep(sizes, rounds).items():
        print(f"  {size:>16}: ours {row['ours']:.3f}   old shape {row['old shape']:.3f}")
    expired = 300 if args.quick else 3000
    print(f"deleting {expired} expired rows of {2 * expired} with their FTS5 entries (ms, median):")
    result = index_delete(expired, 4 if args.quick else 16)
    floor = result["floor"]
    same = result["same work"]
    for how in ("sweep", "trigger", "set-based", "same work", "floor"):
        print(
            f"  {how:>10}: {result[how]:.2f}  ({result[how] / floor:.2f}x the bare DELETE, "
            f"{result[how] / same:.2f}x the same work)"
        )


if __name__ == "__main__":
    main()
