"""docs/counters.md says what the engine does: its range, its refusals (word for word)
and its example."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from lifecycle import InvalidValueError, MemoryLifecycleManager
from lifecycle.entries.crdt import COUNTER_LIMIT
from tests.support.env import REPO

DOC = (REPO / "docs" / "counters.md").read_text()


def test_the_documented_range_is_the_engines() -> None:
    assert f"±{COUNTER_LIMIT:,}" in DOC and "(2⁶³ \u2212 1)" in DOC
    assert COUNTER_LIMIT == 2**63 - 1


def test_the_documented_refusals_are_the_engines_words(
    make_manager: Callable[..., MemoryLifecycleManager],
) -> None:
    m = make_manager()
    m.store("metrics/n", COUNTER_LIMIT)
    with pytest.raises(InvalidValueError) as past_the_end:
        m.store("metrics/n", 1)
    with pytest.raises(InvalidValueError) as too_big:
        m.store("metrics/n", 1e19)
    flat = " ".join(DOC.split())
    assert str(past_the_end.value) in flat
    assert str(too_big.value).split(": ", 1)[1].replace("1e+19", "") in flat
    assert m.retrieve("metrics/n") == COUNTER_LIMIT  # nothing was changed


def test_the_documented_example_runs_as_commented(
    make_manager: Callable[..., MemoryLifecycleManager],
) -> None:
    m = make_manager()
    example = re.search(r"```python\n(.*?)```", DOC, flags=re.DOTALL)
    assert example is not None
    lines = example.group(1).splitlines()
    for line in lines[:2]:
        exec(line, {"m": m})
    assert m.retrieve("metrics/requests") == 2**63 - 1
    with pytest.raises(InvalidValueError, match="would leave the range"):
        exec(lines[2], {"m": m})
    assert m.retrieve("metrics/requests") == 2**63 - 1
    exec(lines[3], {"m": m})
    assert m.retrieve("metrics/requests") is None
