"""Tags as a register of their own: the merge laws, local writes, deletes and expiry, and
replicas that exchange exports ending with the same tags whatever the order."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lifecycle import ManualClock, MemoryLifecycleManager
from lifecycle.entries import tags
from lifecycle.entries.export_format import parse_entry

T = 1_800_000_000.0
Manager = MemoryLifecycleManager

registers = st.builds(
    lambda ts, a, v: {"ts": ts, "a": a, "v": sorted(set(v))},
    st.sampled_from([T, T + 1, T + 2]),
    st.sampled_from(["a", "b"]),
    st.lists(st.sampled_from(["x", "y", "z"]), max_size=3),
)
maybe = st.none() | registers


@given(maybe, maybe)
def test_join_is_commutative(x: Any, y: Any) -> None:
    assert tags.join(x, y) == tags.join(y, x)


@given(maybe, maybe, maybe)
def test_join_is_associative(x: Any, y: Any, z: Any) -> None:
    assert tags.join(tags.join(x, y), z) == tags.join(x, tags.join(y, z))


@given(maybe)
def test_join_is_idempotent(x: Any) -> None:
    assert tags.join(x, x) == x


@given(registers, st.sampled_from([T - 5, T, T + 5]))
def test_a_local_write_wins_over_what_it_read_even_with_an_older_timestamp(
    current: Any, ts: float
) -> None:
    written = tags.stamp(current, ["new"], ts, "a")
    assert tags.join(current, written) == written
    assert written["ts"] > current["ts"] or ts > current["ts"]


def test_a_gone_entry_holds_no_tags_and_every_replica_derives_the_same_register() -> None:
    old = {"ts": T, "a": "a", "v": ["x"]}
    cleared = tags.effective(old, gone=True)
    assert cleared == tags.effective(dict(old), gone=True)
    assert cleared is not None and cleared["v"] == [] and cleared["ts"] > T
    assert tags.join(old, cleared) == cleared
    assert tags.effective(old, gone=False) is old


def test_an_exported_register_is_validated() -> None:
    line = {
        "v": 1,
        "key": "team/a",
        "strategy": "lww",
        "state": {"ts": T, "a": "x", "h": "", "v": 1},
        "created_at": T,
        "updated_at": T,
    }
    assert parse_entry({**line, "tags": {"ts": T, "a": "x", "v": ["a", "b"]}}).tags is not None
    assert parse_entry(line).tags is None  # files written before tags existed
    for bad in (["a"], {"ts": T, "a": "x", "v": ["b", "a"]}, {"ts": T, "a": "x", "v": [""]}):
        with pytest.raises(ValueError, match="field 'tags'"):
            parse_entry({**line, "tags": bad})


# ---------------------------------------------------------------- replicas

POLICIES = """
namespaces:
  - {namespace: "team/*", ttl_seconds: 0, cleanup_strategy: manual, conflict_strategy: lww}
  - namespace: "shared/*"
    ttl_seconds: 0
    cleanup_strategy: manual
    conflict_strategy: multi_value
  - {namespace: "tmp/*", ttl_seconds: 100, cleanup_strategy: manual, conflict_strategy: lww}
"""


@pytest.fixture
def replicas(make_manager: Callable[..., Manager]) -> list[Manager]:
    return [
        make_manager(f"replica{i}", POLICIES, shared_clock=False, agent_id=f"agent-{i}")
        for i in range(3)
    ]


def exchange_all(replicas: list[Manager], order: tuple[int, ...]) -> None:
    for _ in range(2):
        for i, j in itertools.product(order, order):
            if i != j:
                replicas[i].merge_entries(list(replicas[j].export_entries()))


def tags_of(m: Manager) -> dict[str, list[str]]:
    return {e["key"]: e["tags"] for e in m.list(limit=1000)["entries"]}


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))), ids=str)
def test_replicas_that_tag_concurrently_end_with_the_same_tags(
    replicas: list[Manager], order: tuple[int, ...]
) -> None:
    a, b, c = replicas
    a.store("team/plan", "plan", timestamp=T, tags=["draft"])
    b.store("team/plan", "plan", timestamp=T + 1, tags=["final"])
    c.store("team/plan", "newer value, tags kept", timestamp=T + 2)  # c never saw tags
    a.store("shared/idea", "one", timestamp=T, tags=["x"])
    b.store("shared/idea", "two", timestamp=T, tags=["y"])  # same time: the actor decides
    c.store("team/gone", "bye", timestamp=T, tags=["old"])
    c.delete("team/gone")
    a.store("team/gone", "older write", timestamp=T - 10, tags=["stale"])
    exchange_all(replicas, order)
    views = [tags_of(r) for r in replicas]
    assert views[0] == views[1] == views[2]
    assert views[0]["team/plan"] == ["final"]
    assert views[0]["shared/idea"] == ["y"]
    assert "team/gone" not in views[0]
    states = [
        {e["key"]: (e["state"], e["tombstone"], e.get("tags")) for e in r.export_entries()}
        for r in replicas
    ]
    assert states[0] == states[1] == states[2]


def test_tags_travel_in_exports_and_an_export_without_them_keeps_local_tags(
    replicas: list[Manager],
) -> None:
    a, b, _ = replicas
    a.store("team/doc", "v1", timestamp=T, tags=["kept"])
    exported = list(a.export_entries())
    assert exported[0]["tags"]["v"] == ["kept"]
    b.merge_entries(exported)
    assert tags_of(b) == {"team/doc": ["kept"]}
    assert [r["key"] for r in b.search("v1", tags=["kept"])["results"]] == ["team/doc"]
    old_format = [{k: v for k, v in e.items() if k != "tags"} for e in exported]
    a.store("team/doc", "v2", timestamp=T + 1)
    old_format[0]["state"]["ts"] = T + 5  # a newer value from a file without tags
    old_format[0]["updated_at"] = T + 5
    a.merge_entries(old_format)
    assert tags_of(a) == {"team/doc": ["kept"]}


def test_an_entry_written_again_after_it_expired_does_not_inherit_its_tags(
    make_manager: Callable[..., Manager],
) -> None:
    clock = ManualClock(T)
    a = make_manager("a", POLICIES, clock=clock, agent_id="a")
    b = make_manager("b", POLICIES, clock=clock, agent_id="b")
    a.store("tmp/x", "first life", tags=["old"])
    b.merge_entries(list(a.export_entries()))
    clock.tick(101)
    a.store("tmp/x", "second life")
    assert tags_of(a) == {"tmp/x": []}
    b.merge_entries(list(a.export_entries()))  # b still holds the expired first life
    a.merge_entries(list(b.export_entries()))
    assert tags_of(a) == tags_of(b) == {"tmp/x": []}
