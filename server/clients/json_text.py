"""Adding to a JSON (or JSONC) file the way a person would: only the added lines change.

A client's configuration file is the user's: hand-formatted, often with objects
kept on one line, sometimes with comments (VS Code, Gemini CLI and opencode read
JSON with comments). Parsing it and dumping it back would reformat all of it, so
an addition is made in the text instead: the new member goes first in its
object or list, on lines of its own, indented like its neighbours and laid out
like them (on one line where they are on one line). Every existing line, and so
every byte of what others wrote, stays as it was.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from json import decoder
from pathlib import Path
from typing import Any

from lifecycle.errors import ConfigurationError

scanstring = decoder.scanstring  # type: ignore[attr-defined]  # public, untyped
_LITERAL = re.compile(r"[^\s,:\]\}]+")
_DEFAULT_UNIT = "  "


@dataclass(frozen=True)
class Dialect:
    """What a client accepts beyond strict JSON."""

    comments: bool = False  # // and /* */
    trailing_commas: bool = False


STRICT = Dialect()
JSONC = Dialect(comments=True, trailing_commas=True)  # VS Code, opencode
COMMENTS = Dialect(comments=True)  # Gemini CLI strips comments, then JSON.parse


@dataclass
class _Node:
    """Where one value sits in the text: [start, end), and its members in order."""

    start: int
    end: int
    kind: str  # "object", "array" or "scalar"
    members: list[tuple[str | None, int, _Node]] = field(default_factory=list)
    # (key or None in an array, where the member starts, its value)


def parse(text: str, path: Path, dialect: Dialect = STRICT) -> Any:
    """The file's value; an empty file is an empty object. Refuses what the client refuses."""
    if not text.strip():
        return {}
    try:
        return json.loads(_clean(text, dialect))
    except json.JSONDecodeError as exc:
        problem = f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        raise invalid(path, problem) from None
    except RecursionError:
        raise invalid(path, "nested too deeply to read") from None


def new_file(doc: Any) -> str:
    """A file init creates: 2-space JSON, short lists on one line."""
    return _expanded(doc, "", _Style(_DEFAULT_UNIT, "\n", ": ", ", ")) + "\n"


def insert(text: str, at: tuple[str, ...], key: str | None, value: Any, dialect: Dialect) -> str:
    """``text`` with ``value`` added to the object (under ``key``) or list at ``at``.

    The container must exist (the caller adds a missing one one level up). The
    result is checked to read back as the intended value, so a layout this
    function does not foresee can never corrupt a file.
    """
    if not text.strip():
        return new_file({key: value} if key is not None else [value])
    clean = _clean(text, dialect)
    root = _node(clean, _skip_ws(clean, 0))
    target = root
    for step in at:
        target = next(n for k, _, n in reversed(target.members) if k == step)
    style = _Style.of(text, clean, root)
    added = _insertion(text, clean, root, target, key, value, style)
    expected = json.loads(_clean(text, dialect))
    holder = expected
    for step in at:
        holder = holder[step]
    if key is None:
        holder.insert(0, value)
    else:
        holder[key] = value
    if json.loads(_clean(added, dialect)) != expected:  # pragma: no cover - a bug, not input
        raise AssertionError("an insertion changed the meaning of the file")
    return added


@dataclass(frozen=True)
class _Style:
    unit: str  # one level of indentation
    newline: str
    colon: str  # ": " or ":"
    comma: str  # ", " or "," between members on one line

    @classmethod
    def of(cls, text: str, clean: str, root: _Node) -> _Style:
        newline = "\r\n" if "\r\n" in text else "\n"
        unit = _DEFAULT_UNIT
        if root.members:
            first = root.members[0][1]
            line_start = clean.rfind("\n", 0, first) + 1
            lead = clean[line_start:first]
            if line_start > root.start and lead and not lead.strip():
                unit = lead
        colon = ": " if re.search(r'"\s*: ', clean) or not re.search(r'"\s*:\S', clean) else ":"
        comma = ", " if re.search(r",[ \t]", clean) or not re.search(r",\S", clean) else ","
        return cls(unit, newline, colon, comma)


def _insertion(
    text: str, clean: str, root: _Node, target: _Node, key: str | None, value: Any, st: _Style
) -> str:
    head = "" if key is None else json.dumps(key, ensure_ascii=False) + st.colon
    compact = json.dumps(value, ensure_ascii=False, separators=(st.comma, st.colon))
    opening, closing = target.start + 1, target.end - 1
    if "\n" not in clean[root.start : root.end]:  # a one-line file stays on one line
        gap = "" if not target.members else st.comma
        return text[:opening] + head + compact + gap + text[opening:]
    if not target.members:
        indent = _line_indent(text, target.start)
        comment = text[opening:closing].rstrip() if text[opening:closing].strip() else ""
        body = _expanded(value, indent + st.unit, st)
        inner = st.newline + indent + st.unit + head + body + comment + st.newline + indent
        return text[:opening] + inner + text[closing:]
    first = target.members[0][1]
    newline_at = clean.find("\n", opening, first)
    if newline_at == -1:  # the first member shares the opening line: stay on that line
        return text[:opening] + head + compact + st.comma + text[opening:]
    indent = text[clean.rfind("\n", 0, first) + 1 : first]
    if indent.strip():  # something else before the first member on its line
        indent = _line_indent(text, first)
    depths = [_one_line_depth(clean, n) for _, _, n in target.members if n.kind != "scalar"]
    body = _expanded(value, indent, st, min((d for d in depths if d is not None), default=None))
    where = newline_at + 1
    return text[:where] + indent + head + body + "," + st.newline + text[where:]


