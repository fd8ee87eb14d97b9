"""Semantic and hybrid rankings: the scan, the filters, fusion, cursors.

Semantic: every current vector is scored against the query (``scan``, exact),
entries expired by the clock or below ``threshold`` are dropped, and the rest
are walked best first, ties in key order. The walk reads the candidates' rows
in batches and keeps those that pass the filters (prefix, tags: the same the
keyword search applies, checked on the stored row, so a deleted or expired
entry is never returned whatever the in-memory copy says); it reads more only
when filters rejected too many. So filters apply before ranking: a page holds
the best matching entries, not the best entries that then happen to match.

Hybrid: the keyword ranking (the full-text index, filters applied by the
store) and the semantic ranking, each to ``DEPTH`` entries, fused by
reciprocal rank fusion, ``score = sum(1 / (RRF_K + rank))`` over the rankings
an entry is in: an entry ranked first by both beats one ranked first by one,
and an exact identifier found by its words ranks beside a paraphrase found by
meaning, with no score scale to calibrate between bm25 and cosine. A query the
keyword syntax refuses (``OR``, ``-word``) is ranked by meaning alone. Pages go
``DEPTH`` deep in each ranking (a hybrid search lists at most ``2 * DEPTH``
entries); for more, ask one mode.

Cursors work as in keyword search: the last ``(score, key)`` plus a
fingerprint of the query, filters, mode and threshold.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, NamedTuple

import numpy as np

from lifecycle.basics.digests import sha1_hex
from lifecycle.search import keyword
from lifecycle.search.semantic.index import VectorIndex
from lifecycle.search.semantic.quantize import quantize
from lifecycle.search.semantic.scan import dot_int8
from lifecycle.store.base import Row
from lifecycle.store.vectors import VectorStore

DEPTH = 100
RRF_K = 60
FIRST_WALK = 32


class Filters(NamedTuple):
    """What a result must satisfy besides its rank (checked on the stored row)."""

    prefix: str
    tags: tuple[str, ...]
    provenance: tuple[str, ...] = ()  # a provenance_filter: labels allowed (none: any)

    def accepts(self, row: Row, now: float) -> bool:
        return (
            not row.tombstone
            and (row.expires_at is None or row.expires_at > now)
            and row.key.startswith(self.prefix)
            and all(t in row.tags for t in self.tags)
            and (not self.provenance or keyword.provenance_allowed(row, self.provenance))
        )


class Ranked(NamedTuple):
    row: Row
    score: float  # the mode's ranking score
    similarity: float | None  # cosine; None for a keyword-only match
    matched: str  # keyword | semantic | both


# ------------------------------------------------------------------ semantic


def semantic(
    index: VectorIndex,
    vectors: VectorStore,
    query: np.ndarray,
    filters: Filters,
    *,
    now: float,
    threshold: float,
    after: tuple[float, str] | None,
    count: int,
) -> list[Ranked]:
    """The best ``count`` entries by similarity that pass ``filters``, strictly after
    ``after`` (a cursor's ``(similarity, key)``), best first, ties in key order."""
    out: list[Ranked] = []
    with index.lock:  # the copy does not change under the walk (a refresh waits for it)
        for chunk in _walk(index, query, filters.prefix, now, threshold, after):
            rows = vectors.rows([key for key, _ in chunk])
            for key, similarity in chunk:
                row = rows.get(key)
                if row is not None and filters.accepts(row, now):
                    out.append(Ranked(row, similarity, similarity, "semantic"))
                    if len(out) == count:
                        return out
    return out


def _walk(
    index: VectorIndex,
    query: np.ndarray,
    prefix: str,
    now: float,
    threshold: float,
    after: tuple[float, str] | None,
) -> Iterator[list[tuple[str, float]]]:
    """Candidates best first, in growing chunks: ``(key, similarity)``."""
    keys, slots, sims = _scores(index, query, prefix, now, threshold, after)
    taken = 0
    want = FIRST_WALK
    while taken < len(sims):
        order = _top(keys, slots, sims, min(len(sims), taken + want))
        chunk = [(keys[slots[i]], float(sims[i])) for i in order[taken:]]
        if after is not None:
            chunk = [(k, s) for k, s in chunk if s < after[0] or k > after[1]]
        taken = len(order)
        want *= 4
        if chunk:
            yield chunk


def _scores(
    index: VectorIndex,
    query: np.ndarray,
    prefix: str,
    now: float,
    threshold: float,
    after: tuple[float, str] | None,
) -> tuple[list[str | None], np.ndarray, np.ndarray]:
    """The slot keys, and the slots and similarities of every candidate (the caller holds
    the index's lock)."""
    ints, scales = quantize(query.reshape(1, -1))
    slots = index.slots_under(prefix)
    size = index.size
    if slots is None:
        dots = dot_int8(index.matrix[:size], ints[0])
        slot_scales, expires = index.scales[:size], index.expires[:size]
    else:
        dots = dot_int8(index.matrix[slots], ints[0])
        slot_scales, expires = index.scales[slots], index.expires[slots]
    keys = index.keys
    sims = dots.astype(np.float32) * slot_scales * np.float32(scales[0])
    keep = (expires > now) & (slot_scales > 0) & (sims >= np.float32(threshold))
    if after is not None:
        keep &= sims <= np.float32(after[0])
    chosen = np.nonzero(keep)[0]
    found = chosen if slots is None else slots[chosen]
    return keys, found, sims[chosen]


def _top(keys: list[str | None], slots: np.ndarray, sims: np.ndarray, k: int) -> list[int]:
    """Indices of the ``k`` best (and any tied with the k-th), by similarity then key."""
    if k < len(sims):
        kth = np.partition(-sims, k - 1)[k - 1]
        chosen = np.nonzero(-sims <= kth)[0]
    else:
        chosen = np.arange(len(sims))
    return sorted((int(i) for i in chosen), key=lambda i: (-float(sims[i]), keys[slots[i]] or ""))


# ------------------------------------------------------------------ hybrid


def fuse(keyword: list[tuple[Row, float]], meaning: list[Ranked]) -> list[Ranked]:
    """Reciprocal rank fusion of the two rankings (each best first)."""
    fused: dict[str, list[Any]] = {}
    for rank, (row, _) in enumerate(keyword, start=1):
        fused[row.key] = [1.0 / (RRF_K + rank), row, None, "keyword"]
    for rank, hit in enumerate(meaning, start=1):
        found = fused.get(hit.row.key)
        if found is None:
            fused[hit.row.key] = [1.0 / (RRF_K + rank), hit.row, hit.similarity, "semantic"]
        else:
            found[0] += 1.0 / (RRF_K + rank)
            found[2], found[3] = hit.similarity, "both"
    ranked = [Ranked(row, score, similarity, how) for score, row, similarity, how in fused.values()]
    ranked.sort(key=lambda r: (-r.score, r.row.key))
    return ranked


def after_cursor(ranked: list[Ranked], after: tuple[float, str] | None) -> list[Ranked]:
    if after is None:
        return ranked
    score, key = after
    return [r for r in ranked if r.score < score or (r.score == score and r.row.key > key)]


# ------------------------------------------------------------------ cursors


def fingerprint(query: str, filters: Filters, mode: str, threshold: float) -> str:
    parts = [mode, repr(threshold), query, filters.prefix, *filters.tags]
    if filters.provenance:
        parts += ["p:", *filters.provenance]
    return sha1_hex("\x1f".join(parts).encode("utf-8", "surrogatepass"))[:12]


def encode_cursor(last: Ranked, belongs: str) -> str:
    return keyword.encode_cursor(last.score, last.row.key, belongs)


def decode_cursor(cursor: Any, belongs: str) -> tuple[float, str]:
    return keyword.decode_cursor(cursor, belongs, "the query, filters, mode or threshold")
