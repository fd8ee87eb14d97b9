"""Space comes back on SQLite (DESIGN "Edges that must hold"): after a cleanup that
removed most entries, the file, the full-text index and the WAL shrink to about what a
fresh store holding the same live entries takes. Sizes, not times: a search index
that kept its dead entries is what made searching an emptied store slow, so its size
stands for the speed."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from lifecycle import ManualClock, MemoryLifecycleManager

NOW = 1_800_000_000.0
SWEPT = 99_000
KEPT = 1_000
CHUNK = 1_000
EVERY = (SWEPT + KEPT) // KEPT
# the change feed keeps this many changes in both stores, so its retained history
# (which a fresh store does not have) stays out of the comparison
POLICIES = f"""
settings: {{change_log_max_entries: {KEPT}}}
namespaces:
  - {{namespace: "tmp/*", ttl_seconds: 3600, cleanup_strategy: scheduled,
      conflict_strategy: lww}}
  - {{namespace: "keep/*", ttl_seconds: 0, cleanup_strategy: manual, conflict_strategy: lww}}
"""


def value(i: int) -> dict[str, str]:
    return {"note": f"entry {i} talks about w{i % 997:03d} and topic{i % 89} at length {i}"}


def fill(m: MemoryLifecycleManager, numbers: range) -> None:
    """Entries ``numbers``: every ``EVERY``-th under ``keep/``, the rest under ``tmp/``,
    so in a store of all of them the kept ones are spread over every page."""
    for low in range(0, len(numbers), CHUNK):
        m.store_many(
            [
                {"key": f"{'keep' if i % EVERY == 0 else 'tmp'}/k{i}", "value": value(i)}
                for i in numbers[low : low + CHUNK]
            ]
        )


def measure(directory: Path) -> dict[str, int]:
    """The file, the WAL, and the full-text index's own bytes (its segments)."""
    db = directory / "memory.db"
    wal = directory / "memory.db-wal"
    conn = sqlite3.connect(db)
    try:
        index = conn.execute("SELECT COALESCE(SUM(LENGTH(block)), 0) FROM search_data").fetchone()
        live = conn.execute("SELECT COUNT(*) FROM entries").fetchone()
    finally:
        conn.close()
    return {
        "file": db.stat().st_size,
        "wal": wal.stat().st_size if wal.exists() else 0,
        "index": int(index[0]),
        "entries": int(live[0]),
    }


def test_a_cleanup_that_removed_most_entries_gives_the_file_index_and_wal_back(
    tmp_path: Path,
) -> None:
    policies = tmp_path / "policies.yaml"
    policies.write_text(POLICIES)
    clock = ManualClock(NOW)
    emptied_dir, fresh_dir = tmp_path / "emptied", tmp_path / "fresh"
    with MemoryLifecycleManager(memory_dir=emptied_dir, policy_file=policies, clock=clock) as m:
        fill(m, range(KEPT + SWEPT))
        clock.tick(7200)
        assert m.cleanup()["deleted_count"] == SWEPT
        assert m.search("w007")["results"]  # a kept entry is still found
        emptied = measure(emptied_dir)  # while open: the last close removes the WAL
    with MemoryLifecycleManager(memory_dir=fresh_dir, policy_file=policies, clock=clock) as m:
        fill(m, range(0, KEPT + SWEPT, EVERY))  # the same kept entries
        m.cleanup()
        fresh = measure(fresh_dir)
    assert emptied["entries"] == fresh["entries"] == KEPT
    assert emptied["index"] <= 2 * fresh["index"], (emptied, fresh)
    # the file and its WAL together (a fresh store's pages may still sit in its WAL)
    assert emptied["file"] + emptied["wal"] <= 2 * (fresh["file"] + fresh["wal"]), (emptied, fresh)