def _one_line_depth(clean: str, node: _Node) -> int | None:
    """How deep in ``node`` values sit on one line (0: all of it), None if nowhere."""
    if "\n" not in clean[node.start : node.end]:
        return 0
    inner = [_one_line_depth(clean, n) for _, _, n in node.members if n.kind != "scalar"]
    found = [d for d in inner if d is not None]
    return 1 + min(found) if found else None


def _expanded(value: Any, indent: str, st: _Style, one_line_at: int | None = None) -> str:
    """``value`` laid out as a person writes it: from depth ``one_line_at`` on (as its
    neighbours are), and always for a list of plain values (``"args": ["serve"]``) or an
    empty container, on one line; above it one member a line."""
    inline = json.dumps(value, ensure_ascii=False, separators=(st.comma, st.colon))
    plain = not isinstance(value, (dict, list)) or not value
    if plain or one_line_at == 0:
        return inline
    if isinstance(value, list) and not any(isinstance(v, (dict, list)) for v in value):
        return inline
    deeper = None if one_line_at is None else one_line_at - 1
    inner = indent + st.unit
    if isinstance(value, dict):
        items = [
            json.dumps(k, ensure_ascii=False) + st.colon + _expanded(v, inner, st, deeper)
            for k, v in value.items()
        ]
        opening, closing = "{", "}"
    else:
        items = [_expanded(v, inner, st, deeper) for v in value]
        opening, closing = "[", "]"
    lines = ("," + st.newline).join(inner + item for item in items)
    return opening + st.newline + lines + st.newline + indent + closing


def _line_indent(text: str, at: int) -> str:
    line_start = text.rfind("\n", 0, at) + 1
    line = text[line_start:at]
    return line[: len(line) - len(line.lstrip(" \t"))]


def _clean(text: str, dialect: Dialect) -> str:
    """``text`` with comments and trailing commas blanked out, every offset kept."""
    if not (dialect.comments or dialect.trailing_commas):
        return text
    out = list(text)
    i, n = 0, len(text)
    commas: list[int] = []
    while i < n:
        c = text[i]
        if c == '"':
            i += 1
            while i < n and text[i] != '"':
                i += 2 if text[i] == "\\" else 1
            i += 1
            continue
        if dialect.comments and text.startswith("//", i):
            end = text.find("\n", i)
            end = n if end == -1 else end
            out[i:end] = " " * (end - i)
            i = end
            continue
        if dialect.comments and text.startswith("/*", i):
            end = text.find("*/", i + 2)
            end = n if end == -1 else end + 2
            out[i:end] = ["\n" if ch == "\n" else " " for ch in text[i:end]]
            i = end
            continue
        if c == ",":
            commas.append(i)
        i += 1
    if dialect.trailing_commas:
        blanked = "".join(out)
        for at in commas:
            following = blanked[at + 1 :].lstrip()
            if following[:1] in ("}", "]"):
                out[at] = " "
    return "".join(out)


def _skip_ws(clean: str, i: int) -> int:
    while i < len(clean) and clean[i] in " \t\r\n":
        i += 1
    return i


def _node(clean: str, i: int) -> _Node:
    """The value starting at ``i`` of a text ``json.loads`` already accepted."""
    c = clean[i]
    if c == '"':
        _, end = scanstring(clean, i + 1)
        return _Node(i, end, "scalar")
    if c not in "{[":
        match = _LITERAL.match(clean, i)
        assert match is not None
        return _Node(i, match.end(), "scalar")
    node = _Node(i, i, "object" if c == "{" else "array")
    close = "}" if c == "{" else "]"
    j = _skip_ws(clean, i + 1)
    while clean[j] != close:
        member_start = j
        key: str | None = None
        if node.kind == "object":
            key, j = scanstring(clean, j + 1)
            j = _skip_ws(clean, j)
            j = _skip_ws(clean, j + 1)  # the colon
        child = _node(clean, j)
        node.members.append((key, member_start, child))
        j = _skip_ws(clean, child.end)
        if clean[j] == ",":
            j = _skip_ws(clean, j + 1)
    node.end = j + 1
    return node


def invalid(path: Path, problem: str) -> ConfigurationError:
    return ConfigurationError(
        f"{path}: {problem}; fix it by hand and rerun init (nothing was changed)", path=str(path)
    )
