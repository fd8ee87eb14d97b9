"""Ranking a query found in a great many entries on PostgreSQL: newest windows, not every
match (issue 24; SQLite's ``sqlite/search_window.py`` does the same with FTS5).

``ts_rank`` over every match costs a heap read and a rank per match: a word found in each
of a million entries (a namespace segment such as ``knowledge``) took seconds per search
whatever the page size. Above ``CUT_OFF`` live matches (after every filter: expiry,
tombstones, the key prefix, the tags) the ranking is cut off by recency instead: the
matches are walked newest first, in windows of ``WINDOW`` revisions, and only the matches
of the windows a page reaches are ranked. Which ranking a search gets is decided in
``search.search``: a store whose revision counter is at most ``CUT_OFF`` (it has seen no
more writes) cannot hold more matches (a condition of the exact ranking's own
statement); in a larger one, one statement reads at most ``CUT_OFF + 1`` live matches
and ranks them exactly when there are no more.

Recency is the ``revision`` column: every write gives the row the store's next revision
(``changelog``: commit order, no two live rows share one), so the newest window is the
most recently written, where SQLite's rowid orders by first write. Migration 8 indexes
it (``MIGRATION``), partially, ``WHERE search IS NOT NULL``: every search condition
(``search @@ ...``, a strict operator) implies that predicate, so a search can walk the
index, and no other query can (``newest_statement``'s plans stay as they were).

Each window is one statement: the newest match below a revision (a backward walk of the
index, the filters applied to each row it reads), then every match of that match's
window (a range of the index), ranked by ``ts_rank`` as the exact ranking does. A
result's score is ``window + rank / (1 + rank)``: a newer window ranks first, ``ts_rank``
orders each window, and the score still places a match exactly, so the cursor's ``(score,
key)`` resumes in the right window and pages neither repeat nor skip a match. ``ts_rank``
depends on the entry's own text only (no statistics of the whole index, unlike bm25), so
nothing needs estimating here: within a window the order is exactly the exact ranking's.
An entry written between two pages moves to the newest window, above the cursor: it is
not seen again by that paging, as with any write that raises an entry's rank.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from lifecycle.store.base import SearchHit
from lifecycle.store.postgres.rows import COLUMNS, row_from

if TYPE_CHECKING:
    import psycopg

CUT_OFF = 20_000  # live matches above which the ranking is cut to recency windows
WINDOW = 2_048  # revisions per window

MIGRATION = (
    "CREATE INDEX IF NOT EXISTS entries_revision ON entries (revision) WHERE search IS NOT NULL"
)

_NEWEST = 1 << 62  # above any revision
# ``{match}``: the search condition and every filter (``search.match_condition``);
# ``{rank}``: the exact ranking's ``ts_rank``; ``{after}``: the cursor, or nothing
_WINDOW = """
WITH w AS (
    SELECT revision / %(width)s AS win FROM entries
    WHERE revision < %(below)s AND {match} ORDER BY revision DESC LIMIT 1
)
SELECT w.win, s.* FROM w LEFT JOIN LATERAL (
    SELECT * FROM (
        SELECT {columns}, w.win + rank / (1 + rank) AS score FROM (
            SELECT {columns}, {rank} AS rank FROM entries
            WHERE revision >= w.win * %(width)s AND revision < (w.win + 1) * %(width)s
            AND {match}
        ) AS r
    ) AS s
    {after}
    ORDER BY score DESC, key LIMIT %(limit)s
) AS s ON TRUE
ORDER BY s.score DESC, s.key
"""


def statement(match: str, rank: str, after: str) -> str:
    return _WINDOW.format(columns=COLUMNS, match=match, rank=rank, after=after)


def search(
    conn: psycopg.Connection[Any],
    sql: str,
    args: dict[str, Any],
    *,
    after: tuple[float, str] | None,
    limit: int,
) -> list[SearchHit]:
    """The best ``limit`` matches after ``after``, window by window, newest first
    (``sql``: ``statement``'s, ``args``: its parameters but the window's)."""
    below = (math.floor(after[0]) + 1) * WINDOW if after is not None else _NEWEST
    hits: list[SearchHit] = []
    while len(hits) < limit:
        params = {**args, "width": WINDOW, "below": below, "limit": limit - len(hits)}
        rows = conn.execute(sql, params, prepare=False).fetchall()  # (see search._RANKED)
        if not rows:
            break  # no match below: every window was read
        hits += [
            SearchHit(row_from(r[1:-1]), float(r[-1]), cut_off=True)
            for r in rows
            if r[1] is not None  # (a window whose matches all came before the cursor)
        ]
        below = int(rows[0][0]) * WINDOW
    return hits
