"""How PostgreSQL rows are read, written and keys locked: the column list, the row builder,
a row's column values and the
per-key lock statement, shared by the store and its feature modules (search, …), plus the
access those modules need from the store.

A module of its own so ``postgres.py`` and its feature modules import it rather than
each other: no import cycle.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol

import psycopg

from lifecycle.store.base import Row

COLUMNS = (
    "key, policy, strategy, cleanup, codec, payload, size_bytes, created_at, updated_at, "
    "expires_at, ttl_seconds, actor, tombstone, tags, revision"
)

# The store's revision counter: the last revision a write took.
HEAD = "SELECT value FROM counters WHERE name = 'revision'"

# One statement takes the per-key locks in hash order: the same order in every writer.
LOCK_KEYS = (
    "SELECT pg_advisory_xact_lock(%s, h) FROM "
    "(SELECT DISTINCT hashtext(k) AS h FROM unnest(%s::text[]) AS k ORDER BY h) AS s"
)


class PostgresAccess(Protocol):
    """What a feature module uses of ``PostgresStore``: a pooled connection, a write
    transaction, and the advisory-lock space of this store's schema."""

    _space: int

    def _connection(self) -> AbstractContextManager[psycopg.Connection[Any]]: ...

    def _write(self) -> AbstractContextManager[psycopg.Connection[Any]]: ...


def row_from(r: Sequence[Any]) -> Row:
    # positional, in ``Row``'s field order (keywords cost more, and every read comes here)
    k, p, st, cl, cd, pl, sz, c, u, e, t, a, ts, tags, rev = r
    return Row(
        k, p, st, cl, cd, bytes(pl), sz, c, u, e, t, a, ts, tuple(tags) if tags else (), None, rev
    )


def row_values(row: Row) -> list[Any]:
    """The row's values for ``COLUMNS`` up to ``tombstone`` (the columns every write sets;
    tags and revision follow where a statement takes them)."""
    return [
        row.key,
        row.policy,
        row.strategy,
        row.cleanup,
        row.codec,
        row.payload,
        row.size_bytes,
        row.created_at,
        row.updated_at,
        row.expires_at,
        row.ttl_seconds,
        row.actor,
        bool(row.tombstone),
    ]


def scalar(cursor: psycopg.Cursor[Any]) -> Any:
    """The one value a one-row, one-column query returns."""
    row = cursor.fetchone()
    assert row is not None
    return row[0]
