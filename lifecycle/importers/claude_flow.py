"""claude-flow's memory database (``.swarm/memory.db``), v2 and v3 schemas.

Both keep one row per (namespace, key) in ``memory_entries``:

* v3 (claude-flow 3.x): ``content`` text, ``created_at`` / ``updated_at`` /
  ``expires_at`` in epoch milliseconds, ``status`` (a deleted entry is kept
  as ``deleted``), plus embeddings and tags;
* v2 (claude-flow 2.x, ``SqliteMemoryStore``): ``value`` text (large ones as
  ``__compressed__<base64>``), times in epoch seconds, ``ttl`` seconds.

A key becomes ``<namespace>/<key>`` (the ``namespace`` argument's rule), so
keys of claude-flow's ``default`` namespace are taken as they are: what
``memory_usage`` or ``memory_store`` without a namespace (or with ``default``)
writes. A value is decoded as JSON when it
is JSON (claude-flow stores JSON as text and parses it on read), else kept as
the string. The database is opened read-only.
"""

from __future__ import annotations

import base64
import binascii
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import ImportFormatError, LifecycleError
from ..keys import DEFAULT_NAMESPACE, full_key
from ..manager import MemoryLifecycleManager
from .apply import Candidate, ImportReport, apply

MILLISECONDS_ABOVE = 1e11  # an epoch time this large is in milliseconds
COMPRESSED = "__compressed__"  # claude-flow 2.x: base64 of the serialized text


def import_database(manager: MemoryLifecycleManager, path: str | Path) -> ImportReport:
    report = ImportReport(source=str(path), kind="claude-flow")
    with _open(Path(path)) as conn:
        columns = _columns(conn, Path(path))
        apply(manager, _candidates(conn, columns, report), report)
    return report


class _open:
    """A read-only connection that is closed afterwards (sqlite3's own context manager
    only commits)."""

    def __init__(self, path: Path) -> None:
        if not path.is_file():
            raise ImportFormatError(
                f"{path}: no such file; name claude-flow's database, e.g. .swarm/memory.db",
                path=str(path),
            )
        try:
            self.conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
            self.conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.DatabaseError as exc:
            raise ImportFormatError(
                f"{path}: not a SQLite database ({exc}); name claude-flow's .swarm/memory.db",
                path=str(path),
            ) from exc

    def __enter__(self) -> sqlite3.Connection:
        return self.conn

    def __exit__(self, *exc: object) -> None:
        self.conn.close()


def _columns(conn: sqlite3.Connection, path: Path) -> set[str]:
    columns = {row[1] for row in conn.execute("PRAGMA table_info(memory_entries)")}
    if not columns:
        raise ImportFormatError(
            f"{path}: no memory_entries table; this is not claude-flow's memory database "
            "(.swarm/memory.db)",
            path=str(path),
        )
    if not {"key", "namespace"} <= columns or not columns & {"content", "value"}:
        raise ImportFormatError(
            f"{path}: memory_entries has columns {sorted(columns)}, not claude-flow's v2 or v3 "
            "schema (key, namespace, value or content)",
            path=str(path),
        )
    return columns


def _candidates(
    conn: sqlite3.Connection, columns: set[str], report: ImportReport
) -> Iterator[Candidate]:
    text = "content" if "content" in columns else "value"
    wanted = ["key", "namespace", text, "created_at", "updated_at", "expires_at", "ttl", "status"]
    select = ", ".join(c if c in columns else "NULL" for c in wanted)
    report.notes.append(f"schema: claude-flow {'v3' if text == 'content' else 'v2'}")
    rows = conn.execute(f"SELECT {select} FROM memory_entries ORDER BY namespace, key")
    for key, namespace, raw, created, updated, expires, ttl, status in rows:
        if status == "deleted":
            report.found += 1
            report.skipped_deleted += 1
            continue
        where = f"{namespace or DEFAULT_NAMESPACE}/{key}"
        try:
            full = full_key(key, str(namespace) if namespace else None)
        except LifecycleError as exc:
            report.found += 1
            report.reject(where, str(exc))
            continue
        timestamp = _seconds(updated) or _seconds(created)
        if timestamp is None:
            report.found += 1
            report.reject(full, "no created_at or updated_at time")
            continue
        expires_at = _seconds(expires)
        if expires_at is None and _seconds(ttl):
            expires_at = timestamp + float(ttl)
        yield Candidate(full, decode(raw), timestamp, expires_at, origin=where)


def _seconds(value: Any) -> float | None:
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return None
    if not isinstance(value, (int, float)) or isinstance(value, bool) or value <= 0:
        return None
    return value / 1000.0 if value > MILLISECONDS_ABOVE else float(value)


def decode(raw: Any) -> Any:
    """claude-flow's stored text as the value it reads back: JSON when it parses.

    claude-flow 2.x may store ``__compressed__<base64>`` and marks what JSON cannot say
    (``{"__type__": "__Date__", "value": ...}``, ``__undefined__``, ``__Map__``, ...);
    those become plain JSON (a date its ISO text, undefined left out, a Map an object).
    """
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", errors="replace")
    if not isinstance(raw, str):
        return raw
    if raw.startswith(COMPRESSED):
        try:
            raw = base64.b64decode(raw[len(COMPRESSED) :], validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return raw
    try:
        return revive(json.loads(raw, parse_constant=_no_constant))
    except ValueError:
        return raw


def revive(value: Any) -> Any:
    """claude-flow 2.x's typed markers as plain JSON values."""
    if isinstance(value, list):
        return [None if v is _UNDEFINED else v for v in map(revive, value)]
    if not isinstance(value, dict):
        return value
    kind = value.get("__type__")
    if isinstance(kind, str) and kind in _REVIVERS:
        return _REVIVERS[kind](value)
    revived = {k: revive(v) for k, v in value.items()}
    return {k: v for k, v in revived.items() if v is not _UNDEFINED}


def _map(value: dict[str, Any]) -> Any:
    pairs = [[revive(k), revive(v)] for k, v in value.get("entries") or []]
    if all(isinstance(k, str) for k, _ in pairs):
        return {k: v for k, v in pairs}
    return pairs


_UNDEFINED = object()
_REVIVERS: dict[str, Any] = {
    "__undefined__": lambda v: _UNDEFINED,
    "__Date__": lambda v: v.get("value"),
    "__NaN__": lambda v: None,
    "__Infinity__": lambda v: None,
    "__-Infinity__": lambda v: None,
    "__Map__": _map,
    "__Set__": lambda v: revive(v.get("values") or []),
    "__RegExp__": lambda v: f"/{v.get('source', '')}/{v.get('flags', '')}",
    "__BigInt__": lambda v: v.get("value"),
    "__Error__": lambda v: {"name": v.get("name"), "message": v.get("message")},
    "__ArrayBuffer__": lambda v: v.get("data"),
    "__TypedArray__": lambda v: v.get("data"),
    "__Function__": lambda v: v.get("name"),
}


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")  # NaN, Infinity: keep the text
