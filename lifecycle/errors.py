"""The engine's exceptions.

Everything the engine raises on purpose derives from ``LifecycleError``, so a
caller (the MCP server, the CLI) can turn exactly these into clear messages
and let real bugs surface. Each subclass also inherits the built-in that fits,
so plain ``except ValueError`` keeps working::

    LifecycleError
    ├── InvalidKeyError        (ValueError)   bad key or namespace
    ├── InvalidValueError      (ValueError)   not JSON, NaN, wrong type for a counter
    │   └── ValueTooLargeError                over the configured maximum size
    ├── InvalidContextError    (ValueError)   a context token that cannot be read
    ├── InvalidQueryError      (ValueError)   a search query that cannot be searched for
    ├── PolicyError            (ValueError)   a policy file that is missing fields, malformed, ...
    ├── ConfigurationError     (ValueError)   a bad store URL, path or option
    ├── ImportFormatError      (ValueError)   a bad line in an export file
    ├── CompactedError         (ValueError)   a change-feed cursor older than the log keeps
    ├── EntryNotFoundError     (LookupError)  a key that is not stored
    ├── StoreNotFoundError     (LookupError)  a read where no store exists (reads create none)
    ├── LockTimeout            (TimeoutError) ``locked()`` could not take the lock in time
    └── StoreError                            the storage driver failed
        └── StoreBusyError                    the store stayed locked past the busy timeout

Messages echo the offending input through ``clip``, so a 1 MB key or a
5,000-digit number never becomes a 1 MB error message or log line.
"""

from __future__ import annotations


class LifecycleError(Exception):
    """Base of every error the engine raises deliberately."""

    def __init__(
        self,
        message: str,
        *,
        key: str | None = None,
        namespace: str | None = None,
        path: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.key = key
        self.namespace = namespace
        self.path = path

    def __str__(self) -> str:
        return self.message


class InvalidKeyError(LifecycleError, ValueError):
    """A key or namespace breaks the key rules."""


class InvalidValueError(LifecycleError, ValueError):
    """A value cannot be stored (not JSON, NaN, wrong type for the key's strategy)."""


class ValueTooLargeError(InvalidValueError):
    """A value is larger than the store's maximum."""


class InvalidContextError(LifecycleError, ValueError):
    """A ``context`` token that was not produced by ``retrieve``."""


class InvalidQueryError(LifecycleError, ValueError):
    """A search query that is empty, too long, or uses syntax we do not support."""


class PolicyError(LifecycleError, ValueError):
    """A policy file that cannot be used as it is."""


class ConfigurationError(LifecycleError, ValueError):
    """A store URL, path or option that cannot be used."""


class ImportFormatError(LifecycleError, ValueError):
    """A line of an export file that cannot be merged."""


class EntryNotFoundError(LifecycleError, LookupError):
    """A key that is not stored (or has expired)."""


class StoreNotFoundError(LifecycleError, LookupError):
    """A read asked for where no store exists: reading never creates one."""


class CompactedError(LifecycleError, ValueError):
    """A change-feed cursor older than the oldest change the log still keeps (etcd's
    "compacted"): the caller re-reads what it follows and starts again from ``oldest``."""

    def __init__(self, message: str, *, oldest: int) -> None:
        super().__init__(message)
        self.oldest = oldest


class LockTimeout(LifecycleError, TimeoutError):
    """``locked()`` did not get the lock: another owner held it past ``wait_seconds``."""

    def __init__(self, message: str, *, name: str, owner: str, expires_at: float) -> None:
        super().__init__(message, key=name)
        self.name = name
        self.owner = owner
        self.expires_at = expires_at


class StoreError(LifecycleError):
    """The storage driver failed; the message says what it reported."""


class StoreBusyError(StoreError):
    """The store stayed locked by another writer past the busy timeout."""


CLIP_CHARS = 80


def clip(value: object, limit: int = CLIP_CHARS) -> str:
    """``repr(value)``, cut to about ``limit`` characters, for messages and log lines.

    Never fails: an integer too long for ``repr`` (Python refuses over 4,300 digits) is
    described by its size, and a value whose ``repr`` raises (too deep) by its type.
    """
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 256:
        return f"<an integer of {int(value.bit_length() * 0.30103) + 1} digits>"
    try:
        text = repr(value)
    except Exception:  # RecursionError, ValueError: a description beats a crash
        return f"<a {type(value).__name__} that cannot be shown>"
    if len(text) > limit:
        return f"{text[:limit]}... ({len(text)} characters)"
    return text


def clip_text(text: str, limit: int = 300) -> str:
    """A message (not a value) cut to ``limit`` characters, on one line."""
    text = " ".join(text.split())
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"
