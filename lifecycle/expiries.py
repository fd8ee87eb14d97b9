"""Upcoming expiries: how many live entries expire in each time bucket ahead, per policy.

What a person watching a swarm asks ("what expires when?") and what the dashboard's
chart draws. The store counts the rows of each bucket in one range scan of the
``expires_at`` index (``Store.expiry_buckets``), so the cost follows the entries inside
the window, not the size of the store; here the window is checked and each bucket gets
its times. Entries already expired (waiting for collection) are not "upcoming": stats
report them as ``expired_pending``.
"""

from __future__ import annotations

import math

from lifecycle.entries.preconditions import shown
from lifecycle.errors import InvalidValueError
from lifecycle.store.base import Store

TYPE_CHECKING = False  # typing's flag without importing typing
if TYPE_CHECKING:
    from typing import Any

DEFAULT_HORIZON_SECONDS = 86400.0
DEFAULT_BUCKETS = 24
MAX_HORIZON_SECONDS = 366 * 86400.0
MAX_BUCKETS = 500


def upcoming(
    store: Store,
    now: float,
    horizon_seconds: float = DEFAULT_HORIZON_SECONDS,
    buckets: int = DEFAULT_BUCKETS,
) -> dict[str, Any]:
    """Entries expiring in ``[now, now + horizon_seconds)``, in ``buckets`` equal buckets:
    each with ``start``, ``end``, ``entries`` and ``by_policy`` (pattern -> entries)."""
    horizon = _check_horizon(horizon_seconds)
    count = _check_buckets(buckets)
    width = horizon / count
    rows: list[dict[str, Any]] = [
        {"start": now + i * width, "end": now + (i + 1) * width, "entries": 0, "by_policy": {}}
        for i in range(count)
    ]
    for counted in store.expiry_buckets(now, width, count):
        row = rows[counted.bucket]
        row["entries"] += counted.entries
        row["by_policy"][counted.policy] = counted.entries
    return {
        "now": now,
        "horizon_seconds": horizon,
        "bucket_seconds": width,
        "total": sum(r["entries"] for r in rows),
        "policies": sorted({p for r in rows for p in r["by_policy"]}),
        "buckets": rows,
    }


def _check_horizon(value: Any) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or not 0 < value <= MAX_HORIZON_SECONDS
    ):
        raise InvalidValueError(
            f"invalid horizon_seconds {shown(value)}: use more than 0 and at most "
            f"{MAX_HORIZON_SECONDS:g} seconds (366 days)"
        )
    return float(value)


def _check_buckets(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_BUCKETS:
        raise InvalidValueError(f"invalid buckets {shown(value)}: use 1-{MAX_BUCKETS}")
    return value
