"""Garbage collection: one pass that deletes what has expired and reports it.

The pass costs O(expired): the store counts and deletes through the
``expires_at`` index, in short transactions of a batch each. A hook's pass is
bounded (``limit``, ``HOOK_SWEEP_LIMIT``): it deletes the entries that expired
first and reports how many are left (``remaining``, counted up to
``REMAINING_COUNT_LIMIT``), for the next hook, the server's maintenance or
``cleanup``, which take everything. The scheduler that repeats a pass lives
elsewhere (``lifecycle.maintenance``, the server, the daemon).
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from lifecycle.basics.clock import Clock, HybridLogicalClock
from lifecycle.basics.dataclass_lite import Record
from lifecycle.policies.retention import CleanupStrategy, RetentionPolicy
from lifecycle.store.base import Store

TYPE_CHECKING = False  # typing's flag without importing typing
if TYPE_CHECKING:
    from typing import Any

# Expired entries one hook deletes at most. A hook runs before every subagent and Claude
# Code kills it after its timeout (``init`` writes 10 s): 1,000 deletes take ~30 ms
# of a hook here (~10 ms CPU) on a 1M-entry store, whatever the backlog; a 50,000
# backlog swept at once took 1.5-19 s depending on the load.
HOOK_SWEEP_LIMIT = 1000
# What is left is counted this far at most (an index range of expired rows): a count
# of a million leftovers would cost what the bound saves.
REMAINING_COUNT_LIMIT = 10_000


class CleanupReport(Record):
    __slots__ = (
        "by_namespace",
        "deleted_count",
        "deleted_keys",
        "duration_ms",
        "forced",
        "remaining",
        "tombstones_purged",
        "trim_remaining",
    )
    deleted_count: int
    by_namespace: dict[str, int]
    tombstones_purged: int
    duration_ms: float
    forced: bool
    deleted_keys: list[str]  # the first 100, for hooks
    # expired entries and tombstones a bounded pass left, counted up to
    # REMAINING_COUNT_LIMIT (0 after an unbounded pass)
    remaining: int
    # op ids and change-log rows a bounded whole-store pass left to trim, counted the same
    # way (0 after an unbounded pass, or one under a prefix, which trims nothing)
    trim_remaining: int

    def __init__(
        self,
        deleted_count: int = 0,
        by_namespace: dict[str, int] | None = None,
        tombstones_purged: int = 0,
        duration_ms: float = 0.0,
        forced: bool = False,
        deleted_keys: list[str] | None = None,
        remaining: int = 0,
        trim_remaining: int = 0,
    ) -> None:
        self.deleted_count = deleted_count
        self.by_namespace = dict() if by_namespace is None else by_namespace
        self.tombstones_purged = tombstones_purged
        self.duration_ms = duration_ms
        self.forced = forced
        self.deleted_keys = list() if deleted_keys is None else deleted_keys
        self.remaining = remaining
        self.trim_remaining = trim_remaining

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

    def collect(
        self,
        force: bool = False,
        prefix: str = "",
        op_id_window_seconds: float | None = None,
        change_log_max_entries: int | None = None,
        limit: int | None = None,
    ) -> CleanupReport:
        """One pass; a whole-store pass (no ``prefix``) also forgets op ids older than
        ``op_id_window_seconds`` and trims the change log to ``change_log_max_entries``.
        With ``limit``, it deletes at most that many rows (those that expired first) and
        counts what it left in ``remaining``; and forgets at most that many op ids and
        changes each (the oldest), counting what it left in ``trim_remaining``."""
        started = time.perf_counter()
        now = self.clock.now()
        strategies = _strategies(force)
        swept = self.store.delete_expired(now, strategies, prefix, limit=limit)
        remaining = 0
        if limit is not None and sum(swept.by_policy.values()) + swept.tombstones >= limit:
            left = self.store.find_expired(
                now, strategies, prefix, sample=0, limit=REMAINING_COUNT_LIMIT
            )
            remaining = sum(left.by_policy.values()) + left.tombstones
        # the op ids and the change log grow with every write: a bounded pass trims at most
        # ``limit`` of each (the oldest) and counts what it left, like the expired entries
        window, keep, trim_left = op_id_window_seconds, change_log_max_entries, 0
        if not prefix and window is not None:
            self.store.purge_ops(now - window, limit=limit)
        if not prefix and keep is not None:
            self.store.compact_changes(keep, limit=limit)
        if not prefix and limit is not None and window is not None and keep is not None:
            trim_left = self.store.trim_backlog(now - window, keep, REMAINING_COUNT_LIMIT)
        # last, after every write of the pass: space given back before the change log's
        # trim would be taken again by it (the WAL outgrew its cap that way)
        self.store.give_back_space()
        report = CleanupReport(
            deleted_count=sum(swept.by_policy.values()),
            by_namespace=dict(swept.by_policy),
            tombstones_purged=swept.tombstones,
            forced=force,
            deleted_keys=swept.sample_keys,
            remaining=remaining,
            trim_remaining=trim_left,
        )
        report.duration_ms = (time.perf_counter() - started) * 1000
        self.last_report = report
        self.runs += 1
        self.total_deleted += report.deleted_count
        return report

    def preview(self, force: bool = False, prefix: str = "") -> dict[str, Any]:
        """What ``collect`` would delete now, deleting nothing (a dry run): at least
        ``dry_run``, ``would_delete_count``, ``by_namespace`` (per policy pattern) and
        ``keys`` (the first 100, in key order)."""
        started = time.perf_counter()
        found = self.store.find_expired(self.clock.now(), _strategies(force), prefix)
        return {
            "dry_run": True,
            "would_delete_count": sum(found.by_policy.values()),
            "by_namespace": dict(found.by_policy),
            "keys": list(found.sample_keys),
            "deleted_count": 0,
            "tombstones_purged": 0,
            "forced": force,
            "duration_ms": round((time.perf_counter() - started) * 1000, 3),
        }

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


def _strategies(force: bool) -> list[str]:
    """The cleanup strategies a pass collects: lazy and scheduled; manual when forced."""
    strategies = [CleanupStrategy.LAZY.value, CleanupStrategy.SCHEDULED.value]
    if force:
        strategies.append(CleanupStrategy.MANUAL.value)
    return strategies
