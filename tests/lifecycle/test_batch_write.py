"""The batch path (``entries.batch_write``) against the general rules: the same batches
through ``store_many`` with the batch path on and off, on two real SQLite files with
the same replica id and clocks that agree, and everything observable compared: every
column of every row, the change log, the op ids, the full-text index term by term, what
the caller is handed back, what reads and searches see, and the error (and the
untouched store) when an entry is bad."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lifecycle import ManualClock
from lifecycle.entries.write_request import WriteRequest
from lifecycle.errors import LifecycleError
from lifecycle.store.sqlite.transaction import SQLiteTransaction
from tests.support.write_pairs import ManagerPair, observed

POLICIES = """
namespaces:
  - {namespace: "reg/*", ttl_seconds: 60, cleanup_strategy: manual, conflict_strategy: lww}
  - {namespace: "big/*", ttl_seconds: 0, cleanup_strategy: manual, conflict_strategy: lww,
     compression_enabled: true, compression_threshold_bytes: 64}
  - {namespace: "mv/*", ttl_seconds: 60, cleanup_strategy: manual, conflict_strategy: multi_value}
  - {namespace: "cnt/*", ttl_seconds: 60, cleanup_strategy: manual, conflict_strategy: counter}
settings:
  tombstone_grace_seconds: 100
