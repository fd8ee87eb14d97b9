"""``search``, ``reindex`` and ``index``: search from a shell (by words or by meaning),
rebuilding the full-text index, and embedding what is pending for search by meaning."""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from collections.abc import Mapping
from typing import Any, TextIO

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
    search.add_argument(
        "--mode",
        choices=("keyword", "semantic", "hybrid"),
        help="keyword (words must match), semantic (by meaning) or hybrid (both fused); "
        "default: hybrid when an embedding model is available, else keyword",
    )
    search.add_argument(
        "--threshold",
        type=float,
        metavar="T",
        help="minimum similarity (0-1) of a semantic match (default 0)",
    )
    output_option(search)
    search.set_defaults(handler=cmd_search)

    reindex = sub.add_parser("reindex", help="rebuild the search index of every entry")
    output_option(reindex)
    reindex.set_defaults(handler=cmd_reindex)

    index = sub.add_parser(
        "index",
        help="embed the entries pending for search by meaning",
        description="Embeds every live entry without a current embedding now (a running "
        "server does this in the background). Needs the semantic extra and a model: see "
        "docs/semantic.md.",
    )
    index.add_argument("--limit", type=int, metavar="N", help="embed at most N entries")
    output_option(index)
    index.set_defaults(handler=cmd_index)


def cmd_search(args: argparse.Namespace) -> int:
    with open_existing(args) as manager:
        found = manager.search(
            args.query,
            args.prefix,
            args.tags,
            args.limit,
            args.cursor,
            args.namespace,
            mode=args.mode,
            threshold=args.threshold,
        )
    emit(args, found, lambda r: format_search(r, args.query))
    return 0


def cmd_index(args: argparse.Namespace) -> int:
    bar = ProgressBar(sys.stderr) if sys.stderr.isatty() else None
    with open_manager(args) as manager:
        report = manager.index(args.limit, bar.update if bar else None)
    if bar is not None:
        bar.close()
    emit(
        args,
        report,
        lambda r: (
            f"embedded {r['indexed']} entries in {r['duration_ms'] / 1000:.1f} s "
            f"({r['embedded']} with an embedding, {r['pending']} pending; model {r['model']})"
        ),
    )
    return 0


class ProgressBar:
    """One line on a terminal, redrawn at most ten times a second."""

    def __init__(self, stream: TextIO, width: int = 30) -> None:
        self._stream = stream
        self._width = width
        self._shown = 0.0
        self._drawn = False

    def update(self, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self._shown < 0.1 and done < total:
            return
        self._shown = now
        filled = self._width * done // total if total else self._width
        bar = "#" * filled + "-" * (self._width - filled)
        self._stream.write(f"\rembedding [{bar}] {done}/{total}")
        self._stream.flush()
        self._drawn = True

    def close(self) -> None:
        if self._drawn:
            self._stream.write("\n")
            self._stream.flush()


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
_BY_MEANING = ("semantic", "hybrid")


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
    if found.get("mode") in _BY_MEANING:
        count += f" ({found['mode']}"
        count += f"; {found['pending']} not embedded yet)" if found.get("pending") else ")"
    if found.get("next_cursor"):
        count += f"; next page: --cursor {found['next_cursor']}"
    return "\n".join([*table, "", count])
