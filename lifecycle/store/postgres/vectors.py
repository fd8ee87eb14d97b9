"""The vector table on PostgreSQL (``store.vectors`` tells the contract); no extension.

Layout (migration 6): ``vectors`` holds one row per embedded entry, keyed by
the entry's key with a foreign key ``ON DELETE CASCADE``, so deleting an entry
row (however: a delete, a sweep, a reset) deletes its vector in the same
statement; a trigger does the same when an entry becomes a tombstone. Vectors
are int8 bytes with a float ``scale``: about 400 bytes an entry at 384
dimensions. pgvector is not needed (Debian 12 packages none): the search runs
in Python over an in-memory copy (``lifecycle.search.semantic.index``).

Saving takes the per-key advisory locks every writer takes (``LOCK_KEYS``, in the
same order), so a save and a write of one key never interleave or deadlock; and it
saves only for entries that do not expire within ``SWEEP_MARGIN_SECONDS``, so it
never holds a foreign-key lock on a row an expiry sweep (which takes no advisory
lock) is about to delete.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from lifecycle.store.postgres.rows import COLUMNS, LOCK_KEYS, row_from
from lifecycle.store.vectors import NewVector, PendingRow, VectorCounts, VectorState

if TYPE_CHECKING:
    from lifecycle.store.base import Row
    from lifecycle.store.postgres.rows import PostgresAccess

MIGRATION = """
CREATE TABLE vectors (
    key TEXT COLLATE "C" PRIMARY KEY REFERENCES entries (key) ON DELETE CASCADE,
    model TEXT NOT NULL,
    for_revision BIGINT NOT NULL,
    text_hash BYTEA NOT NULL,
    scale DOUBLE PRECISION NOT NULL,
    vector BYTEA NOT NULL,
    saved BIGINT NOT NULL
);
CREATE INDEX vectors_saved ON vectors (saved);
INSERT INTO meta VALUES ('vectors_saved', '0');
CREATE FUNCTION vectors_drop_tombstoned() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM vectors WHERE key = NEW.key;
    RETURN NULL;
END $$;
CREATE TRIGGER entries_vectors_tombstone AFTER UPDATE OF tombstone ON entries
    FOR EACH ROW WHEN (NEW.tombstone AND NOT OLD.tombstone)
    EXECUTE FUNCTION vectors_drop_tombstoned();
