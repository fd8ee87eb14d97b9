"""PostgreSQL's change log: revisions whose commit order is their order.

PostgreSQL commits transactions in an order unrelated to when they drew a number
from a sequence: transaction A draws 10, B draws 11, B commits, a reader sees 11
and moves its cursor past 10, then A commits 10, and the reader never sees it. We
close that gap by making commit order equal revision order: the revision counter
is a row (``counters``) that a writer increments as the very last statement before
COMMIT, and the row lock it takes is held until the commit is visible. The next
writer's increment waits for it, so revision N+1 is never visible before revision
N, and a reader that sees revision N (in one snapshot, with the counter) has seen
every change up to it. The price is that the last statement and the COMMIT of
writers are serialized store-wide; everything before (per-key locks, reads,
merges) still runs in parallel, and the increment, the row writes, the log, the
NOTIFY and the COMMIT itself go in one message (``PUT_ONE`` for one key, ``PUT_MANY``
for a batch, then ``COMMIT``; see ``postgres_tx``), so the counter's row lock is held
for the server's work only, never across a round trip to the client. A rolled-back
transaction rolls its increment back too, so revisions have no gaps.

(The alternative we weighed, recording ``pg_current_xact_id()`` with each change
and only handing out changes older than the oldest transaction in flight, keeps
commits parallel but orders the feed by transaction id, not by revision, so the
cursor could not be the plain revision the contract asks for.)
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from . import postgres_search
from .base import Row

MIGRATION = """
ALTER TABLE entries ADD COLUMN revision BIGINT NOT NULL DEFAULT 0;
CREATE TABLE counters (name TEXT PRIMARY KEY, value BIGINT NOT NULL);
WITH numbered AS (SELECT key, row_number() OVER (ORDER BY key) AS n FROM entries)
UPDATE entries SET revision = numbered.n FROM numbered WHERE entries.key = numbered.key;
INSERT INTO counters SELECT 'revision', COUNT(*) FROM entries;
INSERT INTO counters SELECT 'compacted', COUNT(*) FROM entries;
INSERT INTO counters VALUES ('lock_token', 0);
CREATE TABLE changes (
    revision BIGINT PRIMARY KEY,
    key TEXT COLLATE "C" NOT NULL,
    op TEXT NOT NULL,
    policy TEXT COLLATE "C" NOT NULL
);
CREATE TABLE locks (
    name TEXT COLLATE "C" PRIMARY KEY,
    owner TEXT NOT NULL,
    token BIGINT NOT NULL,
    expires_at DOUBLE PRECISION NOT NULL
);
"""
# Entries stored before revisions existed get one each, and the log starts compacted
# at that point: a watcher cannot ask for history nobody recorded.

_ENTRY_COLUMNS = (
    "key, policy, strategy, cleanup, codec, payload, size_bytes, created_at, updated_at, "
    "expires_at, ttl_seconds, actor, tombstone, tags, search"
)
_ARRAY_TYPES = (
    "text[]",
    "text[]",
    "text[]",
    "text[]",
    "text[]",
    "bytea[]",
    "bigint[]",
    "float8[]",
    "float8[]",
    "float8[]",
    "float8[]",
    "text[]",
    "bool[]",
    "text[]",  # tags, each as JSON text (an array of arrays cannot be ragged)
    "text[]",  # the search vector as text, or NULL: keep the row's (see _search)
)
_UPDATES = (
    ", ".join(f"{c}=excluded.{c}" for c in _ENTRY_COLUMNS.split(", ")[1:] if c != "search")
    + ", search=COALESCE(excluded.search, entries.search)"
)
# how each unnested column becomes an entry column (tags and search need a conversion)
_FROM_D = {
    "tags": "CASE WHEN d.tags IS NULL THEN NULL "
    "ELSE ARRAY(SELECT json_array_elements_text(d.tags::json)) END",
    "search": "d.search::tsvector",
}
_CHANNEL = re.compile(r"^[a-z0-9_]+$")

# Both statements are prepared on every pooled connection (``postgres_tx``) and run by
# name, in the message that also carries the COMMIT. Both return ``base``: the revision
# before this transaction's first change (its changes get base + 1, base + 2, ...).

# One key written (not removed), the common case: plain parameters, which PostgreSQL
# runs several times faster than 15 one-element arrays. $16 is the op.
PUT_ONE_TYPES = (
    "text, text, text, text, text, bytea, bigint, float8, float8, float8, float8, text, bool, "
    "text[], tsvector, text"
)
PUT_ONE = f"""
WITH rev AS (
    UPDATE counters SET value = value + 1 WHERE name = 'revision' RETURNING value
), up AS (
    INSERT INTO entries ({_ENTRY_COLUMNS}, revision)
    SELECT {", ".join(f"${i}" for i in range(1, 16))}, rev.value FROM rev
    ON CONFLICT (key) DO UPDATE SET {_UPDATES}, revision = excluded.revision
), logged AS (
    INSERT INTO changes (revision, key, op, policy) SELECT rev.value, $1, $16, $2 FROM rev
)
SELECT value - 1, pg_notify({{channel}}, '') FROM rev
"""

# Every logged change of a transaction: the revision counter (whose row lock serializes
# commits, see above), the rows, the deletions, the log and the NOTIFY. Removed keys
# come with NULL row columns and upsert = false ($16 the ops, $17 the upsert flags).
PUT_MANY_TYPES = ", ".join((*_ARRAY_TYPES, "text[]", "bool[]"))
PUT_MANY = f"""
WITH rev AS (
    UPDATE counters SET value = value + cardinality($1) WHERE name = 'revision'
    RETURNING value - cardinality($1) AS base
), d AS (
    SELECT * FROM unnest({", ".join(f"${i}" for i in range(1, 18))})
    WITH ORDINALITY AS d({_ENTRY_COLUMNS}, op, upsert, n)
), up AS (
    INSERT INTO entries ({_ENTRY_COLUMNS}, revision)
    SELECT {", ".join(_FROM_D.get(c, f"d.{c}") for c in _ENTRY_COLUMNS.split(", "))},
        rev.base + d.n
    FROM d, rev WHERE d.upsert
    ON CONFLICT (key) DO UPDATE SET {_UPDATES}, revision = excluded.revision
), gone AS (
    DELETE FROM entries WHERE key IN (SELECT d.key FROM d WHERE NOT d.upsert)
), logged AS (
    INSERT INTO changes (revision, key, op, policy)
    SELECT rev.base + d.n, d.key, d.op, d.policy FROM d, rev
)
SELECT base, pg_notify({{channel}}, '') FROM rev
"""

# Appended to a ``WITH gone AS (DELETE ... RETURNING key, policy, tombstone)``: logs an
# ``expire`` change for every live row it removed (purged tombstones were logged as
# deletes already), in key order, taking the counter only when there is one.
LOG_GONE = """
, live AS (
    SELECT key, policy, row_number() OVER (ORDER BY key) AS n FROM gone WHERE NOT tombstone
), rev AS (
    UPDATE counters SET value = value + (SELECT COUNT(*) FROM live)
    WHERE name = 'revision' AND EXISTS (SELECT 1 FROM live)
    RETURNING value - (SELECT COUNT(*) FROM live) AS base
), logged AS (
    INSERT INTO changes (revision, key, op, policy)
    SELECT rev.base + live.n, live.key, 'expire', live.policy FROM live, rev
)
"""


PendingChange = tuple[str, str, "Row | None"]  # op, policy, the row to write (None: remove)


def prepared(channel: str) -> dict[str, tuple[str, str]]:
    """The statements to prepare on a connection: name -> (parameter types, body)."""
    if not _CHANNEL.match(channel):
        raise ValueError(f"channel {channel!r} is not a plain name")
    literal = f"'{channel}'"
    return {
        "ml_put1": (PUT_ONE_TYPES, PUT_ONE.format(channel=literal)),
        "ml_putn": (PUT_MANY_TYPES, PUT_MANY.format(channel=literal)),
    }


def flush_statement(changes: Mapping[str, PendingChange]) -> tuple[str, list[Any]]:
    """The statement writing and logging ``changes`` (its result: the base revision), with
    its arguments; the keys get base + 1, base + 2, ... in ``changes``' order."""
    keys = list(changes)
    if len(keys) == 1 and changes[keys[0]][2] is not None:
        op, _, row = changes[keys[0]]
        assert row is not None
        args = [*_values(row), list(row.tags) or None, _search(row), op]
        return _EXECUTE_ONE, args
    columns: list[list[Any]] = [[] for _ in _ARRAY_TYPES]
    for key in keys:
        _, policy, found = changes[key]
        values = (
            [*_values(found), json.dumps(list(found.tags)) if found.tags else None, _search(found)]
            if found is not None
            else [key, policy, *[None] * 13]
        )
        for column, value in zip(columns, values, strict=True):
            column.append(value)
    ops = [changes[k][0] for k in keys]
    upserts = [changes[k][2] is not None for k in keys]
    return _EXECUTE_MANY, [*columns, ops, upserts]


_EXECUTE_ONE = f"EXECUTE ml_put1({', '.join(['%s'] * 16)})"
_EXECUTE_MANY = f"EXECUTE ml_putn({', '.join(['%s'] * 17)})"


def _search(row: Row) -> str | None:
    """The row's search vector: its rendered text, empty for a tombstone, and NULL for a
    row re-put as it was read (``COALESCE`` then keeps the vector it has)."""
    if row.tombstone:
        return ""
    return None if row.search is None else postgres_search.render(row.search)


def _values(row: Row) -> list[Any]:
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
