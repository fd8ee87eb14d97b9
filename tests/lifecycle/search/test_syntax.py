"""The search syntax: what a query parses to, as tokens (nothing of it reaches a database
as syntax; the contract suite checks what the backends make of it)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lifecycle import InvalidQueryError
from lifecycle.search.syntax import fingerprint, match_words, parse
from lifecycle.store.text_index import Query, Term


def terms(query: str) -> list[tuple[tuple[str, ...], bool]]:
    return [(t.tokens, t.prefix) for t in parse(query).terms]


def test_words_phrases_and_prefixes_parse_to_tokens() -> None:
    assert terms('Auth "use JWT tokens" deploy* auth-service') == [
        (("auth",), False),
        (("use", "jwt", "tokens"), False),
        (("deploy",), True),
        (("auth", "service"), False),
    ]
    assert terms('"jwt tok"*') == [(("jwt", "tok"), True)]
    assert terms("Straße CAFÉ") == [(("strasse",), False), (("cafe",), False)]
    assert terms("東京 db") == [(("東", "京"), False), (("db",), False)]


def test_punctuation_and_operator_characters_are_only_separators() -> None:
    assert terms("a:b (c) ^d {e} f; g|h & i") == [
        (("a", "b"), False),
        (("c",), False),
        (("d",), False),
        (("e",), False),
        (("f",), False),
        (("g", "h"), False),
        (("i",), False),
    ]


@given(st.text(max_size=200))
def test_any_text_parses_or_is_refused_with_an_invalid_query_error(text: str) -> None:
    try:
        query = parse(text)
    except InvalidQueryError as exc:
        assert str(exc).startswith("invalid query: ")
        return
    for term in query.terms:
        assert term.tokens
        # letters and digits (or a CJK code point newer than this Python's Unicode tables)
        assert all(c.isalnum() or ord(c) >= 0x3040 for t in term.tokens for c in t)


def test_a_fingerprint_names_the_query_and_its_filters() -> None:
    q = parse("auth token")
    assert fingerprint(q, "", ()) == fingerprint(parse("AUTH  token"), "", ())
    assert fingerprint(q, "", ()) != fingerprint(q, "a/", ())
    assert fingerprint(q, "", ()) != fingerprint(q, "", ("x",))
    assert fingerprint(q, "", ()) != fingerprint(parse('"auth token"'), "", ())


def test_match_words_are_the_exact_tokens_and_the_prefixes() -> None:
    query = Query((Term(("use", "jwt")), Term(("depl",), prefix=True), Term(("a", "b"), True)))
    assert match_words(query) == ({"use", "jwt", "a"}, ("depl", "b"))


@pytest.mark.parametrize("value", [None, 3, ["auth"], b"auth"])
def test_a_query_that_is_not_a_string_is_refused(value: object) -> None:
    with pytest.raises(InvalidQueryError, match="not a string"):
        parse(value)


@pytest.mark.parametrize(
    "query",
    ["NEAR(auth token)", "auth NEAR/3 token", "NEAR/3(auth token)", "NEAR/ auth", "x NEAR("],
)
def test_proximity_syntax_is_refused_saying_what_to_write(query: str) -> None:
    with pytest.raises(InvalidQueryError) as refused:
        parse(query)
    message = str(refused.value)
    assert "proximity search (NEAR(a b), NEAR/N) is not supported" in message
    assert "as a phrase" in message


@pytest.mark.parametrize("query", ["near(auth token)", "nearby/3 auth", "NEARBY auth", "NEAR3"])
def test_words_that_only_look_like_near_are_searched(query: str) -> None:
    assert parse(query).terms


@pytest.mark.parametrize(
    ("query", "shown"),
    [("auth \ud800", "'\\ud800' at position 5"), ("\udcff", "'\\udcff' at position 0")],
)
def test_a_lone_surrogate_is_refused_by_name(query: str, shown: str) -> None:
    with pytest.raises(InvalidQueryError) as refused:
        parse(query)
    assert f"lone surrogate {shown} is not valid Unicode" in str(refused.value)
    str(refused.value).encode("utf-8")  # the message itself is printable anywhere
