"""The store URL: the SQLite file it names, and the one place a password in it is
hidden before it reaches a message or a log.

Pure text, no backend: both backends use ``redact_url``, and ``backend`` (which opens
them) uses both functions, so this module sits below all three."""

from __future__ import annotations

import os


def plain_path(text: str) -> str:
    """``text`` as ``str(Path(text))`` spells it (no empty or ``.`` parts, no trailing
    ``/``), without importing pathlib, which every hook would pay for."""
    parts = [p for p in text.split("/") if p not in ("", ".")]
    return ("/" if text.startswith("/") else "") + "/".join(parts) or "."


def sqlite_file(url: str | os.PathLike[str]) -> str | None:
    """The SQLite file a store URL names: a plain path or ``sqlite:///path``
    (``sqlite:////abs`` keeps its leading /); None for any other URL."""
    text = os.fspath(url)
    if text.startswith("sqlite:///"):
        return plain_path(text[len("sqlite:///") :])
    if "://" in text:
        return None
    return plain_path(text)


def redact_url(url: str) -> str:
    """Hide a password in a URL before it goes into a message or a log (the one place)."""
    if "@" not in url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    creds, host = rest.rsplit("@", 1)
    user = creds.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}" if ":" in creds else url