"""
START = 1_800_000_000.0


class Pair(ManagerPair):
    """The batch path on in ``fast``, off in ``general``."""

    def __init__(self, tmp: Path) -> None:
        super().__init__(tmp, POLICIES, START)

    def store_many(self, items: list[dict[str, Any]]) -> None:
        """Both sides, the outcome (results or error) compared, then the stores. The
        general side is handed ``WriteRequest``s, so a bare ``{key, value}`` dict (which
        ``store_many`` prepares without one) is compared with its request too: the same
        results, the same error for a bad item."""
        outcomes = []
        for side, m in enumerate(self.managers):
            try:
                if side == 0:
                    results = m.store_many(items)
                else:
                    requests = [
                        WriteRequest.from_mapping(item, f"entries[{i}]")
                        for i, item in enumerate(items)
                    ]
                    results = m.store_many(requests)
                outcomes.append(("ok", [r.to_dict() for r in results]))
            except LifecycleError as error:
                fields = (error.message, error.key, error.namespace, error.path)
                outcomes.append(("error", (type(error).__name__, str(error), fields)))
        assert outcomes[0] == outcomes[1]
        self.check()

    def delete(self, key: str) -> None:
        assert self.managers[0].delete(key) == self.managers[1].delete(key)

    def check(self) -> None:
        fast, general = (observed(path) for path in self.paths)
        for name in fast:
            assert fast[name] == general[name], name
        for word in ("alpha", "beta", "reg", "notes"):
            found = [m.search(word, limit=50) for m in self.managers]
            assert found[0] == found[1]
        keys = [r[1] for r in fast["entries"]]
        for key in keys:
            entries = [m.retrieve_entry(key) for m in self.managers]
            assert entries[0] == entries[1]


@contextmanager
def pair(tmp: Path) -> Iterator[Pair]:
    p = Pair(tmp)
    try:
        yield p
    finally:
        p.close()


WORDS = st.sampled_from(["alpha", "beta", "gamma", "Ünïcode", "x" * 130, "alpha beta"])
VALUES = st.one_of(
    st.integers(-5, 5),
    WORDS,
    st.dictionaries(st.sampled_from(["a", "b", "status"]), WORDS, max_size=3),
    st.lists(WORDS, max_size=3),
    WORDS.map(lambda w: {"blob": w * 8}),  # over big/*'s compression threshold
)
KEYS = st.sampled_from(
    ["notes/a", "notes/b", "reg/a", "reg/b", "big/a", "mv/a", "cnt/a", "notes/a/b"]
)


@st.composite
def items(draw: st.DrawFn) -> dict[str, Any]:
    key = draw(KEYS)
    item: dict[str, Any] = {"key": key, "value": draw(VALUES)}
    if key.startswith("cnt/"):
        item["value"] = draw(st.integers(-3, 3))
    extra = draw(
        st.sets(
            st.sampled_from(
                ["tags", "provenance_type", "ttl_seconds", "timestamp", "agent_id", "op_id"]
            ),
            max_size=3,
        )
    )
    if "tags" in extra:
        item["tags"] = draw(st.lists(st.sampled_from(["t1", "t2", "x y"]), max_size=2))
    if "provenance_type" in extra:
        item["provenance_type"] = draw(st.sampled_from(["tool_result", "user"]))
    if "ttl_seconds" in extra:
        item["ttl_seconds"] = draw(st.sampled_from([1, 30, 1000]))
    if "timestamp" in extra:  # older than what is stored (loses), or recent
        item["timestamp"] = START + draw(st.sampled_from([-1000.0, 0.0, 5.0, 50.0]))
    if "agent_id" in extra:
        item["agent_id"] = draw(st.sampled_from(["agent", "other"]))
    if "op_id" in extra:
        item["op_id"] = draw(st.sampled_from(["op-1", "op-2"]))
    if draw(st.integers(0, 30)) == 0:  # a bad entry: the whole batch is refused
        item["value"] = float("nan") if draw(st.booleans()) else {"x": object()}
    if draw(st.integers(0, 40)) == 0:  # a bad item: a bad key, no value, an unknown field
        bad = draw(st.sampled_from(["key", "no value", "field"]))
        if bad == "key":
            item["key"] = draw(st.sampled_from(["", "/notes", "a//b", "notes/.x", 7]))
        elif bad == "no value":
            del item["value"]
        else:
            item["colour"] = "red"
    return item


STEPS = st.lists(
    st.one_of(
        st.lists(items(), min_size=1, max_size=8).map(lambda b: ("batch", b)),
        st.sampled_from([1.0, 40.0, 2000.0]).map(lambda s: ("tick", s)),
        KEYS.map(lambda k: ("delete", k)),
    ),
    min_size=1,
    max_size=8,
)


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=STEPS)
def test_batches_write_what_the_general_rules_write(tmp_path: Path, steps: list[Any]) -> None:
    """New keys, existing ones (same value, new value, an older timestamp that loses),
    expired rows, tombstones, TTLs, duplicates in one batch, other strategies, op ids and
    bad entries, in any order: the two stores stay the same in every observable way."""
    tmp = tmp_path / f"run-{len(list(tmp_path.iterdir()))}"
    tmp.mkdir()
    with pair(tmp) as p:
        for kind, arg in steps:
            if kind == "batch":
                p.store_many(arg)
            elif kind == "tick":
                p.tick(arg)
            else:
                p.delete(arg)
                p.check()


TEXTS = st.sampled_from(
    [
        "alpha",
        "Beta gamma",
        "Ünïcode Straße",
        "x" * 130,
        "ok " + "y" * 129 + " fine",
        "nul\x00inside",
        "unit\x1fseparator",
        "tab\tnew\nline",
        "",
        "中文字",
        "a_b-c.d/e",
    ]
)
NEW_VALUES = st.recursive(
    st.one_of(st.integers(-5, 5), st.floats(allow_nan=False, allow_infinity=False), TEXTS),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(TEXTS, inner, max_size=3)),
    max_leaves=6,
)
PREFIXES = st.sampled_from(["notes/", "reg/", "big/", "notes/Ünï/", "notes/" + "k" * 130 + "/"])


@st.composite
def new_items(draw: st.DrawFn) -> list[dict[str, Any]]:
    """A batch of keys not written before (distinct: a counter in each), bare items
    mostly, with values of every kind the index and the encoder treat apart."""
    batch = []
    for _ in range(draw(st.integers(2, 12))):
        prefix = (
            draw(PREFIXES) if draw(st.integers(0, 9)) else draw(st.sampled_from(["cnt/", "mv/"]))
        )
        item: dict[str, Any] = {"key": f"{prefix}{next(_FRESH)}", "value": draw(NEW_VALUES)}
        if prefix == "cnt/":
            item["value"] = draw(st.integers(-3, 3))
        if draw(st.integers(0, 6)) == 0:
            item["tags"] = draw(st.lists(st.sampled_from(["t1", "x y"]), max_size=2))
        if draw(st.integers(0, 6)) == 0:
            item["ttl_seconds"] = draw(st.sampled_from([1, 1000]))
        batch.append(item)
    return batch


_FRESH = iter(range(10**9))


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batches=st.lists(new_items(), min_size=1, max_size=4))
def test_batches_of_new_keys_write_what_the_general_rules_write(
    tmp_path: Path, batches: list[list[dict[str, Any]]]
) -> None:
    """Batches of new keys only (the column path, ``_write_all_new``, when all of a
    batch is last-write-wins): index text of every kind (non-ASCII, NUL and the string
    separator inside strings, over-long tokens, long and non-ASCII keys), nested
    values, floats, tags, TTLs, compression; the same in every observable way."""
    tmp = tmp_path / f"run-{len(list(tmp_path.iterdir()))}"
    tmp.mkdir()
    with pair(tmp) as p:
        for batch in batches:
            p.store_many(batch)
            p.tick(1.0)


def test_a_load_of_new_keys_takes_the_batch_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The differential test above means something only if the batch path runs: a batch
    of new last-write-wins keys is written by ``insert_new_many``, all of it at once; in
    a mixed batch, a key written again in the batch, an existing key and another
    strategy are not written by ``insert_new``, the new ones are."""
    calls: list[str] = []
    original = SQLiteTransaction.insert_new

    def counted(self: SQLiteTransaction, key: str, *args: Any) -> int:
        calls.append(key)
        return original(self, key, *args)

    loads: list[list[str]] = []
    original_many = SQLiteTransaction.insert_new_many

    def counted_many(self: SQLiteTransaction, keys: Any, *args: Any, **kwargs: Any) -> Any:
        loads.append(list(keys))
        return original_many(self, keys, *args, **kwargs)

    batches: list[int] = []
    stamp_many = ManualClock.stamp_many

    def counted_stamps(self: ManualClock, n: int) -> list[float]:
        batches.append(n)
        return stamp_many(self, n)

    monkeypatch.setattr(SQLiteTransaction, "insert_new", counted)
    monkeypatch.setattr(SQLiteTransaction, "insert_new_many", counted_many)
    monkeypatch.setattr(ManualClock, "stamp_many", counted_stamps)
    with pair(tmp_path) as p:
        p.store_many([{"key": f"notes/n{i}", "value": {"alpha": i}} for i in range(50)])
        assert loads == [[f"notes/n{i}" for i in range(50)]] and calls == []
        assert batches == [50]  # all new: the batch's stamps at once
        assert set(observed(p.paths[0])["types"]) == {
            ("blob", "null", "null", "null", "integer", "real", "text", "text")
        }
        p.store_many(
            [
                {"key": "notes/n1", "value": 2},  # exists
                {"key": "notes/new", "value": 1, "tags": ["t1"], "ttl_seconds": 5},
                {"key": "notes/new", "value": 2},  # again in the batch
                {"key": "mv/new", "value": 1},
                {"key": "reg/new", "value": "beta", "provenance_type": "user"},
            ]
        )
        assert calls == ["notes/new", "reg/new"] and len(loads) == 1
        assert batches == [50]  # not all new: a stamp per write, in order
        # all new, with what the column path handles besides: tags, provenance, TTLs, a
        # given timestamp, another agent, compression, several policies
        p.store_many(
            [
                {"key": "reg/t1", "value": "alpha", "tags": ["t1", "x y"], "ttl_seconds": 30},
                {"key": "big/t2", "value": {"blob": "beta" * 40}, "provenance_type": "user"},
                {"key": "notes/t3", "value": [1, 2.5], "timestamp": START - 5.0},
                {"key": "notes/t4", "value": None, "agent_id": "other"},
                {"key": "reg/t5", "value": "gamma", "ttl_seconds": 1000},
            ]
        )
        assert len(loads) == 2 and calls == ["notes/new", "reg/new"]
        assert batches == [50, 4]


