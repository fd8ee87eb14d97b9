"""SQLite's plan for a statement, read from a second connection: the store's query-plan
tests assert which index a statement uses rather than how long it takes."""

from __future__ import annotations

import sqlite3
from pathlib import Path


def sqlite_plans(db: Path, statements: list[str]) -> dict[str, str]:
    """Each statement's plan, its steps joined with `` | ``."""
    conn = sqlite3.connect(db)
    try:
        return {
            sql: " | ".join(r[3] for r in conn.execute(f"EXPLAIN QUERY PLAN {sql}"))
            for sql in statements
        }
    finally:
        conn.close()
