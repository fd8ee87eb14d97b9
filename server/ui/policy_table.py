"""The dashboard's policy table: ``get_stats()`` with each policy's rules beside its counts.

``get_stats`` counts what the store holds per policy, and only for policies that hold
something; a person reading the table also wants each policy's TTL and strategies, and
the policies that hold nothing yet. So every configured policy gets a row (the default
one last), with ``ttl_seconds``, ``cleanup_strategy`` and ``conflict_strategy`` from the
policies in force; a pattern that still holds entries but is no longer configured keeps
its counts with ``configured: false`` and no rules.
"""

from __future__ import annotations

from typing import Any

from lifecycle import MemoryLifecycleManager
from lifecycle.policies.retention import RetentionPolicy

from .natural_order import natural_key

EMPTY = {
    "entries": 0,
    "total_bytes": 0,
    "stored_bytes": 0,
    "compressed": 0,
    "expired_pending": 0,
    "next_expiry": None,
}
NO_RULES = {"ttl_seconds": None, "cleanup_strategy": None, "conflict_strategy": None}


def stats_with_policies(manager: MemoryLifecycleManager) -> dict[str, Any]:
    """``get_stats()`` whose ``policies`` rows carry the rules; one engine call (run it in
    a worker thread)."""
    stats = manager.get_stats()
    policies = manager.policies
    configured = {p.namespace: p for p in policies.policies}
    counted = {row["pattern"]: row for row in stats["policies"]}
    default = policies.default.namespace
    names = sorted((set(configured) | set(counted)) - {default}, key=natural_key)
    rows = [_row(name, counted.get(name), configured.get(name)) for name in names]
    rows.append(_row(default, counted.get(default), policies.default))
    return {**stats, "policies": rows}


def _row(name: str, counts: dict[str, Any] | None, policy: RetentionPolicy | None) -> dict:
    rules = NO_RULES if policy is None else _rules(policy)
    return {**EMPTY, **(counts or {}), "pattern": name, "configured": policy is not None, **rules}


def _rules(policy: RetentionPolicy) -> dict[str, Any]:
    return {
        "ttl_seconds": policy.ttl_seconds,
        "cleanup_strategy": policy.cleanup_strategy.value,
        "conflict_strategy": policy.conflict_strategy.value,
    }


__all__ = ["stats_with_policies"]
