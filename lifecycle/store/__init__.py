"""Storage backends and the store URL that selects one."""

from __future__ import annotations

from pathlib import Path

from lifecycle.errors import ConfigurationError
from lifecycle.store.base import (
    Change,
    ChangePage,
    LockState,
    PolicyStats,
    Row,
    Store,
    SweepResult,
    Transaction,
)
from lifecycle.store.sqlite.store import SQLiteStore

__all__ = [
    "Change",
    "ChangePage",
    "LockState",
    "PolicyStats",
    "Row",
    "SQLiteStore",
    "Store",
    "SweepResult",
    "Transaction",
    "open_store",
    "redact_url",
    "sqlite_file",
]


def open_store(url: str | Path) -> Store:
    """Open the store a URL names: a plain path or ``sqlite:///path`` is SQLite,
    ``postgresql://…`` is PostgreSQL (needs the ``postgres`` extra)."""
    text = str(url)
    if text.startswith(("postgresql://", "postgres://")):
        try:
            from lifecycle.store.postgres.store import PostgresStore
        except ImportError as exc:
            raise ConfigurationError(
                f"store URL {redact_url(text)} needs PostgreSQL support: "
                "pip install 'memory-lifecycle[postgres]'",
                path=redact_url(text),
            ) from exc
        return PostgresStore(text)
    path = sqlite_file(text)
    if path is not None:
        return SQLiteStore(path)
    if text.startswith("sqlite://"):
        raise ConfigurationError(
            f"store URL {text!r}: write sqlite:///relative/path.db or sqlite:////absolute/path.db",
            path=text,
        )
    raise ConfigurationError(
        f"store URL {redact_url(text)!r} has an unknown scheme; use a file path, "
        "sqlite:///path or postgresql://user@host/db",
        path=redact_url(text),
    )


def sqlite_file(url: str | Path) -> Path | None:
    """The SQLite file a store URL names: a plain path or ``sqlite:///path``
    (``sqlite:////abs`` keeps its leading /); None for any other URL."""
    text = str(url)
    if text.startswith("sqlite:///"):
        return Path(text[len("sqlite:///") :])
    if "://" in text:
        return None
    return Path(text)


def redact_url(url: str) -> str:
    """Hide a password in a URL before it goes into a message or a log (the one place)."""
    if "@" not in url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    creds, host = rest.rsplit("@", 1)
    user = creds.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}" if ":" in creds else url
