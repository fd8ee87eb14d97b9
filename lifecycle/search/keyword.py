"""Full-text search over the store: the query, the filters, ranking, snippets, paging.

The backend matches and ranks (``Store.search``); everything a user sees is
made here, the same way for every backend: the parsed query (``query``), the
snippet (cut from the decoded value, compressed or not), the cursor.

Paging. Results are ordered by score, best first, ties by key, and
``next_cursor`` carries the last ``(score, key)``: the next page starts
strictly after it, so with no write in between every match appears exactly
once across the pages. With writes in between: an entry written meanwhile is
matched as it is when the next page is read (it may appear at its new rank,
or not at all if its new rank is on a page already read, or again); an entry
deleted or expired meanwhile does not appear; no other entry is repeated or
skipped on PostgreSQL, where ``ts_rank`` depends on the entry's own text only.
On SQLite, ``bm25`` weighs words by how many entries hold them, so a write
elsewhere nudges every score a little, and an entry whose score lies within
that nudge of a page boundary can be repeated or missed. A cursor names its
query and filters, and is refused for another search.

Entries written before search existed (or inserted by an older version) are
indexed before a search runs (``ensure_indexed``), in batches, by whichever
process gets there first; ``reindex`` rebuilds every entry's index. Why at the
first search and not when the store is opened: hooks open the store on every
session end and task and must stay quick, and indexing 100,000 entries takes
seconds; a search, on the other hand, must not miss an entry, so it is the one
that cannot skip the work. Finding nothing to do costs one probe of a partial
index that is empty once everything is indexed.
"""

from __future__ import annotations

import base64
import json
import math
import time

from lifecycle.basics.keys import scoped_prefix
from lifecycle.entries import codec, crdt, provenance, searchable, transitions
from lifecycle.entries.tags import check_tags
from lifecycle.errors import InvalidValueError, LifecycleError
from lifecycle.search.limits import DEFAULT_LIMIT
from lifecycle.search.syntax import fingerprint, match_words, parse
from lifecycle.store.base import Row, SearchHit, Store
from lifecycle.store.text_index import SearchDoc

TYPE_CHECKING = False  # typing's flag without importing typing
if TYPE_CHECKING:
    from typing import Any

MAX_LIMIT = 100
BACKFILL_BATCH = 500
FILTER_BATCH = 200  # matches read per round when a filter the index cannot apply is given


def search(
    store: Store,
    query: str,
    *,
    prefix: str = "",
    tags: Any = None,
    limit: int = DEFAULT_LIMIT,
    cursor: str | None = None,
    namespace: str | None = None,
    provenance_filter: Any = None,
    now: float,
) -> dict[str, Any]:
    """One page of matches: ``results`` (key, score, snippet, policy, revision,
    updated_at, tags, value, provenance_type) and ``next_cursor``; with
    ``provenance_filter``, only entries whose provenance is one of those."""
    parsed = parse(query)
    prefix = scoped_prefix(prefix, namespace)
    wanted = check_tags(tags, field="tags filter") or ()
    allowed = provenance.check_filter(provenance_filter)
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise InvalidValueError(f"invalid limit {limit!r}: use 1-{MAX_LIMIT}")
    belongs = fingerprint(parsed, prefix, wanted) + (f"|p:{allowed}" if allowed else "")
    after = decode_cursor(cursor, belongs) if cursor else None
    ensure_indexed(store)
    if allowed:
        hits = _provenance_hits(store, parsed, prefix, wanted, now, after, limit + 1, allowed)
    else:
        hits = store.search(
            parsed, prefix=prefix, tags=wanted, now=now, after=after, limit=limit + 1
        )
    page = hits[:limit]
    exact, prefixes = match_words(parsed)
    last = page[-1] if page else None
    out: dict[str, Any] = {
        "results": [_result(h, exact, prefixes) for h in page],
        "next_cursor": (
            encode_cursor(last.score, last.row.key, belongs) if last and len(hits) > limit else None
        ),
    }
    if any(h.cut_off for h in page):
        out["cut_off"] = True  # ranked by recency windows, not among every match
    return out


def _provenance_hits(
    store: Store,
    parsed: Any,
    prefix: str,
    tags: tuple[str, ...],
    now: float,
    after: tuple[float, str] | None,
    want: int,
    allowed: tuple[str, ...],
) -> list[SearchHit]:
    """Up to ``want`` matches, in rank order, whose provenance is one of ``allowed``
    (an entry without one counts as claude-flow's ``unknown``). Provenance lives in
    the stored document, not in the index, so matches are read in rounds and the
    others skipped; the cursor stays the last returned ``(score, key)``."""
    found: list[SearchHit] = []
    while True:
        batch = store.search(
            parsed, prefix=prefix, tags=tags, now=now, after=after, limit=FILTER_BATCH
        )
        for hit in batch:
            if provenance_allowed(hit.row, allowed):
                found.append(hit)
                if len(found) == want:
                    return found
        if len(batch) < FILTER_BATCH:
            return found
        after = (batch[-1].score, batch[-1].row.key)


