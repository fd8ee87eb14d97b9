"""Policy matching, the default policy, and policy changes applying to stored entries."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from lifecycle import CleanupStrategy, ConflictStrategy, ManualClock, MemoryLifecycleManager
from lifecycle.policies.file import load_policies, parse_policies
from lifecycle.policies.retention import builtin_policies
from tests.support.env import REPO

MakeManager = Callable[..., MemoryLifecycleManager]


def _policy(ns: str, ttl: int = 60, cleanup: str = "lazy", conflict: str = "lww") -> str:
    return (
        f'  - namespace: "{ns}"\n    ttl_seconds: {ttl}\n    cleanup_strategy: {cleanup}\n'
        f"    conflict_strategy: {conflict}\n"
    )


def test_exact_pattern_beats_any_glob() -> None:
    policies = parse_policies(
        "namespaces:\n" + _policy("task/*/status", 1) + _policy("task/7/status", 2)
    )
    assert policies.match("task/7/status").ttl_seconds == 2
    assert policies.match("task/8/status").ttl_seconds == 1


def test_glob_with_more_literal_characters_wins() -> None:
    policies = parse_policies("namespaces:\n" + _policy("task/*", 1) + _policy("task/*/status", 2))
    assert policies.match("task/1/status").namespace == "task/*/status"
    assert policies.match("task/1/log").namespace == "task/*"


def test_star_matches_across_slashes_and_ties_go_to_file_order() -> None:
    policies = parse_policies("namespaces:\n" + _policy("a/*", 1) + _policy("*/b", 2))
    assert policies.match("a/x/y/z").ttl_seconds == 1
    assert policies.match("a/b").ttl_seconds == 1  # both have 2 literal chars: file order


def test_prefix_only_policies_match_as_the_general_rules_do() -> None:
    """Sets of exact names and ``prefix*`` globs are matched by string comparison; the
    answer must be the regex rules' for every key, ranks and exact names included."""
    policies = parse_policies(
        "namespaces:\n"
        + _policy("task/*", 1)
        + _policy("task/7/*", 2)
        + _policy("task/7/status", 3)
        + _policy("t*", 4)
        + _policy("notes", 5)
    )
    assert policies.match.__wrapped__ == policies._match_prefix  # type: ignore[attr-defined]
    keys = ["task/7/status", "task/7/x", "task/8", "task", "t", "tx/y", "notes", "notes/a", "x"]
    for key in keys:
        assert policies.match(key) is policies._match(key), key  # type: ignore[attr-defined]
    assert [policies.match(k).ttl_seconds for k in keys[:5]] == [3, 2, 1, 4, 4]
    # a batch's match: the same answers, without filling the cache
    before = policies.match.cache_info().currsize  # type: ignore[attr-defined]
    assert [policies.match_batch(k) for k in keys] == [policies._match(k) for k in keys]  # type: ignore[attr-defined]
    assert [policies.match_batch(k) for k in ["task/9", "zz"]] == [
        policies.match(k) for k in ["task/9", "zz"]
    ]
    assert policies.match.cache_info().currsize == before + 2  # type: ignore[attr-defined]
    regex = parse_policies("namespaces:\n" + _policy("a/*/b", 1))
    assert regex.match_batch == regex.match  # (regex patterns: through the cache)
    # a whole batch's match: the same answers, exact names in the batch or not
    before = policies.match.cache_info().currsize  # type: ignore[attr-defined]
    for batch in (keys, ["x", "y/z", "zz"], ["task/1", "q"], ["notes", "a"]):
        assert policies.match_many(batch) == [policies._match(k) for k in batch]  # type: ignore[attr-defined]
    assert policies.match.cache_info().currsize == before  # type: ignore[attr-defined]
    assert regex.match_many(["a/x/b", "a/b"]) == [regex.match("a/x/b"), regex.match("a/b")]
    bare = parse_policies("namespaces:\n" + _policy("notes", 5))  # no glob at all
    assert bare.match_many(["notes", "x"]) == [bare.match("notes"), bare.default]


def test_unmatched_key_gets_builtin_default_that_never_expires() -> None:
    policy = builtin_policies().match("something/else")
    assert policy.namespace == "default"
    assert policy.ttl_seconds == 0
    assert policy.conflict_strategy == ConflictStrategy.LAST_WRITE_WINS
    assert policy.cleanup_strategy == CleanupStrategy.MANUAL


def test_yaml_default_section_replaces_builtin_default() -> None:
    policies = parse_policies(
        "default:\n  ttl_seconds: 30\n  cleanup_strategy: scheduled\n  conflict_strategy: counter\n"
    )
    policy = policies.match("anything")
    assert (policy.ttl_seconds, policy.cleanup_strategy.value) == (30, "scheduled")
    assert policy.conflict_strategy == ConflictStrategy.COUNTER


def test_builtin_policies_are_the_seeds_plus_metrics() -> None:
    by_name = {p.namespace: p for p in builtin_policies().policies}
    assert by_name["coordination/*"].ttl_seconds == 3600
    assert by_name["session/*"].cleanup_strategy == CleanupStrategy.LAZY
    assert by_name["swarm/shared/*"].conflict_strategy == ConflictStrategy.MULTI_VALUE
    assert by_name["swarm/agent/state/*"].ttl_seconds == 7 * 86400
    assert by_name["knowledge/*"].ttl_seconds == 0
    assert by_name["metrics/*"].conflict_strategy == ConflictStrategy.COUNTER


