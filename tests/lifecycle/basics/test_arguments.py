"""Call arguments other than keys and values: bounded, never coerced, never echoed unbounded."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from lifecycle import InvalidKeyError, InvalidValueError, MemoryLifecycleManager
from lifecycle.basics.arguments import MAX_TTL_SECONDS
from lifecycle.errors import clip

MakeManager = Callable[..., MemoryLifecycleManager]
HUGE_INT = 10**5000  # over Python's 4,300-digit limit for int <-> str


@pytest.mark.parametrize(
    "ttl", [1e300, MAX_TTL_SECONDS + 1, HUGE_INT], ids=["1e300", "101y", "huge"]
)
def test_a_ttl_over_a_century_is_refused_and_nothing_is_stored(
    make_manager: MakeManager, ttl: float
) -> None:
    m = make_manager()
    with pytest.raises(InvalidValueError) as caught:
        m.store("coordination/t", 1, ttl_seconds=ttl)
    message = str(caught.value)
    assert "ttl_seconds" in message and "coordination/t" in message
    assert "use 0 for an entry that never expires" in message or "finite" in message
    assert len(message) < 300
    assert m.retrieve("coordination/t") is None
    assert m.get_stats()["total_entries"] == 0  # and stats never meets an overflowing expiry


def test_a_century_ttl_is_still_accepted(make_manager: MakeManager) -> None:
    m = make_manager()
    assert m.put("coordination/t", 1, ttl_seconds=MAX_TTL_SECONDS).expires_at is not None


@pytest.mark.parametrize("field", ["ttl_seconds", "timestamp"])
def test_a_boolean_is_not_a_number_of_seconds(make_manager: MakeManager, field: str) -> None:
    m = make_manager()
    with pytest.raises(InvalidValueError, match=f"invalid {field} for key 'coordination/b'"):
        m.store("coordination/b", 1, **{field: True})
    assert m.retrieve("coordination/b") is None


def test_a_huge_integer_timestamp_is_refused_in_one_short_line(make_manager: MakeManager) -> None:
    m = make_manager()
    with pytest.raises(InvalidValueError) as caught:
        m.store("knowledge/t", 1, timestamp=HUGE_INT)
    assert "an integer of 5001 digits" in str(caught.value)


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"agent_id": "agent-\ud800"}, "invalid agent_id"),
        ({"op_id": "op-\udfff"}, "invalid op_id"),
        ({"agent_id": "a" * 100_000}, "invalid agent_id"),
        ({"op_id": "o" * 100_000}, "invalid op_id"),
    ],
)
def test_bad_agent_and_op_ids_are_refused_in_a_bounded_message(
    make_manager: MakeManager, kwargs: dict[str, str], fragment: str
) -> None:
    m = make_manager()
    with pytest.raises(InvalidValueError) as caught:
        m.store("knowledge/a", 1, **kwargs)
    assert fragment in str(caught.value)
    assert len(str(caught.value)) < 300
    str(caught.value).encode("utf-8")  # printable anywhere: no lone surrogate in the text
    assert m.retrieve("knowledge/a") is None


@pytest.mark.parametrize("key", ["knowledge/\ud800", "\udc00/x", "knowledge/a\udfffb"])
def test_a_key_with_a_lone_surrogate_is_an_invalid_key(make_manager: MakeManager, key: str) -> None:
    m = make_manager()
    with pytest.raises(InvalidKeyError, match=r"lone surrogate .* is not valid Unicode") as caught:
        m.store(key, 1)
    str(caught.value).encode("utf-8")
    assert m.get_stats()["total_entries"] == 0


def test_a_session_id_with_a_lone_surrogate_is_refused(make_manager: MakeManager) -> None:
    with pytest.raises(InvalidKeyError, match="invalid session id"):
        make_manager().delete_session("\ud800")


def test_a_bad_cursor_is_echoed_cut_short(make_manager: MakeManager) -> None:
    with pytest.raises(InvalidValueError) as caught:
        make_manager().list(cursor="!" * 100_000)
    assert "(100002 characters)" in str(caught.value)
    assert len(str(caught.value)) < 300


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("short", "'short'"),
        ("x" * 1000, "... (1002 characters)"),
        (HUGE_INT, "<an integer of 5001 digits>"),
        (-HUGE_INT, "<an integer of 5001 digits>"),
    ],
    ids=["short", "long", "huge", "-huge"],
)
def test_clip_shows_any_value_in_a_bounded_line(value: object, shown: str) -> None:
    text = clip(value)
    assert shown in text
    assert len(text) < 120


def test_clip_describes_a_value_too_deep_to_repr() -> None:
    deep: list = []
    for _ in range(100_000):
        deep = [deep]
    assert clip(deep) == "<a list that cannot be shown>"


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("metrics/x", "k" * 100_000),
        ("metrics/x", ["x"] * 50_000),
        ("metrics/x", {"a": "b" * 100_000}),
    ],
    ids=["long string", "long list", "big object"],
)
def test_a_rejected_value_is_echoed_cut_short(
    make_manager: MakeManager, key: str, value: object
) -> None:
    with pytest.raises(InvalidValueError) as caught:
        make_manager().store(key, value)
    assert "is not a number" in str(caught.value)
    assert len(str(caught.value)) < 300


def test_a_session_id_with_a_slash_is_echoed_cut_short(make_manager: MakeManager) -> None:
    with pytest.raises(InvalidKeyError) as caught:
        make_manager().delete_session("a/" + "b" * 100_000)
    assert "(100004 characters)" in str(caught.value)
