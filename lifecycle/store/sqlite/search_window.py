"""Ranking a query found in a great many entries: newest windows, not every match.

bm25 ranks all matches: FTS5 scores every one, and its first call counts every match of
each phrase for the phrase's IDF, so a word found in each of a million entries cost
1.6 s per search whatever the page size (issue 24). Above ``CUT_OFF`` matches the
ranking is cut off by recency instead: the matches are walked newest first (FTS5 reads
its doclist by rowid, descending, at no cost) in windows of ``WINDOW`` rowids, and only
the matches of the windows a page reaches are scored, by bm25 computed here from the
indexed text the ``entries`` row keeps: FTS5's formula, its constants and our column
weights, from FTS5's own row count and average length (its ``averages`` record). The
IDF of a phrase found more than ``CUT_OFF`` times is estimated from how densely its
first ``CUT_OFF`` matches cover the rowids (counting them all is the cost avoided);
below that it is counted, as bm25 does.

A result's score is ``window + relevance / (1 + relevance)``: a newer window ranks
first, relevance orders each window, and the score still places a match exactly, so the
cursor's ``(score, key)`` resumes in the right window and pages neither repeat nor skip
a match. A word found in more than half the entries gets bm25's floor IDF (1e-6): its
relevance says next to nothing, and recency is what is left to rank by.

Filters apply before a page is cut: expiry, tombstones and the key prefix in the SQL of
each window, tags in the FTS5 expression itself. A prefix holding at most ``CUT_OFF``
entries is ranked exactly instead (``cut_off`` says so), since recency would then
throw away relevance for a small set.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence

from lifecycle.store.base import SearchHit
from lifecycle.store.sqlite.rows import COLUMNS, row_from
from lifecycle.store.text_index import Query

TYPE_CHECKING = False  # typing's flag without importing typing
if TYPE_CHECKING:
    import sqlite3

CUT_OFF = 20_000  # matches above which the ranking is cut to recency windows
WINDOW = 2_048  # rowids per window (a full one: ~9 ms of CPU to score)
K1, B = 1.2, 0.75  # FTS5's bm25 constants
KEY_WEIGHT, BODY_WEIGHT = 2.0, 1.0  # as the exact ranking's bm25(search, 2.0, 1.0, 0.0)
_IDF_FLOOR = 1e-6  # FTS5's IDF for a phrase in half the rows or more

# the (CUT_OFF + 1)-th match's rowid (NULL: CUT_OFF matches or fewer), skipped at once when
# no rowid is above CUT_OFF (a store that small never needs the cut: one seek)
_NTH_IF_BIG = (
    "SELECT CASE WHEN coalesce((SELECT max(id) FROM entries), 0) <= ? THEN NULL"
    " ELSE (SELECT rowid FROM search WHERE search MATCH ? LIMIT 1 OFFSET ?) END"
)
_NTH = "SELECT rowid FROM search WHERE search MATCH ? LIMIT 1 OFFSET ?"
_COUNT = "SELECT count(*) FROM search WHERE search MATCH ?"
_SPAN = "SELECT (SELECT min(id) FROM entries), (SELECT max(id) FROM entries)"
_PREFIX_SIZE = "SELECT count(*) FROM (SELECT 1 FROM entries WHERE key >= ? AND key < ? LIMIT ?)"
_NEWEST_BELOW = (
    "SELECT rowid FROM search WHERE search MATCH ? AND rowid < ? ORDER BY rowid DESC LIMIT 1"
)
_IN_WINDOW = """
SELECT e.id, e.key, e.search_key, e.search_body, e.tags FROM search CROSS JOIN entries AS e
ON e.id = search.rowid
WHERE search MATCH ? AND search.rowid >= ? AND search.rowid < ?
AND e.tombstone = 0 AND (e.expires_at IS NULL OR e.expires_at > ?) AND e.key >= ? AND e.key < ?
"""


def too_many(conn: sqlite3.Connection, expression: str, prefix: str, top: str) -> int | None:
    """Whether the ranking must be cut: more than ``CUT_OFF`` matches, and (with a
    prefix) more than ``CUT_OFF`` entries under the prefix. The answer is the rowid of
    the ``CUT_OFF + 1``-th match (the IDF estimate of a one-phrase query reuses it), or
    ``None``."""
    nth: int | None = conn.execute(_NTH_IF_BIG, (CUT_OFF, expression, CUT_OFF)).fetchone()[0]
    if nth is not None and prefix:
        size = conn.execute(_PREFIX_SIZE, (prefix, prefix + top, CUT_OFF + 1)).fetchone()[0]
        return nth if size > CUT_OFF else None
    return nth


class Stats:
    """What bm25 knows of the whole index: rows, average length, each phrase's IDF."""

    def __init__(
        self, conn: sqlite3.Connection, phrases: Sequence[str], known: dict[str, int] | None = None
    ) -> None:
        self.rows, self.avgdl = _averages(conn)
        low, high = conn.execute(_SPAN).fetchone()
        known = known or {}
        self.idf = [self._idf(conn, p, low or 0, high or 0, known.get(p)) for p in phrases]

    def _idf(
        self, conn: sqlite3.Connection, phrase: str, low: int, high: int, nth: int | None
    ) -> float:
        if nth is None:
            found = conn.execute(_NTH, (phrase, CUT_OFF)).fetchone()
            nth = None if found is None else found[0]
        if nth is None:
            hits = float(conn.execute(_COUNT, (phrase,)).fetchone()[0])
        else:  # matches are in rowid order: extrapolate their density over every rowid
            hits = min(float(self.rows), (CUT_OFF + 1) * (high - low + 1) / (nth - low + 1))
        return idf(self.rows, hits)


