"""Key rules and the ``namespace`` argument.

Keys are the only user input that becomes part of the storage identity, so
they are checked strictly once, here: 1-512 characters, ``/``-separated
segments, no empty, ``.`` or ``..`` segment, no control characters, and
valid Unicode (a lone surrogate such as ``"\\ud800"`` cannot be stored as UTF-8).
"""

from __future__ import annotations

import re

from lifecycle.errors import InvalidKeyError, clip

MAX_KEY_LENGTH = 512
# claude-flow's namespace of keys stored without one: no prefix here, so its
# ``(key, namespace="default")`` calls and plain keys name the same entry
DEFAULT_NAMESPACE = "default"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def first_surrogate(text: str) -> int | None:
    """Where ``text``'s first surrogate code point is (the one thing UTF-8 cannot encode),
    or None. Not a regex: compiling ``[\\ud800-\\udfff]`` cost every hook ~2M instructions."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return exc.start
    return None


def validate_key(key: object, *, what: str = "key") -> str:
    """Return ``key`` if it follows the key rules, else raise ``InvalidKeyError``."""
    if (  # the common key, accepted without the regexes below (every write checks one)
        type(key) is str
        and key.isascii()
        and key.isprintable()  # (ASCII: no character in \x00-\x1f or \x7f)
        and 0 < len(key) <= MAX_KEY_LENGTH
        and "//" not in key
        and "." not in key
        and key[0] != "/"
        and key[-1] != "/"
    ):
        return key
    if not isinstance(key, str):
        raise InvalidKeyError(
            f"invalid {what} {clip(key)}: must be a string such as 'coordination/agent1/status'",
            key=clip(key),
        )
    if not key:
        raise InvalidKeyError(f"invalid {what} '': must be 1-{MAX_KEY_LENGTH} characters", key=key)
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidKeyError(
            f"invalid {what} {key[:40]!r}...: {len(key)} characters, the maximum is "
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
    at = first_surrogate(key)
    if at is not None:
        raise InvalidKeyError(
            f"invalid {what} {key!r}: lone "
            f"surrogate {key[at]!r} at position {at} is not valid "
            "Unicode; send the text as valid UTF-8",
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


def all_plain_keys(keys: list[str]) -> bool:
    """Whether every one of ``keys`` passes ``validate_key``'s shortcut (so is valid),
    checked on the keys joined by ``/`` in a few C calls: a key that is empty or starts
    or ends with ``/`` makes a ``//`` (or a ``/`` at either end of the whole). False
    says nothing: check each key with ``validate_key``."""
    try:
        joined = "/".join(keys)
    except TypeError:  # not all strings
        return False
    return bool(
        joined
        and joined.isascii()
        and joined.isprintable()
        and "//" not in joined
        and "." not in joined
        and joined[0] != "/"
        and joined[-1] != "/"
        and max(map(len, keys)) <= MAX_KEY_LENGTH
    )


def full_key(key: object, namespace: str | None = None) -> str:
    """Join ``namespace`` and ``key`` the way claude-flow's (key, namespace) calls expect.

    A trailing ``/*`` on the namespace is ignored, and a key that already starts
    with ``<namespace>/`` is not prefixed twice, so both calling styles meet in
    one store.
    """
    prefix = namespace_prefix(namespace)
    if not prefix:
        return validate_key(key)
    if not isinstance(key, str):
        validate_key(key)
    assert isinstance(key, str)
    if key.startswith(prefix):
        return validate_key(key)
    return validate_key(prefix + key)


def namespace_prefix(namespace: str | None) -> str:
    """The key prefix a ``namespace`` argument stands for: ``coordination`` (or
    ``coordination/*``) is ``coordination/``; no namespace, and claude-flow's
    ``default``, is no prefix."""
    if namespace is None or namespace == "":
        return ""
    if not isinstance(namespace, str):
        raise InvalidKeyError(
            f"invalid namespace {clip(namespace)}: must be a string such as 'coordination'",
            namespace=clip(namespace),
        )
    ns = namespace[:-2] if namespace.endswith("/*") else namespace.rstrip("/")
    if ns == DEFAULT_NAMESPACE:
        return ""
    return validate_key(ns, what="namespace") + "/"


def check_session_id(session_id: object) -> str:
    """A session id names one key segment: ``session/<id>`` and ``coordination/<id>/...``."""
    if (
        not isinstance(session_id, str)
        or session_id in ("", ".", "..")
        or "/" in session_id
        or "*" in session_id
    ):
        raise InvalidKeyError(
            f"invalid session id {clip(session_id)}: use one non-empty path segment without "
            "'/' or '*', such as the session_id Claude Code passes to hooks"
        )
    validate_key(session_id, what="session id")
    return session_id


def scoped_prefix(prefix: object, namespace: str | None = None) -> str:
    """A list or search prefix within ``namespace``: ``<namespace>/<prefix>``, joined the
    way ``full_key`` joins keys (not prefixed twice); no namespace leaves it as given."""
    if not isinstance(prefix, str):
        raise InvalidKeyError(f"invalid prefix {clip(prefix)}: must be a string", key=clip(prefix))
    try:
        prefix.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidKeyError(
            f"invalid prefix {clip(prefix, 40)}: it holds a lone surrogate; use valid text",
            key=clip(prefix, 40),
        ) from exc
    base = namespace_prefix(namespace)
    return prefix if not base or prefix.startswith(base) else base + prefix
