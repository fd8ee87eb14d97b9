"""How SQLite rows are read: the column list and the row builder, shared by the store and
its feature modules (search, …), plus the access those modules need from the store.

A module of its own so ``sqlite.py`` and its feature modules import it rather than
each other: no import cycle.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from lifecycle.basics.typing_lite import Protocol
from lifecycle.store.base import Row
from lifecycle.store.sqlite.driver import sqlite3

TYPE_CHECKING = False  # typing's flag without importing typing
if TYPE_CHECKING:
    from contextlib import AbstractContextManager
    from typing import Any

COLUMNS = (
    "key, policy, strategy, cleanup, codec, payload, size_bytes, created_at, updated_at, "
    "expires_at, ttl_seconds, actor, tombstone, tags, revision"
)


class SQLiteAccess(Protocol):
    """What a feature module uses of ``SQLiteStore``: this thread's connection, a write
    transaction, and the mapping of driver errors."""

    def _conn(self) -> sqlite3.Connection: ...

    def _write(self) -> AbstractContextManager[sqlite3.Connection]: ...

    def _errors(self) -> AbstractContextManager[None]: ...


def row_from(r: Sequence[Any]) -> Row:
    # (every field by position: no tuple to unpack, no keywords to match; every write reads one)
    tags = r[13]  # (the visible tags, as a JSON list; NULL: none)
    return Row(
        r[0],
        r[1],
        r[2],
        r[3],
        r[4],
        bytes(r[5]),
        r[6],
        r[7],
        r[8],
        r[9],
        r[10],
        r[11],
        bool(r[12]),
        tuple(json.loads(tags)) if tags else (),
        None,
        r[14],
    )
