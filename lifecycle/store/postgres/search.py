"""Full-text search and tags on PostgreSQL: a ``tsvector`` column with a GIN index.

Layout (migration 4): ``entries`` gains ``tags`` (``text[]``, NULL = none, GIN
indexed for ``@>``) and ``search`` (``tsvector``, NULL = not indexed, GIN
indexed for ``@@``), written by the same upsert as the row.

The ``tsvector`` is not made by ``to_tsvector``: PostgreSQL's parser and
dictionaries depend on the text-search configuration and the database's
locale (a ``C`` locale database does not see non-ASCII letters as letters),
and they stem and drop stop words, so SQLite and PostgreSQL would match
differently. The engine's tokens (``lifecycle.entries.searchable``) are written as a
``tsvector`` literal with positions instead (the key's tokens weighted ``A``,
the value's ``D``, a gap between strings so a phrase never spans two), and
queries as a ``tsquery`` literal (``&``, ``<->`` for phrases, ``:*`` for
prefixes). Neither literal ever contains user text, only tokens.

Why not ``pg_trgm`` or an external engine: trigram similarity finds
substrings, not words, phrases and prefixes, and ranks by overlap, not
relevance; a second system would break "the index is written in the same
transaction as the entry". GIN over ``tsvector`` is PostgreSQL's own
full-text index and ranks with ``ts_rank``, which depends only on the entry's
own text, so a score never moves while the entry stays unchanged.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from lifecycle.store.base import SearchHit
from lifecycle.store.postgres import search_window
from lifecycle.store.postgres.rows import (
    COLUMNS,
    HEAD,
    LOCK_KEYS,
    PostgresAccess,
    row_from,
    scalar,
)
from lifecycle.store.text_index import Query, SearchDoc

if TYPE_CHECKING:
    from lifecycle.store.base import Row

MIGRATION = """
ALTER TABLE entries ADD COLUMN tags TEXT[];
ALTER TABLE entries ADD COLUMN search TSVECTOR;
CREATE INDEX entries_search ON entries USING gin (search);
CREATE INDEX entries_tags ON entries USING gin (tags);
CREATE INDEX entries_unindexed ON entries (key) WHERE search IS NULL AND NOT tombstone;
"""

MAX_POSITION = 16383  # tsvector positions stop here (later words share it)
MAX_POSITIONS = 256  # per lexeme
MAX_TSVECTOR_BYTES = 1_000_000  # PostgreSQL refuses a tsvector over 1 MB
_WEIGHTS = "'{0.5, 0.5, 0.5, 1.0}'::real[]"  # D (value), C, B, A (key): a key word counts double


def _lexeme(token: str) -> str:
    return "'" + token.replace("\\", "\\\\").replace("'", "''") + "'"


_SMALL_CHARS = 200_000  # a document this short cannot reach the size cap (4 bytes a char)


def render(doc: SearchDoc) -> str:
    """A ``tsvector`` literal: each token with its positions, key tokens weighted A."""
    key = doc.key.split()
    strings = doc.strings()
    count = len(key) + sum(map(len, strings))
    small = (
        count <= MAX_POSITIONS
        and count + len(strings) < MAX_POSITION
        and len(doc.key) + len(doc.body) < _SMALL_CHARS
    )
    if not small:
        return _render_any(key, strings)
    quoted = "'" in doc.key or "\\" in doc.key or "'" in doc.body or "\\" in doc.body
    return _render_small(key, strings, quoted)


def _render_small(key: list[str], strings: list[list[str]], quoted: bool = True) -> str:
    """``_render_any`` for a document that cannot reach any limit (every write's case):
    the same literal, without the per-token accounting, each token's positions kept as
    their text (most tokens occur once), and no escaping when no token needs it
    (``quoted``: some token holds a quote or a backslash): a fifth of the time."""
    positions: dict[str, str] = {}
    get = positions.get
    at = 1
    for token in key:
        found = get(token)
        positions[token] = f"{at}A" if found is None else f"{found},{at}A"
        at += 1
    for string in strings:
        at += 1  # a gap: no phrase spans two strings (or the key and the value)
        for token in string:
            found = get(token)
            positions[token] = str(at) if found is None else f"{found},{at}"
            at += 1
    if quoted:
        return " ".join([f"{_lexeme(t)}:{p}" for t, p in positions.items()])
    return " ".join([f"'{t}':{p}" for t, p in positions.items()])


def _render_any(key: list[str], strings: list[list[str]]) -> str:
    positions: dict[str, list[str]] = {}
    size = 0
    at = 1

    def add(token: str, mark: str) -> None:
        nonlocal size
        found = positions.get(token)
        if found is None:
            cost = len(token.encode("utf-8")) + 8
            if size + cost > MAX_TSVECTOR_BYTES * 0.9:
                return  # past about 1 MB of distinct words, later new words are left out
            size += cost
            found = positions[token] = []
        if len(found) < MAX_POSITIONS:
            found.append(f"{min(at, MAX_POSITION)}{mark}")
            size += 2

    for token in key:
        add(token, "A")
        at += 1
    for string in strings:
        at += 1  # a gap: no phrase spans two strings (or the key and the value)
        for token in string:
            add(token, "")
            at += 1
    return " ".join(f"{_lexeme(t)}:{','.join(p)}" for t, p in positions.items())


def tsquery(query: Query) -> str:
    """A ``tsquery`` literal: terms ANDed, a phrase's tokens adjacent, a prefix ``:*``."""
    terms = []
    for term in query.terms:
        lexemes = [_lexeme(t) for t in term.tokens]
        if term.prefix:
            lexemes[-1] += ":*"
        terms.append(lexemes[0] if len(lexemes) == 1 else "(" + " <-> ".join(lexemes) + ")")
    return " & ".join(terms)


# The exact ranking, as before the cut-off existed, when the store is too small to need one:
# its revision counter (every write takes the next revision, and each live row holds one of
# its own) is at most ``CUT_OFF``, so it holds at most ``CUT_OFF`` matches. That is one
# more condition, checked once per statement (an init plan reading one row of
# ``counters``): PostgreSQL plans this statement anew for most searches (its generic plan
# cannot see the words), and a gate spelled as a join or as ``max(revision)`` cost it
# three to four times as much planning (~0.2 ms). No row: no match, or a store past
# ``CUT_OFF`` (``HEAD`` tells which). A store once seen past ``CUT_OFF`` goes to
# ``_RANKED`` at once (``_HEAD_SEEN``; revisions only grow): in a large store this
# statement's plan is costed for ranking every match, above PostgreSQL's threshold for
# compiling it (JIT: ~20 ms for a statement that returns nothing).
_SEARCH = f"""
SELECT * FROM (
    SELECT {{columns}}, {{rank}} AS score FROM entries WHERE {{match}}
    AND ({HEAD}) <= %(cut)s
) AS m
{{after}}
ORDER BY score DESC, key LIMIT %(limit)s
"""
_HEAD_SEEN: weakref.WeakKeyDictionary[PostgresAccess, int] = weakref.WeakKeyDictionary()
# A cursor's score this high comes from a page ranked by windows (``ts_rank`` with weights
# at most 1, divided by log2 of the length plus one, stays about 1 at most, never near 2;
# a window's score is its number plus less than 1): its next page is ranked by windows
# too, without counting the matches again, so a paging never switches rankings midway,
# and pages after the first cost a window each. (Windows 0 and 1, the oldest 4,096
# revisions, count again: their scores are not told apart from ``ts_rank``'s.)
_WINDOWED = 2.0
# A larger store: the exact ranking, and whether it is the one to use, in one statement:
# the live matches (every filter applied) are read and ranked once, at most ``CUT_OFF + 1``
# of them (their keys and scores kept); when there are more, the answer is one row of
# NULLs and the count, and the query is ranked by recency windows instead
# (``search_window``); otherwise the best are sorted from those kept, and only the page's
# rows are read whole. (Keeping each match's ``tsvector`` to rank after the count, or only
# its address to read again, measured slower at a million entries.) Never prepared: a
# generic plan, blind to the query's words and to the cap, scans the table for a rare
# word (a cap it cannot see may stop a scan early) and the full-text index for a word in
# every entry (the cap stops a scan of the table after ``CUT_OFF`` rows).
_RANKED = """
WITH m AS MATERIALIZED (
    SELECT key, {rank} AS score FROM entries WHERE {match} LIMIT %(cap)s
), n AS (
    SELECT count(*) AS n FROM m
)
SELECT {columns}, s.score, n.n FROM n LEFT JOIN LATERAL (
    SELECT * FROM (
        SELECT key, score FROM m WHERE n.n < %(cap)s
    ) AS s
    {after}
    ORDER BY score DESC, key LIMIT %(limit)s
) AS s ON TRUE LEFT JOIN entries AS e ON e.key = s.key
ORDER BY s.score DESC, s.key
"""
# the score is compared as float8, the type it travels in: a float4 sent to Python as
# text and back would not compare equal to itself, and a tie would repeat or skip rows
_RANK = f"ts_rank({_WEIGHTS}, search, %(q)s::tsquery, 1)::float8"
_AFTER = "WHERE score < %(score)s OR (score = %(score)s AND key > %(key)s)"
_E_COLUMNS = ", ".join(f"e.{c}" for c in COLUMNS.split(", "))


def match_condition(prefix: str, tags: Sequence[str]) -> str:
    """The rows a search matches: the query, live, the prefix's keys, every tag."""
    return (
        "search @@ %(q)s::tsquery AND NOT tombstone"
        " AND (expires_at IS NULL OR expires_at > %(now)s)"
        # no key range without a prefix: the planner would take a range over every key
        # for a selective one (before ANALYZE) and scan the table instead of the index
        + (" AND key >= %(low)s AND key < %(high)s" if prefix else "")
        + (" AND tags @> %(tags)s::text[]" if tags else "")
    )


def search(
    store: PostgresAccess,
    query: Query,
    *,
    prefix: str,
    tags: Sequence[str],
    now: float,
    after: tuple[float, str] | None,
    limit: int,
    top: str,
) -> list[SearchHit]:
    """The best ``limit`` matches: ranked exactly, or by recency windows when the query has
    more than ``search_window.CUT_OFF`` live matches (the hits then say ``cut_off``)."""
    match = match_condition(prefix, tags)
    args = {
        "q": tsquery(query),
        "now": now,
        "low": prefix,
        "high": prefix + top,
        "tags": list(tags),
        "score": after[0] if after else None,
        "key": after[1] if after else None,
        "limit": limit,
        "cut": search_window.CUT_OFF,
        "cap": search_window.CUT_OFF + 1,
    }
    shape = {"match": match, "rank": _RANK, "after": _AFTER if after else ""}
    with store._connection() as conn:
        if after is not None and after[0] >= _WINDOWED:  # the next page of a cut ranking
            windowed = search_window.statement(**shape)
            return search_window.search(conn, windowed, args, after=after, limit=limit)
        if _HEAD_SEEN.get(store, 0) <= search_window.CUT_OFF:
            rows = conn.execute(
                _SEARCH.format(columns=COLUMNS, head=HEAD, **shape), args
            ).fetchall()
            if rows:  # a small store's: the exact ranking's answer
                return [SearchHit(row_from(r[:-1]), float(r[-1])) for r in rows]
            head = int(scalar(conn.execute(HEAD)))
            if head <= search_window.CUT_OFF:
                return []  # a small store, no match
            _HEAD_SEEN[store] = head
        ranked = _RANKED.format(columns=_E_COLUMNS, **shape)
        rows = conn.execute(ranked, args, prepare=False).fetchall()
        if rows[0][-1] > search_window.CUT_OFF:
            windowed = search_window.statement(**shape)
            return search_window.search(conn, windowed, args, after=after, limit=limit)
    return [SearchHit(row_from(r[:-2]), float(r[-2])) for r in rows if r[0] is not None]


def tagged_condition(tags: Sequence[str]) -> tuple[str, tuple[list[str], ...]]:
    """A WHERE clause (and its parameter) keeping rows that carry every tag."""
    return (" AND tags @> %s::text[]", (list(tags),)) if tags else ("", ())


_PENDING = "FROM entries WHERE search IS NULL AND NOT tombstone"


def index_pending(
    store: PostgresAccess, compute: Callable[[Row], SearchDoc], limit: int
) -> int | None:
    """Backfill up to ``limit`` unindexed rows. They are locked the way writers lock keys
    (advisory locks in hash order, then the rows), so a backfill never deadlocks with a
    writer, never indexes a row from a stale read, and two backfills never both index
    one row (the second finds it indexed once it gets the lock)."""
    with store._connection() as conn:
        keys = [
            r[0] for r in conn.execute(f"SELECT key {_PENDING} ORDER BY key LIMIT %s", (limit,))
        ]
    if not keys:
        return None
    with store._write() as conn:
        conn.execute(LOCK_KEYS, (store._space, keys))
        rows = conn.execute(
            f"SELECT {COLUMNS} {_PENDING} AND key = ANY(%s) FOR UPDATE", (keys,)
        ).fetchall()
        updates = [(render(compute(row_from(r))), r[0]) for r in rows]
        if updates:
            conn.cursor().executemany(
                "UPDATE entries SET search = %s::tsvector WHERE key = %s", updates
            )
    return len(updates)


def clear(store: PostgresAccess) -> None:
    with store._write() as conn:
        conn.execute("UPDATE entries SET search = NULL WHERE search IS NOT NULL")
