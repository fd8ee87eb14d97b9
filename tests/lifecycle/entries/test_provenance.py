"""Provenance (claude-flow 3's ``provenance_type``) as a register of its own, kept like tags:
the merge laws, and on every backend (SQLite always, PostgreSQL when configured) what a
write, a search filter, a delete, an expiry and an export/import do with it."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lifecycle import InvalidValueError, ManualClock, MemoryLifecycleManager
from lifecycle.entries import provenance
from lifecycle.entries.export_format import parse_entry
from tests.support.store import (  # noqa: F401  (fixtures register under their pytest names)
    ManagerFactory,
    backend_fixture,
    make_backend_manager_fixture,
    store_url_factory_fixture,
)

T = 1_800_000_000.0
Manager = MemoryLifecycleManager

registers = st.builds(
    lambda ts, a, v: {"ts": ts, "a": a, "v": v},
    st.sampled_from([T, T + 1, T + 2]),
    st.sampled_from(["a", "b"]),
    st.sampled_from([None, "user_claim", "agent_output"]),
)
maybe = st.none() | registers


@given(maybe, maybe)
def test_join_is_commutative(x: Any, y: Any) -> None:
    assert provenance.join(x, y) == provenance.join(y, x)


@given(maybe, maybe, maybe)
def test_join_is_associative(x: Any, y: Any, z: Any) -> None:
    assert provenance.join(provenance.join(x, y), z) == provenance.join(x, provenance.join(y, z))


@given(maybe)
def test_join_is_idempotent(x: Any) -> None:
    assert provenance.join(x, x) == x


@given(registers, st.sampled_from([T - 5, T, T + 5]))
def test_a_local_write_wins_over_what_it_read(current: Any, ts: float) -> None:
    written = provenance.stamp(current, "tool_result", ts, "a")
    assert provenance.join(current, written) == written


def test_an_exported_register_is_validated() -> None:
    line = {
        "v": 1,
        "key": "team/a",
        "strategy": "lww",
        "state": {"ts": T, "a": "x", "h": "", "v": 1},
        "created_at": T,
        "updated_at": T,
    }
    register = {"ts": T, "a": "x", "v": "user_claim"}
    assert parse_entry({**line, "provenance": register}).provenance == register
    assert parse_entry(line).provenance is None  # files written before provenance existed
    for bad in ("user_claim", {"ts": T, "a": "x", "v": ""}, {"ts": T, "a": "x", "v": 3}):
        with pytest.raises(ValueError, match="field 'provenance'"):
            parse_entry({**line, "provenance": bad})


# ---------------------------------------------------------------- on every backend

POLICIES = """
namespaces:
  - {namespace: "team/*", ttl_seconds: 0, cleanup_strategy: manual, conflict_strategy: lww}
  - namespace: "shared/*"
    ttl_seconds: 0
    cleanup_strategy: manual
    conflict_strategy: multi_value
  - {namespace: "tmp/*", ttl_seconds: 100, cleanup_strategy: manual, conflict_strategy: lww}
  - namespace: "big/*"
    ttl_seconds: 0
    cleanup_strategy: manual
    conflict_strategy: lww
    compression_threshold_bytes: 64
