"""Replicas converge end to end: real SQLite stores exchanging exports.

Each store has its own clock (``shared_clock=False``) and its own agents, as
separate hosts would. Exports are exchanged in different orders and repeated;
every replica must end with the same values, conflicts and context for every
key, and the same exported CRDT state.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from lifecycle import MemoryLifecycleManager
from lifecycle.entries.export_format import read_jsonl, write_jsonl

POLICIES = """
namespaces:
  - namespace: "team/*"
    ttl_seconds: 0
    cleanup_strategy: manual
    conflict_strategy: lww
  - namespace: "shared/*"
    ttl_seconds: 0
    cleanup_strategy: manual
    conflict_strategy: multi_value
    max_siblings: 3
  - namespace: "metrics/*"
    ttl_seconds: 0
    cleanup_strategy: manual
    conflict_strategy: counter
  - namespace: "coordination/*"
    ttl_seconds: 3600
    cleanup_strategy: scheduled
    conflict_strategy: lww
  - namespace: "swarm/*"
    ttl_seconds: 3600
    cleanup_strategy: scheduled
    conflict_strategy: multi_value
  - namespace: "tally/*"
    ttl_seconds: 3600
    cleanup_strategy: scheduled
    conflict_strategy: counter
settings:
  tombstone_grace_seconds: 600
