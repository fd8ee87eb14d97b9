"""The entries list in natural key order (``task6`` before ``task12``), page by page.

The store lists keys in text order, which puts ``task12`` before ``task6``: fine for a
cursor, wrong for a person reading the list. So a list page reads one window of up to
``WINDOW`` entries under the filters (one engine call, like every endpoint), sorts it
naturally and serves the page after the cursor's key. The cursor is ``~`` and the last
key shown, so an entry added or removed between two pages shifts nothing.

Beyond ``WINDOW`` entries under the filters a natural order would need every key, so the
page falls back to the store's own text order and cursor and says so (``order:
"text"``); a prefix or a tag that narrows the list brings the natural order back.
"""

from __future__ import annotations

import re
from typing import Any

from lifecycle import InvalidValueError, MemoryLifecycleManager
from lifecycle.basics.arguments import decode_cursor, encode_cursor
from lifecycle.errors import clip
from lifecycle.reads import MAX_LIST_LIMIT

WINDOW = MAX_LIST_LIMIT
NATURAL = "~"  # starts a natural-order cursor (never a character of the store's cursors)

_DIGITS = re.compile(r"(\d+)")


def natural_key(text: str) -> tuple[Any, ...]:
    """Sort key: runs of digits compare as numbers (``task6`` < ``task12``), the rest
    as text; ties (``task06`` and ``task6``) are settled by the text itself."""
    parts = _DIGITS.split(text)  # text at even positions, digits at odd ones
    runs = tuple(int(p) if i % 2 else p for i, p in enumerate(parts))
    return (runs, text)


def list_page(
    manager: MemoryLifecycleManager,
    prefix: str,
    tags: list[str] | None,
    limit: int,
    cursor: str | None,
) -> dict[str, Any]:
    """``entries``, ``next_cursor`` and ``order`` ("natural" or "text") of one page;
    one engine call, two when the list outgrew the window past a natural cursor (run it
    in a worker thread)."""
    if isinstance(limit, bool) or not 1 <= limit <= MAX_LIST_LIMIT:
        raise InvalidValueError(f"invalid limit {clip(limit)}: use 1-{MAX_LIST_LIMIT}")
    if cursor and not cursor.startswith(NATURAL):  # a text-order page continues as one
        return {**manager.list(prefix, limit, cursor, tags), "order": "text"}
    after = _after(cursor)
    window = manager.list(prefix, WINDOW, None, tags)
    rows: list[dict[str, Any]] = window["entries"]
    if window["next_cursor"] is not None:
        if after is not None and after >= rows[-1]["key"]:
            # the list outgrew the window since the natural page before, past this one:
            # go on after the cursor's key in the store's order (the window ends before it)
            return {**manager.list(prefix, limit, encode_cursor(after), tags), "order": "text"}
        return _text_page(rows, after, limit)
    rows.sort(key=lambda row: natural_key(row["key"]))
    if after is not None:
        start = natural_key(after)
        rows = [row for row in rows if natural_key(row["key"]) > start]
    page = rows[:limit]
    more = len(rows) > limit
    return {
        "entries": page,
        "next_cursor": NATURAL + encode_cursor(page[-1]["key"]) if more else None,
        "order": "natural",
    }


def _text_page(rows: list[dict[str, Any]], after: str | None, limit: int) -> dict[str, Any]:
    """Too many entries to sort: the window's first page in text order, with the
    store's cursor (after a natural cursor: the keys after it in text order)."""
    following = [row for row in rows if after is None or row["key"] > after]
    page = following[:limit]
    last = page[-1] if page else rows[-1]  # more follow the window in any case
    return {"entries": page, "next_cursor": encode_cursor(last["key"]), "order": "text"}


def _after(cursor: str | None) -> str | None:
    if not cursor:
        return None
    try:
        return decode_cursor(cursor[len(NATURAL) :])
    except InvalidValueError:
        raise InvalidValueError(
            f"invalid cursor {clip(cursor)}: pass the next_cursor of the previous page unchanged"
        ) from None


__all__ = ["NATURAL", "WINDOW", "list_page", "natural_key"]
