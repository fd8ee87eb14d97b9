"""Checks of call arguments other than keys and values (see ``keys`` and ``codec``).

Each names the argument, the value and the fix, so an agent can correct its
call from the message alone.
"""

from __future__ import annotations

import math

from lifecycle.errors import InvalidValueError, clip

TYPE_CHECKING = False  # typing's flag without importing typing
if TYPE_CHECKING:
    from typing import Any

# A TTL beyond a century is a mistake (or an attempt to overflow expiry arithmetic, as
# ttl_seconds=1e300 did); an entry meant to live forever has TTL 0.
MAX_TTL_SECONDS = 100 * 365 * 86400


def check_seconds(value: Any, field: str, key: str) -> float | None:
    """A number of seconds >= 0 (a TTL, or an epoch timestamp); a boolean is not a number."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidValueError(
            f"invalid {field} for key '{key}': {clip(value)}; use a number of seconds", key=key
        )
    try:
        seconds = float(value)
    except OverflowError:  # an int too large for a float
        seconds = math.inf
    if not math.isfinite(seconds):
        raise InvalidValueError(
            f"invalid {field} for key '{key}': {clip(value)}; use a finite number of seconds",
            key=key,
        )
    if seconds < 0:
        raise InvalidValueError(
            f"invalid {field} for key '{key}': {clip(value)} is negative; use 0 or more", key=key
        )
    if field == "ttl_seconds" and seconds > MAX_TTL_SECONDS:
        raise InvalidValueError(
            f"invalid ttl_seconds for key '{key}': {clip(value)} is over 100 years "
            f"({MAX_TTL_SECONDS} s); use 0 for an entry that never expires",
            key=key,
        )
    return seconds


MAX_TIMESTAMP = 1e11  # epoch seconds, about the year 5138: beyond it, it is milliseconds


def check_timestamp(value: Any, key: str, *, now: float, max_ahead: float) -> float | None:
    """A caller's write timestamp in epoch seconds, at most ``max_ahead`` past ``now``.

    Under last-write-wins a far-future timestamp would make the key unwritable
    (every later write loses to it), so how far ahead of the store's clock a
    timestamp may be is bounded (``settings: max_clock_skew_seconds``).
    """
    ts = check_seconds(value, "timestamp", key)
    if ts is None:
        return None
    if ts > MAX_TIMESTAMP:
        raise InvalidValueError(
            f"invalid timestamp for key '{key}': {ts!r} is beyond the year 5000; pass "
            "epoch seconds (time.time()), not milliseconds, or omit it",
            key=key,
        )
    if ts > now + max_ahead:
        raise InvalidValueError(
            f"invalid timestamp for key '{key}': {ts!r} is {ts - now:.0f} s ahead of the "
            f"store's clock, over the limit of {max_ahead:g} s "
            "(settings: max_clock_skew_seconds); pass time.time(), or omit it",
            key=key,
        )
    return ts


def check_actor(agent_id: Any, key: str | None = None) -> str:
    if (
        not isinstance(agent_id, str)
        or not 1 <= len(agent_id) <= 200
        or any(ord(c) < 32 or 0xD800 <= ord(c) <= 0xDFFF for c in agent_id)
    ):
        raise InvalidValueError(
            f"invalid agent_id {clip(agent_id)}: use 1-200 printable characters (valid Unicode)",
            key=key,
        )
    return agent_id


def check_op_id(op_id: Any, key: str) -> str | None:
    if op_id is None:
        return None
    if (
        not isinstance(op_id, str)
        or not 1 <= len(op_id) <= 200
        or any(0xD800 <= ord(c) <= 0xDFFF for c in op_id)
    ):
        raise InvalidValueError(
            f"invalid op_id {clip(op_id)} for key '{key}': use a string of 1-200 characters, "
            "unique per logical operation",
            key=key,
        )
    return op_id


def encode_cursor(key: str) -> str:
    import base64  # only for a page's cursor: most calls (every hook) page nothing

    return base64.urlsafe_b64encode(key.encode()).decode()


def decode_cursor(cursor: str) -> str:
    try:
        if not isinstance(cursor, str):
            raise ValueError("not a string")
        import base64

        raw = base64.b64decode(cursor.encode(), altchars=b"-_", validate=True)
        return raw.decode()
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidValueError(
            f"invalid cursor {clip(cursor)}: pass the next_cursor of the previous page unchanged"
        ) from exc
