"""The CRDT laws of the pure merges, checked with Hypothesis on reachable states.

States are not drawn at random: a few replicas apply random sequences of
operations (writes with and without a context, deletes, counter adds including
negative ones, merges from each other), so every state tested is one the
engine can actually produce. On those, each merge must be commutative,
associative and idempotent, which is what makes exports exchangeable in any
order, any number of times.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lifecycle import HybridLogicalClock, ManualClock
from lifecycle.entries import crdt

REPLICAS = ("r0", "r1", "r2")
Op = tuple[Any, ...]

values = st.one_of(
    st.integers(-3, 3),
    st.sampled_from(["a", "b", "c"]),
    st.none(),
    st.lists(st.booleans(), max_size=2),
)
replica = st.integers(0, len(REPLICAS) - 1)
# few distinct timestamps, so ties on (timestamp, actor) happen often
stamps = st.sampled_from([1.0, 2.0, 2.0, 3.0, 5.0])


def run(
    ops: list[Op], initial: crdt.State, apply: Callable[[crdt.State, Op, int], crdt.State]
) -> list[crdt.State]:
    """Apply ops to three replicas; ('merge', i, j) merges replica j's state into replica i."""
    states = [initial] * len(REPLICAS)
    for op in ops:
        i = op[1]
        states[i] = apply(states[i], op, i) if op[0] != "merge" else op[3](states[i], states[op[2]])
    return states


def merge_op(merge: Callable[[crdt.State, crdt.State], crdt.State]) -> st.SearchStrategy[Op]:
    return st.tuples(st.just("merge"), replica, replica, st.just(merge))


# ---------------------------------------------------------------- last-write-wins


def _lww_apply(state: crdt.State, op: Op, i: int) -> crdt.State:
    kind, _, value, actor, ts = op
    new = crdt.lww_new(value, actor, ts) if kind == "write" else crdt.lww_tombstone(actor, ts)
    return crdt.lww_merge(state, new)


lww_ops = st.lists(
    st.one_of(
        st.tuples(st.just("write"), replica, values, st.sampled_from(["a", "b"]), stamps),
        st.tuples(st.just("delete"), replica, st.none(), st.sampled_from(["a", "b"]), stamps),
        merge_op(crdt.lww_merge),
    ),
    max_size=25,
)
LWW_INITIAL = crdt.lww_tombstone("", 0.0)


# ---------------------------------------------------------------- multi-value


def _mv_apply(state: crdt.State, op: Op, i: int) -> crdt.State:
    kind, _, value, ts, with_context = op
    actor = REPLICAS[i]  # one actor per replica: dots are unique, as the engine assumes
    context = dict(state["vv"]) if with_context else None
    if kind == "write":
        return crdt.mv_write(state, value, actor, ts, context)
    return crdt.mv_remove(state, context)


mv_ops = st.lists(
    st.one_of(
        st.tuples(st.just("write"), replica, values, stamps, st.booleans()),
        st.tuples(st.just("remove"), replica, st.none(), stamps, st.booleans()),
        merge_op(crdt.mv_merge),
    ),
    max_size=25,
)


# ---------------------------------------------------------------- PN-counter


def _pn_apply(state: crdt.State, op: Op, i: int) -> crdt.State:
    kind, _, delta, ts = op
    if kind == "add":
        return crdt.pn_add(state, delta, REPLICAS[i], ts)
    return crdt.pn_reset(state, ts)


deltas = st.one_of(st.integers(-50, 50), st.sampled_from([0.5, -1.25, 2.75]))
pn_ops = st.lists(
    st.one_of(
        st.tuples(st.just("add"), replica, deltas, stamps),
        st.tuples(st.just("reset"), replica, st.none(), stamps),
        merge_op(crdt.pn_merge),
    ),
    max_size=25,
)


CASES = {
    "lww": (lww_ops, LWW_INITIAL, _lww_apply),
    "multi_value": (mv_ops, crdt.mv_empty(), _mv_apply),
    "counter": (pn_ops, crdt.pn_empty(), _pn_apply),
}


def reachable(strategy: str) -> st.SearchStrategy[list[crdt.State]]:
    ops, initial, apply = CASES[strategy]
    return ops.map(lambda o: run(o, initial, apply))


