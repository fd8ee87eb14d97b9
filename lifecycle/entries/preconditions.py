"""Preconditions of a write: ``if_revision`` (compare-and-set) and ``lock`` +
``lock_token`` (a write fenced by a lock).

Both are checked inside the write's transaction, against the row it is about to
change, so nothing can slip in between the check and the write. A failed check is a
normal outcome, not an error: the write reports ``conflict`` and the key's current
revision, and a batch with one failed check writes nothing.

A key's current revision is 0 when it does not exist for a reader: absent, deleted
(a tombstone) or expired. So ``if_revision=0`` means "only if it does not exist",
and a key deleted and written again never matches a revision read before the
delete (revisions only grow).
"""

from __future__ import annotations

from lifecycle.basics.keys import validate_key
from lifecycle.basics.typing_lite import NamedTuple
from lifecycle.errors import InvalidValueError
from lifecycle.store.base import Row, Store, Transaction

TYPE_CHECKING = False  # typing's flag without importing typing
if TYPE_CHECKING:
    from typing import Any

REVISION = "revision"
LOCK = "lock"


class Guard(NamedTuple):
    """A write's preconditions; the empty guard (all None) always holds."""

    if_revision: int | None = None
    lock: str | None = None
    lock_token: int | None = None


NO_GUARD = Guard()


def check_guard(if_revision: Any, lock: Any, lock_token: Any, key: str) -> Guard:
    """Validate the precondition fields of a write of ``key``."""
    if if_revision is None and lock is None and lock_token is None:
        return NO_GUARD
    if if_revision is not None and not _whole(if_revision, 0):
        raise InvalidValueError(
            f"invalid if_revision for key '{key}': {shown(if_revision)}; use 0 (only if the key "
            "does not exist) or the revision memory_retrieve returned",
            key=key,
        )
    if (lock is None) != (lock_token is None):
        missing = "lock_token" if lock_token is None else "lock"
        raise InvalidValueError(
            f"invalid guarded write of key '{key}': {missing} is missing; pass both lock "
            "(the lock's name) and lock_token (the token memory_lock returned), or neither",
            key=key,
        )
    if lock is not None:
        validate_key(lock, what="lock name")
        check_token(lock_token, where=f"lock_token for key '{key}'")
    return Guard(if_revision, lock, lock_token)


def check_token(token: Any, *, where: str = "token") -> int:
    if not _whole(token, 1):
        raise InvalidValueError(
            f"invalid {where}: {shown(token)}; pass the token memory_lock returned "
            "(a whole number of at least 1)"
        )
    return int(token)


def check_issued(store: Store, tokens: list[int]) -> None:
    """Refuse a token this store never issued: a caller's bug, not a lost lock."""
    if not tokens:
        return
    last = store.last_lock_token()
    unknown = max(tokens)
    if unknown > last:
        raise InvalidValueError(
            f"unknown lock token {unknown}: this store has issued tokens up to {last} only; "
            "pass the token memory_lock returned for this store"
        )


def shown(value: Any, limit: int = 80) -> str:
    """``repr(value)`` cut short for a message, whatever a caller sent."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 256:
        return "<a very large integer>"
    try:
        text = repr(value)
    except Exception:  # a value too deep to show: describe it instead
        return f"<a {type(value).__name__}>"
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


def _whole(value: Any, minimum: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= minimum


def current_revision(row: Row | None, now: float) -> int:
    """The revision a reader would see: 0 when absent, deleted or expired."""
    expired = row is not None and row.expires_at is not None and row.expires_at <= now
    if row is None or row.tombstone or expired:
        return 0
    return row.revision


def conflict(
    tx: Transaction, row: Row | None, guard: Guard, now: float, *, changed: bool = False
) -> str | None:
    """Which precondition fails (``"lock"`` first), or None. ``changed``: an earlier
    write of the same call already changed the key, so no revision read before the call
    can match."""
    if guard.lock is not None and tx.held_lock(guard.lock, now) != guard.lock_token:
        return LOCK
    if guard.if_revision is not None and (
        changed or current_revision(row, now) != guard.if_revision
    ):
        return REVISION
    return None
