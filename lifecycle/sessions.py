"""What belongs to a session: ``session/<id>``, ``session/<id>/*`` and
``coordination/<id>/*``, deleted together when the session ends."""

from __future__ import annotations

from lifecycle.basics.keys import check_session_id
from lifecycle.store.base import Store

MAX_SESSION_KEYS = 100_000


def session_keys(store: Store, session_id: str) -> list[str]:
    """The live keys of a session (expired ones included: they go too)."""
    sid = check_session_id(session_id)
    keys = [f"session/{sid}"]
    for prefix in (f"session/{sid}/", f"coordination/{sid}/"):
        keys += store.keys_with_prefix(prefix, MAX_SESSION_KEYS)
    return keys
