"""The ``namespace`` argument: ``<namespace>/<key>``, and claude-flow's ``default`` namespace
as no prefix, in every call that takes one (store, retrieve, delete, list, search)."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lifecycle import MemoryLifecycleManager
from lifecycle.basics.keys import (
    MAX_KEY_LENGTH,
    all_plain_keys,
    full_key,
    namespace_prefix,
    scoped_prefix,
    validate_key,
)
from lifecycle.errors import InvalidKeyError

MakeManager = Callable[..., MemoryLifecycleManager]


@pytest.mark.parametrize(
    ("namespace", "prefix"),
    [
        (None, ""),
        ("", ""),
        ("default", ""),
        ("default/", ""),
        ("default/*", ""),
        ("coordination", "coordination/"),
        ("coordination/*", "coordination/"),
        ("defaults", "defaults/"),
        ("default/x", "default/x/"),
    ],
)
def test_namespace_prefix_and_default_is_none(namespace: str | None, prefix: str) -> None:
    assert namespace_prefix(namespace) == prefix


def test_a_key_in_the_default_namespace_is_the_key_itself() -> None:
    assert full_key("auth/strategy", "default") == "auth/strategy"
    assert full_key("auth/strategy", "knowledge") == "knowledge/auth/strategy"
    assert scoped_prefix("auth/", "default") == "auth/"


def test_default_namespace_calls_meet_plain_keys_in_one_store(make_manager: MakeManager) -> None:
    m = make_manager()
    m.store("strategy", "JWT", namespace="default")
    m.store("knowledge/api", "REST")

    assert m.retrieve("strategy") == "JWT"
    assert m.retrieve("knowledge/api", namespace="default") == "REST"
    listed = m.list(namespace="default")["entries"]
    assert [e["key"] for e in listed] == ["knowledge/api", "strategy"]  # the whole store
    assert [r["key"] for r in m.search("jwt", namespace="default")["results"]] == ["strategy"]
    assert m.delete("strategy", namespace="default") is True
    assert m.retrieve("strategy") is None


@given(
    key=st.text(
        alphabet=st.sampled_from(["a", "Z", "0", "/", ".", "-", " ", "\x00", "\x1f", "\x7f", "é"]),
        max_size=12,
    )
    | st.sampled_from(["a" * 512, "a" * 513, "/a", "a/", "a//b", "a/./b", "a/../b", "a.b/c"])
)
def test_the_common_keys_shortcut_accepts_only_what_the_rules_accept(key: str) -> None:
    """``validate_key`` accepts plain ASCII keys without its regexes; whatever it accepts
    follows every key rule (1-512 characters, no control character, no empty, ``.`` or
    ``..`` segment), and whatever breaks one is refused."""
    follows = (
        0 < len(key) <= MAX_KEY_LENGTH
        and re.search(r"[\x00-\x1f\x7f]", key) is None
        and all(segment not in ("", ".", "..") for segment in key.split("/"))
    )
    if follows:
        assert validate_key(key) == key
    else:
        with pytest.raises(InvalidKeyError):
            validate_key(key)


KEY_PARTS = st.text(
    alphabet=st.sampled_from(["a", "Z", "0", "/", ".", "-", " ", "\x00", "\x1f", "\x7f", "é"]),
    max_size=6,
)


def _shortcut(key: str) -> bool:
    """``validate_key``'s shortcut for one key."""
    return (
        key.isascii()
        and key.isprintable()
        and 0 < len(key) <= MAX_KEY_LENGTH
        and "//" not in key
        and "." not in key
        and key[0] != "/"
        and key[-1] != "/"
    )


@given(
    keys=st.lists(KEY_PARTS | st.sampled_from(["a" * 512, "a" * 513, "", "notes/x"]), max_size=5)
)
def test_a_batch_of_keys_passes_at_once_exactly_when_each_passes_the_shortcut(
    keys: list[str],
) -> None:
    """``all_plain_keys`` (a batch's keys checked joined) is ``validate_key``'s shortcut of
    every key: so never true of a batch holding a key the rules refuse."""
    assert all_plain_keys(keys) == (bool(keys) and all(map(_shortcut, keys)))
    if all_plain_keys(keys):
        assert [validate_key(k) for k in keys] == keys


def test_a_batch_of_keys_that_is_not_all_strings_is_not_plain() -> None:
    assert not all_plain_keys(["notes/a", 7])  # type: ignore[list-item]
    assert not all_plain_keys([])
    assert all_plain_keys(["notes/a", "notes/b"])
