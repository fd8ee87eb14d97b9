"""``HybridLogicalClock.stamp_many`` against ``stamp``: a batch's stamps are the ones a
``stamp`` per write gives while the wall reads the same, and later stamps order after."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from lifecycle import HybridLogicalClock


def _twins(wall: float, last: float) -> tuple[HybridLogicalClock, HybridLogicalClock]:
    clocks = (HybridLogicalClock(wall=lambda: wall), HybridLogicalClock(wall=lambda: wall))
    for clock in clocks:
        clock.observe(last)
    return clocks


@settings(max_examples=200, deadline=None)
@given(
    wall=st.one_of(
        st.floats(1.0, 4e9),
        st.sampled_from([1_800_000_000.0, 9.5e9, 2.0**53, 1e16]),  # (past ~9e9: nextafter)
    ),
    behind=st.sampled_from([0.0, -1e-6, -0.5, 1e-7, 3.0, 250.0]),
    n=st.integers(0, 40),
)
def test_a_batch_of_stamps_is_what_single_stamps_give(wall: float, behind: float, n: int) -> None:
    """With the last stamp behind, at or ahead of the wall (by up to the drift the clock
    observes), at magnitudes where a microsecond is below float spacing too."""
    batch, single = _twins(wall, wall + behind)
    stamps = batch.stamp_many(n)
    assert stamps == [single.stamp() for _ in range(n)]
    assert all(b > a for a, b in itertools.pairwise(stamps))
    after = batch.stamp()
    assert after == single.stamp()
    assert not stamps or after > stamps[-1]


def test_no_stamps_leave_the_clock_as_it_was() -> None:
    batch, single = _twins(1_800_000_000.0, 1_800_000_005.0)
    assert batch.stamp_many(0) == []
    assert batch.stamp() == single.stamp() == 1_800_000_005.000001
