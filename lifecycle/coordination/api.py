"""The manager's coordination API: locks and the change feed.

A mixin of ``MemoryLifecycleManager`` (which provides the store, the clock and the
agent id); the rules live in ``locks`` and ``change_feed`` beside it, and
compare-and-set and guarded writes are preconditions of ordinary writes
(``lifecycle.entries.preconditions``).
"""

from __future__ import annotations

from lifecycle.basics.clock import Clock
from lifecycle.store.base import Store

TYPE_CHECKING = False  # typing's flag without importing typing
if TYPE_CHECKING:
    from contextlib import AbstractContextManager
    from typing import Any

DEFAULT_TTL_SECONDS = (
    60.0  # (lifecycle.coordination.locks, imported on first use: hooks never lock)
)


class Coordination:
    """Locks with fencing tokens and the change feed, over the manager's store."""

    _store: Store
    clock: Clock
    agent_id: str

    def lock(
        self,
        name: str,
        owner: str | None = None,
        ttl_seconds: float = DEFAULT_TTL_SECONDS,
        wait_seconds: float = 0,
    ) -> dict[str, Any]:
        """Take (or renew) lock ``name``: ``acquired``, ``name``, ``owner``, ``token``
        (a fencing token for guarded writes), ``expires_at`` (``lifecycle.coordination.locks``)."""
        from lifecycle.coordination import locks

        who = self.agent_id if owner is None else owner
        return locks.lock(self._store, self.clock, name, who, ttl_seconds, wait_seconds)

    def unlock(self, name: str, token: int) -> bool:
        """Release lock ``name``; False when ``token`` no longer holds it."""
        from lifecycle.coordination import locks

        return locks.unlock(self._store, self.clock, name, token)

    def locked(
        self,
        name: str,
        owner: str | None = None,
        ttl_seconds: float = DEFAULT_TTL_SECONDS,
        wait_seconds: float = 0,
    ) -> AbstractContextManager[int]:
        """``with manager.locked(name) as token:`` holds the lock for the block, or raises
        ``LockTimeout`` when another owner keeps it past ``wait_seconds``."""
        from lifecycle.coordination import locks

        who = self.agent_id if owner is None else owner
        return locks.locked(self._store, self.clock, name, who, ttl_seconds, wait_seconds)

    def list_locks(self) -> list[dict[str, Any]]:
        """The locks held now (unexpired), in name order."""
        from lifecycle.coordination import locks

        return locks.held(self._store, self.clock.now())

    def changes(
        self,
        prefix: str = "",
        since: int | None = None,
        limit: int = 100,
        wait_seconds: float = 0,
    ) -> dict[str, Any]:
        """Changes after revision ``since`` under ``prefix`` (``changes``) and the cursor to
        pass next (``next``); waits up to ``wait_seconds`` for one (``change_feed``)."""
        from lifecycle.coordination import change_feed

        return change_feed.changes(self._store, prefix, since, limit, wait_seconds)
