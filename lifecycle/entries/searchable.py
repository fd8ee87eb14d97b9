"""Words: how entries and queries are cut into tokens, and how a snippet is cut out.

One tokenizer, in Python, for both backends and for queries, so matching never
depends on a database's tokenizer, locale or text-search configuration:

* text is case-folded and accents are removed (``Café`` and ``cafe`` match;
  ``Straße`` and ``strasse`` too), compatibility forms are unified (fullwidth
  letters are plain letters, ``²`` is ``2``);
* a token is a run of letters and digits; everything else separates tokens
  (``task_id``, ``task-id`` and ``task id`` are all ``task`` then ``id``);
* Chinese, Japanese and Korean characters are one token each, since those
  scripts do not put spaces between words: a query word written in them is
  searched as a phrase of its characters, which finds it inside longer text;
* tokens longer than ``MAX_TOKEN_CHARS`` (hashes of blobs, base64) are not
  indexed: nobody searches for them word by word.

Indexed: the key's segments, and every string of the value at any depth (the
values of objects and arrays, and object member names), for every sibling of
a multi-value key. Numbers, booleans and null are not text. A phrase matches
within one string (a member's name and its string value count as one), never
across two.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Sequence
from itertools import chain

from lifecycle.entries.crdt import View
from lifecycle.store.text_index import STRING_SEPARATOR, SearchDoc

TYPE_CHECKING = False  # typing's flag without importing typing
if TYPE_CHECKING:
    from typing import Any

MAX_TOKEN_CHARS = 128
_CJK = (
    "\u3040-\u30ff"  # hiragana, katakana
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"  # CJK ideographs
    "\uac00-\ud7af"  # hangul syllables
    "\U00020000-\U0002fa1f"  # CJK extensions
)


@functools.cache
def token_pattern() -> re.Pattern[str]:
    """Compiled on first use: hooks import the engine but never tokenize."""
    return re.compile(rf"[{_CJK}]|[^\W_{_CJK}]+")


def normalize(text: str) -> str:
    """Case-folded, accents removed, compatibility forms unified."""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return unicodedata.normalize("NFC", stripped)


def tokens(text: str) -> tuple[str, ...]:
    """The tokens of ``text``, in order."""
    return tuple(t for t in token_pattern().findall(normalize(text)) if len(t) <= MAX_TOKEN_CHARS)


def _collect(item: Any, out: list[str]) -> None:
    """Append every string in a JSON value to ``out``, depth first, member names included:
    a member whose value is a string is one text, ``"<name> <value>"``, so the phrase
    ``"status blocked"`` finds ``{"status": "blocked"}``. (Recursion depth is bounded by
    the JSON parser's own limit.)"""
    if type(item) is str:
        out.append(item)
    elif type(item) is dict:
        for name, member in item.items():
            if type(member) is str:
                out.append(f"{name} {member}")
            else:
                out.append(name)
                if isinstance(member, (dict, list)):
                    _collect(member, out)
    elif type(item) is list:
        for member in item:
            _collect(member, out)


def strings(value: Any) -> list[str]:
    """Every string in a JSON value, depth first, object member names included."""
    out: list[str] = []
    _collect(value, out)
    return out


def view_strings(seen: View) -> list[str]:
    """The strings of what a reader sees: the value, then every other sibling."""
    out: list[str] = []
    _collect(seen.value, out)
    for sibling in seen.conflicts:
        _collect(sibling.value, out)
    return out


# ASCII letters lower-cased, digits kept, every other ASCII character a space
_ASCII_TOKENS = str.maketrans(
    {
        chr(c): chr(c).lower() if chr(c).isalnum() else STRING_SEPARATOR if c == 0x1F else " "
        for c in range(128)
    }
)
# the same table for ASCII bytes: ``str.translate`` with a dict looks each character up
# in the dict (~70 instructions a character, a tenth of a bulk load's Python per entry);
# ``bytes.translate`` indexes a 256-byte table (ASCII text encodes and decodes by copying)
_ASCII_BYTES = bytes(ord(_ASCII_TOKENS[c]) if c < 128 else c for c in range(256))


_ASCII_TOO_LONG = rf"(?<![0-9a-z])[0-9a-z]{{{MAX_TOKEN_CHARS + 1},}}"  # re caches it


def token_text(texts: list[str]) -> str:
    """The tokens of ``texts``, space-separated, each text's apart from the next by
    ``STRING_SEPARATOR`` (which also separates phrases inside a text that holds it).

    Entries are indexed on every write, so this is the hot path: all-ASCII text (the
    common case) goes through one translation over the whole value (letters
    lower-cased, everything but letters and digits a space; a byte table), which gives
    the same tokens as ``tokens`` string by string."""
    joined = STRING_SEPARATOR.join(texts)
    if joined.isascii():
        out = joined.encode("ascii").translate(_ASCII_BYTES).decode("ascii")
        if (  # (no text is longer than the whole, and ``max`` is not asked for a default)
            len(joined) > MAX_TOKEN_CHARS
            and max(map(len, texts)) > MAX_TOKEN_CHARS
            and re.search(_ASCII_TOO_LONG, out)
        ):
            out = re.sub(_ASCII_TOO_LONG, "", out)
        return out
    return STRING_SEPARATOR.join(
        " ".join(tokens(part)) for text in texts for part in text.split(STRING_SEPARATOR)
    )


def document(key: str, seen: View) -> SearchDoc:
    """The indexed text of an entry."""
    if key.isascii() and len(key) <= MAX_TOKEN_CHARS:  # what token_text does, in one step
        key_text = key.encode("ascii").translate(_ASCII_BYTES).decode("ascii")
    else:
        key_text = token_text([key.replace("/", " ")])
    return SearchDoc(key=key_text, body=token_text(view_strings(seen)))


def value_document(key: str, value: Any) -> SearchDoc:
    """``document`` of an entry whose one value is ``value`` (no siblings): a new
    last-write-wins key, without building its view."""
    if key.isascii() and len(key) <= MAX_TOKEN_CHARS:
        key_text = key.encode("ascii").translate(_ASCII_BYTES).decode("ascii")
    else:
        key_text = token_text([key.replace("/", " ")])
    texts: list[str] = []
    _collect(value, texts)
    return SearchDoc(key_text, token_text(texts))


# the byte table for a batch's texts: the same, but NUL kept, as what separates them
_ASCII_ROWS = b"\0" + _ASCII_BYTES[1:]


def key_texts(keys: list[str]) -> list[str]:
    """The key half of ``value_document`` of each key (keys are valid: no control
    characters), for a batch in a few calls rather than a few per key: all-ASCII keys
    joined by NUL, translated by one table (NUL kept) and split again."""
    joined = "\0".join(keys)
    if not keys or not joined.isascii():
        return [value_document(key, None).key for key in keys]
    out = joined.encode("ascii").translate(_ASCII_ROWS).decode("ascii")
    if max(map(len, keys)) > MAX_TOKEN_CHARS:  # (NUL is not a token character)
        out = re.sub(_ASCII_TOO_LONG, "", out)
    return out.split("\0")


def value_bodies(values: Sequence[Any], separator: str = STRING_SEPARATOR) -> list[str]:
    """The body half of ``value_document`` of each value, for a batch, each string apart
    from the next by ``separator`` (``STRING_SEPARATOR``, or what a store renders it as):
    every value's strings collected, then all-ASCII text tokenized in one translation of
    the batch (values joined by NUL, which the table keeps; a batch whose strings hold a
    NUL or a non-ASCII character is tokenized value by value)."""
    texts: list[list[str]] = []
    append = texts.append
    collect = _collect
    for value in values:
        strings: list[str] = []
        collect(value, strings)
        append(strings)
    rows = list(map(STRING_SEPARATOR.join, texts))
    joined = "\0".join(rows)
    if not joined.isascii() or joined.count("\0") != len(texts) - 1:
        bodies = list(map(token_text, texts))
        if separator != STRING_SEPARATOR:
            bodies = [body.replace(STRING_SEPARATOR, separator) for body in bodies]
        return bodies
    out = joined.encode("ascii").translate(_ASCII_ROWS).decode("ascii")
    if separator != STRING_SEPARATOR:
        out = out.replace(STRING_SEPARATOR, separator)
    bodies = out.split("\0")
    # a token too long to index can only be in a string longer than a token may be: each
    # value that has one is searched for it, as ``token_text`` does
    if (
        len(joined) > MAX_TOKEN_CHARS
        and max(map(len, chain.from_iterable(texts)), default=0) > MAX_TOKEN_CHARS
    ):
        for i, (row, strings) in enumerate(zip(rows, texts, strict=True)):
            if (
                len(row) > MAX_TOKEN_CHARS
                and max(map(len, strings)) > MAX_TOKEN_CHARS
                and re.search(_ASCII_TOO_LONG, bodies[i])
            ):
                bodies[i] = re.sub(_ASCII_TOO_LONG, "", bodies[i])
    return bodies


# ------------------------------------------------------------------ snippets

SNIPPET_CHARS = 160
MARK = "**"


def snippet_texts(seen: View) -> list[str]:
    """The value as short lines of text for a snippet, each string with the name of the
    member that holds it (``decision: use JWT``); then every other sibling's."""
    out: list[str] = []
    _lines(None, seen.value, out)
    for sibling in seen.conflicts:
        _lines(None, sibling.value, out)
    return out


def _lines(name: str | None, item: Any, out: list[str]) -> None:
    """``snippet_texts`` of one value, depth first, in document order (a list per search
    result, built by recursion: a generator over an explicit stack cost twice as much)."""
    if type(item) is str:
        out.append(f"{name}: {item}" if name else item)
    elif isinstance(item, dict):
        for member, inner in item.items():
            _lines(member, inner, out)
    elif isinstance(item, list):
        for inner in item:
            _lines(name, inner, out)
    elif isinstance(item, str):
        out.append(f"{name}: {item}" if name else item)


def snippet(texts: Iterable[str], exact: set[str], prefixes: tuple[str, ...]) -> str:
    """About ``SNIPPET_CHARS`` of the first string that holds a query word, the words
    marked ``**like this**``; else the start of the first string."""
    first: str | None = None
    # (word, whole): a whole word, or a prefix (the rest of its token is marked too)
    wanted = [(w, True) for w in exact if w.isascii()]
    wanted += [(p, False) for p in prefixes if p.isascii()]
    for text in texts:
        if first is None and text.strip():
            first = text
        if text.isascii():
            spans = _ascii_spans(text.lower(), wanted) if wanted else []
        else:
            spans = [
                m.span()
                for m in re.finditer(r"[^\W_]+", text)
                if _matches(m.group(), exact, prefixes)
            ]
        if spans:
            return _window(text, spans)
    return _clip(" ".join((first or "").split()), SNIPPET_CHARS)


_WORD_CHARS = frozenset("0123456789abcdefghijklmnopqrstuvwxyz")


def _ascii_spans(low: str, wanted: list[tuple[str, bool]]) -> list[tuple[int, int]]:
    """What ``tokens`` would mark word by word in ASCII text: a word is a run of letters
    and digits (``_`` and the rest separate), case-insensitive, and one longer than
    ``MAX_TOKEN_CHARS`` is not a token. ``low`` is the text lower-cased (for ASCII
    text, every offset is kept). Found with ``str.find``: cutting every word out and
    tokenizing it was ~40% of a search, and compiling one regular expression per query
    (every query a new one) ~15% (issue 24)."""
    found: set[tuple[int, int]] = set()
    size = len(low)
    for word, whole in wanted:
        at = low.find(word)
        while at >= 0:
            end = at + len(word)
            if at == 0 or low[at - 1] not in _WORD_CHARS:
                if not whole:
                    while end < size and low[end] in _WORD_CHARS:
                        end += 1
                if (end == size or low[end] not in _WORD_CHARS) and end - at <= MAX_TOKEN_CHARS:
                    found.add((at, end))
            at = low.find(word, at + 1)
    return sorted(found)


def _matches(word: str, exact: set[str], prefixes: tuple[str, ...]) -> bool:
    return any(t in exact or t.startswith(prefixes) for t in tokens(word)) if word else False


def _window(text: str, spans: list[tuple[int, int]]) -> str:
    start = max(0, spans[0][0] - SNIPPET_CHARS // 3)
    if start:
        space = text.rfind(" ", 0, start + 1)
        start = space + 1 if space >= 0 and spans[0][0] - space < SNIPPET_CHARS // 2 else start
    end = min(len(text), start + SNIPPET_CHARS)
    if end < len(text):
        space = text.rfind(" ", spans[0][1], end)
        end = space if space > spans[0][1] else end
    out: list[str] = ["…" if start else ""]
    at = start
    for s, e in spans:
        if s < start or e > end:
            continue
        out += [text[at:s], MARK, text[s:e], MARK]
        at = e
    out += [text[at:end], "…" if end < len(text) else ""]
    return " ".join("".join(out).split())


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