"""

T = 1_800_000_000.0
Manager = MemoryLifecycleManager


@pytest.fixture
def replicas(make_manager: Callable[..., Manager]) -> list[Manager]:
    return [
        make_manager(f"replica{i}", POLICIES, shared_clock=False, agent_id=f"agent-{i}")
        for i in range(3)
    ]


def exchange(source: Manager, target: Manager) -> dict[str, int]:
    return target.merge_entries(list(source.export_entries()))


def exchange_all(replicas: list[Manager], order: tuple[int, ...], rounds: int = 2) -> None:
    for _ in range(rounds):
        for i, j in itertools.product(order, order):
            if i != j:
                exchange(replicas[j], replicas[i])


def exported(manager: Manager) -> dict[str, tuple[Any, ...]]:
    return {
        e["key"]: (e["strategy"], e["state"], e["ops"], e["tombstone"], e["expires_at"])
        for e in manager.export_entries()
    }


def seen(manager: Manager, keys: list[str]) -> dict[str, Any]:
    out = {}
    for key in keys:
        entry = manager.retrieve_entry(key)
        out[key] = (
            None
            if entry is None
            else (
                entry.value,
                [(c.value, c.actor, c.timestamp) for c in entry.conflicts],
                entry.context,
                entry.actor,
                entry.expires_at,
            )
        )
    return out


def assert_converged(replicas: list[Manager]) -> dict[str, Any]:
    keys = sorted(set().union(*(exported(r) for r in replicas)))
    views = [seen(r, keys) for r in replicas]
    assert views[0] == views[1] == views[2]
    states = [exported(r) for r in replicas]
    assert states[0] == states[1] == states[2]
    return views[0]


def write_concurrently(replicas: list[Manager]) -> None:
    """Every replica writes every strategy, with deliberate timestamp ties."""
    a, b, c = replicas
    # lww: a and b tie on the timestamp (actor decides); b and c tie on (timestamp, actor)
    a.store("team/plan", "plan-a", timestamp=T)
    b.store("team/plan", "plan-b", timestamp=T)
    b.store("team/owner", "bob", timestamp=T + 5, agent_id="lead")
    c.store("team/owner", "carol", timestamp=T + 5, agent_id="lead")
    c.store("team/plan", "plan-c", timestamp=T - 1)
    # multi_value: concurrent siblings, two of them at the same timestamp
    a.store("shared/decision", "option-a", timestamp=T)
    b.store("shared/decision", "option-b", timestamp=T)
    c.store("shared/decision", {"option": "c"}, timestamp=T + 1)
    # counter: increments and decrements from every agent
    a.store("metrics/tasks", 5)
    b.store("metrics/tasks", 3)
    b.store("metrics/tasks", -1)
    c.store("metrics/tasks", 10, op_id="c-1")
    # keys only one replica knows
    a.store("team/only-a", {"nested": [1, 2, 3]}, timestamp=T)
    c.store("shared/only-c", "lonely", timestamp=T)


ORDERS = list(itertools.permutations(range(3)))


@pytest.mark.parametrize("order", ORDERS, ids=lambda o: "".join(map(str, o)))
def test_three_replicas_written_concurrently_converge_in_any_exchange_order(
    replicas: list[Manager], order: tuple[int, ...]
) -> None:
    write_concurrently(replicas)
    exchange_all(replicas, order)
    view = assert_converged(replicas)
    assert view["team/plan"][0] == "plan-b"  # equal timestamps: the greater actor wins
    assert view["team/owner"][0] in {"bob", "carol"}  # equal (timestamp, actor): same everywhere
    value, conflicts, context, actor, _ = view["shared/decision"]
    assert (value, actor) == ({"option": "c"}, "agent-2")
    assert conflicts == [("option-b", "agent-1", T), ("option-a", "agent-0", T)]
    assert context is not None
    assert view["metrics/tasks"][0] == 17
    assert view["team/only-a"][0] == {"nested": [1, 2, 3]}
    assert view["shared/only-c"][0] == "lonely"


def test_repeated_and_reordered_imports_change_nothing_once_converged(
    replicas: list[Manager],
) -> None:
    write_concurrently(replicas)
    exchange_all(replicas, (0, 1, 2))
    before = exported(replicas[0])
    for i, j in [(2, 0), (0, 2), (1, 0), (0, 0), (2, 0)]:
        report = exchange(replicas[j], replicas[i])
        assert report["updated"] == report["created"] == 0
    assert exported(replicas[0]) == before
    assert_converged(replicas)


def test_exports_round_trip_through_json_lines_files(
    replicas: list[Manager], tmp_path: Path
) -> None:
    write_concurrently(replicas)
    for i, manager in enumerate(replicas):
        with (tmp_path / f"r{i}.jsonl").open("w") as out:
            write_jsonl(manager.export_entries(), out)
    for (i, target), j in itertools.product(enumerate(replicas), range(3)):
        if i != j:
            with (tmp_path / f"r{j}.jsonl").open() as lines:
                target.merge_entries(read_jsonl(lines, f"r{j}.jsonl"))
    assert_converged(replicas)


# ---------------------------------------------------------------- counters


def test_counter_totals_are_exact_after_repeated_imports(replicas: list[Manager]) -> None:
    a, b, c = replicas
    a.store("metrics/done", 4)
    b.store("metrics/done", 6)
    b.store("metrics/done", -2.5)
    c.store("metrics/done", -1)
    for _ in range(3):
        exchange_all(replicas, (2, 0, 1), rounds=1)
    assert [r.retrieve("metrics/done") for r in replicas] == [6.5, 6.5, 6.5]
    a.store("metrics/done", 1)
    exchange_all(replicas, (1, 2, 0))
    assert [r.retrieve("metrics/done") for r in replicas] == [7.5, 7.5, 7.5]
    assert_converged(replicas)


def test_a_retried_op_id_is_applied_once_locally_and_after_import(
    replicas: list[Manager],
) -> None:
    a, b, _ = replicas
    first = a.put("metrics/calls", 2, op_id="call-1")
    retry = a.put("metrics/calls", 2, op_id="call-1")
    assert (first.applied, retry.applied, retry.duplicate) == (True, False, True)
    assert a.retrieve("metrics/calls") == 2
    exchange(a, b)
    # the retry reaches the other replica (the agent's connection moved): still once
    late = b.put("metrics/calls", 2, op_id="call-1", agent_id="agent-0")
    assert late.duplicate
    assert b.put("metrics/calls", -1, op_id="call-2").applied
    exchange(b, a)
    exchange(a, b)
    assert a.retrieve("metrics/calls") == b.retrieve("metrics/calls") == 1


def test_a_non_numeric_counter_value_is_rejected_and_nothing_changes(
    replicas: list[Manager],
) -> None:
    a = replicas[0]
    a.store("metrics/x", 1)
    with pytest.raises(ValueError, match="metrics/x"):
        a.store("metrics/x", "one")
    assert a.retrieve("metrics/x") == 1


# ---------------------------------------------------------------- deletes and tombstones


@pytest.mark.parametrize("key", ["team/doc", "shared/doc", "metrics/doc"])
def test_a_delete_is_not_undone_by_importing_an_older_export(
    replicas: list[Manager], key: str
) -> None:
    a, b, _ = replicas
    value = 3 if key.startswith("metrics/") else "v1"
    a.store(key, value, timestamp=T if not key.startswith("metrics/") else None)
    exchange(a, b)
    old_export = list(a.export_entries())
    assert a.delete(key)
    assert a.retrieve(key) is None
    a.merge_entries(old_export)  # the older export of this very store
    exchange(b, a)  # and the other replica's stale copy
    assert a.retrieve(key) is None
    exchange(a, b)  # the tombstone travels and deletes the stale copy too
    assert b.retrieve(key) is None
    assert a.get_stats()["tombstones"] == b.get_stats()["tombstones"] == 1


def test_a_write_after_a_delete_wins_and_concurrent_counter_increments_survive(
    replicas: list[Manager],
) -> None:
    a, b, _ = replicas
    a.store("metrics/jobs", 5)
    exchange(a, b)
    a.delete("metrics/jobs")
    b.store("metrics/jobs", 2)  # concurrent with the delete: not seen by it
    exchange(a, b)
    exchange(b, a)
    assert a.retrieve("metrics/jobs") == b.retrieve("metrics/jobs") == 2
    a.delete("team/none")  # deleting nothing leaves no tombstone
    a.store("team/item", "x")
    a.delete("team/item")
    a.clock.tick(1)
    a.store("team/item", "y")
    exchange(a, b)
    assert b.retrieve("team/item") == "y"


def test_tombstones_are_purged_by_cleanup_after_the_grace_period_not_before(
    replicas: list[Manager],
) -> None:
    a, b, _ = replicas
    a.store("team/gone", "x")
    a.store("shared/gone", "x")
    a.store("metrics/gone", 1)
    for key in ("team/gone", "shared/gone", "metrics/gone"):
        assert a.delete(key)
    exchange(a, b)
    assert b.get_stats()["tombstones"] == 3
    a.clock.tick(599)
    b.clock.tick(599)
    assert a.cleanup()["tombstones_purged"] == 0
    assert b.cleanup(force=True)["tombstones_purged"] == 0
    assert a.get_stats()["tombstones"] == 3
    a.clock.tick(2)
    b.clock.tick(2)
    assert a.cleanup()["tombstones_purged"] == 3
    assert a.get_stats()["tombstones"] == 0
    # the other replica imported them with the same purge time, not a fresh grace period
    assert b.cleanup()["tombstones_purged"] == 3


def test_a_write_after_the_tombstone_was_purged_is_not_swallowed_by_a_replica_that_kept_it(
    replicas: list[Manager],
) -> None:
    a, b, _ = replicas
    for key, value in (("shared/again", "x"), ("metrics/again", 4)):
        a.store(key, value)
        a.delete(key)
    exchange(a, b)
    a.clock.tick(601)
    b.clock.tick(601)
    a.cleanup()  # a purges its tombstones; b has not run cleanup yet
    a.store("shared/again", "fresh")
    a.store("metrics/again", 1)
    exchange(a, b)
    exchange(b, a)
    assert a.retrieve("shared/again") == b.retrieve("shared/again") == "fresh"
    assert a.retrieve("metrics/again") == b.retrieve("metrics/again") == 1


# ---------------------------------------------------------------- multi-value


def test_siblings_are_bounded_by_max_siblings_on_every_replica(replicas: list[Manager]) -> None:
    for n, manager in enumerate(replicas):
        for k in range(3):
            manager.store("shared/ideas", f"idea-{n}-{k}", timestamp=T + 10 * k + n)
    assert len(replicas[0].retrieve_entry("shared/ideas").conflicts) == 2  # 3 siblings kept
    exchange_all(replicas, (0, 1, 2))
    view = assert_converged(replicas)
    value, conflicts, *_ = view["shared/ideas"]
    assert [value, *[c[0] for c in conflicts]] == ["idea-2-2", "idea-1-2", "idea-0-2"]


def test_writing_with_the_context_resolves_siblings_on_every_replica(
    replicas: list[Manager],
) -> None:
    a, b, c = replicas
    a.store("shared/choice", "a", timestamp=T)
    b.store("shared/choice", "b", timestamp=T + 1)
    exchange_all(replicas, (0, 1, 2))
    entry = c.retrieve_entry("shared/choice")
    assert (entry.value, [x.value for x in entry.conflicts]) == ("b", ["a"])
    # meanwhile a writes again, unseen by c's resolution: that sibling must survive
    a.store("shared/choice", "a2", timestamp=T + 2)
    c.store("shared/choice", "resolved", timestamp=T + 3, context=entry.context)
    assert c.retrieve_entry("shared/choice").conflicts == ()
    exchange_all(replicas, (2, 1, 0))
    view = assert_converged(replicas)
    value, conflicts, *_ = view["shared/choice"]
    assert (value, [x[0] for x in conflicts]) == ("resolved", ["a2"])
    final = a.retrieve_entry("shared/choice")
    b.store("shared/choice", "final", timestamp=T + 4, context=final.context)
    exchange_all(replicas, (1, 0, 2))
    assert [r.retrieve_entry("shared/choice").conflicts for r in replicas] == [(), (), ()]
    assert {r.retrieve("shared/choice") for r in replicas} == {"final"}


def test_a_context_from_retrieve_is_validated(replicas: list[Manager]) -> None:
    a = replicas[0]
    a.store("shared/x", 1)
    with pytest.raises(ValueError, match="shared/x"):
        a.store("shared/x", 2, context="not-a-token")
    assert a.retrieve("shared/x") == 1


# ---------------------------------------------------------------- expiry travels


@pytest.mark.parametrize("key", ["coordination/lock", "swarm/notes", "tally/hits"])
def test_an_imported_entry_keeps_its_expiry_and_import_never_extends_it(
    replicas: list[Manager], key: str
) -> None:
    a, b, _ = replicas
    value = 1 if key.startswith("tally/") else "v"
    a.store(key, value, ttl_seconds=100)
    expires = a.retrieve_entry(key).expires_at
    assert expires == pytest.approx(a.clock.now() + 100)
    b.clock.tick(50)  # b's clock is later: a fresh TTL would end at b.now + 100
    exchange(a, b)
    assert b.retrieve_entry(key).expires_at == expires
    b.clock.tick(51)
    assert b.retrieve(key) is None  # expired on b at the same moment as on a
    exchange(a, b)  # importing the same (now expired) export again does not revive it
    assert b.retrieve(key) is None


@pytest.mark.parametrize("key", ["coordination/old", "swarm/old", "tally/old"])
def test_an_already_expired_entry_is_not_resurrected_by_import(
    replicas: list[Manager], key: str
) -> None:
    a, b, _ = replicas
    value = 1 if key.startswith("tally/") else "stale"
    a.store(key, value)
    b.store(key, value if key.startswith("tally/") else "mine")
    exchange(a, b)
    old_export = list(a.export_entries())
    for r in (a, b):
        r.clock.tick(3601)
    fresh = b.retrieve(key)
    assert fresh is None
    b.merge_entries(old_export)
    assert b.retrieve(key) is None
    # a fresh write after expiry starts over: the expired values do not come back with it
    b.store(key, 2 if key.startswith("tally/") else "new")
    b.merge_entries(old_export)
    entry = b.retrieve_entry(key)
    assert entry.value == (2 if key.startswith("tally/") else "new")
    assert entry.conflicts == ()
    c = replicas[2]
    c.clock.tick(3601)
    assert c.merge_entries(old_export)["skipped_expired"] == 1
    assert c.retrieve(key) is None
    assert c.get_stats()["total_entries"] == 0
    # a replica that never saw the expired values: they do not join its fresh entry
    c.store(key, 2 if key.startswith("tally/") else "new")
    c.merge_entries(old_export)
    entry = c.retrieve_entry(key)
    assert (entry.value, entry.conflicts) == (2 if key.startswith("tally/") else "new", ())


@pytest.mark.parametrize(
    ("field", "bad"),
    [
        ("state", {"c": {"agent-0": [1, 0]}, "b": {}, "ts": 1.0}),  # a short counter vector
        ("state", {"c": {}, "b": {}, "ts": float("nan")}),
        ("ops", {"op-1": "yesterday"}),
        ("expires_at", float("inf")),
    ],
)
def test_a_malformed_export_is_rejected_whole_and_changes_nothing(
    replicas: list[Manager], field: str, bad: Any
) -> None:
    a, b, _ = replicas
    for n in range(600):  # more than one merge batch before the bad line
        a.store(f"metrics/n{n:03}", 1)
    entries = list(a.export_entries())
    entries[-1] = {**entries[-1], field: bad}
    with pytest.raises(ValueError, match=rf"line 600 \(key 'metrics/n599'\).*'{field}'"):
        b.merge_entries(entries)
    assert b.get_stats()["total_entries"] == 0


def test_an_exported_multi_value_sibling_outside_its_clock_is_rejected(
    replicas: list[Manager],
) -> None:
    a, b, _ = replicas
    a.store("shared/x", "v")
    (entry,) = a.export_entries()
    entry["state"]["vv"] = {}  # a sibling its own version vector does not cover
    with pytest.raises(ValueError, match="not a valid multi_value state"):
        b.merge_entries([entry])
    assert b.retrieve("shared/x") is None
