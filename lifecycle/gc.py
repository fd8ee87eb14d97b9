"""Garbage collection: one pass that deletes what has expired and reports it.

The pass costs O(expired): the store deletes through the ``expires_at``
index, in batches so a large sweep never holds the write lock for long. The
scheduler that repeats it lives elsewhere (``lifecycle.maintenance``, the
server, the daemon).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .clock import Clock, HybridLogicalClock
from .policy import CleanupStrategy, RetentionPolicy
from .store import Store

BATCH = 5000


@dataclass
class CleanupReport:
    deleted_count: int = 0
    by_namespace: dict[str, int] = field(default_factory=dict)
    tombstones_purged: int = 0
    duration_ms: float = 0.0
    forced: bool = False
    deleted_keys: list[str] = field(default_factory=list)  # the first 100, for hooks

    def to_dict(self) -> dict[str, Any]:
        return {
            "deleted_count": self.deleted_count,
            "by_namespace": dict(self.by_namespace),
            "tombstones_purged": self.tombstones_purged,
            "duration_ms": round(self.duration_ms, 3),
            "forced": self.forced,
        }


class MemoryGarbageCollector:
    """Deletes expired entries by cleanup strategy; ``force`` includes manual ones."""

    def __init__(self, store: Store, clock: Clock | None = None) -> None:
        self.store = store
        self.clock = clock or HybridLogicalClock()
        self.last_report: CleanupReport | None = None
        self.runs = 0
        self.total_deleted = 0

    def collect(self, force: bool = False, prefix: str = "") -> CleanupReport:
        started = time.perf_counter()
        strategies = [CleanupStrategy.LAZY.value, CleanupStrategy.SCHEDULED.value]
        if force:
            strategies.append(CleanupStrategy.MANUAL.value)
        now = self.clock.now()
        report = CleanupReport(forced=force)
        by_ns: Counter[str] = Counter()
        while True:
            batch = self.store.delete_expired(now, strategies, BATCH, prefix)
            for row in batch:
                if row.tombstone:
                    report.tombstones_purged += 1
                    continue
                by_ns[row.policy] += 1
                if len(report.deleted_keys) < 100:
                    report.deleted_keys.append(row.key)
            if len(batch) < BATCH:
                break
        report.by_namespace = dict(by_ns)
        report.deleted_count = sum(by_ns.values())
        report.duration_ms = (time.perf_counter() - started) * 1000
        self.last_report = report
        self.runs += 1
        self.total_deleted += report.deleted_count
        return report

    def collect_expired(
        self, policies: Iterable[RetentionPolicy] | None = None, force: bool = False
    ) -> int:
        """The seed's entry point: strategies are stored per row, so ``policies`` is not needed."""
        return self.collect(force=force).deleted_count

    def get_stats(self) -> dict[str, Any]:
        return {
            "runs": self.runs,
            "total_deleted": self.total_deleted,
            "last_run": self.last_report.to_dict() if self.last_report else None,
        }