"""


@pytest.fixture(name="m")
def m_fixture(make_backend_manager: ManagerFactory) -> Manager:
    return make_backend_manager(policies=POLICIES)


def provenance_of(m: Manager, key: str) -> str | None:
    entry = m.retrieve_entry(key)
    assert entry is not None
    return entry.provenance_type


def test_a_write_sets_it_and_a_write_without_it_keeps_it(m: Manager) -> None:
    m.store("team/claim", "the API is stable", provenance_type="user_claim", tags=["api"])
    m.store("team/claim", "the API is stable since v2")
    m.store("big/report", "x" * 500, provenance_type="tool_result")
    m.store("shared/idea", "one", provenance_type="agent_output")
    m.store("shared/idea", "two", agent_id="other")

    assert provenance_of(m, "team/claim") == "user_claim"
    assert m.retrieve_entry("team/claim").tags == ("api",)  # type: ignore[union-attr]
    entry = m.retrieve_entry("big/report")
    assert entry is not None and entry.compressed and entry.provenance_type == "tool_result"
    assert provenance_of(m, "shared/idea") == "agent_output"
    m.store("team/claim", "checked", provenance_type="system_observation")
    assert provenance_of(m, "team/claim") == "system_observation"


def test_search_results_carry_it_and_a_filter_keeps_only_those_named(m: Manager) -> None:
    m.store("team/a", "auth uses JWT", provenance_type="user_claim")
    m.store("team/b", "auth uses sessions", provenance_type="agent_output")
    m.store("team/c", "auth is unknown here")  # none: claude-flow's "unknown"

    everything = m.search("auth")["results"]
    claims = m.search("auth", provenance_filter=["user_claim"])["results"]
    not_claims = m.search("auth", provenance_filter=["agent_output", "unknown"])["results"]

    assert {r["key"]: r["provenance_type"] for r in everything} == {
        "team/a": "user_claim",
        "team/b": "agent_output",
        "team/c": None,
    }
    assert [(r["key"], r["value"]) for r in claims] == [("team/a", "auth uses JWT")]
    assert sorted(r["key"] for r in not_claims) == ["team/b", "team/c"]


def test_a_filter_pages_through_many_entries_it_skips(m: Manager) -> None:
    for i in range(450):
        kind = "user_claim" if i % 3 == 0 else "agent_output"
        m.store(f"team/n{i:03}", f"note {i}", provenance_type=kind)

    seen: list[str] = []
    cursor = None
    while True:
        page = m.search("note", provenance_filter=["user_claim"], limit=40, cursor=cursor)
        seen += [r["key"] for r in page["results"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert sorted(seen) == [f"team/n{i:03}" for i in range(0, 450, 3)]
    filtered = m.search("note", provenance_filter=["user_claim"], limit=40)["next_cursor"]
    with pytest.raises(InvalidValueError, match="another search"):
        m.search("note", limit=40, cursor=filtered)  # the filter is part of the search


def test_a_delete_or_an_expiry_clears_it(make_backend_manager: ManagerFactory) -> None:
    clock = ManualClock(T)
    m = make_backend_manager(policies=POLICIES, clock=clock)
    m.store("team/gone", "v", provenance_type="user_claim")
    m.delete("team/gone")
    m.store("team/gone", "back")
    m.store("tmp/x", "first life", provenance_type="tool_result")
    clock.tick(101)
    m.store("tmp/x", "second life")

    assert provenance_of(m, "team/gone") is None
    assert provenance_of(m, "tmp/x") is None


@pytest.mark.parametrize("value", ["", "x" * 65, 3, "bad\nlabel"])
def test_a_bad_value_is_refused_and_nothing_is_written(m: Manager, value: Any) -> None:
    m.store("team/x", "old", provenance_type="user_claim")
    with pytest.raises(InvalidValueError, match="provenance_type"):
        m.store("team/x", "new", provenance_type=value)
    with pytest.raises(InvalidValueError, match="provenance_filter"):
        m.search("old", provenance_filter=[value] if value != "" else "user_claim")
    assert m.retrieve("team/x") == "old" and provenance_of(m, "team/x") == "user_claim"


@pytest.mark.parametrize("direction", ["from-sqlite", "to-sqlite"])
def test_it_travels_in_exports_between_backends(
    make_backend_manager: ManagerFactory, direction: str
) -> None:
    """SQLite to the backend under test and back (PostgreSQL when configured)."""
    source = make_backend_manager(
        "source", POLICIES, on="sqlite" if direction == "from-sqlite" else None
    )
    source.store("team/doc", "v1", provenance_type="agent_output")
    source.store("team/plain", "v1")
    exported = list(source.export_entries())
    assert [e.get("provenance", {}).get("v") for e in exported] == ["agent_output", None]

    target = make_backend_manager(
        "target", POLICIES, on="sqlite" if direction == "to-sqlite" else None
    )
    target.merge_entries(exported)

    assert provenance_of(target, "team/doc") == "agent_output"
    assert provenance_of(target, "team/plain") is None
    assert target.merge_entries(exported)["unchanged"] == 2  # a repeated import changes nothing


def test_replicas_that_label_concurrently_end_with_the_same_provenance(
    make_backend_manager: ManagerFactory,
) -> None:
    replicas = [
        make_backend_manager(f"r{i}", POLICIES, clock=ManualClock(T), agent_id=f"agent-{i}")
        for i in range(3)
    ]
    a, b, c = replicas
    a.store("team/plan", "plan", timestamp=T, provenance_type="user_claim")
    b.store("team/plan", "plan", timestamp=T + 1, provenance_type="agent_output")
    c.store("team/plan", "newer value, provenance kept", timestamp=T + 2)
    for i, j in itertools.product(range(3), repeat=2):
        if i != j:
            replicas[i].merge_entries(list(replicas[j].export_entries()))

    assert {provenance_of(r, "team/plan") for r in replicas} == {"agent_output"}
    assert {r.retrieve("team/plan") for r in replicas} == {"newer value, provenance kept"}
