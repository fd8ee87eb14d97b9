"""What a backend indexes and what it searches for: tokens, never user text.

The engine tokenizes (``lifecycle.entries.searchable``) and parses queries
(``lifecycle.search.syntax``) in Python, once, for every backend; a backend only
renders these token lists into its own index format (an FTS5 row, a
``tsvector`` literal) and its own query language (an FTS5 expression, a
``tsquery`` literal). Every token is a run of lower-case letters and digits,
so no user text ever reaches a query parser: there is nothing to escape and
nothing a hostile query can break. Matching is therefore the same on SQLite
and PostgreSQL, whatever their tokenizers or locales would have done.
"""

from __future__ import annotations

from lifecycle.basics.dataclass_lite import FrozenRecord
from lifecycle.basics.typing_lite import NamedTuple

_set = object.__setattr__  # how a frozen record's __init__ sets its fields


class SearchDoc(NamedTuple):
    """An entry's indexed text: the tokens of its key's segments, and the tokens of every
    string of its value(s). Tokens are separated by spaces (any number), and in ``body``
    the strings by ``STRING_SEPARATOR``: a phrase never spans two strings. Text rather
    than tuples of tokens, because it is made on every write and most backends want
    text anyway; a NamedTuple because it is made on every write (a frozen dataclass
    costs ~1 µs more to construct)."""

    key: str
    body: str

    def strings(self) -> list[list[str]]:
        """The body's tokens, string by string."""
        return [part.split() for part in self.body.split(STRING_SEPARATOR)]


STRING_SEPARATOR = "\x1f"


class Term(FrozenRecord):
    """One ANDed term: a word (one token) or a phrase (several, adjacent, in order);
    ``prefix`` makes the last token match any token that starts with it."""

    __slots__ = ("prefix", "tokens")
    tokens: tuple[str, ...]
    prefix: bool

    def __init__(self, tokens: tuple[str, ...], prefix: bool = False) -> None:
        _set(self, "tokens", tokens)
        _set(self, "prefix", prefix)


class Query(FrozenRecord):
    __slots__ = ("terms",)
    terms: tuple[Term, ...]

    def __init__(self, terms: tuple[Term, ...]) -> None:
        _set(self, "terms", terms)


TAG_TOKEN_PREFIX = "t"


def tag_token(tag: str) -> str:
    """A tag as one index token (hex of its UTF-8, so any tag is one exact token)."""
    return TAG_TOKEN_PREFIX + tag.encode("utf-8").hex()
