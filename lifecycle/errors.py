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
    ├── PolicyError            (ValueError)   a policy file that is missing fields, malformed, ...
    ├── ConfigurationError     (ValueError)   a bad store URL, path or option
    ├── ImportFormatError      (ValueError)   a bad line in an export file
    ├── CompactedError         (ValueError)   a change-feed cursor older than the log keeps
    ├── EntryNotFoundError     (LookupError)  a key that is not stored
    ├── LockTimeout            (TimeoutError) ``locked()`` could not take the lock in time
    └── StoreError                            the storage driver failed
        └── StoreBusyError                    the store stayed locked past the busy timeout
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


class PolicyError(LifecycleError, ValueError):
    """A policy file that cannot be used as it is."""


class ConfigurationError(LifecycleError, ValueError):
    """A store URL, path or option that cannot be used."""


class ImportFormatError(LifecycleError, ValueError):
    """A line of an export file that cannot be merged."""


class EntryNotFoundError(LifecycleError, LookupError):
    """A key that is not stored (or has expired)."""


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
