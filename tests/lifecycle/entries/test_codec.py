"""Values and the stored codec round-trip exactly (Hypothesis)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lifecycle import MemoryCompressor, MemoryLifecycleManager
from lifecycle.entries import codec

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5)
    ),
    max_leaves=25,
)


@given(json_values, st.booleans(), st.integers(min_value=0, max_value=200))
def test_codec_round_trips_any_json_document(value: Any, compress: bool, threshold: int) -> None:
    name, payload, raw_len = codec.encode(
        {"s": value}, compress=compress, threshold_bytes=threshold
    )
    assert name in codec.CODECS
    assert codec.decode(name, payload) == {"s": value}
    if name == codec.CODEC_GZIP:
        assert len(payload) < raw_len and raw_len > threshold and compress


@given(json_values)
def test_memory_compressor_round_trips(value: Any) -> None:
    compressor = MemoryCompressor()
    packed, was = compressor.compress(value, threshold_bytes=16)
    assert compressor.decompress(packed, was) == value


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=json_values, pad=st.integers(min_value=0, max_value=3000))
def test_store_then_retrieve_returns_the_same_value(
    make_manager: Callable[..., MemoryLifecycleManager], value: Any, pad: int
) -> None:
    m = make_manager("hyp")
    document = {"value": value, "pad": "ab" * pad}
    m.store("knowledge/hyp", document, context=_context(m))
    assert m.retrieve("knowledge/hyp") == document
    m.store("plain/hyp", value)
    assert m.retrieve("plain/hyp") == value


def _context(m: MemoryLifecycleManager) -> str | None:
    entry = m.retrieve_entry("knowledge/hyp")
    return entry.context if entry else None


def test_unicode_keys_and_values(make_manager: Callable[..., MemoryLifecycleManager]) -> None:
    m = make_manager()
    m.store("knowledge/日本語/ключ", {"emoji": "🧠", "text": "naïve"})
    assert m.retrieve("knowledge/日本語/ключ") == {"emoji": "🧠", "text": "naïve"}
    assert [e["key"] for e in m.list(prefix="knowledge/日本語")["entries"]] == [
        "knowledge/日本語/ключ"
    ]


# ---------------------------------------------------------------- decoding stored documents
# ``codec.decode`` reads the documents this engine writes (compact, starting with ``{``)
# with the C scanner alone; anything else must still decode, or fail, as ``json.loads``.


@pytest.mark.parametrize(
    "payload",
    [
        b'{"s":{"ts":1.5,"v":[1,2.5,"x"]},"t":null}',
        b' {"a": 1} ',
        b'{"a": 1}\n',
        b"[1, 2]",
        b'"text"',
        b'\xef\xbb\xbf{"a":1}',
        '{"\u00e9":"\U0001f600","e":"\\ud83d\\ude00"}'.encode(),
        '{"a":"x"}'.encode("utf-16"),
    ],
)
def test_decode_reads_a_json_document_as_json_loads_does(payload: bytes) -> None:
    assert codec.decode(codec.CODEC_JSON, payload) == json.loads(payload)


@pytest.mark.parametrize(
    "payload", [b'{"a":', b'{"a":1}x', b'{"a":1}{"b":2}', b"{\xff}", b'{"a":NaNx}', b""]
)
def test_decode_rejects_what_json_loads_rejects_with_its_message(payload: bytes) -> None:
    with pytest.raises(ValueError) as ours:
        codec.decode(codec.CODEC_JSON, payload)
    with pytest.raises(ValueError) as theirs:
        json.loads(payload)
    assert str(ours.value) == str(theirs.value)


@given(
    st.lists(
        json_values
        | st.dictionaries(st.text(max_size=5), st.text() | st.integers() | st.booleans()),
        max_size=6,
    ),
    st.integers(min_value=1, max_value=400),
)
def test_a_batch_serializes_as_its_values_do(values: list[Any], max_bytes: int) -> None:
    """``serialize_many`` is ``serialize_value`` of each value when every one succeeds;
    None when any would raise (the caller then raises it, value by value)."""
    each: list[bytes] | None = []
    for value in values:
        try:
            each.append(codec.serialize_value(value, "k", max_bytes))  # type: ignore[union-attr]
        except Exception:
            each = None
            break
    assert codec.serialize_many(values, max_bytes) == each


@pytest.mark.parametrize(
    "bad",
    [float("nan"), (1, 2), {1: "a"}, {"a": (1,)}, {"a": {1: 2}}, {"a": float("inf")}, {1}, b"x"],
)
def test_a_batch_with_a_value_that_is_not_plain_json_is_not_serialized(bad: Any) -> None:
    assert codec.serialize_many([{"a": 1}, bad], 10**6) is None
    assert codec.serialize_many([bad, {"a": 1}], 10**6) is None
    assert codec.serialize_many(["x", {"a": 1.5, "b": [1]}], 10**6) == [
        b'"x"',
        b'{"a":1.5,"b":[1]}',
    ]
