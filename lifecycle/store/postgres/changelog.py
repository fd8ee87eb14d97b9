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
for a batch, then ``COMMIT``; see ``transaction``), so the counter's row lock is held
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

from lifecycle.store.base import Row
from lifecycle.store.postgres import search
from lifecycle.store.postgres.rows import row_values

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
# how a batch's rows (one JSON array of arrays, see ``flush_statement``) become entry
# columns: JSON null is SQL NULL; the payload travels as hex; tags as a JSON array
_FROM_JSON = (
    "r->>0",
    "r->>1",
    "r->>2",
    "r->>3",
    "r->>4",
    "decode(r->>5, 'hex')",
    "(r->>6)::bigint",
    "(r->>7)::float8",
    "(r->>8)::float8",
    "(r->>9)::float8",
    "(r->>10)::float8",
    "r->>11",
    "(r->>12)::bool",
    "CASE WHEN jsonb_typeof(r->13) = 'array' "
    "THEN ARRAY(SELECT jsonb_array_elements_text(r->13)) END",
    "(r->>14)::tsvector",  # the search vector as text, or NULL: keep the row's (see _search)
)
_COLUMN_NAMES = _ENTRY_COLUMNS.split(", ")
_UPDATES = (
    ", ".join(f"{c}=excluded.{c}" for c in _ENTRY_COLUMNS.split(", ")[1:] if c != "search")
    + ", search=COALESCE(excluded.search, entries.search)"
)
_CHANNEL = re.compile(r"^[a-z0-9_]+$")

# Both statements are prepared on every pooled connection (``transaction``) and run by
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
# commits, see above), the rows, the deletions, the log and the NOTIFY. $1 is a JSON
# array with one array per change: the entry's columns, then the op and whether the row
# is written (true) or removed (false, its row columns null but the key and policy).
# One JSON text rather than 17 arrays: Python's C encoder writes it several times faster
# than psycopg renders arrays, and as ``jsonb`` the server parses it once (a ``json``
# value is parsed again by every ``->>``: three times the server's time).
PUT_MANY = f"""
WITH rev AS (
    UPDATE counters SET value = value + jsonb_array_length($1) WHERE name = 'revision'
    RETURNING value - jsonb_array_length($1) AS base
), d AS (
    SELECT {", ".join(f"{e} AS {c}" for e, c in zip(_FROM_JSON, _COLUMN_NAMES, strict=True))},
        r->>15 AS op, (r->>16)::bool AS upsert, n
    FROM jsonb_array_elements($1) WITH ORDINALITY AS x(r, n)
), up AS (
    INSERT INTO entries ({_ENTRY_COLUMNS}, revision)
    SELECT {", ".join(f"d.{c}" for c in _ENTRY_COLUMNS.split(", "))}, rev.base + d.n
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
        "ml_putn": ("jsonb", PUT_MANY.format(channel=literal)),
    }


def flush_statement(changes: Mapping[str, PendingChange]) -> tuple[str, list[Any]]:
    """The statement writing and logging ``changes`` (its result: the base revision), with
    its arguments; the keys get base + 1, base + 2, ... in ``changes``' order."""
    keys = list(changes)
    if len(keys) == 1 and changes[keys[0]][2] is not None:
        op, _, row = changes[keys[0]]
        assert row is not None
        args = [*row_values(row), list(row.tags) or None, _search(row), op]
        return _EXECUTE_ONE, args
    rows: list[list[Any]] = []
    for key in keys:
        op, policy, found = changes[key]
        if found is None:
            rows.append([key, policy, *[None] * 13, op, False])
            continue
        rows.append(
            [
                found.key,
                found.policy,
                found.strategy,
                found.cleanup,
                found.codec,
                found.payload.hex(),
                found.size_bytes,
                found.created_at,
                found.updated_at,
                found.expires_at,
                found.ttl_seconds,
                found.actor,
                bool(found.tombstone),
                list(found.tags) or None,
                _search(found),
                op,
                True,
            ]
        )
    # (times are finite: the request checks refuse anything else, and allow_nan=False
    # would refuse it here, before anything is sent)
    text = json.dumps(rows, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return _EXECUTE_MANY, [text]


_EXECUTE_ONE = f"EXECUTE ml_put1({', '.join(['%s'] * 16)})"
_EXECUTE_MANY = "EXECUTE ml_putn(%s)"


def _search(row: Row) -> str | None:
    """The row's search vector: its rendered text, empty for a tombstone, and NULL for a
    row re-put as it was read (``COALESCE`` then keeps the vector it has)."""
    if row.tombstone:
        return ""
    return None if row.search is None else search.render(row.search)
