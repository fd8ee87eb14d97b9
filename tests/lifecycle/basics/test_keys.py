"""The ``namespace`` argument: ``<namespace>/<key>``, and claude-flow's ``default`` namespace
as no prefix, in every call that takes one (store, retrieve, delete, list, search)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from lifecycle import MemoryLifecycleManager
from lifecycle.basics.keys import full_key, namespace_prefix, scoped_prefix

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
