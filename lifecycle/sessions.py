"""What belongs to a session: ``session/<id>``, ``session/<id>/*`` and
``coordination/<id>/*``, deleted together when the session ends."""

from __future__ import annotations

from lifecycle.basics.keys import check_session_id
from lifecycle.store.base import Store

MAX_SESSION_KEYS = 100_000


def session_keys(store: Store, session_id: str, limit: int | None = None) -> list[str]:
    """The live keys of a session (expired ones included: they go too), ``session/<id>``
    first, then key order; at most ``limit`` (else ``MAX_SESSION_KEYS`` per prefix)."""
    sid = check_session_id(session_id)
    keys = [f"session/{sid}"]
    for prefix in (f"session/{sid}/", f"coordination/{sid}/"):
        room = MAX_SESSION_KEYS if limit is None else limit - len(keys)
        if room > 0:
            keys += store.keys_with_prefix(prefix, room)
    return keys if limit is None else keys[:limit]
