"""Checks of call arguments other than keys and values (see ``keys`` and ``codec``).

Each names the argument, the value and the fix, so an agent can correct its
call from the message alone.
"""

from __future__ import annotations

import base64
import math
from typing import Any

from .errors import InvalidValueError


def check_seconds(value: Any, field: str, key: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InvalidValueError(
            f"invalid {field} for key '{key}': {value!r}; use a finite number of seconds", key=key
        )
    if value < 0:
        raise InvalidValueError(
            f"invalid {field} for key '{key}': {value!r} is negative; use 0 or more", key=key
        )
    return float(value)


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
        or any(ord(c) < 32 for c in agent_id)
    ):
        raise InvalidValueError(
            f"invalid agent_id {agent_id!r}: use 1-200 printable characters", key=key
        )
    return agent_id


def check_op_id(op_id: Any, key: str) -> str | None:
    if op_id is None:
        return None
    if not isinstance(op_id, str) or not 1 <= len(op_id) <= 200:
        raise InvalidValueError(
            f"invalid op_id {op_id!r} for key '{key}': use a string of 1-200 characters, "
            "unique per logical operation",
            key=key,
        )
    return op_id


def encode_cursor(key: str) -> str:
    return base64.urlsafe_b64encode(key.encode()).decode()


def decode_cursor(cursor: str) -> str:
    try:
        if not isinstance(cursor, str):
            raise ValueError("not a string")
        raw = base64.b64decode(cursor.encode(), altchars=b"-_", validate=True)
        return raw.decode()
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidValueError(
            f"invalid cursor {cursor!r}: pass the next_cursor of the previous page unchanged"
        ) from exc
