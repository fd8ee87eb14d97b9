"""What belongs to a session: ``session/<id>``, ``session/<id>/*`` and
``coordination/<id>/*``, deleted together when the session ends."""

from __future__ import annotations

from .errors import InvalidValueError, clip
from .keys import validate_key
from .store import Store

MAX_SESSION_KEYS = 100_000


def check_session_id(session_id: object) -> str:
    if (
        not isinstance(session_id, str)
        or session_id in ("", ".", "..")
        or "/" in session_id
        or "*" in session_id
    ):
        raise InvalidValueError(
            f"invalid session id {clip(session_id)}: use one non-empty path segment without "
            "'/' or '*', such as the session_id Claude Code passes to hooks"
        )
    validate_key(session_id, what="session id")
    return session_id


def session_keys(store: Store, session_id: str) -> list[str]:
    """The live keys of a session (expired ones included: they go too)."""
    sid = check_session_id(session_id)
    keys = [f"session/{sid}"]
    for prefix in (f"session/{sid}/", f"coordination/{sid}/"):
        keys += store.keys_with_prefix(prefix, MAX_SESSION_KEYS)
    return keys
