"""The manual's pages (docs/*.md) as tests read them: a fenced example by its marker, and
the rows of a table, so that what a page tells users to run is what the tests run."""

from __future__ import annotations

import re

from tests.support.env import REPO

DOCS = REPO / "docs"


def page(name: str) -> str:
    return (DOCS / name).read_text()


def example(name: str, block: str) -> str:
    """The fenced block right after ``<!-- example:BLOCK -->`` in ``docs/NAME``."""
    match = re.search(
        rf"<!-- example:{re.escape(block)} -->\s*```[a-z]*\n(.*?)\n```", page(name), re.S
    )
    assert match, f"docs/{name} has no example {block!r}"
    return match.group(1)


def table_rows(text: str, first_header: str) -> list[list[str]]:
    """The cells of each row of the table whose first column is ``first_header``."""
    lines = text.splitlines()
    head = next(i for i, line in enumerate(lines) if line.startswith(f"| {first_header} |"))
    rows = []
    for line in lines[head + 2 :]:
        if not line.startswith("|"):
            break
        cells = re.split(r"(?<!\\)\|", line.strip())[1:-1]
        rows.append([c.strip() for c in cells])
    return rows