def _result(hit: SearchHit, exact: set[str], prefixes: tuple[str, ...]) -> dict[str, Any]:
    row = hit.row
    doc = _document(row)
    seen = _view(row, doc)
    live = seen is not None and seen.exists
    return {
        "key": row.key,
        "score": hit.score,
        "snippet": _snippet(seen, exact, prefixes),
        "policy": row.policy,
        "revision": row.revision,
        "updated_at": row.updated_at,
        "tags": list(row.tags),
        "value": seen.value if live and seen is not None else None,
        "provenance_type": provenance.visible(doc.provenance) if doc is not None else None,
    }


def provenance_allowed(row: Row, allowed: tuple[str, ...]) -> bool:
    """Whether the entry's provenance is one of ``allowed`` (a ``provenance_filter``; it
    lives in the stored document, not in a column; an entry without one is ``unknown``)."""
    doc = _document(row)
    return doc is not None and provenance.filter_label(doc.provenance) in allowed


def _document(row: Row) -> transitions.Document | None:
    """A row's stored document; ``None`` for a row that cannot be decoded (its text is
    then the key's alone: one bad row must not break every search)."""
    try:
        return transitions.decode(row)
    except (LifecycleError, ValueError, KeyError, TypeError, OSError, EOFError):
        return None


def _view(row: Row, doc: transitions.Document | None = None) -> crdt.View | None:
    """What a reader sees of a row; ``None`` for a row that cannot be decoded."""
    doc = _document(row) if doc is None else doc
    if doc is None:
        return None
    try:
        return crdt.view(row.strategy, doc.state)
    except (LifecycleError, ValueError, KeyError, TypeError):
        return None


def _snippet(seen: crdt.View | None, exact: set[str], prefixes: tuple[str, ...]) -> str:
    if seen is None or not seen.exists:
        return ""
    texts = list(searchable.snippet_texts(seen))
    if not texts:  # a counter, a number: show the value itself
        return codec.dumps(seen.value)[: searchable.SNIPPET_CHARS]
    return searchable.snippet(texts, exact, prefixes)


def document_of(row: Row) -> SearchDoc:
    """A stored row's indexed text, from its decoded value (the backfill's ``compute``)."""
    seen = _view(row)
    if seen is None or not seen.exists:
        return SearchDoc(key=searchable.token_text([row.key.replace("/", " ")]), body="")
    return searchable.document(row.key, seen)


def ensure_indexed(store: Store) -> int:
    """Index every row still without an index entry; return how many this call did."""
    done = 0
    while (count := store.index_pending(document_of, BACKFILL_BATCH)) is not None:
        done += count
    return done


def reindex(store: Store) -> dict[str, Any]:
    """Rebuild every entry's index entry from its stored value."""
    started = time.perf_counter()
    store.clear_search_index()
    indexed = ensure_indexed(store)
    return {"indexed": indexed, "duration_ms": round((time.perf_counter() - started) * 1000, 3)}


# ------------------------------------------------------------------ cursors


def encode_cursor(score: float, key: str, belongs: str) -> str:
    """A page's last position, and which search it belongs to (every mode's cursor)."""
    raw = json.dumps([score, key, belongs], ensure_ascii=False)
    return base64.urlsafe_b64encode(raw.encode("utf-8")).decode("ascii")


def decode_cursor(
    cursor: Any, belongs: str, changed: str = "the query, prefix or tags"
) -> tuple[float, str]:
    """The ``(score, key)`` a cursor holds; an error naming what to do when it is not one
    of this search's (``changed`` says what may differ)."""
    try:
        if not isinstance(cursor, str):
            raise ValueError("not a string")
        raw = base64.b64decode(cursor.encode("ascii"), altchars=b"-_", validate=True)
        score, key, owner = json.loads(raw.decode("utf-8"))
        if isinstance(score, bool) or not isinstance(score, (int, float)):
            raise ValueError("not a score")
        if not math.isfinite(score):
            raise ValueError("not a finite score")
        if not isinstance(key, str) or not isinstance(owner, str):
            raise ValueError("not a key")
    except (ValueError, TypeError, UnicodeError) as exc:
        raise InvalidValueError(
            f"invalid cursor {str(cursor)[:40]!r}: pass the next_cursor of the previous "
            "page unchanged"
        ) from exc
    if owner != belongs:
        raise InvalidValueError(
            f"invalid cursor: it belongs to another search ({changed} changed); start again "
            "without a cursor"
        )
    return float(score), key
