"""Bad input gets a clear error naming what is wrong, and changes nothing."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import pytest

from lifecycle import (
    InvalidContextError,
    InvalidKeyError,
    InvalidValueError,
    LifecycleError,
    MemoryLifecycleManager,
    PolicyError,
    ValueTooLargeError,
)

MakeManager = Callable[..., MemoryLifecycleManager]


@pytest.mark.parametrize(
    ("key", "fragment"),
    [
        ("", "1-512 characters"),
        ("a//b", "empty path segment; use 'a/b'"),
        ("/a", "empty path segment"),
        ("a/", "empty path segment"),
        ("a/./b", "segment '.'"),
        ("a/../b", "segment '..'"),
        ("a\nb", "control character"),
        ("a\x00b", "control character"),
        ("k" * 513, "513 characters"),
    ],
)
def test_bad_keys_are_rejected_with_the_rule(
    make_manager: MakeManager, key: str, fragment: str
) -> None:
    m = make_manager()
    with pytest.raises(InvalidKeyError) as err:
        m.store(key, 1)
    assert fragment in str(err.value)
    assert isinstance(err.value, ValueError) and isinstance(err.value, LifecycleError)
    assert m.get_stats()["total_entries"] == 0


def test_non_string_key_is_rejected(make_manager: MakeManager) -> None:
    with pytest.raises(InvalidKeyError, match="must be a string"):
        make_manager().store(123, 1)  # type: ignore[arg-type]


def test_longest_allowed_key_is_accepted(make_manager: MakeManager) -> None:
    m = make_manager()
    key = "a/" + "k" * 510
    m.store(key, 1)
    assert m.retrieve(key) == 1


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        (math.nan, "nan"),
        (math.inf, "inf"),
        ({"x": [1, -math.inf]}, "value['x'][1]"),
        ({1: "a"}, "non-string key 1"),
        ({"s": {1, 2}}, "is a set"),
        (b"bytes", "is a bytes"),
        (object(), "not JSON"),
    ],
)
def test_non_json_values_are_rejected_and_nothing_changes(
    make_manager: MakeManager, value: object, fragment: str
) -> None:
    m = make_manager()
    m.store("knowledge/x", "original")
    with pytest.raises(InvalidValueError) as err:
        m.store("knowledge/x", value)
    assert fragment in str(err.value)
    assert "knowledge/x" in str(err.value)
    assert m.retrieve("knowledge/x") == "original"


def test_oversize_value_is_rejected_with_the_limit(make_manager: MakeManager) -> None:
    m = make_manager(policies="settings:\n  max_value_bytes: 1000\n")
    m.store("coordination/a", "small")
    with pytest.raises(ValueTooLargeError, match="over the limit of 1000 bytes"):
        m.store("coordination/a", "x" * 1000)
    assert m.retrieve("coordination/a") == "small"


def test_default_limit_is_one_mebibyte(make_manager: MakeManager) -> None:
    m = make_manager()
    m.store("blob/ok", "x" * (1024 * 1024 - 2))  # plus two quotes: exactly 1 MiB
    with pytest.raises(ValueTooLargeError):
        m.store("blob/too-big", "x" * (1024 * 1024 - 1))


def test_counter_rejects_non_numbers(make_manager: MakeManager) -> None:
    m = make_manager()
    m.store("metrics/c", 2)
    for bad in ("3", True, None, [1]):
        with pytest.raises(InvalidValueError, match="not a number"):
            m.store("metrics/c", bad)
    assert m.retrieve("metrics/c") == 2


@pytest.mark.parametrize(
    ("field", "value"),
    [("ttl_seconds", -1), ("timestamp", math.nan), ("ttl_seconds", "10"), ("timestamp", True)],
)
def test_bad_numbers_are_rejected(make_manager: MakeManager, field: str, value: object) -> None:
    m = make_manager()
    with pytest.raises(InvalidValueError, match=field):
        m.store("coordination/a", 1, **{field: value})  # type: ignore[arg-type]
    assert m.get_stats()["total_entries"] == 0


def test_bad_context_token_is_rejected(make_manager: MakeManager) -> None:
    m = make_manager()
    m.store("knowledge/k", "a")
    with pytest.raises(InvalidContextError, match="pass the 'context' value exactly"):
        m.store("knowledge/k", "b", context="not-a-token")
    assert m.retrieve_entry("knowledge/k").conflicts == ()  # type: ignore[union-attr]


def test_store_many_rejects_the_whole_batch_on_one_bad_item(make_manager: MakeManager) -> None:
    m = make_manager()
    with pytest.raises(InvalidKeyError):
        m.store_many([{"key": "a/1", "value": 1}, {"key": "a//2", "value": 2}])
    with pytest.raises(InvalidValueError, match="entries\\[1\\]"):
        m.store_many([{"key": "a/1", "value": 1}, {"key": "a/2"}])
    assert m.get_stats()["total_entries"] == 0


def test_bad_list_arguments(make_manager: MakeManager) -> None:
    m = make_manager()
    with pytest.raises(InvalidValueError, match="limit"):
        m.list(limit=0)
    with pytest.raises(InvalidValueError, match="cursor"):
        m.list(cursor="%%%")


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        (
            'namespaces:\n  - namespace: "a/*"\n    ttl_seconds: -5\n'
            "    cleanup_strategy: lazy\n    conflict_strategy: lww\n",
            ["policy 'a/*'", "ttl_seconds", "greater than or equal to 0"],
        ),
        (
            'namespaces:\n  - namespace: "a/*"\n    ttl_seconds: 5\n'
            "    cleanup_strategy: sometimes\n    conflict_strategy: lww\n",
            ["policy 'a/*'", "cleanup_strategy", "lazy"],
        ),
        (
            'namespaces:\n  - namespace: "a/*"\n    ttl_seconds: 5\n'
            "    cleanup_strategy: lazy\n    conflict_strategy: lww\n    colour: blue\n",
            ["policy 'a/*'", "colour", "unknown field"],
        ),
        (
            "namespaces:\n  - ttl_seconds: 5\n    cleanup_strategy: lazy\n"
            "    conflict_strategy: lww\n",
            ["policy #1", "namespace", "Field required"],
        ),
        ("namespaces: [\n", ["not valid YAML", "line"]),
        ("- just\n- a list\n", ["expected a mapping"]),
        ("default:\n  ttl_seconds: soon\n", ["policy 'default'", "ttl_seconds"]),
        (
            'namespaces:\n  - {namespace: "a/*", ttl_seconds: .inf, cleanup_strategy: lazy, '
            "conflict_strategy: lww}\n",
            ["policy 'a/*'", "ttl_seconds", "finite number"],
        ),
        (
            'namespaces:\n  - {namespace: "a/*", ttl_seconds: true, cleanup_strategy: lazy, '
            "conflict_strategy: lww, compression_enabled: 'yes'}\n",
            ["ttl_seconds", "valid number", "compression_enabled", "valid boolean"],
        ),
        (
            'namespaces:\n  - {namespace: "a/*", ttl: 3}\n',
            ["field 'ttl': unknown field", "field 'ttl_seconds': Field required"],
        ),
        (
            'namespaces:\n  - {namespace: "a/*", ttl_seconds: 1, cleanup_strategy: lazy, '
            'conflict_strategy: lww}\n  - {namespace: "a/*", ttl_seconds: 2, '
            "cleanup_strategy: lazy, conflict_strategy: lww}\n",
            ["defined twice"],
        ),
    ],
)
def test_bad_policy_files_name_file_policy_and_field(
    tmp_path: Path, text: str, fragments: list[str]
) -> None:
    policy_file = tmp_path / "bad.yaml"
    policy_file.write_text(text)
    with pytest.raises(PolicyError) as err:
        MemoryLifecycleManager(memory_dir=tmp_path / "m", policy_file=policy_file)
    message = str(err.value)
    assert str(policy_file) in message
    for fragment in fragments:
        assert fragment in message


def test_missing_explicit_policy_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="policy file not found"):
        MemoryLifecycleManager(memory_dir=tmp_path / "m", policy_file=tmp_path / "nope.yaml")


def test_broken_policy_edit_is_reported_and_keeps_data(
    make_manager: MakeManager, clock: object, tmp_path: Path
) -> None:
    m = make_manager(policies="namespaces: []\n")
    m.store("knowledge/a", 1)
    (tmp_path / "store-policies.yaml").write_text("namespaces: {{{\n")
    with pytest.raises(PolicyError):
        m.reload_policies()
    assert m.retrieve("knowledge/a") == 1


def test_a_broken_edit_under_a_running_manager_keeps_the_last_good_policies(
    make_manager: MakeManager, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import lifecycle.policy_watch as policy_watch

    monkeypatch.setattr(policy_watch, "RECHECK_SECONDS", 0.0)
    good = 'namespaces:\n  - {namespace: "jobs/*", ttl_seconds: 60, cleanup_strategy: lazy, '
    good += "conflict_strategy: counter}\n"
    m = make_manager(policies=good)
    m.store("jobs/n", 1)
    policy_file = tmp_path / "store-policies.yaml"
    policy_file.write_text("namespaces: {{{\n")
    m.store("jobs/n", 2)  # still served, still a counter
    assert m.retrieve("jobs/n") == 3
    assert "not valid YAML" in (m.get_stats()["policy_error"] or "")
    policy_file.write_text(good.replace("60", "120"))
    assert m.get_policy("jobs/x").ttl_seconds == 120
    assert m.get_stats()["policy_error"] is None


def test_timestamps_in_milliseconds_or_absurdly_far_ahead_are_rejected(
    make_manager: MakeManager, clock
) -> None:
    m = make_manager()
    m.store("agent/1/progress", "now")
    with pytest.raises(InvalidValueError, match="not milliseconds"):
        m.store("agent/1/progress", "forever", timestamp=1e20)
    with pytest.raises(InvalidValueError, match="not milliseconds"):
        m.store("agent/1/progress", "in ms", timestamp=clock.time * 1000)
    m.store("agent/1/progress", "soon", timestamp=clock.time + 60)  # skew is fine
    assert m.retrieve("agent/1/progress") == "soon"
