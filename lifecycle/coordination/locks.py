"""Locks: leases with fencing tokens, kept in the store so they hold across processes
and hosts.

A lock is a row (name, owner, token, expires_at). It is free when the row is
absent or expired, so a holder that crashed frees it after its TTL with no cleanup.
Taking a free lock issues a fencing token greater than every token the store
issued before, for any lock; the owner locking again while it holds the lock
renews it (later expiry, same token). A holder whose lease ran out may not know
it: that is what the token is for. Writes guarded by ``lock`` + ``lock_token``
apply only while that token holds the lock (checked in the write's transaction),
so a late write from a stale holder is refused, not silently applied.

Waiting (``wait_seconds``, at most 30) re-tries when the store signals a commit
(a release wakes waiters at once) and at the holder's expiry, never by spinning.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from lifecycle.basics.arguments import check_actor
from lifecycle.basics.clock import Clock
from lifecycle.basics.keys import validate_key
from lifecycle.basics.lazy_logging import get_logger
from lifecycle.entries.preconditions import check_issued, check_token, shown
from lifecycle.errors import InvalidValueError, LockTimeout
from lifecycle.store.base import LockState, Store

MAX_WAIT_SECONDS = 30.0
MAX_TTL_SECONDS = 86400.0
DEFAULT_TTL_SECONDS = 60.0  # (also in lifecycle.coordination.api, which imports this lazily)

log = get_logger("memory_lifecycle.locks")


def check_wait(wait_seconds: Any) -> float:
    if (
        isinstance(wait_seconds, bool)
        or not isinstance(wait_seconds, (int, float))
        or not 0 <= wait_seconds <= MAX_WAIT_SECONDS
    ):
        raise InvalidValueError(
            f"invalid wait_seconds {shown(wait_seconds)}: use 0 to {MAX_WAIT_SECONDS:g} seconds"
        )
    return float(wait_seconds)


def check_ttl(ttl_seconds: Any, name: str) -> float:
    if (
        isinstance(ttl_seconds, bool)
        or not isinstance(ttl_seconds, (int, float))
        or not math.isfinite(ttl_seconds)
        or not 0 < ttl_seconds <= MAX_TTL_SECONDS
    ):
        raise InvalidValueError(
            f"invalid ttl_seconds {shown(ttl_seconds)} for lock '{name}': use more than 0 and "
            f"at most {MAX_TTL_SECONDS:g} seconds (renew the lock to hold it longer)",
            key=name,
        )
    return float(ttl_seconds)


def lock(
    store: Store,
    clock: Clock,
    name: str,
    owner: str,
    ttl_seconds: float = DEFAULT_TTL_SECONDS,
    wait_seconds: float = 0,
) -> dict[str, Any]:
    """Take, renew or wait for lock ``name``; the result fields of ``memory_lock``."""
    validate_key(name, what="lock name")
    check_actor(owner, name)
    ttl = check_ttl(ttl_seconds, name)
    deadline = time.monotonic() + check_wait(wait_seconds)
    while True:
        signal = store.change_token() if wait_seconds else 0
        state = store.acquire_lock(name, owner, clock.now(), ttl)
        remaining = deadline - time.monotonic()
        if state.acquired or remaining <= 0:
            return as_dict(state)
        # a release wakes us through the store's signal; an expiry needs no signal
        until_expiry = max(state.expires_at - clock.now(), 0.001)
        store.wait_for_change(signal, min(remaining, until_expiry))


def unlock(store: Store, clock: Clock, name: str, token: Any) -> bool:
    """Release the lock held with ``token``; False when it no longer holds it."""
    validate_key(name, what="lock name")
    value = check_token(token, where=f"token for lock '{name}'")
    check_issued(store, [value])
    return store.release_lock(name, value, clock.now())


@contextmanager
def locked(
    store: Store,
    clock: Clock,
    name: str,
    owner: str,
    ttl_seconds: float = DEFAULT_TTL_SECONDS,
    wait_seconds: float = 0,
) -> Iterator[int]:
    """Hold lock ``name`` for the ``with`` block; yields the fencing token."""
    taken = lock(store, clock, name, owner, ttl_seconds, wait_seconds)
    if not taken["acquired"]:
        raise LockTimeout(
            f"lock '{name}' is held by {taken['owner']!r} until {taken['expires_at']:.3f} "
            f"(epoch seconds); not acquired within {wait_seconds:g} s: wait longer "
            "(wait_seconds, at most 30) or try again later",
            name=name,
            owner=taken["owner"],
            expires_at=taken["expires_at"],
        )
    token: int = taken["token"]
    try:
        yield token
    finally:
        if not unlock(store, clock, name, token):
            log.warning(
                "lock '%s' (token %d) had expired before the block ended; "
                "writes guarded by its token after that were refused",
                name,
                token,
            )


def as_dict(state: LockState) -> dict[str, Any]:
    return {
        "acquired": state.acquired,
        "name": state.name,
        "owner": state.owner,
        "token": state.token,
        "expires_at": state.expires_at,
    }


def held(store: Store, now: float) -> list[dict[str, Any]]:
    """The unexpired locks, for ``memory-lifecycle locks``."""
    return [
        {"name": s.name, "owner": s.owner, "token": s.token, "expires_at": s.expires_at}
        for s in store.list_locks(now)
    ]
