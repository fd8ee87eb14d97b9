"""Key rules and the ``namespace`` argument.

Keys are the only user input that becomes part of the storage identity, so
they are checked strictly once, here: 1-512 characters, ``/``-separated
segments, no empty, ``.`` or ``..`` segment, no control characters.
"""

from __future__ import annotations

import re

from .errors import InvalidKeyError

MAX_KEY_LENGTH = 512
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def validate_key(key: object, *, what: str = "key") -> str:
    """Return ``key`` if it follows the key rules, else raise ``InvalidKeyError``."""
    if not isinstance(key, str):
        raise InvalidKeyError(
            f"invalid {what} {key!r}: must be a string such as 'coordination/agent1/status'",
            key=str(key),
        )
    if not key:
        raise InvalidKeyError(f"invalid {what} '': must be 1-{MAX_KEY_LENGTH} characters", key=key)
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidKeyError(
            f"invalid {what} '{key[:40]}...': {len(key)} characters, the maximum is "
            f"{MAX_KEY_LENGTH}; use a shorter key",
            key=key,
        )
    control = _CONTROL.search(key)
    if control:
        raise InvalidKeyError(
            f"invalid {what} {key!r}: control character {control.group()!r} at position "
            f"{control.start()}; remove it",
            key=key,
        )
    for segment in key.split("/"):
        if segment == "":
            fixed = "/".join(s for s in key.split("/") if s) or "name"
            raise InvalidKeyError(
                f"invalid {what} '{key}': empty path segment; use '{fixed}'", key=key
            )
        if segment in (".", ".."):
            raise InvalidKeyError(
                f"invalid {what} '{key}': segment '{segment}' is not allowed; "
                "name the entry without '.' or '..' segments",
                key=key,
            )
    return key


def full_key(key: object, namespace: str | None = None) -> str:
    """Join ``namespace`` and ``key`` the way claude-flow's (key, namespace) calls expect.

    A trailing ``/*`` on the namespace is ignored, and a key that already starts
    with ``<namespace>/`` is not prefixed twice, so both calling styles meet in
    one store.
    """
    if namespace is None or namespace == "":
        return validate_key(key)
    if not isinstance(namespace, str):
        raise InvalidKeyError(
            f"invalid namespace {namespace!r}: must be a string such as 'coordination'",
            namespace=str(namespace),
        )
    ns = namespace[:-2] if namespace.endswith("/*") else namespace.rstrip("/")
    validate_key(ns, what="namespace")
    if not isinstance(key, str):
        validate_key(key)
    assert isinstance(key, str)
    if key.startswith(ns + "/"):
        return validate_key(key)
    return validate_key(f"{ns}/{key}")


def scoped_prefix(prefix: object, namespace: str | None = None) -> str:
    """A list or search prefix within ``namespace``: ``<namespace>/<prefix>``, joined the
    way ``full_key`` joins keys (not prefixed twice); no namespace leaves it as given."""
    if not isinstance(prefix, str):
        raise InvalidKeyError(f"invalid prefix {prefix!r}: must be a string", key=str(prefix))
    try:
        prefix.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidKeyError(
            f"invalid prefix {prefix[:40]!r}: it holds a lone surrogate; use valid text",
            key=prefix[:40],
        ) from exc
    if namespace is None or namespace == "":
        return prefix
    if not isinstance(namespace, str):
        raise InvalidKeyError(
            f"invalid namespace {namespace!r}: must be a string such as 'coordination'",
            namespace=str(namespace),
        )
    ns = namespace[:-2] if namespace.endswith("/*") else namespace.rstrip("/")
    base = validate_key(ns, what="namespace") + "/"
    return prefix if prefix.startswith(base) else base + prefix
