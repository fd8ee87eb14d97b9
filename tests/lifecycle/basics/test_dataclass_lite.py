"""Records behave as the dataclasses they replaced: fields in order, equality, hashing,
immutability, ``asdict``, ``replace``, copies and pickles."""

from __future__ import annotations

import copy
import pickle

import pytest

from lifecycle import Conflict, MemoryEntry, PolicySet, RetentionPolicy, StoreResult
from lifecycle.basics.dataclass_lite import asdict, replace
from lifecycle.gc import CleanupReport
from lifecycle.policies.retention import BUILTIN_POLICIES
from lifecycle.store.base import Row


def _entry(**changes: object) -> MemoryEntry:
    fields: dict[str, object] = {
        "key": "k",
        "value": {"a": [1, {"b": 2}]},
        "policy": "*",
        "strategy": "multi_value",
        "actor": "me",
        "created_at": 1.0,
        "updated_at": 2.0,
        "expires_at": None,
        "compressed": False,
        "size_bytes": 10,
        "stored_bytes": 10,
        "conflicts": (Conflict("x", "you", 1.5),),
        **changes,
    }
    return MemoryEntry(**fields)  # type: ignore[arg-type]


def test_fields_keep_their_declared_order_in_repr_and_asdict() -> None:
    entry = _entry()
    assert list(asdict(entry)) == [
        "key", "value", "policy", "strategy", "actor", "created_at", "updated_at",
        "expires_at", "compressed", "size_bytes", "stored_bytes", "conflicts", "context",
        "tags", "revision", "provenance_type",
    ]  # fmt: skip
    assert repr(entry).startswith("MemoryEntry(key='k', value={'a': [1, {'b': 2}]}, policy=")


def test_asdict_copies_nested_values_and_records() -> None:
    entry = _entry()
    out = entry.to_dict()
    assert out["conflicts"] == [{"value": "x", "actor": "you", "timestamp": 1.5}]
    out["value"]["a"][1]["b"] = 3
    assert entry.value == {"a": [1, {"b": 2}]}


def test_frozen_records_compare_hash_and_refuse_changes() -> None:
    a, b = Conflict("v", "me", 1.0), Conflict("v", "me", 1.0)
    assert a == b and hash(a) == hash(b) and a != Conflict("v", "me", 2.0)
    assert a != ("v", "me", 1.0)
    with pytest.raises(AttributeError, match="frozen"):
        a.actor = "you"  # type: ignore[misc]
    with pytest.raises(AttributeError, match="frozen"):
        del a.actor  # type: ignore[misc]


def test_mutable_records_change_and_are_unhashable() -> None:
    report = CleanupReport()
    report.deleted_count = 3
    assert report.by_namespace == {} and report.deleted_keys == []
    assert report != CleanupReport() and report == CleanupReport(deleted_count=3)
    with pytest.raises(TypeError):
        hash(report)
    with pytest.raises(AttributeError):
        report.no_such_field = 1  # type: ignore[attr-defined]  # slots: no stray attributes


def test_replace_goes_through_init() -> None:
    result = StoreResult("k", "*", "lww", None, False, 1, True)
    assert replace(result, revision=7) == StoreResult(
        "k", "*", "lww", None, False, 1, True, revision=7
    )
    with pytest.raises(TypeError, match="no field 'nope'"):
        replace(result, nope=1)
    with pytest.raises(Exception, match="namespace"):
        replace(BUILTIN_POLICIES[0], namespace="")  # __post_init__ checks run again


def test_records_copy_and_pickle_whole() -> None:
    row = Row("k", "*", "lww", "lazy", "json", b"1", 1, 1.0, 1.0, None, None, "me", tags=("t",))
    policies = PolicySet(BUILTIN_POLICIES)
    for original in (_entry(), row, policies, RetentionPolicy("a/*", 60, "lazy", "lww")):
        for twin in (
            copy.copy(original),
            copy.deepcopy(original),
            pickle.loads(pickle.dumps(original)),
        ):
            assert twin == original and twin is not original
    assert (
        pickle.loads(pickle.dumps(policies)).match("coordination/x").namespace == "coordination/*"
    )
