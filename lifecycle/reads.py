"""Reading entries: one committed read per call, so there is no cache to go stale
between processes. An expired entry is never returned; a lazy one is deleted on
the way."""

from __future__ import annotations

from collections.abc import Iterable

from lifecycle.basics.arguments import decode_cursor, encode_cursor
from lifecycle.basics.keys import scoped_prefix
from lifecycle.entries import codec, crdt, provenance, transitions
from lifecycle.entries.actors import display_actor
from lifecycle.entries.entry import Conflict, MemoryEntry
from lifecycle.entries.tags import check_tags
from lifecycle.errors import InvalidValueError, clip
from lifecycle.policies.retention import CleanupStrategy
from lifecycle.store.base import Row, Store

TYPE_CHECKING = False  # typing's flag without importing typing
if TYPE_CHECKING:
    from typing import Any

MAX_LIST_LIMIT = 1000

LiveEntry = tuple[Row, transitions.Document, crdt.View]
"""A live entry as read: its row, its decoded document, and what a reader sees of it."""


def read(store: Store, key: str, now: float) -> LiveEntry | None:
    """The live entry under ``key``: its row, document and what a reader sees."""
    row = store.get(key)
    if row is None or row.tombstone:
        return None
    if transitions.expired(row.expires_at, now):
        if row.cleanup == CleanupStrategy.LAZY.value:
            store.delete_expired_key(key, now)
        return None
    doc = transitions.decode(row)
    seen = crdt.view(row.strategy, doc.state)
    return (row, doc, seen) if seen.exists else None


def to_entry(live: LiveEntry) -> MemoryEntry:
    row, doc, seen = live
    state = doc.state
    return MemoryEntry(
        key=row.key,
        value=seen.value,
        policy=row.policy,
        strategy=row.strategy,
        actor=display_actor(seen.actor),
        created_at=row.created_at,
        updated_at=row.updated_at,
        expires_at=row.expires_at,
        compressed=row.codec != codec.CODEC_JSON,
        size_bytes=row.size_bytes,
        stored_bytes=len(row.payload),
        conflicts=tuple(
            Conflict(c.value, display_actor(c.actor), c.timestamp) for c in seen.conflicts
        ),
        context=crdt.encode_context(state["vv"]) if row.strategy == crdt.MV else None,
        tags=row.tags,
        revision=row.revision,
        provenance_type=provenance.visible(doc.provenance),
    )


def list_page(
    store: Store,
    prefix: str,
    limit: int,
    cursor: str | None,
    now: float,
    *,
    tags: Any = None,
    namespace: str | None = None,
    offset: int = 0,
    include_values: bool = False,
) -> dict[str, Any]:
    """Live entries in key order (under ``namespace``, carrying every one of ``tags``,
    after skipping ``offset`` of them); ``next_cursor`` continues after the last one.
    With ``include_values`` each entry carries its ``value`` (multi-value: the newest)."""
    prefix = scoped_prefix(prefix, namespace)
    wanted = check_tags(tags, field="tags filter") or ()
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIST_LIMIT:
        raise InvalidValueError(f"invalid limit {clip(limit)}: use 1-{MAX_LIST_LIMIT}")
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
        raise InvalidValueError(f"invalid offset {clip(offset)}: use a whole number >= 0")
    if offset and cursor:
        raise InvalidValueError(
            "offset and cursor both given: page with next_cursor, or with offset, not both"
        )
    after = decode_cursor(cursor) if cursor else _skip(store, prefix, offset, now, wanted)
    rows = store.list_rows(prefix, after, limit + 1, now, wanted)
    more = len(rows) > limit
    rows = rows[:limit]
    entries = [_listed(r) for r in rows]
    if include_values:
        for entry, r in zip(entries, rows, strict=True):
            entry["value"] = _value(r)
    return {
        "entries": entries,
        "next_cursor": encode_cursor(rows[-1].key) if more and rows else None,
    }


def newest_entries(store: Store, prefix: str, limit: int, now: float) -> list[MemoryEntry]:
    """Up to ``limit`` live entries under ``prefix``, the most recently written first (what
    a hook wants of a prefix holding more than it reads), values read in the same statement.
    """
    return live_entries(store.newest_rows(prefix, limit, now))


def entries_in_key_order(store: Store, prefix: str, limit: int, now: float) -> list[MemoryEntry]:
    """Up to ``limit`` live entries under ``prefix`` in key order, with their values: one
    statement per ``MAX_LIST_LIMIT`` of them, not one read per entry."""
    found: list[MemoryEntry] = []
    after: str | None = None
    while len(found) < limit:
        wanted = min(MAX_LIST_LIMIT, limit - len(found))
        rows = store.list_rows(prefix, after, wanted, now)
        found += live_entries(rows)
        if len(rows) < wanted:
            break
        after = rows[-1].key
    return found[:limit]


def live_entries(rows: Iterable[Row]) -> list[MemoryEntry]:
    """The entries of rows read live (a multi-value row whose values were all deleted
    shows nothing: left out)."""
    found = []
    for row in rows:
        doc = transitions.decode(row)
        seen = crdt.view(row.strategy, doc.state)
        if seen.exists:
            found.append(to_entry((row, doc, seen)))
    return found


def _skip(store: Store, prefix: str, offset: int, now: float, tags: tuple[str, ...]) -> str | None:
    """The key ``offset`` live entries in (the page starts after it), read in bounded
    batches; ``None`` when nothing is skipped."""
    after: str | None = None
    while offset > 0:
        batch = store.list_rows(prefix, after, min(offset, MAX_LIST_LIMIT), now, tags)
        if not batch:
            break
        after = batch[-1].key
        offset -= len(batch)
    return after


def _listed(r: Row) -> dict[str, Any]:
    return {
        "key": r.key,
        "policy": r.policy,
        "size_bytes": r.size_bytes,
        "expires_at": r.expires_at,
        "updated_at": r.updated_at,
        "tags": list(r.tags),
        "revision": r.revision,
    }


def _value(r: Row) -> Any:
    seen = crdt.view(r.strategy, transitions.decode(r).state)
    return seen.value if seen.exists else None