"""

SWEEP_MARGIN_SECONDS = 10.0
_QUALIFIED = ", ".join(f"e.{c.strip()}" for c in COLUMNS.split(","))
_STATE = (
    "SELECT e.key, e.expires_at, e.revision, v.for_revision, v.text_hash, v.scale, v.vector "
    "FROM entries e LEFT JOIN vectors v ON v.key = e.key AND v.model = %s "
)
_SAVE = (
    "INSERT INTO vectors (key, model, for_revision, text_hash, scale, vector, saved) "
    "SELECT key, %s, %s, %s, %s, %s, %s FROM entries WHERE key = %s AND revision = %s "
    "AND NOT tombstone AND (expires_at IS NULL OR expires_at > %s) "
    "ON CONFLICT (key) DO UPDATE SET model = excluded.model, "
    "for_revision = excluded.for_revision, text_hash = excluded.text_hash, "
    "scale = excluded.scale, vector = excluded.vector, saved = excluded.saved"
)
# the meta row is locked until commit, so batches commit in the order of their numbers:
# a reader that sees batch N has seen every batch before it
_BUMP = (
    "UPDATE meta SET value = (value::bigint + 1)::text WHERE name = 'vectors_saved' "
    "RETURNING value::bigint"
)
_SAVED = "SELECT value::bigint FROM meta WHERE name = 'vectors_saved'"


def _state(r: Sequence[Any]) -> VectorState:
    k, expires, revision, vrev, digest, scale, vector = r
    return VectorState(
        k,
        expires,
        revision,
        vrev,
        bytes(digest) if digest is not None else None,
        scale,
        bytes(vector) if vector is not None else None,
    )


class PostgresVectors:
    """``VectorStore`` over one ``PostgresStore``."""

    def __init__(self, store: PostgresAccess) -> None:
        self._store = store

    def states(self, model: str, after: str, limit: int) -> list[VectorState]:
        sql = _STATE + "WHERE NOT e.tombstone AND e.key > %s ORDER BY e.key LIMIT %s"
        with self._store._connection() as conn:
            return [_state(r) for r in conn.execute(sql, (model, after, limit))]

    def states_of(self, model: str, keys: Sequence[str]) -> list[VectorState]:
        sql = _STATE + "WHERE NOT e.tombstone AND e.key = ANY(%s)"
        with self._store._connection() as conn:
            return [_state(r) for r in conn.execute(sql, (model, list(keys)))]

    def pending(self, model: str, now: float, after: str, limit: int) -> list[PendingRow]:
        sql = (
            f"SELECT {_QUALIFIED}, v.text_hash, v.scale, v.vector FROM entries e "
            "LEFT JOIN vectors v ON v.key = e.key AND v.model = %s "
            "WHERE NOT e.tombstone AND (e.expires_at IS NULL OR e.expires_at > %s) "
            "AND e.key > %s AND (v.key IS NULL OR v.for_revision <> e.revision) "
            "ORDER BY e.key LIMIT %s"
        )
        with self._store._connection() as conn:
            found = conn.execute(sql, (model, now, after, limit)).fetchall()
        return [
            PendingRow(
                row_from(r[:-3]),
                bytes(r[-3]) if r[-3] is not None else None,
                r[-2],
                bytes(r[-1]) if r[-1] is not None else None,
            )
            for r in found
        ]

    def save(self, model: str, vectors: Sequence[NewVector], now: float) -> int:
        if not vectors:
            return 0
        horizon = now + SWEEP_MARGIN_SECONDS
        saved = 0
        with self._store._write() as conn:
            conn.execute(LOCK_KEYS, (self._store._space, [v.key for v in vectors]))
            batch = conn.execute(_BUMP).fetchone()
            assert batch is not None
            with conn.cursor() as cur:
                for v in vectors:
                    vector = (v.revision, v.text_hash, v.scale, v.vector, batch[0])
                    cur.execute(_SAVE, (model, *vector, v.key, v.revision, horizon))
                    saved += cur.rowcount
        return saved

    def last_saved(self) -> int:
        with self._store._connection() as conn:
            row = conn.execute(_SAVED).fetchone()
        return int(row[0]) if row else 0

    def saved_since(self, model: str, after: int, limit: int) -> tuple[list[VectorState], int]:
        sql = (
            "SELECT e.key, e.expires_at, e.revision, v.for_revision, v.text_hash, v.scale, "
            "v.vector, v.saved FROM vectors v JOIN entries e ON e.key = v.key "
            "WHERE v.saved > %s AND v.model = %s AND NOT e.tombstone ORDER BY v.saved LIMIT %s"
        )
        with self._store._connection() as conn:
            found = conn.execute(sql, (after, model, limit)).fetchall()
        last = int(found[-1][-1]) if found else after
        return [_state(r[:-1]) for r in found], last

    def rows(self, keys: Sequence[str]) -> dict[str, Row]:
        sql = f"SELECT {COLUMNS} FROM entries WHERE key = ANY(%s)"
        with self._store._connection() as conn:
            return {r[0]: row_from(r) for r in conn.execute(sql, (list(keys),))}

    def counts(self, model: str | None, now: float) -> VectorCounts:
        sql = (
            "SELECT COUNT(*), COUNT(v.key) FROM entries e LEFT JOIN vectors v "
            "ON v.key = e.key AND v.model = %s AND v.for_revision = e.revision "
            "WHERE NOT e.tombstone AND (e.expires_at IS NULL OR e.expires_at > %s)"
        )
        with self._store._connection() as conn:
            row = conn.execute(sql, (model, now)).fetchone()
        assert row is not None
        return VectorCounts(int(row[0]), int(row[1]))

    def forget(self, keep_model: str | None = None) -> int:
        with self._store._write() as conn:
            gone: int = conn.execute(
                "DELETE FROM vectors v WHERE v.model IS DISTINCT FROM %s OR EXISTS "
                "(SELECT 1 FROM entries e WHERE e.key = v.key AND e.tombstone)",
                (keep_model,),
            ).rowcount
        return gone
