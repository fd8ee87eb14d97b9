"""The search syntax, parsed in Python into tokens (``store.text_index.Query``).

    auth decision        both words (every term must match: AND)
    "use JWT tokens"     a phrase: these words, adjacent, in this order
    deploy*              a prefix: deploy, deployed, deployment, ...
    auth-service         one term of several words is a phrase (auth service)

Matching is case- and accent-insensitive (``lifecycle.entries.searchable``). Punctuation and
symbols separate words and are otherwise ignored, so a query can hold any
character without breaking anything: no part of it reaches a database query
parser as syntax. What other search syntaxes treat as operators is refused
with a message that says what to write instead (``AND``/``OR``/``NOT``/``NEAR``
in capitals, FTS5's proximity forms ``NEAR(a b)`` and ``NEAR/3``, ``-word``), because
silently searching for the word ``OR`` would answer a different question than the one
asked.
"""

from __future__ import annotations

import re

from lifecycle.basics.digests import sha1_hex
from lifecycle.entries.searchable import MAX_TOKEN_CHARS, normalize, token_pattern
from lifecycle.errors import InvalidQueryError
from lifecycle.store.text_index import Query, Term

MAX_QUERY_CHARS = 1000
MAX_QUERY_TOKENS = 64
_OPERATORS = ("AND", "OR", "NOT", "NEAR")
_SURROGATE = re.compile("[\ud800-\udfff]")
_PROXIMITY = re.compile(r"NEAR(/\d*)?(\(|$)")  # FTS5's NEAR(a b), NEAR/3, NEAR/3(a b)


def _shown(text: str, limit: int = 40) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "...")


def _fail(problem: str) -> InvalidQueryError:
    return InvalidQueryError(f"invalid query: {problem}")


def _raw_tokens(text: str) -> tuple[str, ...]:
    found = tuple(token_pattern().findall(normalize(text)))
    for token in found:
        if len(token) > MAX_TOKEN_CHARS:
            raise _fail(
                f"the word {_shown(token)} is longer than {MAX_TOKEN_CHARS} characters; "
                "words that long are not indexed, search for a shorter part of it with a '*'"
            )
    return found


def parse(query: object) -> Query:
    """Parse a user's query; raise ``InvalidQueryError`` saying what to fix."""
    if not isinstance(query, str):
        raise _fail(f"{_shown(str(query))} is not a string; pass the words to search for")
    if len(query) > MAX_QUERY_CHARS:
        raise _fail(
            f"{len(query)} characters, over the limit of {MAX_QUERY_CHARS}; "
            "search for a few distinctive words instead"
        )
    if not query.strip():
        raise _fail("it is empty; pass one or more words, e.g. 'auth decision'")
    surrogate = _SURROGATE.search(query)
    if surrogate:
        raise _fail(
            f"lone surrogate {surrogate.group()!r} at position {surrogate.start()} is not "
            "valid Unicode; send the query as valid UTF-8 text"
        )
    terms: list[Term] = []
    at = 0
    while at < len(query):
        if query[at].isspace():
            at += 1
        elif query[at] == '"':
            at = _phrase(query, at, terms)
        else:
            end = at
            while end < len(query) and not query[end].isspace() and query[end] != '"':
                end += 1
            _word(query[at:end], terms)
            at = end
    if not terms:
        raise _fail(
            f"{_shown(query)} has no words to search for; use letters or digits "
            "(punctuation and symbols are ignored)"
        )
    if sum(len(t.tokens) for t in terms) > MAX_QUERY_TOKENS:
        raise _fail(f"more than {MAX_QUERY_TOKENS} words; search for fewer, distinctive words")
    return Query(tuple(terms))


def _phrase(query: str, at: int, terms: list[Term]) -> int:
    close = query.find('"', at + 1)
    if close < 0:
        raise _fail(
            f"unterminated quote in {_shown(query[at:])}; close the phrase with '\"' "
            "or remove the quote"
        )
    prefix = close + 1 < len(query) and query[close + 1] == "*"
    found = _raw_tokens(query[at + 1 : close])
    if found:
        terms.append(Term(found, prefix))
    return close + 1 + (1 if prefix else 0)


def _word(chunk: str, terms: list[Term]) -> None:
    if chunk in _OPERATORS:
        raise _fail(
            f"{chunk!r} is not an operator here: every word must match (AND) already; "
            f"drop it, run one search per alternative, or write {chunk.lower()!r} "
            "to search for the word itself"
        )
    if chunk != "NEAR" and _PROXIMITY.match(chunk):
        raise _fail(
            f"{_shown(chunk)}: proximity search (NEAR(a b), NEAR/N) is not supported; every "
            "word must match already, anywhere in the entry: drop NEAR, or quote words that "
            "must be adjacent as a phrase, e.g. '\"auth token\"'"
        )
    if len(chunk) > 1 and chunk[0] == "-" and chunk[1] != "-" and _raw_tokens(chunk[1:]):
        raise _fail(
            f"excluding words ({_shown(chunk)}) is not supported; drop the '-' "
            "or the word, and filter with prefix or tags instead"
        )
    body = chunk.rstrip("*")
    prefix = body != chunk
    found = _raw_tokens(body)
    if prefix and not found:
        raise _fail(f"{_shown(chunk)}: '*' needs letters or digits before it, e.g. 'deploy*'")
    if found:
        terms.append(Term(found, prefix))


def fingerprint(query: Query, prefix: str, tags: tuple[str, ...]) -> str:
    """What a cursor belongs to: the parsed query and the filters."""
    parts = [repr((t.tokens, t.prefix)) for t in query.terms] + [prefix, *tags]
    return sha1_hex("\x1f".join(parts).encode("utf-8", "surrogatepass"))[:12]


def match_words(query: Query) -> tuple[set[str], tuple[str, ...]]:
    """The exact tokens and the prefixes a snippet marks."""
    exact: set[str] = set()
    prefixes: list[str] = []
    for term in query.terms:
        exact.update(term.tokens[:-1] if term.prefix else term.tokens)
        if term.prefix:
            prefixes.append(term.tokens[-1])
    return exact, tuple(prefixes)
