"""Engine speed against the floor: raw sqlite3 doing the same work in the same process.

store    vs  one raw upsert (JSON-encoded value, WAL, synchronous=NORMAL, autocommit)
retrieve vs  one raw indexed SELECT + json.loads
cleanup  vs  one indexed DELETE of the same N expired rows

Aim (issue 2): store and retrieve within 3x of the floor, cleanup within 3x.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from lifecycle import ManualClock, MemoryLifecycleManager

VALUE = {"task_id": "task-123", "status": "running", "step": 3, "notes": "x" * 120}


def _per_op_us(fn: Callable[[int], object], n: int, rounds: int) -> float:
    """Median over rounds of the mean per-op time, in microseconds."""
    samples = []
    for r in range(rounds):
        start = time.perf_counter()
        for i in range(n):
            fn(r * n + i)
        samples.append((time.perf_counter() - start) / n * 1e6)
    return statistics.median(samples)


def _raw(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute(
        "CREATE TABLE kv (key TEXT PRIMARY KEY, value BLOB, expires_at REAL, updated_at REAL)"
    )
    conn.execute("CREATE INDEX kv_exp ON kv(expires_at) WHERE expires_at IS NOT NULL")
    return conn


def run(quick: bool) -> dict[str, dict[str, float]]:
    n, rounds, keys = (300, 3, 50) if quick else (5000, 5, 1000)
    expired_n = 2000 if quick else 100_000
    out: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        conn = _raw(Path(tmp) / "raw.db")
        now = time.time()

        def raw_store(i: int) -> None:
            conn.execute(
                "INSERT INTO kv VALUES (?, ?, ?, ?) ON CONFLICT(key) DO UPDATE SET "
                "value = excluded.value, expires_at = excluded.expires_at, "
                "updated_at = excluded.updated_at",
                (f"coordination/k{i % keys}", json.dumps(VALUE).encode(), now + 3600, now),
            )

        def raw_retrieve(i: int) -> object:
            row = conn.execute(
                "SELECT value FROM kv WHERE key = ?", (f"coordination/k{i % keys}",)
            ).fetchone()
            return json.loads(row[0])

        clock = ManualClock(now)
        m = MemoryLifecycleManager(memory_dir=Path(tmp) / "engine", clock=clock)
        store_floor = _per_op_us(raw_store, n, rounds)
        store_ours = _per_op_us(lambda i: m.store(f"coordination/k{i % keys}", VALUE), n, rounds)
        retrieve_floor = _per_op_us(raw_retrieve, n, rounds)
        retrieve_ours = _per_op_us(lambda i: m.retrieve(f"coordination/k{i % keys}"), n, rounds)
        out["store"] = {"floor_us": store_floor, "ours_us": store_ours}
        out["retrieve"] = {"floor_us": retrieve_floor, "ours_us": retrieve_ours}

        # cleanup: N expired among as many live rows
        old = now - 7200
        with conn:
            conn.executemany(
                "INSERT INTO kv VALUES (?, ?, ?, ?)",
                [(f"old/{i}", b'"v"', old + 3600, old) for i in range(expired_n)]
                + [(f"live/{i}", b'"v"', now + 3600, now) for i in range(expired_n)],
            )
        start = time.perf_counter()
        deleted = conn.execute("DELETE FROM kv WHERE expires_at <= ?", (now,)).rowcount
        floor_ms = (time.perf_counter() - start) * 1000
        assert deleted == expired_n
        for start_i in range(0, expired_n, 1000):
            m.store_many(
                [
                    {"key": f"coordination/old/{i}", "value": "v", "timestamp": old}
                    for i in range(start_i, min(start_i + 1000, expired_n))
                ]
            )
            m.store_many(
                [
                    {"key": f"coordination/live/{i}", "value": "v"}
                    for i in range(start_i, min(start_i + 1000, expired_n))
                ]
            )
        report = m.cleanup()
        assert report["deleted_count"] == expired_n, report
        out[f"cleanup_{expired_n}"] = {"floor_ms": floor_ms, "ours_ms": report["duration_ms"]}
        m.close()
        conn.close()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a few hundred ops: checks it runs")
    args = parser.parse_args(argv)
    results = run(args.quick)
    print(f"{'operation':<16}{'floor':>12}{'ours':>12}{'ratio':>8}")
    for name, r in results.items():
        unit = "us" if "floor_us" in r else "ms"
        floor, ours = r[f"floor_{unit}"], r[f"ours_{unit}"]
        print(f"{name:<16}{floor:>10.1f}{unit}{ours:>10.1f}{unit}{ours / floor:>7.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
