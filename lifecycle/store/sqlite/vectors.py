"""The vector table on SQLite (``store.vectors`` tells the contract).

Layout (migration 6): ``vectors`` holds one row per embedded entry, keyed by
``entries.id`` (the rowid, so the join is a primary-key lookup): the model's
name, the entry revision the vector was made for (``for_revision``), the text
hash, and the vector as int8 bytes with its float ``scale``. About 400 bytes an
entry for a 384-dimension model.

Two triggers make a vector go with its entry in the same statement: deleting the
entry row (a delete of a multi-row sweep, a lazy expiry, a reset) and turning it
into a tombstone. Writes never touch the table otherwise; the indexer writes it
under the store's write lock, only for an entry still at the revision it read.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from lifecycle.store.sqlite.rows import COLUMNS, row_from

# the vector types (lifecycle.store.vectors) load with the first vector call: the store's
# schema lists this module's migration, and a hook never reads or writes a vector
TYPE_CHECKING = False  # typing's flag without importing typing
if TYPE_CHECKING:
    from lifecycle.store.base import Row
    from lifecycle.store.sqlite.rows import SQLiteAccess
    from lifecycle.store.vectors import NewVector, PendingRow, VectorCounts, VectorState

MIGRATION: tuple[str, ...] = (
    """CREATE TABLE vectors (
        entry_id INTEGER PRIMARY KEY,
        model TEXT NOT NULL,
        for_revision INTEGER NOT NULL,
        text_hash BLOB NOT NULL,
        scale REAL NOT NULL,
        vector BLOB NOT NULL,
        saved INTEGER NOT NULL
    )""",
    "CREATE INDEX vectors_saved ON vectors(saved)",
    "INSERT INTO meta VALUES ('vectors_saved', '0')",  # (meta: any store has it, migration 1)
    """CREATE TRIGGER entries_vectors_delete AFTER DELETE ON entries BEGIN
        DELETE FROM vectors WHERE entry_id = old.id;
    END""",
    """CREATE TRIGGER entries_vectors_tombstone AFTER UPDATE OF tombstone ON entries
    WHEN new.tombstone = 1 AND old.tombstone = 0 BEGIN
        DELETE FROM vectors WHERE entry_id = new.id;
    END""",
)

_QUALIFIED = ", ".join(f"e.{c.strip()}" for c in COLUMNS.split(","))
_STATE = (
    "SELECT e.key, e.expires_at, e.revision, v.for_revision, v.text_hash, v.scale, v.vector "
    "FROM entries e LEFT JOIN vectors v ON v.entry_id = e.id AND v.model = ? "
)
_LIVE = "(e.expires_at IS NULL OR e.expires_at > ?)"
_SAVE = (
    "INSERT INTO vectors (entry_id, model, for_revision, text_hash, scale, vector, saved) "
    "SELECT id, ?, ?, ?, ?, ?, ? FROM entries "
    "WHERE key = ? AND revision = ? AND tombstone = 0 AND (expires_at IS NULL OR expires_at > ?) "
    "ON CONFLICT(entry_id) DO UPDATE SET model = excluded.model, "
    "for_revision = excluded.for_revision, text_hash = excluded.text_hash, "
    "scale = excluded.scale, vector = excluded.vector, saved = excluded.saved"
)
_BUMP = (
    "UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE name = 'vectors_saved' "
    "RETURNING CAST(value AS INTEGER)"
)
_SAVED = "SELECT CAST(value AS INTEGER) FROM meta WHERE name = 'vectors_saved'"
_IN_KEYS = "(SELECT value FROM json_each(?))"


def _states(found: Sequence[Sequence[object]]) -> list[VectorState]:
    from lifecycle.store.vectors import VectorState

    return [VectorState(*r) for r in found]  # type: ignore[arg-type]


class SQLiteVectors:
    """``VectorStore`` over one ``SQLiteStore``."""

    def __init__(self, store: SQLiteAccess) -> None:
        self._store = store

    def states(self, model: str, after: str, limit: int) -> list[VectorState]:
        sql = _STATE + "WHERE e.tombstone = 0 AND e.key > ? ORDER BY e.key LIMIT ?"
        with self._store._errors():
            found = self._store._conn().execute(sql, (model, after, limit)).fetchall()
        return _states(found)

    def states_of(self, model: str, keys: Sequence[str]) -> list[VectorState]:
        sql = _STATE + f"WHERE e.tombstone = 0 AND e.key IN {_IN_KEYS}"
        with self._store._errors():
            found = self._store._conn().execute(sql, (model, json.dumps(list(keys)))).fetchall()
        return _states(found)

    def pending(self, model: str, now: float, after: str, limit: int) -> list[PendingRow]:
        sql = (
            f"SELECT {_QUALIFIED}, v.text_hash, v.scale, v.vector FROM entries e "
            "LEFT JOIN vectors v ON v.entry_id = e.id AND v.model = ? "
            f"WHERE e.tombstone = 0 AND {_LIVE} AND e.key > ? "
            "AND (v.entry_id IS NULL OR v.for_revision != e.revision) ORDER BY e.key LIMIT ?"
        )
        with self._store._errors():
            found = self._store._conn().execute(sql, (model, now, after, limit)).fetchall()
        from lifecycle.store.vectors import PendingRow

        return [PendingRow(row_from(r[:-3]), r[-3], r[-2], r[-1]) for r in found]

    def save(self, model: str, vectors: Sequence[NewVector], now: float) -> int:
        if not vectors:
            return 0
        saved = 0
        with self._store._write() as conn:
            (batch,) = conn.execute(_BUMP).fetchone()
            for v in vectors:
                vector = (v.revision, v.text_hash, v.scale, v.vector, batch)
                saved += conn.execute(_SAVE, (model, *vector, v.key, v.revision, now)).rowcount
        return saved

    def last_saved(self) -> int:
        with self._store._errors():
            return int(self._store._conn().execute(_SAVED).fetchone()[0])

    def saved_since(self, model: str, after: int, limit: int) -> tuple[list[VectorState], int]:
        sql = (
            "SELECT e.key, e.expires_at, e.revision, v.for_revision, v.text_hash, v.scale, "
            "v.vector, v.saved FROM vectors v JOIN entries e ON e.id = v.entry_id "
            "WHERE v.saved > ? AND v.model = ? AND e.tombstone = 0 ORDER BY v.saved LIMIT ?"
        )
        with self._store._errors():
            found = self._store._conn().execute(sql, (after, model, limit)).fetchall()
        last = found[-1][-1] if found else after
        return _states([r[:-1] for r in found]), int(last)

    def rows(self, keys: Sequence[str]) -> dict[str, Row]:
        sql = f"SELECT {COLUMNS} FROM entries WHERE key IN {_IN_KEYS}"
        with self._store._errors():
            found = self._store._conn().execute(sql, (json.dumps(list(keys)),)).fetchall()
        return {r[0]: row_from(r) for r in found}

    def counts(self, model: str | None, now: float) -> VectorCounts:
        sql = (
            "SELECT COUNT(*), COUNT(v.entry_id) FROM entries e LEFT JOIN vectors v "
            "ON v.entry_id = e.id AND v.model = ? AND v.for_revision = e.revision "
            f"WHERE e.tombstone = 0 AND {_LIVE}"
        )
        with self._store._errors():
            live, embedded = self._store._conn().execute(sql, (model, now)).fetchone()
        from lifecycle.store.vectors import VectorCounts

        return VectorCounts(live, embedded)

    def forget(self, keep_model: str | None = None) -> int:
        with self._store._write() as conn:
            gone: int = conn.execute(
                "DELETE FROM vectors WHERE model IS NOT ? OR entry_id NOT IN "
                "(SELECT id FROM entries WHERE tombstone = 0)",
                (keep_model,),
            ).rowcount
        return gone
