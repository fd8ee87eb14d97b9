"""The change feed: which keys changed, in revision order, from a cursor.

Every applied change gets the store's next revision and a log entry in the same
transaction (``put``, ``delete``, or ``expire`` when cleanup or a lazy read
removes an expired entry), so a reader holding a cursor sees every committed
change exactly once, whichever process made it (the stores guarantee that a
visible revision N means every revision before it is visible too; see
``store/postgres/changelog.py`` for how PostgreSQL keeps that promise).

A reader's cursor is a revision: ``next`` of the previous call, passed back as
``since``. With a prefix, ``next`` still moves past changes of other keys, so a
quiet prefix does not re-scan the same log. The log keeps the newest
``change_log_max_entries`` changes (policy ``settings:``); a cursor older than
that is an error that names the oldest revision still kept, never a silent gap.

With nothing new, a call waits up to ``wait_seconds`` (at most 30) for a change
under its prefix: the store signals commits (SQLite: a cheap poll of
``PRAGMA data_version``; PostgreSQL: LISTEN/NOTIFY), so a waiting reader costs
next to nothing and wakes within milliseconds.
"""

from __future__ import annotations

import time
from typing import Any

from lifecycle.coordination.locks import check_wait
from lifecycle.entries.preconditions import shown
from lifecycle.errors import CompactedError, InvalidValueError
from lifecycle.store.base import ChangePage, Store

MAX_CHANGES_LIMIT = 1000


def changes(
    store: Store,
    prefix: str = "",
    since: int | None = None,
    limit: int = 100,
    wait_seconds: float = 0,
) -> dict[str, Any]:
    """The ``memory_changes`` result: ``changes`` after ``since`` and the ``next`` cursor."""
    _check(prefix, since, limit)
    deadline = time.monotonic() + check_wait(wait_seconds)
    cursor = store.current_revision() if since is None else since
    while True:
        signal = store.change_token() if wait_seconds else 0
        page = store.read_changes(cursor, prefix, limit)
        _check_cursor(cursor, page)
        remaining = deadline - time.monotonic()
        if page.changes or remaining <= 0:
            return _result(page, cursor)
        cursor = page.head  # nothing under the prefix up to the head: start after it
        store.wait_for_change(signal, remaining)


def _check(prefix: Any, since: Any, limit: Any) -> None:
    if not isinstance(prefix, str):
        raise InvalidValueError(f"invalid prefix {shown(prefix)}: must be a string")
    if since is not None and (isinstance(since, bool) or not isinstance(since, int) or since < 0):
        raise InvalidValueError(
            f"invalid since {shown(since)}: pass the 'next' value of the previous call "
            "(a revision, 0 or more), or omit it to start from now"
        )
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_CHANGES_LIMIT:
        raise InvalidValueError(f"invalid limit {shown(limit)}: use 1-{MAX_CHANGES_LIMIT}")


def _check_cursor(since: int, page: ChangePage) -> None:
    if since > page.head:
        raise InvalidValueError(
            f"invalid since {since}: this store's latest revision is {page.head}; pass the "
            "'next' value this store returned (a cursor from another store does not apply)"
        )
    if since < page.compacted:
        oldest = page.compacted + 1
        raise CompactedError(
            f"since {since} is too old: the change log was compacted and its oldest revision "
            f"is now {oldest}; re-read the keys you follow, then continue with since="
            f"{page.compacted} (settings: change_log_max_entries keeps more)",
            oldest=oldest,
        )


def _result(page: ChangePage, since: int) -> dict[str, Any]:
    found = page.changes
    following = found[-1].revision if found and not page.complete else page.head
    return {
        "changes": [
            {"key": c.key, "revision": c.revision, "op": c.op, "policy": c.policy} for c in found
        ],
        "next": max(following, since),
    }
