"""Listing pages by offset (claude-flow 3's paging) as well as by cursor, with values when
asked: the same on every backend (SQLite always, PostgreSQL when configured)."""

from __future__ import annotations

from typing import Any

import pytest

from lifecycle import InvalidValueError, MemoryLifecycleManager
from tests.support.store import (  # noqa: F401  (fixtures register under their pytest names)
    ManagerFactory,
    backend_fixture,
    make_backend_manager_fixture,
    manager_fixture,
    store_url_factory_fixture,
)


@pytest.fixture(name="m")
def m_fixture(manager: MemoryLifecycleManager) -> MemoryLifecycleManager:
    items = [(f"notes/{i:05}", {"n": i}) for i in range(1205)] + [("other/x", "not notes/")]
    manager.store_many(items[:1000])
    manager.store_many(items[1000:])
    return manager


def keys(page: dict[str, Any]) -> list[str]:
    return [e["key"] for e in page["entries"]]


def test_offset_skips_that_many_entries_in_key_order(m: MemoryLifecycleManager) -> None:
    page = m.list("notes/", limit=3, offset=1100)
    last = m.list("notes/", limit=10, offset=1200)

    assert keys(page) == ["notes/01100", "notes/01101", "notes/01102"]
    assert keys(m.list("notes/", limit=3, cursor=page["next_cursor"])) == [
        "notes/01103",
        "notes/01104",
        "notes/01105",
    ]
    assert keys(last) == [f"notes/{i:05}" for i in range(1200, 1205)]
    assert last["next_cursor"] is None
    assert m.list("notes/", offset=5000)["entries"] == []
    assert keys(m.list(namespace="notes", limit=1, offset=0)) == ["notes/00000"]


def test_values_come_only_when_asked(m: MemoryLifecycleManager) -> None:
    plain = m.list("notes/", limit=2)["entries"]
    with_values = m.list("notes/", limit=2, include_values=True)["entries"]

    assert all("value" not in e for e in plain)
    assert [e["value"] for e in with_values] == [{"n": 0}, {"n": 1}]


@pytest.mark.parametrize(
    ("arguments", "problem"),
    [
        ({"offset": -1}, "invalid offset -1"),
        ({"offset": True}, "invalid offset"),
        ({"offset": 2, "cursor": "x"}, "offset and cursor both given"),
    ],
)
def test_a_bad_offset_is_refused(
    m: MemoryLifecycleManager, arguments: dict[str, Any], problem: str
) -> None:
    with pytest.raises(InvalidValueError, match=problem):
        m.list("notes/", **arguments)