@pytest.mark.parametrize("strategy", list(CASES))
def test_merge_is_commutative_associative_and_idempotent_on_reachable_states(
    strategy: str,
) -> None:
    @settings(max_examples=300, deadline=None)
    @given(reachable(strategy))
    def check(states: list[crdt.State]) -> None:
        x, y, z = states
        m = lambda a, b: crdt.merge(strategy, a, b)  # noqa: E731
        assert m(x, y) == m(y, x)
        assert m(m(x, y), z) == m(x, m(y, z))
        assert m(x, x) == x
        assert m(m(x, y), y) == m(x, y)
        assert crdt.view(strategy, m(x, y)) == crdt.view(strategy, m(y, x))

    check()


@pytest.mark.parametrize("strategy", list(CASES))
def test_replicas_that_exchange_states_converge_in_any_order(strategy: str) -> None:
    @settings(max_examples=150, deadline=None)
    @given(reachable(strategy), st.permutations(range(3)), st.permutations(range(3)))
    def check(states: list[crdt.State], order_a: list[int], order_b: list[int]) -> None:
        m = lambda a, b: crdt.merge(strategy, a, b)  # noqa: E731
        first = states[order_a[0]]
        for i in order_a[1:]:
            first = m(first, states[i])
        second = states[order_b[0]]
        for i in order_b[1:]:
            second = m(states[i], second)
        assert first == second

    check()


@pytest.mark.parametrize("strategy", list(CASES))
def test_every_operation_is_an_inflation_so_an_older_state_never_undoes_it(
    strategy: str,
) -> None:
    """A write, delete or merge absorbs every state it came from: stale imports are no-ops."""
    ops_strategy, initial, apply = CASES[strategy]

    @settings(max_examples=200, deadline=None)
    @given(ops_strategy)
    def check(ops: list[Op]) -> None:
        states = [initial] * len(REPLICAS)
        history: list[list[crdt.State]] = [[initial] for _ in REPLICAS]
        for op in ops:
            i = op[1]
            new = (
                apply(states[i], op, i)
                if op[0] != "merge"
                else crdt.merge(strategy, states[i], states[op[2]])
            )
            for old in history[i] + (history[op[2]] if op[0] == "merge" else []):
                assert crdt.merge(strategy, new, old) == new
            states[i] = new
            history[i].append(new)

    check()


# ---------------------------------------------------------------- specific guarantees


def test_lww_ties_on_timestamp_and_actor_pick_the_same_winner_in_any_order() -> None:
    writes = [crdt.lww_new(v, "agent", 7.0) for v in ("x", {"y": 1}, [1, 2], 3, None)]
    writes.append(crdt.lww_tombstone("agent", 7.0))
    winners = set()
    for order in itertools.permutations(writes):
        state = LWW_INITIAL
        for w in order:
            state = crdt.lww_merge(state, w)
        winners.add(crdt.content_hash(state))
    assert len(winners) == 1


def test_lww_an_older_write_arriving_late_changes_nothing() -> None:
    new = crdt.lww_new("new", "b", 10.0)
    assert crdt.lww_merge(new, crdt.lww_new("old", "z", 9.0)) is new
    assert crdt.lww_view(crdt.lww_merge(crdt.lww_new("old", "z", 9.0), new)).value == "new"


@settings(max_examples=200, deadline=None)
@given(mv_ops, st.integers(0, 10), values)
def test_a_write_with_a_context_replaces_exactly_the_siblings_it_saw(
    ops: list[Op], cut: int, value: Any
) -> None:
    """The context is taken at one moment; siblings that arrive later survive the write."""
    seen_state = run(ops[:cut], crdt.mv_empty(), _mv_apply)[0]
    later = run(ops, crdt.mv_empty(), _mv_apply)[0]
    current = crdt.mv_merge(later, seen_state)
    context = dict(seen_state["vv"])
    written = crdt.mv_write(current, value, "writer", 9.0, context)
    dots = {(s[0], s[1]) for s in written["s"]}
    survivors = {(s[0], s[1]) for s in current["s"] if s[1] > context.get(s[0], 0)}
    assert dots == survivors | {("writer", written["vv"]["writer"])}
    assert not any((s[0], s[1]) in dots for s in seen_state["s"])


