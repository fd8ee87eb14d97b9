"""The PostgreSQL store's tables, as numbered migrations, and applying the ones a
schema lacks, one opener at a time.

Its own module so the tables can be read in one place, under the same name as
SQLite's (``sqlite/schema.py``); the modules that own a table (``changelog``,
``search``, ``vectors``) keep their own migration, numbered here."""

from __future__ import annotations

import psycopg
from psycopg import sql

from lifecycle.store import newest
from lifecycle.store.postgres import changelog, search, search_window, vectors

MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE entries (
        key TEXT COLLATE "C" PRIMARY KEY,
        policy TEXT COLLATE "C" NOT NULL,
        strategy TEXT NOT NULL,
        cleanup TEXT NOT NULL,
        codec TEXT NOT NULL,
        payload BYTEA NOT NULL,
        size_bytes BIGINT NOT NULL,
        created_at DOUBLE PRECISION NOT NULL,
        updated_at DOUBLE PRECISION NOT NULL,
        expires_at DOUBLE PRECISION,
        ttl_seconds DOUBLE PRECISION,
        actor TEXT NOT NULL,
        tombstone BOOLEAN NOT NULL DEFAULT FALSE
    );
    CREATE INDEX entries_expires_at ON entries (expires_at) WHERE expires_at IS NOT NULL;
    CREATE INDEX entries_policy ON entries (policy);
    CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE leases (
        name TEXT PRIMARY KEY,
        holder TEXT NOT NULL,
        expires_at DOUBLE PRECISION NOT NULL
    );
    """,
    # op ids applied per key, remembered for a time window rather than a count per key
    """
    CREATE TABLE op_ids (
        key TEXT COLLATE "C" NOT NULL,
        op_id TEXT COLLATE "C" NOT NULL,
        applied_at DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (key, op_id)
    );
    CREATE INDEX op_ids_applied_at ON op_ids (applied_at);
    """,
)

# Migrations by version, applied when missing (not only above the highest), so a
# branch's migration merged after a later one still runs. (3 is the revisions branch's.)
NUMBERED: dict[int, str] = {
    **dict(enumerate(MIGRATIONS, start=1)),
    3: changelog.MIGRATION,  # revisions, the change log, locks (changelog.py)
    4: search.MIGRATION,  # the full-text index (search.py)
    6: vectors.MIGRATION,  # embeddings for semantic search (vectors.py)
    7: newest.migration(),  # the newest activity records first (store/newest.py)
    # recency for the search cut-off (search_window.py; SQLite's rowid is already one)
    8: search_window.MIGRATION,
}


def migrate(conn: psycopg.Connection, name: str) -> int:
    """Create schema ``name`` if missing and apply the migrations it lacks, under an
    advisory lock so two openers never both apply one; returns the schema's lock space,
    which keeps its per-key advisory locks apart from other schemas'."""
    with conn.transaction():
        conn.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
            (f"memory-lifecycle:migrate:{name}",),
        )
        exists = conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(name)))
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations "
            "(version INTEGER PRIMARY KEY, applied_at DOUBLE PRECISION NOT NULL)"
        )
        done = {v for (v,) in conn.execute("SELECT version FROM schema_migrations")}
        for version, script in sorted(NUMBERED.items()):
            if version in done:
                continue
            conn.execute(script)
            conn.execute(
                "INSERT INTO schema_migrations VALUES (%s, EXTRACT(EPOCH FROM now()))",
                (version,),
            )
        found = conn.execute("SELECT hashtext(%s)", (f"memory-lifecycle:{name}",)).fetchone()
        assert found is not None
        return int(found[0])