def idf(rows: float, hits: float) -> float:
    """FTS5's bm25 IDF (never below its floor)."""
    value = math.log((rows - hits + 0.5) / (hits + 0.5)) if rows > 0 else 0.0
    return value if value > 0 else _IDF_FLOOR


def _averages(conn: sqlite3.Connection) -> tuple[float, float]:
    """FTS5's row count and average tokens per row, from its ``averages`` record (a varint
    row count, then one varint total per column), as bm25 reads them."""
    found = conn.execute("SELECT block FROM search_data WHERE id = 1").fetchone()
    values = _varints(bytes(found[0])) if found and found[0] else []
    rows = values[0] if values else 0
    tokens = sum(values[1:])
    return float(rows), (tokens / rows if rows else 1.0)


def _varints(data: bytes) -> list[int]:
    """SQLite's varints (big-endian 7-bit groups; a 9th byte holds 8 bits)."""
    out: list[int] = []
    at = 0
    while at < len(data):
        value = 0
        for i in range(9):
            byte = data[at]
            at += 1
            if i == 8:
                value = (value << 8) | byte
                break
            value = (value << 7) | (byte & 0x7F)
            if byte < 0x80:
                break
        out.append(value)
    return out


def occurrences(tokens: list[str], phrase: tuple[str, ...], prefix: bool) -> int:
    """How many times ``phrase`` occurs in ``tokens`` (FTS5's instances of it)."""
    last = len(phrase) - 1
    if last == 0:
        word = phrase[0]
        if prefix:
            return sum(1 for t in tokens if t.startswith(word))
        return tokens.count(word)
    found = 0
    for at in range(len(tokens) - last):
        if all(tokens[at + i] == phrase[i] for i in range(last)) and (
            tokens[at + last].startswith(phrase[last])
            if prefix
            else tokens[at + last] == phrase[last]
        ):
            found += 1
    return found


def relevance(
    query: Query, idfs: Sequence[float], avgdl: float, key: str, body: str, tags: str | None
) -> float:
    """``-bm25(search, 2.0, 1.0, 0.0)`` of one row, from its indexed text."""
    key_tokens = key.split()
    body_tokens = body.split()
    size = len(key_tokens) + len(body_tokens) + (len(json.loads(tags)) if tags else 0)
    norm = K1 * (1 - B + B * size / avgdl)
    score = 0.0
    for term, weight in zip(query.terms, idfs, strict=False):
        freq = KEY_WEIGHT * occurrences(key_tokens, term.tokens, term.prefix)
        freq += BODY_WEIGHT * occurrences(body_tokens, term.tokens, term.prefix)
        score += weight * (freq * (K1 + 1)) / (freq + norm)
    return score


def search(
    conn: sqlite3.Connection,
    query: Query,
    expression: str,
    phrases: Sequence[str],
    *,
    prefix: str,
    top: str,
    now: float,
    after: tuple[float, str] | None,
    limit: int,
    nth: int,
) -> list[SearchHit]:
    """The best ``limit`` matches after ``after``, window by window, newest first
    (``nth``: what ``too_many`` found for ``expression``)."""
    if after is not None:
        window: int | None = math.floor(after[0])
    else:
        newest = conn.execute(_NEWEST_BELOW, (expression, 1 << 62)).fetchone()
        window = None if newest is None else newest[0] // WINDOW
    stats: Stats | None = None
    chosen: list[tuple[float, str, int]] = []
    while window is not None and len(chosen) < limit:
        rows = conn.execute(
            _IN_WINDOW,
            (expression, window * WINDOW, (window + 1) * WINDOW, now, prefix, prefix + top),
        ).fetchall()
        if rows and stats is None:
            stats = Stats(conn, phrases, {expression: nth})
        scored = []
        for row_id, key, key_text, body, tags in rows:
            assert stats is not None
            rel = relevance(query, stats.idf, stats.avgdl, key_text or "", body or "", tags)
            score = window + rel / (1.0 + rel)
            if after is None or score < after[0] or (score == after[0] and key > after[1]):
                scored.append((score, key, row_id))
        scored.sort(key=lambda s: (-s[0], s[1]))
        chosen += scored[: limit - len(chosen)]
        below = conn.execute(_NEWEST_BELOW, (expression, window * WINDOW)).fetchone()
        window = None if below is None else below[0] // WINDOW
    if not chosen:
        return []
    ids = [c[2] for c in chosen]
    marks = ",".join("?" * len(ids))
    by_id = {
        r[-1]: r[:-1]
        for r in conn.execute(f"SELECT {COLUMNS}, id FROM entries WHERE id IN ({marks})", ids)
    }
    return [SearchHit(row_from(by_id[i]), s, cut_off=True) for s, _, i in chosen if i in by_id]
