"""``search`` and ``reindex``: full-text search from a shell, and rebuilding its index."""

from __future__ import annotations

import argparse
import shutil
from collections.abc import Mapping
from typing import Any

from .. import output
from .common import emit, open_existing, open_manager, output_option


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    search = sub.add_parser(
        "search",
        help="find entries by their words",
        description='Words must all match; "quoted phrases" and prefix* work; case and '
        "accents are ignored.",
    )
    search.add_argument("query", metavar="QUERY")
    search.add_argument("--prefix", default="", metavar="P", help="only keys starting with P")
    search.add_argument("--namespace", metavar="NS", help="only keys under NS/")
    search.add_argument(
        "--tag", action="append", dest="tags", metavar="T", help="only entries tagged T (repeat)"
    )
    search.add_argument("--limit", type=int, default=10, metavar="N", help="1-100 (default 10)")
    search.add_argument("--cursor", metavar="C", help="the next page, as printed by a search")
    output_option(search)
    search.set_defaults(handler=cmd_search)

    reindex = sub.add_parser("reindex", help="rebuild the search index of every entry")
    output_option(reindex)
    reindex.set_defaults(handler=cmd_reindex)


def cmd_search(args: argparse.Namespace) -> int:
    with open_existing(args) as manager:
        found = manager.search(
            args.query, args.prefix, args.tags, args.limit, args.cursor, args.namespace
        )
    emit(args, found, lambda r: format_search(r, args.query))
    return 0


def cmd_reindex(args: argparse.Namespace) -> int:
    with open_manager(args) as manager:
        report = manager.reindex()
    emit(
        args,
        report,
        lambda r: f"reindexed {r['indexed']} entries in {r['duration_ms']:.0f} ms",
    )
    return 0


_COLUMNS = ("score", "key", "tags", "updated", "snippet")


def format_search(found: Mapping[str, Any], query: str, width: int | None = None) -> str:
    """A table, best match first: score, key, tags, last write, snippet (cut to fit)."""
    results = found["results"]
    if not results:
        return f"no entries match {query!r}"
    rows = [
        (
            f"{r['score']:.3g}",
            r["key"],
            ",".join(r["tags"]) or "-",
            output.human_when(r["updated_at"]).split(" (")[0],
            " ".join(r["snippet"].split()),
        )
        for r in results
    ]
    widths = [max(len(row[i]) for row in (_COLUMNS, *rows)) for i in range(4)]
    total = width or shutil.get_terminal_size((120, 24)).columns
    room = max(30, total - sum(widths) - 2 * len(widths))

    def line(cells: tuple[str, ...]) -> str:
        padded = zip(cells[1:4], widths[1:], strict=True)
        fixed = [cells[0].rjust(widths[0]), *(c.ljust(w) for c, w in padded)]
        snippet = cells[4] if len(cells[4]) <= room else cells[4][: room - 1] + "…"
        return "  ".join([*fixed, snippet]).rstrip()

    rule = (*("-" * w for w in widths), "-" * min(room, 40))
    table = [line(_COLUMNS), line(rule), *map(line, rows)]
    count = f"{len(results)} {'match' if len(results) == 1 else 'matches'}"
    if found.get("next_cursor"):
        count += f"; next page: --cursor {found['next_cursor']}"
    return "\n".join([*table, "", count])
