"""Reading entries: one committed read per call, so there is no cache to go stale
between processes. An expired entry is never returned; a lazy one is deleted on
the way."""

from __future__ import annotations

from typing import Any

from . import codec, crdt, provenance, rules
from .actors import display_actor
from .arguments import decode_cursor, encode_cursor
from .entry import Conflict, MemoryEntry
from .errors import InvalidValueError, clip
from .keys import scoped_prefix
from .policy import CleanupStrategy
from .store import Row, Store
from .tags import check_tags

MAX_LIST_LIMIT = 1000

Found = tuple[Row, rules.Document, crdt.View]


def read(store: Store, key: str, now: float) -> Found | None:
    """The live entry under ``key``: its row, document and what a reader sees."""
    row = store.get(key)
    if row is None or row.tombstone:
        return None
    if rules.expired(row.expires_at, now):
        if row.cleanup == CleanupStrategy.LAZY.value:
            store.delete_expired_key(key, now)
        return None
    doc = rules.decode(row)
    seen = crdt.view(row.strategy, doc.state)
    return (row, doc, seen) if seen.exists else None


def to_entry(found: Found) -> MemoryEntry:
    row, doc, seen = found
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
) -> dict[str, Any]:
    """Live entries in key order (under ``namespace``, carrying every one of ``tags``);
    ``next_cursor`` continues after the last one."""
    prefix = scoped_prefix(prefix, namespace)
    wanted = check_tags(tags, field="tags filter") or ()
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIST_LIMIT:
        raise InvalidValueError(f"invalid limit {clip(limit)}: use 1-{MAX_LIST_LIMIT}")
    after = decode_cursor(cursor) if cursor else None
    rows = store.list_rows(prefix, after, limit + 1, now, wanted)
    more = len(rows) > limit
    rows = rows[:limit]
    return {
        "entries": [
            {
                "key": r.key,
                "policy": r.policy,
                "size_bytes": r.size_bytes,
                "expires_at": r.expires_at,
                "updated_at": r.updated_at,
                "tags": list(r.tags),
                "revision": r.revision,
            }
            for r in rows
        ],
        "next_cursor": encode_cursor(rows[-1].key) if more and rows else None,
    }