def test_resolving_siblings_with_the_context_leaves_one_value() -> None:
    a = crdt.mv_write(crdt.mv_empty(), "option_a", "a", 1.0, None)
    b = crdt.mv_write(crdt.mv_empty(), "option_b", "b", 2.0, None)
    both = crdt.mv_merge(a, b)
    seen = crdt.mv_view(both)
    assert (seen.value, [c.value for c in seen.conflicts]) == ("option_b", ["option_a"])
    token = crdt.encode_context(both["vv"])
    resolved = crdt.mv_write(both, "chosen", "c", 3.0, crdt.decode_context(token))
    assert crdt.mv_view(resolved).conflicts == ()
    # the replicas that still hold the old siblings drop them on merge
    assert crdt.mv_view(crdt.mv_merge(a, resolved)).conflicts == ()
    assert crdt.mv_view(crdt.mv_merge(resolved, b)).value == "chosen"


def _pruned_mv_apply(cap: int) -> Callable[[crdt.State, Op, int], crdt.State]:
    def apply(state: crdt.State, op: Op, i: int) -> crdt.State:
        kind, _, value, ts, with_context = op
        context = dict(state["vv"]) if with_context else None
        if kind == "write":
            return crdt.mv_write(state, value, REPLICAS[i], ts, context, cap)
        return crdt.mv_remove(state, context)

    return apply


def _pruned_merge(cap: int) -> Callable[[crdt.State, crdt.State], crdt.State]:
    return lambda x, y: crdt.prune_siblings(crdt.mv_merge(x, y), cap)


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 3), st.data())
def test_pruned_siblings_stay_bounded_and_replicas_converge_after_full_exchange(
    cap: int, data: st.DataObject
) -> None:
    merge = _pruned_merge(cap)
    ops = data.draw(
        st.lists(
            st.one_of(
                st.tuples(st.just("write"), replica, values, stamps, st.booleans()),
                st.tuples(st.just("remove"), replica, st.none(), stamps, st.booleans()),
                st.tuples(st.just("merge"), replica, replica, st.just(merge)),
            ),
            max_size=30,
        )
    )
    states = run(ops, crdt.mv_empty(), _pruned_mv_apply(cap))
    order = data.draw(st.permutations(range(3)))
    for _round in range(3):  # exchange exports: every replica imports every other
        for i, j in itertools.product(order, order):
            states[i] = merge(states[i], states[j])
        assert all(len(s["s"]) <= cap for s in states)
    assert states[0] == states[1] == states[2]
    # and once converged, further exchange changes nothing
    assert merge(states[0], states[1]) == states[0]


def test_prune_keeps_the_newest_siblings_and_remembers_the_dropped_ones() -> None:
    state = crdt.mv_empty()
    for n, actor in enumerate("abcde"):
        state = crdt.mv_merge(state, crdt.mv_write(crdt.mv_empty(), n, actor, float(n), None))
    pruned = crdt.prune_siblings(state, 2)
    assert sorted(s[3] for s in pruned["s"]) == [3, 4]
    assert pruned["vv"] == state["vv"]
    # a replica that still holds a dropped sibling loses it on merge, it does not come back
    old = crdt.mv_write(crdt.mv_empty(), 0, "a", 0.0, None)
    assert crdt.mv_merge(old, pruned) == pruned


def test_counter_sums_per_actor_increments_and_decrements() -> None:
    a = crdt.pn_add(crdt.pn_add(crdt.pn_empty(), 5, "a", 1.0), -2, "a", 2.0)
    b = crdt.pn_add(crdt.pn_empty(), 3, "b", 1.5)
    merged = crdt.pn_merge(a, b)
    assert crdt.pn_view(merged).value == 6
    assert crdt.pn_merge(merged, a) == merged  # merging again counts nothing twice


