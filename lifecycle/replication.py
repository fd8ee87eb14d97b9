"""Export and merge: how stores converge.

The merge rules are the entry rules of live writes (``lifecycle.entries.transitions``): the
same starting state, the same CRDT joins. What only replication adds is the
batching and the report: every line of an import is checked before anything
is merged, so a bad file changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping

from lifecycle.basics.clock import Clock
from lifecycle.entries import transitions
from lifecycle.entries.export_format import ExportedEntry, parse_entry
from lifecycle.store.base import Row, Store

TYPE_CHECKING = False  # typing's flag without importing typing
if TYPE_CHECKING:
    from typing import Any

MERGE_BATCH = 500


def export_entries(store: Store) -> Iterator[dict[str, Any]]:
    """Every entry and tombstone with its full CRDT state and op ids, as plain dicts."""
    batch: list[Row] = []
    for row in store.iter_rows(include_tombstones=True):
        batch.append(row)
        if len(batch) == MERGE_BATCH:
            yield from _export_batch(store, batch)
            batch = []
    yield from _export_batch(store, batch)


def _export_batch(store: Store, rows: list[Row]) -> Iterator[dict[str, Any]]:
    if not rows:
        return
    ops = store.applied_ops([r.key for r in rows])
    for row in rows:
        doc = transitions.decode(row)
        yield ExportedEntry(
            key=row.key,
            strategy=row.strategy,
            state=doc.state,
            ops=transitions.export_ops(doc, ops.get(row.key, {})),
            created_at=row.created_at,
            updated_at=row.updated_at,
            expires_at=row.expires_at,
            ttl_seconds=row.ttl_seconds,
            actor=row.actor,
            tombstone=row.tombstone,
            tags=doc.tags,
            provenance=doc.provenance,
        ).to_dict()


def merge_entries(
    store: Store,
    clock: Clock,
    terms_for: Callable[[str, float], transitions.WriteTerms],
    entries: Iterable[Mapping[str, Any]],
) -> dict[str, int]:
    """Merge exported entries by the CRDT rules; report what happened to each."""
    report = {"merged": 0, "created": 0, "updated": 0, "unchanged": 0, "skipped_expired": 0}
    parsed = [parse_entry(item, n) for n, item in enumerate(entries, start=1)]
    for start in range(0, len(parsed), MERGE_BATCH):
        batch = parsed[start : start + MERGE_BATCH]
        with store.transaction([e.key for e in batch]) as tx:
            now = clock.now()
            for e in batch:
                clock.observe(e.updated_at)
                effect = transitions.merge(tx.get(e.key), e, terms_for(e.key, now))
                report["merged"] += 1
                report[effect.kind] += 1
                if effect.row is not None:
                    tx.put(effect.row)
                tx.record_ops(e.key, effect.ops)
    return report
