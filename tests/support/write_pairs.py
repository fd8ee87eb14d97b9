"""Two managers on copies of one SQLite file, one of them writing by a fast path and the
other by the general rules, and everything a write leaves, read raw: what the
differential tests of the write paths (``test_batch_write``, ``test_single_write``)
compare after every step."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path
from typing import Any

from lifecycle import ManualClock, MemoryLifecycleManager


class ManagerPair:
    """``managers[0]`` on ``<fast>.db`` as the engine runs; ``managers[1]`` on
    ``general.db``, a copy made before either wrote (the same replica id), with the
    batch path off. Clocks that agree: ``tick`` moves both."""

    def __init__(self, tmp: Path, policies: str, start: float, fast: str = "fast") -> None:
        policy_file = tmp / "policies.yaml"
        policy_file.write_text(policies)
        first = tmp / f"{fast}.db"
        MemoryLifecycleManager(store=str(first), policy_file=policy_file).close()
        shutil.copy(first, tmp / "general.db")
        self.paths = (first, tmp / "general.db")
        self.clocks = (ManualClock(start), ManualClock(start))
        self.managers = tuple(
            MemoryLifecycleManager(
                store=str(path), policy_file=policy_file, clock=clock, agent_id="agent"
            )
            for path, clock in zip(self.paths, self.clocks, strict=True)
        )
        self.managers[1]._writes.batch_path = False

    def close(self) -> None:
        for m in self.managers:
            m.close()

    def tick(self, seconds: float) -> None:
        for clock in self.clocks:
            clock.tick(seconds)


def observed(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every table a write touches, read raw (and how each value is stored: a BLOB, NULL,
    a REAL ...); the contentless FTS5 index term by term."""
    conn = sqlite3.connect(path)
    try:
        conn.execute("CREATE VIRTUAL TABLE temp.terms USING fts5vocab(main, search, 'instance')")
        return {
            "entries": conn.execute("SELECT * FROM entries ORDER BY id").fetchall(),
            "types": conn.execute(
                "SELECT typeof(payload), typeof(expires_at), typeof(ttl_seconds), typeof(tags), "
                "typeof(tombstone), typeof(created_at), typeof(search_key), "
                "typeof(search_body) FROM entries ORDER BY id"
            ).fetchall(),
            "changes": conn.execute("SELECT * FROM changes ORDER BY revision").fetchall(),
            "op_ids": conn.execute("SELECT * FROM op_ids ORDER BY key, op_id").fetchall(),
            "index": conn.execute("SELECT * FROM temp.terms ORDER BY 1, 2, 3, 4").fetchall(),
        }
    finally:
        conn.close()