def test_a_bad_entry_refuses_the_batch_on_the_batch_path(tmp_path: Path) -> None:
    """An entry that fails its checks refuses the whole batch before anything is written,
    with the error naming it, as the general path does."""
    with pair(tmp_path) as p:
        p.store_many([{"key": "notes/a", "value": 1}, {"key": "notes/b", "value": float("inf")}])
        assert observed(p.paths[0])["entries"] == []
        with pytest.raises(LifecycleError, match="notes/b"):
            p.managers[0].store_many(
                [{"key": "notes/a", "value": 1}, {"key": "notes/b", "value": float("nan")}]
            )


def test_a_batch_leaves_the_cyclic_collector_as_it_found_it(tmp_path: Path) -> None:
    """``store_many`` turns the collector off for a batch: on again after it, refused or
    not; left off if the caller had it off."""
    with pair(tmp_path) as p:
        m = p.managers[0]
        assert gc.isenabled()
        m.store_many([{"key": "notes/a", "value": 1}, {"key": "notes/b", "value": 2}])
        assert gc.isenabled()
        with pytest.raises(LifecycleError):
            m.store_many([{"key": "notes/c", "value": 1}, {"key": "notes/d", "value": {1}}])
        assert gc.isenabled()
        gc.disable()
        try:
            m.store_many([{"key": "notes/e", "value": 1}, {"key": "notes/f", "value": 2}])
            assert not gc.isenabled()
        finally:
            gc.enable()
        assert [m.retrieve(k) for k in ("notes/b", "notes/c", "notes/f")] == [2, None, 2]
