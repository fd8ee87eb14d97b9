"""Engine speed against floors that do the same work, interleaved in one run (issue 24).

Both sides work on a store file of the same schema (the floor's is made by the store,
then written by raw ``sqlite3`` with the same pragmas: WAL, ``synchronous=NORMAL``), in
this process, in alternating blocks (A B A B, the order swapped every round); medians
of the per-operation means, wall time and CPU time (``time.process_time``).

store, new key      ours ``store()`` of a new key; floor one ``BEGIN IMMEDIATE``
                    transaction: the change-log row, the ``entries`` row (every column,
                    the indexed text included, so its indexes move too), its FTS5 row
store, same text    a re-store of an existing key whose indexed text does not change (a
                    status document whose ``step`` moves); floor the change-log row and
                    the row's update: no index work, as ours does none
store, new text     a re-store whose text changes; floor as above plus the FTS5 delete of
                    the old text and the insert of the new
store, new text,    the same re-stores against a second floor that reads the key's row id
 floor reads old    and old text in the transaction (``SELECT id, search_body ... WHERE
 row                key = ?``), as a store shared by processes must, instead of keeping
                    them in a dict as the first floor does (reported, not the aim's)
store, new text,    the same against a third floor: the second plus the system calls of
 floor + guards     the store's write guarantees (the writer gate's ``flock`` and release,
                    a ``stat`` of the database before and of it and its WAL after the
                    commit); it shows what those guarantees cost (reported, not the aim's)
retrieve            ours ``retrieve()``; floor a primary-key ``SELECT`` of the same
                    columns from the same file, and ``json.loads`` of the stored payload
cleanup             ``bench.bench_sweep``'s deletion of N expired rows of 2N (text
                    values), each way on its own copy of one file: ours the store's
                    sweep, the floor the same work in raw SQL (change-log rows, the
                    set-based FTS5 unindexing, the DELETE, one transaction)

Aims (issue 24): store within ~2x, retrieve within ~1.8x, cleanup within ~1.5x.

    python -m bench.bench_engine [--quick] [--json]
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import bench_sweep
from lifecycle import ManualClock, MemoryLifecycleManager
from lifecycle.store.sqlite.search import SEPARATOR

COLUMNS = (
    "key, policy, strategy, cleanup, codec, payload, size_bytes, created_at, updated_at, "
    "expires_at, ttl_seconds, actor, tombstone, tags, revision"
)
AIMS = {"store": 2.0, "retrieve": 1.8, "cleanup": 1.5}


def status(i: int, notes: str = "x" * 120) -> dict[str, Any]:
    return {"task_id": "task-123", "status": "running", "step": i, "notes": notes}


def _text(value: dict[str, Any]) -> str:
    """Roughly the indexed body the engine computes (the floor writes text of that size)."""
    return f" {SEPARATOR} ".join(f"{k.replace('_', ' ')} {v}" for k, v in value.items())


class Floor:
    """Raw ``sqlite3`` doing a store's writes on a file of the store's schema."""

    def __init__(self, path: Path) -> None:
        MemoryLifecycleManager(store=str(path)).close()  # the same tables and indexes
        self.conn = sqlite3.connect(path, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode = WAL")
        self.conn.execute("PRAGMA synchronous = NORMAL")
        self.rows: dict[str, tuple[int, str]] = {}  # key -> (id, indexed text)

    def store(self, key: str, value: dict[str, Any], now: float) -> None:
        conn = self.conn
        payload = json.dumps(value, separators=(",", ":")).encode()
        body = _text(value)
        search_key = key.replace("/", " ")
        conn.execute("BEGIN IMMEDIATE")
        old = self.old(key)
        revision = conn.execute(
            "INSERT INTO changes (key, op, policy) VALUES (?, 'put', 'coordination/*')", (key,)
        ).lastrowid
        if old is None:
            row_id = conn.execute(
                "INSERT INTO entries (key, policy, strategy, cleanup, codec, payload, "
                "size_bytes, created_at, updated_at, expires_at, ttl_seconds, actor, tombstone, "
                "tags, revision, search_key, search_body) "
                "VALUES (?, 'coordination/*', 'lww', 'lazy', 'json', ?, ?, ?, ?, ?, NULL, "
                "'bench', 0, NULL, ?, ?, ?)",
                (key, payload, len(payload), now, now, now + 3600, revision, search_key, body),
            ).lastrowid
            assert row_id is not None
        else:
            row_id = old[0]
            conn.execute(
                "UPDATE entries SET policy = 'coordination/*', strategy = 'lww', "
                "cleanup = 'lazy', codec = 'json', payload = ?, size_bytes = ?, "
                "updated_at = ?, expires_at = ?, ttl_seconds = NULL, actor = 'bench', "
                "tombstone = 0, tags = NULL, revision = ?, search_key = ?, search_body = ? "
                "WHERE id = ?",
                (payload, len(payload), now, now + 3600, revision, search_key, body, row_id),
            )
        if old is None or old[1] != body:
            if old is not None:
                conn.execute(
                    "INSERT INTO search (search, rowid, k, body, tags) "
                    "VALUES ('delete', ?, ?, ?, NULL)",
                    (row_id, search_key, old[1]),
                )
            conn.execute(
                "INSERT INTO search (rowid, k, body, tags) VALUES (?, ?, ?, NULL)",
                (row_id, search_key, body),
            )
        conn.execute("COMMIT")
        self.remember(key, row_id, body)

    def old(self, key: str) -> tuple[int, str] | None:
        """The key's row id and indexed text, if it has a row (kept here, in a dict)."""
        return self.rows.get(key)

    def remember(self, key: str, row_id: int, body: str) -> None:
        self.rows[key] = (row_id, body)


