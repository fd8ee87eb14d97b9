"""Tokens and snippets: one tokenizer for entries and queries, and its fast path."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from lifecycle.entries.crdt import Sibling, View
from lifecycle.entries.searchable import (
    MAX_TOKEN_CHARS,
    document,
    key_texts,
    snippet,
    snippet_texts,
    strings,
    token_text,
    tokens,
    value_bodies,
    value_document,
)

texts = st.lists(st.text(max_size=300) | st.text(alphabet="aZ09 _-.\x1f", max_size=300))


@given(texts)
def test_the_fast_path_makes_the_same_tokens_as_tokenizing_each_string(values: list[str]) -> None:
    made = [part.split() for part in token_text(values).split("\x1f")]
    expected = [list(tokens(part)) for value in values for part in value.split("\x1f")]
    assert made == (expected or [[]])


def test_tokens_fold_case_accents_and_width_and_split_cjk() -> None:
    fullwidth = "\uff21\uff22\uff23"  # ABC in fullwidth forms
    assert tokens(f"Café {fullwidth} x²  task_id") == ("cafe", "abc", "x2", "task", "id")
    assert tokens("東京タワー 서울") == ("東", "京", "タ", "ワ", "ー", "서", "울")
    assert tokens("a" * MAX_TOKEN_CHARS + " " + "b" * (MAX_TOKEN_CHARS + 1)) == (
        "a" * MAX_TOKEN_CHARS,
    )


def test_a_document_holds_the_key_and_every_string_of_every_sibling() -> None:
    seen = View(True, {"a": ["x y", {"b": 1}]}, (Sibling({"c": "old text"}, "a", 1.0),))
    doc = document("team/Plan_v2", seen)
    assert doc.key.split() == ["team", "plan", "v2"]
    assert doc.strings() == [["a"], ["x", "y"], ["b"], ["c", "old", "text"]]
    assert strings({"k": "v", "n": [1, "w"]}) == ["k v", "n", "w"]


def test_a_snippet_marks_the_words_around_the_first_match() -> None:
    long = "lorem ipsum " * 30 + "the Auth decision was JWT " + "dolor sit " * 30
    cut = snippet([long], {"auth"}, ("decis",))
    assert "**Auth** **decision**" in cut
    assert cut.startswith("…") and cut.endswith("…")
    assert len(cut) < 200
    assert snippet(["no match here", "x"], {"zzz"}, ()) == "no match here"
    seen = View(True, {"decision": "use JWT", "tags": ["a"]})
    assert list(snippet_texts(seen)) == ["decision: use JWT", "tags: a"]


def _snippet_word_by_word(texts: list[str], exact: set[str], prefixes: tuple[str, ...]) -> str:
    """The snippet as it was made before the ASCII fast path: every word cut out and
    tokenized on its own (the reference the fast path must agree with)."""
    import re

    from lifecycle.entries import searchable

    first = None
    for text in texts:
        if first is None and text.strip():
            first = text
        spans = [
            m.span()
            for m in re.finditer(r"[^\W_]+", text)
            if any(t in exact or t.startswith(prefixes) for t in tokens(m.group()))
        ]
        if spans:
            return searchable._window(text, spans)
    return searchable._clip(" ".join((first or "").split()), searchable.SNIPPET_CHARS)


ascii_texts = st.lists(st.text(alphabet="abAB01 _-.é", max_size=200), max_size=4)
query_words = st.lists(st.text(alphabet="ab01é", min_size=1, max_size=3), max_size=3)


@given(ascii_texts, query_words, query_words)
def test_the_ascii_fast_path_marks_the_same_words_as_tokenizing_each_word(
    values: list[str], exact: list[str], prefixes: list[str]
) -> None:
    long_word = "ab" * MAX_TOKEN_CHARS  # a run longer than a token: never marked
    values = [*values, f"x {long_word} y"]
    assert snippet(values, set(exact), tuple(prefixes)) == _snippet_word_by_word(
        values, set(exact), tuple(prefixes)
    )


def test_the_ascii_byte_table_translates_as_the_character_table() -> None:
    """ASCII text is tokenized through a 256-byte table (``bytes.translate``); each of the
    128 ASCII characters comes out of it as out of the character table."""
    from lifecycle.entries.searchable import _ASCII_BYTES, _ASCII_TOKENS

    text = "".join(chr(c) for c in range(128))
    assert text.encode("ascii").translate(_ASCII_BYTES).decode("ascii") == text.translate(
        _ASCII_TOKENS
    )


_VALUE_TEXT = st.text(max_size=140) | st.text(alphabet="aZ09 _-.\x00\x1f", max_size=300)
_values = st.recursive(
    st.none() | st.integers() | _VALUE_TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_VALUE_TEXT, inner, max_size=3),
    max_leaves=8,
)


@given(
    st.lists(_values, max_size=6),
    st.sampled_from(["\x1f", " \u2063 "]),
)
def test_a_batch_of_bodies_is_each_values_document(values: list[Any], separator: str) -> None:
    """``value_bodies`` (the batch's text translated at once) is ``value_document``'s
    body of each value, its strings apart by ``separator``."""
    expected = [value_document("k", v).body.replace("\x1f", separator) for v in values]
    assert value_bodies(values, separator) == expected
    # (many values and no string: the batch's text is long, and there is no string in it)
    assert value_bodies([1] * 200 + values, separator) == [""] * 200 + expected


@given(
    st.lists(
        st.text(alphabet="aZ09-_/é", min_size=1, max_size=20)
        | st.sampled_from(["notes/" + "k" * 130, "x" * 129 + "/y", "a/Ünï"]),
        max_size=6,
    )
)
def test_a_batch_of_key_texts_is_each_keys_document(keys: list[str]) -> None:
    assert key_texts(keys) == [value_document(k, None).key for k in keys]