def test_shipped_policy_file_says_the_same_as_the_builtins() -> None:
    shipped = REPO / ".claude" / "memory-retention-policies.yaml"
    assert load_policies(shipped).fingerprint == builtin_policies().fingerprint


def test_stats_count_entries_per_matched_pattern(make_manager: MakeManager) -> None:
    m = make_manager()
    m.store("coordination/a", 1)
    m.store("coordination/b/c", 1)
    m.store("misc/thing", 1)
    counts = m.get_stats()["namespace_counts"]
    assert counts["coordination/*"] == 2
    assert counts["default"] == 1
    assert counts["knowledge/*"] == 0


def test_shortened_ttl_applies_to_stored_entries(
    make_manager: MakeManager, clock: ManualClock, tmp_path: Path
) -> None:
    m = make_manager(policies="namespaces:\n" + _policy("coordination/*", 3600))
    m.store("coordination/a", "v")
    clock.tick(120)
    assert m.retrieve("coordination/a") == "v"
    (tmp_path / "store-policies.yaml").write_text("namespaces:\n" + _policy("coordination/*", 60))
    assert m.reload_policies() is True
    assert m.retrieve("coordination/a") is None


def test_policy_change_is_seen_by_a_manager_opened_later(
    make_manager: MakeManager, clock: ManualClock, tmp_path: Path
) -> None:
    m = make_manager(policies="namespaces:\n" + _policy("jobs/*", 0, "scheduled"))
    m.store("jobs/1", "v")
    m.close()
    clock.tick(100)
    policy_file = tmp_path / "store-policies.yaml"
    policy_file.write_text("namespaces:\n" + _policy("jobs/*", 10, "scheduled"))
    with MemoryLifecycleManager(
        memory_dir=tmp_path / "store", policy_file=policy_file, clock=clock
    ) as again:
        stats = again.get_stats()
        assert stats["expired_pending"] == 1
        assert again.cleanup()["by_namespace"] == {"jobs/*": 1}


def test_per_call_ttl_overrides_policy_and_survives_policy_change(
    make_manager: MakeManager, clock: ManualClock, tmp_path: Path
) -> None:
    m = make_manager(policies="namespaces:\n" + _policy("coordination/*", 3600))
    m.store("coordination/short", "v", ttl_seconds=5)
    m.store("coordination/long", "v")
    (tmp_path / "store-policies.yaml").write_text("namespaces:\n" + _policy("coordination/*", 7200))
    m.reload_policies()
    clock.tick(10)
    assert m.retrieve("coordination/short") is None
    assert m.retrieve("coordination/long") == "v"


def test_namespace_argument_joins_once(make_manager: MakeManager) -> None:
    m = make_manager()
    m.store("status", "up", namespace="coordination")
    assert m.retrieve("coordination/status") == "up"
    m.store("coordination/status", "down", namespace="coordination/*")
    assert m.retrieve("status", namespace="coordination") == "down"
    assert [e["key"] for e in m.list()["entries"]] == ["coordination/status"]
    assert m.delete("status", namespace="coordination") is True


def test_a_validated_policy_file_is_cached_so_later_processes_skip_pydantic(
    project: Path, tmp_path: Path
) -> None:
    import subprocess
    import sys

    from tests.support.env import child_env

    shipped = REPO / ".claude" / "memory-retention-policies.yaml"
    policy_file = tmp_path / "policies.yaml"
    policy_file.write_text(shipped.read_text())
    probe = (
        "import sys; from lifecycle import MemoryLifecycleManager as M; "
        f"m = M(memory_dir={str(tmp_path / 'm')!r}, policy_file={str(policy_file)!r}); "
        "print(m.get_policy('coordination/x').ttl_seconds, 'pydantic' in sys.modules)"
    )
    runs = [
        subprocess.run(
            [sys.executable, "-c", probe], env=child_env(), capture_output=True, text=True
        ).stdout.split()
        for _ in range(2)
    ]
    assert runs == [["3600.0", "True"], ["3600.0", "False"]]
    policy_file.write_text(shipped.read_text().replace("ttl_seconds: 3600", "ttl_seconds: 60", 1))
    edited = subprocess.run(
        [sys.executable, "-c", probe], env=child_env(), capture_output=True, text=True
    )
    assert edited.stdout.split() == ["60.0", "True"]  # an edit is validated again


def test_retention_policy_is_a_validated_dataclass() -> None:
    import pytest

    from lifecycle import PolicyError, RetentionPolicy

    policy = RetentionPolicy("jobs/*", 60, "lazy", "counter")  # type: ignore[arg-type]
    assert policy.cleanup_strategy == CleanupStrategy.LAZY
    assert policy.expires_at(100.0) == 160.0 and policy.expires_at(100.0, 0) is None
    assert policy.should_compress(2000) and not policy.should_compress(10)
    with pytest.raises(PolicyError):
        RetentionPolicy("jobs/*", -1, "lazy", "lww")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        RetentionPolicy("jobs/*", 1, "sometimes", "lww")  # type: ignore[arg-type]
