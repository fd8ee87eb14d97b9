"""Open the backend a store URL names: SQLite for a path, PostgreSQL for
``postgresql://``.

Its own module above both backends, not the ``lifecycle.store`` package: the backends
import the package's modules, so a package ``__init__`` that imported the backends ran
in a cycle."""

from __future__ import annotations

import os

from lifecycle.errors import ConfigurationError
from lifecycle.store.base import Store
from lifecycle.store.sqlite.store import SQLiteStore
from lifecycle.store.url import redact_url, sqlite_file


def open_store(url: str | os.PathLike[str]) -> Store:
    """Open the store a URL names: a plain path or ``sqlite:///path`` is SQLite,
    ``postgresql://…`` is PostgreSQL (needs the ``postgres`` extra)."""
    text = os.fspath(url)
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
