"""Full-text search and tags on SQLite: an FTS5 index beside the entries.

Layout (migration 4):

* ``entries`` gains ``tags`` (a JSON array, NULL = none) and the indexed text,
  ``search_key`` and ``search_body``: tokens the engine computed in Python
  (``lifecycle.entries.searchable``), space-separated, NULL = not indexed (tombstones, and
  rows written before search existed until they are backfilled).
* ``search`` is a contentless FTS5 table (``content=''``: the text is not stored a
  second time) with the ``ascii`` tokenizer, which only splits on spaces here,
  since the tokens are already normalized. Its rowid is ``entries.id``; its
  columns are the key's tokens, the value's tokens and one token per tag.
* A write updates ``search`` in the same transaction as the row
  (``SQLiteTransaction.put`` calls ``sync``), and only when the text or the
  tags changed: a status update that changes a number costs no index work.
  Deleting rows, however it happens (a sweep of expired rows, a lazy expiry, a
  purge of tombstones, another process), removes their index entries through
  a trigger, in the same statement. Writes are not done by triggers because an
  FTS5 write from a trigger flushes FTS5's in-memory buffer on every row,
  which measured four times slower than writing from Python.

A contentless table deletes an entry only when given back exactly the text it
indexed, which is why that text is kept in ``entries``.

Strings of a value are separated in the body by a token no query produces
(U+2063), so a phrase never matches across two strings. Expired and deleted
entries are filtered at query time through the join on ``entries``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence

from lifecycle.store.base import SearchHit
from lifecycle.store.sqlite.rows import COLUMNS, SQLiteAccess, row_from
from lifecycle.store.text_index import STRING_SEPARATOR, Query, SearchDoc, tag_token

TYPE_CHECKING = False  # typing's flag without importing typing
if TYPE_CHECKING:
    import sqlite3
    from typing import Any

    from lifecycle.store.base import Row

SEPARATOR = "\u2063"
_TAG_TOKENS = "(SELECT group_concat('t' || lower(hex(value)), ' ') FROM json_each(old.tags))"

MIGRATION: tuple[str, ...] = (
    "ALTER TABLE entries ADD COLUMN tags TEXT",
    "ALTER TABLE entries ADD COLUMN search_key TEXT",
    "ALTER TABLE entries ADD COLUMN search_body TEXT",
    # rows waiting to be indexed: normally none, so this index costs nothing
    "CREATE INDEX entries_unindexed ON entries(key) WHERE search_key IS NULL AND tombstone = 0",
    "CREATE VIRTUAL TABLE search USING fts5(k, body, tags, content='', tokenize='ascii')",
    # the tag tokens are made as tag_tokens() makes them: the same text, or no delete
    f"""CREATE TRIGGER entries_search_delete AFTER DELETE ON entries
    WHEN old.search_key IS NOT NULL BEGIN
        INSERT INTO search(search, rowid, k, body, tags)
        VALUES ('delete', old.id, old.search_key, old.search_body, {_TAG_TOKENS});
    END""",
)

# Migration 5: a sweep removes the index entries of the rows it deletes in one set-based
# statement (``SWEEPING`` set meanwhile, in its own transaction), which costs a fraction
# of the trigger firing once per row: FTS5 flushes its pending changes at the end of
# every trigger program, so each row became an index segment of its own
# (bench/bench_sweep.py). Every other delete, by any process or version, still goes
# through the trigger.
SWEEP_MIGRATION: tuple[str, ...] = (
    "DROP TRIGGER entries_search_delete",
    f"""CREATE TRIGGER entries_search_delete AFTER DELETE ON entries
    WHEN old.search_key IS NOT NULL
        AND NOT EXISTS (SELECT 1 FROM meta WHERE name = 'sweeping') BEGIN
        INSERT INTO search(search, rowid, k, body, tags)
        VALUES ('delete', old.id, old.search_key, old.search_body, {_TAG_TOKENS});
    END""",
)
_SWEEPING = "INSERT INTO meta VALUES ('sweeping', '1')"
_SWEPT = "DELETE FROM meta WHERE name = 'sweeping'"
_UNINDEX = (
    "INSERT INTO search(search, rowid, k, body, tags) SELECT 'delete', id, search_key, "
    f"search_body, {_TAG_TOKENS.replace('old.tags', 'tags')} FROM entries "
    "WHERE {where} AND search_key IS NOT NULL"
)


def delete_rows(conn: sqlite3.Connection, where: str, params: Sequence[object]) -> int:
    """Delete the entries ``where`` selects and their index entries, set-based (inside
    the caller's write transaction: no other connection ever sees ``sweeping``); how
    many entries."""
    conn.execute(_SWEEPING)
    conn.execute(_UNINDEX.format(where=where), params)
    count: int = conn.execute(f"DELETE FROM entries WHERE {where}", params).rowcount
    conn.execute(_SWEPT)
    return count


def delete_all(conn: sqlite3.Connection) -> int:
    """Delete every entry and the whole index (``reset``); how many entries."""
    conn.execute(_SWEEPING)
    conn.execute("INSERT INTO search(search) VALUES ('delete-all')")
    count: int = conn.execute("DELETE FROM entries").rowcount
    conn.execute(_SWEPT)
    return count


# What a transaction knows of a row's index entry: (id, search_key, search_body, tags)
Indexed = tuple[int, "str | None", "str | None", "str | None"]
SELECT_INDEXED = "id, search_key, search_body"


def render(doc: SearchDoc) -> tuple[str, str]:
    """``search_key`` and ``search_body`` for a document."""
    return doc.key, doc.body.replace(STRING_SEPARATOR, f" {SEPARATOR} ")


def tag_tokens(tags_json: str | None) -> str | None:
    return " ".join(tag_token(t) for t in json.loads(tags_json)) if tags_json else None


# One statement for both kinds of index write, so a batch of them is one ``executemany``
# in order: the first value is FTS5's command column, ``'delete'`` or NULL (an insert).
INDEX_OP = "INSERT INTO search(search, rowid, k, body, tags) VALUES (?, ?, ?, ?, ?)"


def tags_text(tags: Sequence[str]) -> str | None:
    return json.dumps(list(tags), ensure_ascii=False) if tags else None


def _phrase(tokens: Sequence[str], prefix: bool = False) -> str:
    quoted = " ".join(tokens).replace('"', '""')  # tokens never hold '"'; belt and braces
    return f'"{quoted}"' + ("*" if prefix else "")


def _tags_match(tags: Sequence[str]) -> str:
    return "tags : (" + " ".join(_phrase([tag_token(t)]) for t in tags) + ")"


def match_expression(query: Query, tags: Sequence[str]) -> str:
    """The FTS5 expression: every term in the key or the value, every tag in the tags."""
    terms = " ".join(_phrase(t.tokens, t.prefix) for t in query.terms)
    expression = f"{{k body}} : ({terms})"
    return f"{expression} AND {_tags_match(tags)}" if tags else expression


# bm25 weights per column: a word of the key counts double, tags not at all
_SCORE = "-bm25(search, 2.0, 1.0, 0.0)"
_SEARCH = f"""
WITH m AS MATERIALIZED (
    SELECT rowid AS id, {_SCORE} AS score FROM search WHERE search MATCH ?
)
SELECT {{columns}}, m.score FROM m JOIN entries ON entries.id = m.id
WHERE tombstone = 0 AND (expires_at IS NULL OR expires_at > ?) AND key >= ? AND key < ?
{{after}}
ORDER BY m.score DESC, key LIMIT ?
"""
_EXPIRES, _TOMBSTONE = 9, 12  # where COLUMNS puts expires_at and tombstone
_TIES_READ = 200  # matches tied at the cut read beyond the best few, at most
_NO_CUT = -1e308
_AFTER = "AND (m.score < ? OR (m.score = ? AND key > ?))"
# The best few by score and every match tied with the last of them, joined to their rows
# in one statement: ``cut`` is the score of the ``OFFSET``-th best match (-inf when there
# are fewer), every match scoring at least that is read (ties are common: a one-word
# score depends on the word's count and the entry's length only), at most ``LIMIT``. The
# filters (expired, the cursor) are applied in Python, after, so the join stays on these.
_BEST = f"""
WITH m AS MATERIALIZED (
    SELECT rowid AS id, {_SCORE} AS score FROM search WHERE search MATCH ?
), cut AS (
    SELECT coalesce((SELECT score FROM m WHERE score <= ? ORDER BY score DESC LIMIT 1 OFFSET ?),
                    -1e308) AS score
)
SELECT {{columns}}, m.score, cut.score FROM m CROSS JOIN cut LEFT JOIN entries ON entries.id = m.id
WHERE m.score <= ? AND m.score >= cut.score LIMIT ?
"""


def search(
    store: SQLiteAccess,
    query: Query,
    *,
    prefix: str,
    tags: Sequence[str],
    now: float,
    after: tuple[float, str] | None,
    limit: int,
    top: str,
) -> list[SearchHit]:
    """The best ``limit`` matches. A query found in too many entries to score them all is
    ranked by recency windows (``search_window``: the hits say ``cut_off``). Without a
    prefix, the best few by score alone are tried first (``_best``): scoring all matches
    is cheap next to joining each one to its entry, which a word found in half the store
    makes the larger cost."""
    from lifecycle.store.sqlite import search_window  # (here: a hook only unindexes)

    expression = match_expression(query, tags)
    with store._errors():
        conn = store._conn()
        nth = search_window.too_many(conn, expression, prefix, top)
        if nth is not None:
            phrases = [match_expression(Query((t,)), ()) for t in query.terms]
            return search_window.search(
                conn, query, expression, phrases,
                prefix=prefix, top=top, now=now, after=after, limit=limit, nth=nth,
            )  # fmt: skip
    if not prefix:
        hits = _best(store, expression, now=now, after=after, limit=limit)
        if hits is not None:
            return hits
    sql = _SEARCH.format(columns=COLUMNS, after=_AFTER if after else "")
    params: list[Any] = [expression, now, prefix, prefix + top]
    if after:
        params += [after[0], after[0], after[1]]
    with store._errors():
        rows = store._conn().execute(sql, (*params, limit)).fetchall()
    return [SearchHit(row_from(r[:-1]), r[-1]) for r in rows]


def _best(
    store: SQLiteAccess, expression: str, *, now: float, after: tuple[float, str] | None, limit: int
) -> list[SearchHit] | None:
    """The answer from the best-scored few matches (``_BEST``), or ``None`` when they
    cannot prove it (then every match is joined and sorted by SQLite).

    Joining a match to its row is most of a search's cost (a seek into the table each),
    so ``limit`` of them and their ties are read first, then ``2 * limit + 20`` and their
    ties if too many of those expired or came before the cursor. The answer is proven
    when ``limit`` are kept (any match not read scores below each of them) or every
    match was read (``cut`` is -inf)."""
    sql = _BEST.format(columns=COLUMNS)
    below = after[0] if after else math.inf
    for fetch in (limit, 2 * limit + 20):
        cap = fetch + _TIES_READ
        with store._errors():
            params = (expression, below, fetch - 1, below, cap)
            found = store._conn().execute(sql, params).fetchall()
        if len(found) == cap:
            return None  # too many ties to read here
        kept = [
            r
            for r in found
            if r[0] is not None  # LEFT JOIN: an index entry whose row is gone
            and not r[_TOMBSTONE]
            and (r[_EXPIRES] is None or r[_EXPIRES] > now)
            and (after is None or r[-2] < after[0] or r[0] > after[1])
        ]
        if len(kept) >= limit or not found or found[0][-1] == _NO_CUT:
            kept.sort(key=lambda r: (-r[-2], r[0]))
            return [SearchHit(row_from(r[:-2]), r[-2]) for r in kept[:limit]]
    return None


def tagged_condition(tags: Sequence[str]) -> tuple[str, tuple[str, ...]]:
    """A WHERE clause (and its parameter) keeping rows that carry every tag."""
    if not tags:
        return "", ()
    return " AND id IN (SELECT rowid FROM search WHERE search MATCH ?)", (_tags_match(tags),)


def index_pending(
    store: SQLiteAccess, compute: Callable[[Row], SearchDoc], limit: int
) -> int | None:
    """Backfill up to ``limit`` unindexed rows inside one write transaction (so two
    processes never index the same row); ``None`` when nothing was pending."""
    pending = "SELECT {} FROM entries WHERE search_key IS NULL AND tombstone = 0"
    with store._errors():
        if store._conn().execute(pending.format("1") + " LIMIT 1").fetchone() is None:
            return None
    with store._write() as conn:
        found = conn.execute(
            pending.format(f"{COLUMNS}, id") + " ORDER BY key LIMIT ?", (limit,)
        ).fetchall()
        for r in found:
            key_text, body = render(compute(row_from(r[:-1])))
            conn.execute(
                "UPDATE entries SET search_key = ?, search_body = ? WHERE id = ?",
                (key_text, body, r[-1]),
            )
            # (r[13]: the tags as stored)
            conn.execute(INDEX_OP, (None, r[-1], key_text, body, tag_tokens(r[13])))
    return len(found)


def optimize(conn: sqlite3.Connection) -> None:
    """Merge the index into one segment, dropping what deleted entries left in it.

    A contentless FTS5 index forgets an entry by appending a deletion marker; the
    entry's postings stay in their segment until a merge reaches it, and big old
    segments are merged rarely. After a sweep that removed most entries the index
    kept them all (102 MB for a store emptied of a million entries, and a one-word
    search read every marker: 339 ms instead of 1). Costs a pass over the index, so
    it runs only after sweeps that removed much of it (``sqlite_space``)."""
    conn.execute("INSERT INTO search(search) VALUES ('optimize')")


def clear(store: SQLiteAccess) -> None:
    """Forget every index entry, every row marked unindexed, in one transaction."""
    with store._write() as conn:
        conn.execute("INSERT INTO search(search) VALUES ('delete-all')")
        conn.execute(
            "UPDATE entries SET search_key = NULL, search_body = NULL WHERE search_key IS NOT NULL"
        )
