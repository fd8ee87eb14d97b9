"""claude-flow's memory database (``.swarm/memory.db``), v2 and v3 schemas.

Both keep one row per (namespace, key) in ``memory_entries``:

* v3 (claude-flow 3.x): ``content`` text, ``created_at`` / ``updated_at`` /
  ``expires_at`` in epoch milliseconds, ``status`` (a deleted entry is kept
  as ``deleted``), ``tags`` (a JSON array), ``provenance_type`` (3.4x), plus
  embeddings;
* v2 (claude-flow 2.x, ``SqliteMemoryStore``): ``value`` text (large ones as
  ``__compressed__<base64>``), times in epoch seconds, ``ttl`` seconds, tags (if
  any) in the ``metadata`` JSON.

Tags and provenance come along: tags that break our tag rules (over 64
characters, more than 16) are left out and counted in the report's notes.

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

from lifecycle.basics.keys import DEFAULT_NAMESPACE, full_key
from lifecycle.entries.provenance import check_provenance
from lifecycle.entries.tags import MAX_TAGS, check_tags
from lifecycle.errors import ImportFormatError, InvalidValueError, LifecycleError
from lifecycle.importers.apply import Candidate, ImportReport, apply
from lifecycle.manager import MemoryLifecycleManager

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
    wanted = [
        "key",
        "namespace",
        text,
        "created_at",
        "updated_at",
        "expires_at",
        "ttl",
        "status",
        "tags",
        "metadata",
        "provenance_type",
    ]
    select = ", ".join(c if c in columns else "NULL" for c in wanted)
    report.notes.append(f"schema: claude-flow {'v3' if text == 'content' else 'v2'}")
    dropped = 0
    rows = conn.execute(f"SELECT {select} FROM memory_entries ORDER BY namespace, key")
    for key, namespace, raw, created, updated, expires, ttl, status, *labels in rows:
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
        tags, left_out = _tags(labels[0], labels[1])
        dropped += left_out
        yield Candidate(
            full,
            decode(raw),
            timestamp,
            expires_at,
            origin=where,
            tags=tags,
            provenance=_provenance(labels[2]),
        )
    if dropped:
        report.notes.append(
            f"{dropped} tags left out: over {MAX_TAGS} on an entry, or not 1-64 characters"
        )


def _tags(column: Any, metadata: Any) -> tuple[tuple[str, ...] | None, int]:
    """An entry's tags (v3: the ``tags`` column, a JSON array; v2: ``metadata.tags``)
    that follow our tag rules, and how many were left out; ``None`` when it has none."""
    given = _json(column)
    if given is None:
        meta = _json(metadata)
        given = meta.get("tags") if isinstance(meta, dict) else None
    if isinstance(given, str):
        given = given.split(",")
    if not isinstance(given, list) or not given:
        return None, 0
    kept: list[str] = []
    left_out = 0
    for tag in given:
        tag = tag.strip() if isinstance(tag, str) else tag
        if tag in kept:
            continue
        try:
            check_tags([tag])
        except InvalidValueError:
            left_out += 1
            continue
        if len(kept) == MAX_TAGS:
            left_out += 1
            continue
        kept.append(tag)
    return (tuple(sorted(kept)) if kept else None), left_out


def _provenance(column: Any) -> str | None:
    """claude-flow 3's ``provenance_type``, when it is a label we can keep."""
    try:
        return check_provenance(column) if isinstance(column, str) else None
    except InvalidValueError:
        return None


def _json(text: Any) -> Any:
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    if not isinstance(text, str) or not text.strip():
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


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
