"""Query plans for the store's plan tests, which assert which index a statement uses rather
than how long it takes: SQLite's read from a second connection, and a scratch PostgreSQL
schema of the store's tables to fill and ``EXPLAIN`` in."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import psycopg


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


@contextmanager
def postgres_store_schema() -> Iterator[psycopg.Connection[Any]]:
    """A connection whose ``search_path`` is a fresh schema holding the store's tables
    (made by ``PostgresStore``), for rows and plans written at the SQL level; the schema
    is dropped afterwards."""
    import psycopg
    from psycopg import sql

    from lifecycle.store.postgres.store import PostgresStore
    from tests.support.store import drop_schema, new_schema, postgres_dsn, with_schema

    dsn = postgres_dsn()
    schema = new_schema()
    PostgresStore(with_schema(dsn, schema)).close()
    try:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
            yield conn
    finally:
        drop_schema(dsn, schema)
