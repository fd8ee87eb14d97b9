"""The original file-per-key layout (``--from seed``): ``<DIR>/*.json`` plus ``<DIR>/../memory.db``.

The design this project started from kept each key in ``DIR/<key with '/' and
':' as '_'>.json``::

    {"key": "coordination/agent1/progress", "value": ..., "timestamp": 1700000000.0,
     "namespace": "coordination/agent1", "compressed": false, "version": 1,
     "conflicted": false, "conflict_values": [[value, timestamp], ...]}

A compressed value is the base64 text of the gzipped JSON. Older conflict
values may themselves be such text without a flag (the seed stored the old
value as it was), so they are decoded when they are exactly that. The
metadata database ``memory.db`` (table ``memory_metadata``) sits in DIR's
parent; the files are the data, the table only tells which files are missing.
The seed kept no per-entry TTL: the key's policy decides, from its timestamp.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import json
import sqlite3
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from lifecycle.errors import ImportFormatError
from lifecycle.importers.apply import Candidate, ImportReport, apply
from lifecycle.manager import MemoryLifecycleManager

METADATA_DB = "memory.db"
GZIP_MAGIC = b"\x1f\x8b"


def import_directory(manager: MemoryLifecycleManager, directory: str | Path) -> ImportReport:
    root = Path(directory)
    if not root.is_dir():
        raise ImportFormatError(
            f"{root}: not a directory; name the seed's memory directory, e.g. "
            ".claude-flow/memory (its memory.db sits in the parent)",
            path=str(root),
        )
    report = ImportReport(source=str(root), kind="seed")
    files = sorted(root.glob("*.json"))
    missing = _missing_files(root, {f.name for f in files})
    if missing:
        report.notes.append(
            f"{missing} entries listed in {root.parent / METADATA_DB} have no file in {root}"
        )
    apply(manager, _candidates(files, report), report)
    return report


def _missing_files(root: Path, present: set[str]) -> int:
    db = root.parent / METADATA_DB
    if not db.is_file():
        return 0
    try:
        conn = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)
        try:
            rows = conn.execute("SELECT file_path FROM memory_metadata").fetchall()
        finally:
            conn.close()
    except sqlite3.DatabaseError:
        return 0  # not the seed's metadata (perhaps our own store): the files decide
    return sum(Path(str(path)).name not in present for (path,) in rows)


def _candidates(files: list[Path], report: ImportReport) -> Iterator[Candidate]:
    for file in files:
        try:
            yield _read(file)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            report.found += 1
            report.reject(file.name, f"{file}: {exc}; not a seed memory file")


def _read(file: Path) -> Candidate:
    data = json.loads(file.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not isinstance(data.get("key"), str):
        raise ValueError("no 'key'")
    timestamp = data["timestamp"]
    if isinstance(timestamp, bool) or not isinstance(timestamp, (int, float)):
        raise ValueError(f"timestamp {timestamp!r} is not a number")
    value = decompress(data.get("value")) if data.get("compressed") else data.get("value")
    siblings = tuple(
        (_maybe_compressed(v), float(ts))
        for v, ts in data.get("conflict_values") or ()
        if isinstance(ts, (int, float)) and not isinstance(ts, bool)
    )
    return Candidate(data["key"], value, float(timestamp), siblings=siblings, origin=file.name)


def decompress(text: Any) -> Any:
    """The seed's compressed value: base64 text of gzipped JSON."""
    if not isinstance(text, str):
        raise ValueError("compressed value is not base64 text")
    try:
        raw = gzip.decompress(base64.b64decode(text.encode("ascii"), validate=True))
        return json.loads(raw.decode("utf-8"))
    except (binascii.Error, OSError, EOFError, zlib.error, UnicodeError) as exc:
        raise ValueError(f"compressed value does not decode: {exc}") from exc


def _maybe_compressed(value: Any) -> Any:
    if isinstance(value, str) and len(value) >= 16:
        try:
            if base64.b64decode(value[:8].encode("ascii"), validate=True)[:2] == GZIP_MAGIC:
                return decompress(value)
        except (ValueError, UnicodeError):
            pass
    return value
