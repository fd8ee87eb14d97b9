"""What ``get_stats`` reports: per-policy aggregates from the store, one query."""

from __future__ import annotations

from lifecycle.policies.retention import PolicySet
from lifecycle.store.base import Store

TYPE_CHECKING = False  # typing's flag without importing typing
if TYPE_CHECKING:
    from typing import Any


def summarize(
    store: Store, policies: PolicySet, now: float, policy_error: str | None
) -> dict[str, Any]:
    per_policy = {s.policy: s for s in store.stats(now)}
    counts = {p.namespace: 0 for p in policies.policies}
    counts[policies.default.namespace] = 0
    counts.update({name: s.entries for name, s in per_policy.items()})
    return {
        "total_entries": sum(s.entries for s in per_policy.values()),
        "compressed_entries": sum(int(s.compressed or 0) for s in per_policy.values()),
        "namespace_counts": counts,
        "total_bytes": sum(s.total_bytes for s in per_policy.values()),
        "stored_bytes": sum(s.stored_bytes for s in per_policy.values()),
        "expired_pending": sum(int(s.expired_pending or 0) for s in per_policy.values()),
        "tombstones": store.count_tombstones(),
        "locks_held": len(store.list_locks(now)),
        "revision": store.current_revision(),
        "db_size_bytes": store.size_bytes(),
        "read_only": store.read_only(),  # why writes cannot work now, else None
        "store": store.url,
        "policy_source": policies.source,
        "policy_error": policy_error,
        "policies": [
            {
                "pattern": name,
                "entries": s.entries,
                "total_bytes": s.total_bytes,
                "stored_bytes": s.stored_bytes,
                "compressed": int(s.compressed or 0),
                "expired_pending": int(s.expired_pending or 0),
                "next_expiry": s.next_expiry,
            }
            for name, s in sorted(per_policy.items())
        ],
    }