class FloorReadingOldRow(Floor):
    """``Floor``, but reading the key's row id and old indexed text inside the transaction
    (``SELECT id, search_body FROM entries WHERE key = ?``) instead of keeping them in a
    dict: what a store shared by several processes has to do. A second floor, reported
    beside the first (issue 24); the first stays the aim's."""

    def old(self, key: str) -> tuple[int, str] | None:
        found = self.conn.execute(
            "SELECT id, search_body FROM entries WHERE key = ?", (key,)
        ).fetchone()
        return None if found is None else (found[0], found[1])

    def remember(self, key: str, row_id: int, body: str) -> None:
        pass


class FloorWithFileChecks(FloorReadingOldRow):
    """``FloorReadingOldRow`` plus the system calls of the store's write guarantees, as
    ours makes them around every write transaction: the writer gate's exclusive ``flock``
    on a sidecar file and its release (fairness between processes, ``store/sqlite/gate.py``),
    a ``stat`` of the database before (a store file replaced or removed under an open
    connection is noticed before writing to it) and of the database and its WAL after the
    commit (``store/sqlite/files.py``). A third floor, reported beside the others (the
    first stays the aim's): it shows how much of the gap is those guarantees."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.path, self.wal = str(path), f"{path}-wal"
        self.gate = os.open(f"{path}-writer", os.O_RDWR | os.O_CREAT, 0o600)

    def store(self, key: str, value: dict[str, Any], now: float) -> None:
        fcntl.flock(self.gate, fcntl.LOCK_EX | fcntl.LOCK_NB)
        try:
            os.stat(self.path)
            super().store(key, value, now)
            os.stat(self.path)
            os.stat(self.wal)
        finally:
            fcntl.flock(self.gate, fcntl.LOCK_UN)

    def close(self) -> None:
        self.conn.close()
        os.close(self.gate)


def _block(fn: Callable[[int], object], start: int, n: int) -> tuple[float, float]:
    """Mean wall and CPU time per call of ``fn(start..start+n-1)``, in microseconds."""
    wall, cpu = time.perf_counter(), time.process_time()
    for i in range(start, start + n):
        fn(i)
    return (
        (time.perf_counter() - wall) / n * 1e6,
        (time.process_time() - cpu) / n * 1e6,
    )


def interleaved(
    ours: Callable[[int], object], floor: Callable[[int], object], n: int, rounds: int
) -> dict[str, float]:
    """Medians over ``rounds`` alternating blocks of ``n`` calls each side."""
    samples: dict[str, list[float]] = {}
    for r in range(rounds):
        sides = [("ours", ours), ("floor", floor)]
        for name, fn in sides if r % 2 == 0 else sides[::-1]:
            wall, cpu = _block(fn, r * n, n)
            samples.setdefault(f"{name}_us", []).append(wall)
            samples.setdefault(f"{name}_cpu_us", []).append(cpu)
    out = {name: statistics.median(values) for name, values in samples.items()}
    out["ratio"] = out["ours_us"] / out["floor_us"]
    out["cpu_ratio"] = out["ours_cpu_us"] / out["floor_cpu_us"]
    return out


def run(quick: bool) -> dict[str, dict[str, float]]:
    n, rounds, keys = (200, 2, 50) if quick else (2000, 9, 500)
    out: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        now = time.time()
        m = MemoryLifecycleManager(memory_dir=Path(tmp) / "engine", clock=ManualClock(now))
        raw = Floor(Path(tmp) / "floor.db")
        reading = FloorReadingOldRow(Path(tmp) / "floor-reading.db")
        guarded = FloorWithFileChecks(Path(tmp) / "floor-guarded.db")
        for i in range(keys):  # every re-stored key exists on every side
            m.store(f"coordination/k{i}", status(0))
            raw.store(f"coordination/k{i}", status(0), now)
            reading.store(f"coordination/k{i}", status(0), now)
            guarded.store(f"coordination/k{i}", status(0), now)

        def again(i: int) -> str:
            return f"coordination/k{i % keys}"

        cases: dict[str, tuple[Callable[[int], object], Callable[[int], object]]] = {
            "store, new key": (
                lambda i: m.store(f"coordination/new/{i}", status(i)),
                lambda i: raw.store(f"coordination/new/{i}", status(i), now),
            ),
            "store, same text": (
                lambda i: m.store(again(i), status(i)),
                lambda i: raw.store(again(i), status(i), now),
            ),
            "store, new text": (
                lambda i: m.store(again(i), status(i, f"note {i}")),
                lambda i: raw.store(again(i), status(i, f"note {i}"), now),
            ),
        }
        for name, (ours, floor) in cases.items():
            out[name] = interleaved(ours, floor, n, rounds)
        # the same case against the second floor (it reads the old row, as ours must);
        # reported on its own line, not the aim's
        out["store, new text, floor reads old row"] = interleaved(
            lambda i: m.store(again(i), status(i, f"note {i}")),
            lambda i: reading.store(again(i), status(i, f"note {i}"), now),
            n,
            rounds,
        )
        # and against the third (it also makes the gate's and the file checks' calls)
        out["store, new text, floor + guards"] = interleaved(
            lambda i: m.store(again(i), status(i, f"note {i}")),
            lambda i: guarded.store(again(i), status(i, f"note {i}"), now),
            n,
            rounds,
        )

        reader = sqlite3.connect(m.backend.path, isolation_level=None)  # the same rows

        def raw_retrieve(i: int) -> object:
            row = reader.execute(
                f"SELECT {COLUMNS} FROM entries WHERE key = ?", (again(i),)
            ).fetchone()
            return json.loads(row[5])

        assert m.retrieve(again(0)) is not None
        out["retrieve"] = interleaved(lambda i: m.retrieve(again(i)), raw_retrieve, n, rounds)
        reader.close()
        raw.conn.close()
        reading.conn.close()
        guarded.close()
        m.close()
    expired = 300 if quick else 3000
    sweep = bench_sweep.index_delete(expired, 4 if quick else 12)
    out[f"cleanup, {expired} of {2 * expired}"] = {
        "ours_us": sweep["sweep"] * 1000,
        "floor_us": sweep["same work"] * 1000,
        "ratio": sweep["sweep"] / sweep["same work"],
    }
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few hundred ops: checks it runs")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    load = os.getloadavg()[0]
    results = run(args.quick)
    if args.json:
        print(json.dumps({"load_1min": load, **results}, indent=2))
        return 0
    end = os.getloadavg()[0]
    print(f"bench_engine (1-minute load {load:.1f} at the start, {end:.1f} at the end)")
    print(
        f"{'operation':<38}{'ours':>10}{'floor':>10}{'ratio':>8}{'CPU ours':>10}{'floor':>8}"
        f"{'ratio':>7}{'aim':>6}"
    )
    for name, r in results.items():
        aim = AIMS[name.split(",")[0]]
        line = f"{name:<38}{r['ours_us']:>8.1f}us{r['floor_us']:>8.1f}us{r['ratio']:>7.2f}x"
        if "cpu_ratio" in r:
            line += f"{r['ours_cpu_us']:>8.1f}us{r['floor_cpu_us']:>6.1f}us{r['cpu_ratio']:>6.2f}x"
        else:
            line += " " * 21
        print(f"{line}{aim:>5.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