def test_counter_delete_keeps_increments_it_did_not_see() -> None:
    a = crdt.pn_add(crdt.pn_empty(), 5, "a", 1.0)
    deleted = crdt.pn_reset(a, 2.0)
    concurrent = crdt.pn_add(a, 4, "b", 1.5)  # a replica that had a's 5, then added 4
    assert not crdt.pn_view(crdt.pn_merge(deleted, a)).exists
    assert crdt.pn_view(crdt.pn_merge(deleted, concurrent)).value == 4


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.dictionaries(st.sampled_from("opqrstu"), st.sampled_from([1.0, 2.0, 3.0]), max_size=5),
        min_size=3,
        max_size=3,
    ),
    st.integers(1, 4),
)
def test_applied_op_ids_merge_as_a_semilattice(ops: list[dict[str, float]], window: int) -> None:
    x, y, z = (crdt.merge_ops({}, o, window) for o in ops)
    m = lambda a, b: crdt.merge_ops(a, b, window)  # noqa: E731
    assert m(x, y) == m(y, x)
    assert m(m(x, y), z) == m(x, m(y, z))
    assert m(x, x) == x


# ---------------------------------------------------------------- clocks


def test_hlc_never_goes_backwards_when_the_wall_clock_steps_back() -> None:
    wall = [1_800_000_000.0]
    hlc = HybridLogicalClock(wall=lambda: wall[0])
    stamps_seen = [hlc.stamp()]
    for step in (-3600.0, 0.0, 0.0, 10.0, -86400.0, 5000.0, 0.0, 90_000.0):
        wall[0] += step
        stamps_seen.append(hlc.stamp())
    assert all(b > a for a, b in itertools.pairwise(stamps_seen))
    assert stamps_seen[-2] > 1_800_000_000.0 > wall[0] - 90_000.0  # ahead of the stepped-back wall
    assert stamps_seen[-1] == wall[0]  # and follows the wall clock again once it is ahead


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=1, max_size=40))
def test_hlc_stamps_strictly_increase_whatever_the_wall_clock_does(steps: list[float]) -> None:
    wall = [1_800_000_000.0]
    hlc = HybridLogicalClock(wall=lambda: wall[0])
    last = hlc.stamp()
    for step in steps:
        wall[0] += step
        now = hlc.stamp()
        assert now > last
        last = now


def test_hlc_orders_after_timestamps_it_observed_but_ignores_far_future_ones() -> None:
    clock = ManualClock(1_800_000_000.0)
    clock.observe(1_800_000_050.0)  # another writer's clock is 50 s ahead
    assert clock.stamp() > 1_800_000_050.0
    clock.observe(1_900_000_000.0)  # a bogus timestamp must not drag the clock along
    assert clock.stamp() < 1_800_001_000.0


def test_explicit_timestamps_are_honoured(make_manager: Callable[..., Any]) -> None:
    manager = make_manager()
    manager.store("agent/1/progress", "step1", timestamp=100.0)
    assert manager.retrieve_entry("agent/1/progress").updated_at == 100.0
    manager.store("agent/1/progress", "step2", timestamp=200.0)
    manager.store("agent/1/progress", "late", timestamp=150.0)  # older: changes nothing
    entry = manager.retrieve_entry("agent/1/progress")
    assert (entry.value, entry.updated_at) == ("step2", 200.0)
    # the clock is not dragged to the caller's timestamps: local writes still use now
    manager.store("agent/2/progress", "x")
    assert manager.retrieve_entry("agent/2/progress").updated_at >= manager.clock.now()


def test_hlc_stamps_still_increase_where_a_microsecond_is_below_float_precision() -> None:
    hlc = HybridLogicalClock(wall=lambda: 1e12)
    first, second, third = hlc.stamp(), hlc.stamp(), hlc.stamp()
    assert first < second < third


@pytest.mark.parametrize(
    "token",
    ["vv1.eyJhIjp0cnVlfQ", "vv1.eyJhIjotMX0", "vv1.W10", "abc", "vv1.!!!"],
    ids=["bool-counter", "negative", "not-an-object", "no-prefix", "not-base64"],
)
def test_a_context_token_that_retrieve_could_not_have_returned_is_rejected(token: str) -> None:
    with pytest.raises(ValueError, match="invalid context for key 'shared/x'"):
        crdt.decode_context(token, "shared/x")


def test_a_context_token_round_trips() -> None:
    vv = {"b": 3, "a": 1}
    assert crdt.decode_context(crdt.encode_context(vv)) == vv
