"""The SQLite store's tables, as numbered migrations, and applying the ones a store lacks.

Its own module so the tables can be read in one place, under the same name as
PostgreSQL's (``postgres/schema.py``); the modules that own a table (``changelog``,
``search``, ``vectors``) keep their own migration, numbered here."""

from __future__ import annotations

import time

from lifecycle.store import newest
from lifecycle.store.sqlite import changelog, search, vectors
from lifecycle.store.sqlite.driver import sqlite3

MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE entries (
        id INTEGER PRIMARY KEY,
        key TEXT NOT NULL UNIQUE,
        policy TEXT NOT NULL,
        strategy TEXT NOT NULL,
        cleanup TEXT NOT NULL,
        codec TEXT NOT NULL,
        payload BLOB NOT NULL,
        size_bytes INTEGER NOT NULL,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL,
        expires_at REAL,
        ttl_seconds REAL,
        actor TEXT NOT NULL,
        tombstone INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX entries_expires_at ON entries(expires_at) WHERE expires_at IS NOT NULL;
    CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE leases (name TEXT PRIMARY KEY, holder TEXT NOT NULL, expires_at REAL NOT NULL);
    """,
    # op ids applied per key, remembered for a time window rather than a count per key
    """
    CREATE TABLE op_ids (
        key TEXT NOT NULL,
        op_id TEXT NOT NULL,
        applied_at REAL NOT NULL,
        PRIMARY KEY (key, op_id)
    ) WITHOUT ROWID;
    CREATE INDEX op_ids_applied_at ON op_ids(applied_at);
    """,
)

# Migrations by version; a tuple holds statements that contain ';' (triggers). Versions
# are applied when missing, not only above the highest, so a branch's migration merged
# after a later one still runs. (3 is the revisions branch's.)
NUMBERED: dict[int, str | tuple[str, ...]] = {
    **dict(enumerate(MIGRATIONS, start=1)),
    3: changelog.MIGRATION,  # revisions, the change log, locks (changelog.py)
    4: search.MIGRATION,  # the full-text index (search.py)
    5: search.SWEEP_MIGRATION,  # sweeps unindex set-based (search.py)
    6: vectors.MIGRATION,  # embeddings for semantic search (vectors.py)
    7: newest.migration(),  # the newest activity records first (store/newest.py)
    # 8 is PostgreSQL's (its search cut-off's recency index; here the rowid is one): the
    # next migration of this store is 9, so a store never holds two meanings of a number
}
# Migrations a store opened read-only can go without: reads do not depend on them.
READS_WITHOUT = frozenset({5, 6, 7})


def create_version_table(conn: sqlite3.Connection) -> None:
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations "
        "(version INTEGER PRIMARY KEY, applied_at REAL NOT NULL)"
    )


def applied(conn: sqlite3.Connection) -> set[int]:
    """The versions this store has (raises ``sqlite3.OperationalError`` "no such table"
    for a store that has none)."""
    return {v for (v,) in conn.execute("SELECT version FROM schema_migrations")}


def apply_missing(conn: sqlite3.Connection) -> None:
    """Apply every migration the store lacks, in version order, inside the caller's
    write transaction."""
    create_version_table(conn)
    done = applied(conn)
    for version, script in sorted(NUMBERED.items()):
        if version in done:
            continue
        statements = script if isinstance(script, tuple) else script.split(";")
        for statement in filter(str.strip, statements):
            conn.execute(statement)
        conn.execute("INSERT INTO schema_migrations VALUES (?, ?)", (version, time.time()))
