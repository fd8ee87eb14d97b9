"""The store URL: the SQLite file it names, and the one place a password in it is
hidden before it reaches a message or a log.

Pure text, no backend: both backends use ``redact_url``, and ``backend`` (which opens
them) uses both functions, so this module sits below all three."""

from __future__ import annotations

from pathlib import Path


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
