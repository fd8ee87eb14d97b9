"""Export and merge: how stores converge.

Kept apart from the manager's live-write path: the rules are the same CRDT
merges (``lifecycle.crdt``), plus what only replication needs: expiry and
tombstone purge times that travel with each entry, and deterministic choices
where two replicas' metadata tie.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from . import codec, crdt
from .store import Row
from .transfer import ExportedEntry, parse_entry

if TYPE_CHECKING:
    from .manager import MemoryLifecycleManager

    _Base = MemoryLifecycleManager
else:
    _Base = object


def expired(expires_at: float | None, now: float) -> bool:
    return expires_at is not None and expires_at <= now


class ReplicationMixin(_Base):
    """``export_entries`` / ``merge_entries`` of ``MemoryLifecycleManager``."""

    def export_entries(self) -> Iterator[dict[str, Any]]:
        """Every entry and tombstone with its full CRDT state, as plain dicts."""
        for row in self._store.iter_rows(include_tombstones=True):
            doc = codec.decode(row.codec, row.payload)
            yield ExportedEntry(
                key=row.key,
                strategy=row.strategy,
                state=doc["s"],
                ops=doc.get("o", {}),
                created_at=row.created_at,
                updated_at=row.updated_at,
                expires_at=row.expires_at,
                ttl_seconds=row.ttl_seconds,
                actor=row.actor,
                tombstone=row.tombstone,
            ).to_dict()

    def merge_entries(self, entries: Iterable[Mapping[str, Any]]) -> dict[str, int]:
        """Merge exported entries by the same CRDT rules as live writes."""
        self._maybe_reload_policies()
        report = {"merged": 0, "created": 0, "updated": 0, "unchanged": 0, "skipped_expired": 0}
        # every line is checked before anything is merged: a bad file changes nothing
        parsed = [parse_entry(item, n) for n, item in enumerate(entries, start=1)]
        for start in range(0, len(parsed), 500):
            self._merge_batch(parsed[start : start + 500], report)
        return report

    def _merge_batch(self, batch: list[ExportedEntry], report: dict[str, int]) -> None:
        window = self.policies.settings.op_id_window
        with self._store.transaction([e.key for e in batch]) as tx:
            now = self.clock.now()
            for e in batch:
                report["merged"] += 1
                policy = self.policies.match(e.key)
                strategy = policy.conflict_strategy.value
                incoming = crdt.convert(e.state, e.strategy, strategy)
                self.clock.observe(e.updated_at)
                row = tx.get(e.key)
                if row is not None and row.tombstone and expired(row.expires_at, now):
                    row = None  # past its grace period a tombstone is as good as purged
                incoming_expired = expired(e.expires_at, now)
                if incoming_expired and (row is None or e.tombstone):
                    report["skipped_expired"] += 1
                    continue
                if incoming_expired and strategy != crdt.LWW:
                    # keep what it knew (dots, baseline), not its values: expired stays gone
                    incoming = crdt.forget(strategy, incoming, crdt.updated_at(strategy, incoming))
                if row is None:
                    doc: dict[str, Any] = {}
                    local = crdt.initial(strategy)
                else:
                    doc = codec.decode(row.codec, row.payload)
                    local = crdt.convert(doc["s"], row.strategy, strategy)
                merged = crdt.merge(strategy, local, incoming)
                ops = crdt.merge_ops(doc.get("o", {}), e.ops, window)
                if row is not None and merged == local and ops == doc.get("o", {}):
                    if row.strategy == strategy:
                        report["unchanged"] += 1
                        continue
                elif row is not None and expired(row.expires_at, now) and strategy != crdt.LWW:
                    forgotten = crdt.forget(strategy, local, crdt.updated_at(strategy, local))
                    merged = crdt.merge(strategy, forgotten, incoming)
                if strategy == crdt.MV:
                    merged = crdt.prune_siblings(merged, policy.max_siblings)
                tx.put(
                    self._build_row(
                        e.key,
                        strategy,
                        merged,
                        ops,
                        row,
                        e.ttl_seconds if row is None else merge_ttl(row, e),
                        None if row is not None else e.actor,
                        tombstone_expires=tombstone_expiry(row, e),
                        created_at=e.created_at
                        if row is None or row.tombstone
                        else min(row.created_at, e.created_at),
                    )
                )
                report["created" if row is None else "updated"] += 1


def merge_ttl(row: Row, e: ExportedEntry) -> float | None:
    """The TTL of the newer side; on a tie the same choice on every replica."""
    if e.updated_at != row.updated_at:
        return e.ttl_seconds if e.updated_at > row.updated_at else row.ttl_seconds
    explicit = [t for t in (row.ttl_seconds, e.ttl_seconds) if t is not None]
    return min(explicit) if explicit else None


def tombstone_expiry(row: Row | None, e: ExportedEntry) -> float | None:
    """Tombstones keep the purge time they were given, so every replica purges together."""
    times = [
        t
        for t in (
            row.expires_at if row is not None and row.tombstone else None,
            e.expires_at if e.tombstone else None,
        )
        if t is not None
    ]
    return max(times, default=None)
