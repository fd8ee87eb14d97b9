"""Write imported entries through the engine, skipping what has expired.

An entry keeps its timestamp (the write's time here) and its expiry: a source
TTL becomes ``ttl_seconds = expires_at - timestamp``; an entry without one is
governed by the key's policy, as any write without ``ttl_seconds`` is. Entries
already expired, by either rule, are skipped. An entry the engine refuses (a
key that breaks the key rules, text under a counter policy) is reported and
the others are still imported.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from lifecycle.entries.codec import dumps
from lifecycle.errors import LifecycleError
from lifecycle.manager import MemoryLifecycleManager
from lifecycle.policies.retention import ConflictStrategy

BATCH = 500  # writes per transaction (store_many takes up to 1,000)
MAX_REPORTED_REJECTS = 20


@dataclass(frozen=True)
class Candidate:
    """One foreign entry: its value, and older concurrent values (``siblings``) kept as
    multi-value siblings where the key's policy is multi_value."""

    key: str
    value: Any
    timestamp: float
    expires_at: float | None = None
    siblings: tuple[tuple[Any, float], ...] = ()
    origin: str = ""  # where it came from, for messages (a file, a row)
    tags: tuple[str, ...] | None = None  # valid tags only (``importers.labels``)
    provenance: str | None = (
        None  # who or what produced the value (``lifecycle.entries.provenance``)
    )


@dataclass
class ImportReport:
    source: str
    kind: str
    found: int = 0
    imported: int = 0
    unchanged: int = 0
    skipped_expired: int = 0
    skipped_deleted: int = 0
    rejected: list[dict[str, str]] = field(default_factory=list)
    rejected_count: int = 0
    notes: list[str] = field(default_factory=list)

    def reject(self, key: str, reason: str) -> None:
        self.rejected_count += 1
        if len(self.rejected) < MAX_REPORTED_REJECTS:
            self.rejected.append({"key": key, "reason": reason})

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "from": self.kind,
            "found": self.found,
            "imported": self.imported,
            "unchanged": self.unchanged,
            "skipped_expired": self.skipped_expired,
            "skipped_deleted": self.skipped_deleted,
            "rejected": self.rejected_count,
            "rejected_entries": self.rejected,
            "notes": self.notes,
        }


def op_id(kind: str, key: str, value: Any, timestamp: float) -> str:
    digest = hashlib.sha1(f"{key}\n{timestamp!r}\n{dumps(value)}".encode()).hexdigest()
    return f"import:{kind}:{digest[:24]}"


def apply(
    manager: MemoryLifecycleManager,
    candidates: Iterable[Candidate],
    report: ImportReport,
) -> ImportReport:
    """Write ``candidates`` in transactions of about ``BATCH`` writes; count what happened."""
    pending: list[tuple[Candidate, list[dict[str, Any]]]] = []
    size = 0
    for candidate in candidates:
        report.found += 1
        writes = _writes(manager, candidate, report)
        if writes:
            pending.append((candidate, writes))
            size += len(writes)
        if size >= BATCH:
            _flush(manager, pending, report)
            pending, size = [], 0
    _flush(manager, pending, report)
    return report


def _writes(
    manager: MemoryLifecycleManager, c: Candidate, report: ImportReport
) -> list[dict[str, Any]]:
    """The store_many items for one candidate; [] when it is expired or refused."""
    now = manager.clock.now()
    try:
        policy = manager.get_policy(c.key)
    except LifecycleError as exc:
        report.reject(c.key, str(exc))
        return []
    ttl = None if c.expires_at is None else c.expires_at - c.timestamp
    expires = policy.expires_at(c.timestamp, ttl) if ttl is None or ttl > 0 else c.timestamp
    if expires is not None and expires <= now:
        report.skipped_expired += 1
        return []
    values = [(c.value, c.timestamp)]
    if policy.conflict_strategy is ConflictStrategy.MULTI_VALUE:
        values = sorted([*c.siblings, *values], key=lambda vt: vt[1])[-policy.max_siblings :]
    labels: dict[str, Any] = {}
    if c.tags is not None:
        labels["tags"] = list(c.tags)
    if c.provenance is not None:
        labels["provenance_type"] = c.provenance
    return [
        {
            "key": c.key,
            "value": value,
            "timestamp": ts,
            "ttl_seconds": ttl,
            "agent_id": f"{report.kind}-import",
            "op_id": op_id(report.kind, c.key, value, ts),
            **labels,
        }
        for value, ts in values
    ]


def _flush(
    manager: MemoryLifecycleManager,
    pending: list[tuple[Candidate, list[dict[str, Any]]]],
    report: ImportReport,
) -> None:
    if not pending:
        return
    try:
        results = manager.store_many(w for _, writes in pending for w in writes)
    except LifecycleError:  # one bad entry refuses the batch: find it, keep the rest
        for candidate, writes in pending:
            _write_one(manager, candidate, writes, report)
        return
    position = iter(results)
    for _, writes in pending:
        _count(report, [next(position) for _ in writes])


def _write_one(
    manager: MemoryLifecycleManager,
    candidate: Candidate,
    writes: list[dict[str, Any]],
    report: ImportReport,
) -> None:
    try:
        _count(report, manager.store_many(writes))
    except LifecycleError as exc:
        report.reject(candidate.key, str(exc))


def _count(report: ImportReport, results: Iterable[Any]) -> None:
    if any(r.applied for r in results):
        report.imported += 1
    else:
        report.unchanged += 1
