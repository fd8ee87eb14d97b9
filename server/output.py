"""How the ``memory-lifecycle`` command shows results: one JSON object, or a short summary.

``--output json`` is for programs (claude-flow hooks, scripts): exactly one
JSON object on stdout, nothing else. Text is for people: a line or a small
table, never the raw dict.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping

TYPE_CHECKING = False  # typing's flag without importing typing
if TYPE_CHECKING:
    from typing import Any, TextIO

OUTPUT_FORMATS = ("text", "json")


def dump_json(result: Mapping[str, Any], out: TextIO) -> None:
    out.write(json.dumps(result, sort_keys=True, default=str))
    out.write("\n")


def human_bytes(n: float | None) -> str:
    if n is None:
        return "-"
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{int(size)} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


def human_when(ts: float | None, now: float | None = None) -> str:
    """An absolute local time plus how far away it is: '2026-11-25 14:00 (in 35m)'."""
    if ts is None:
        return "-"
    now = time.time() if now is None else now
    try:
        stamp = time.strftime("%Y-%m-%d %H:%M", time.localtime(ts))
    except (OverflowError, OSError, ValueError):  # e.g. written before TTLs were bounded
        return f"{ts:.3g} (beyond any calendar)"
    delta = ts - now
    span = _span(abs(delta))
    return f"{stamp} ({'in ' + span if delta >= 0 else span + ' ago'})"


def _span(seconds: float) -> str:
    if seconds < 60:
        return f"{int(seconds)}s"
    if seconds < 3600:
        return f"{int(seconds // 60)}m"
    if seconds < 86400:
        return f"{seconds / 3600:.1f}h"
    return f"{seconds / 86400:.1f}d"


def _by_namespace(counts: Mapping[str, int]) -> str:
    if not counts:
        return ""
    return " (" + ", ".join(f"{name}: {n}" for name, n in sorted(counts.items())) + ")"


def _entries(n: int) -> str:
    return f"{n} {'entry' if n == 1 else 'entries'}"


def format_cleanup(report: Mapping[str, Any]) -> str:
    forced = " (forced: manual entries included)" if report.get("forced") else ""
    if report.get("dry_run"):
        keys = report.get("keys") or []
        shown = ": " + ", ".join(keys[:10]) + (", ..." if len(keys) > 10 else "") if keys else ""
        return (
            f"dry run: would delete {_entries(report['would_delete_count'])}"
            f"{_by_namespace(report.get('by_namespace', {}))}{forced}{shown}; nothing deleted"
        )
    return (
        f"deleted {_entries(report['deleted_count'])} in {report['duration_ms']:.1f} ms"
        f"{_by_namespace(report.get('by_namespace', {}))}{forced}"
    )


_STATS_COLUMNS = ("policy", "entries", "bytes", "stored", "compressed", "expired", "next expiry")


def format_stats(stats: Mapping[str, Any], now: float | None = None) -> str:
    """A table by policy pattern, then totals; expired = waiting for collection."""
    rows = [
        (
            p["pattern"],
            str(p["entries"]),
            human_bytes(p["total_bytes"]),
            human_bytes(p["stored_bytes"]),
            str(p["compressed"]),
            str(p["expired_pending"]),
            human_when(p["next_expiry"], now),
        )
        for p in stats.get("policies", [])
    ]
    rows.append(
        (
            "total",
            str(stats["total_entries"]),
            human_bytes(stats["total_bytes"]),
            human_bytes(stats["stored_bytes"]),
            str(stats["compressed_entries"]),
            str(stats["expired_pending"]),
            "",
        )
    )
    widths = [max(len(r[i]) for r in (_STATS_COLUMNS, *rows)) for i in range(len(_STATS_COLUMNS))]

    def line(cells: tuple[str, ...]) -> str:
        parts = [cells[0].ljust(widths[0])]
        parts += [c.rjust(w) for c, w in zip(cells[1:-1], widths[1:-1], strict=True)]
        parts.append(cells[-1])
        return "  ".join(parts).rstrip()

    head = [f"store: {stats.get('store', '?')}", f"policies: {stats.get('policy_source', '?')}"]
    if stats.get("read_only"):
        head.append(f"read-only: {stats['read_only']} (reads work, writes are refused)")
    table = [line(_STATS_COLUMNS), line(tuple("-" * w for w in widths)), *map(line, rows)]
    tail = []
    if stats.get("tombstones"):
        tail.append(f"tombstones (deletes kept for replicas): {stats['tombstones']}")
    if stats.get("db_size_bytes") is not None:
        tail.append(f"size on disk: {human_bytes(stats['db_size_bytes'])}")
    return "\n".join([*head, "", *table, *(["", *tail] if tail else [])])


def format_export(result: Mapping[str, Any]) -> str:
    return f"exported {_entries(result['exported'])} to {result['file']}"


def format_import(result: Mapping[str, Any]) -> str:
    return (
        f"imported {_entries(result['merged'])} from {result['file']}: "
        f"{result['created']} created, {result['updated']} updated, "
        f"{result['unchanged']} unchanged, {result['skipped_expired']} skipped as expired"
    )


def format_migration(report: Mapping[str, Any]) -> str:
    """``import --from claude-flow|seed``: what was found and what became of it."""
    skipped = f"{report['skipped_expired']} skipped as expired"
    if report["skipped_deleted"]:
        skipped += f", {report['skipped_deleted']} skipped as deleted"
    return (
        f"imported {report['from']} {report['source']}: {report['found']} found, "
        f"{report['imported']} imported, {report['unchanged']} unchanged, {skipped}, "
        f"{report['rejected']} refused" + "".join(f"\n{note}" for note in report["notes"])
    )
