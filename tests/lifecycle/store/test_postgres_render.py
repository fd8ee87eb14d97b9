"""The ``tsvector`` literal of a document: the short path every write takes must write
exactly what the general one (with its limits) writes, and the limits must still apply."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from lifecycle.store.postgres import search
from lifecycle.store.postgres.search import MAX_POSITIONS, render
from lifecycle.store.text_index import STRING_SEPARATOR, SearchDoc

tokens = st.lists(st.sampled_from(["a", "b", "it's", "back\\slash", "ünï", "x" * 40]), max_size=12)


def _doc(key: list[str], strings: list[list[str]]) -> SearchDoc:
    return SearchDoc(key=" ".join(key), body=STRING_SEPARATOR.join(" ".join(s) for s in strings))


@given(tokens, st.lists(tokens, max_size=30))
def test_a_small_document_renders_as_the_general_path_does(
    key: list[str], strings: list[list[str]]
) -> None:
    doc = _doc(key, strings)
    assert render(doc) == search._render_any(doc.key.split(), doc.strings())


def test_a_word_repeated_past_the_limit_keeps_the_first_positions_only() -> None:
    doc = _doc(["k"], [["w"] * (MAX_POSITIONS + 10)])
    rendered = render(doc)
    assert rendered.startswith("'k':1A 'w':3,4,5,")
    assert rendered.count(",") == MAX_POSITIONS - 1  # 256 positions, no more
