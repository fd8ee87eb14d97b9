"""Every example in the seed's usage sections behaves as it documents."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

from lifecycle import (
    CleanupStrategy,
    ConflictStrategy,
    CRDTResolver,
    MemoryCompressor,
    MemoryLifecycleManager,
)
from lifecycle.entries.crdt import lww_new


def test_basic_operations_store_retrieve_delete_cleanup_stats() -> None:
    manager = MemoryLifecycleManager()
    manager.store("coordination/agent1/progress", {"step": 1, "status": "running"})
    assert manager.retrieve("coordination/agent1/progress") == {"step": 1, "status": "running"}
    assert manager.delete("coordination/agent1/progress") is True
    assert manager.retrieve("coordination/agent1/progress") is None
    stats = manager.cleanup()
    assert stats["deleted_count"] == 0
    stats = manager.get_stats()
    assert stats["total_entries"] == 0
    assert stats["compressed_entries"] == 0
    manager.close()


def test_default_paths_are_the_project_memory_dir(project: Path) -> None:
    with MemoryLifecycleManager() as manager:
        manager.store("knowledge/x", 1)
    assert (project / ".claude-flow" / "memory" / "memory.db").exists()


def test_custom_paths(tmp_path: Path) -> None:
    policies = tmp_path / "custom" / "policies.yaml"
    policies.parent.mkdir()
    policies.write_text(
        'namespaces:\n  - namespace: "coordination/*"\n    ttl_seconds: 60\n'
        "    cleanup_strategy: lazy\n    conflict_strategy: lww\n"
    )
    with MemoryLifecycleManager(
        memory_dir=tmp_path / "custom" / "memory" / "dir", policy_file=policies
    ) as manager:
        manager.store("coordination/a", 1)
        assert manager.get_policy("coordination/a").ttl_seconds == 60
    assert (tmp_path / "custom" / "memory" / "dir" / "memory.db").exists()


def test_lazy_cleanup_expired_entry_returns_none_and_is_deleted() -> None:
    with MemoryLifecycleManager() as manager:
        manager.store("coordination/data", "value", timestamp=time.time() - 7200)
        assert manager.retrieve("coordination/data") is None
        assert manager.get_stats()["total_entries"] == 0  # deleted on access


def test_scheduled_cleanup_deletes_on_cleanup_only() -> None:
    with MemoryLifecycleManager() as manager:
        manager.store("swarm/shared/plan", "old", timestamp=time.time() - 2 * 86400)
        assert manager.retrieve("swarm/shared/plan") is None  # never returned once expired
        assert manager.get_stats()["expired_pending"] == 1  # but not deleted on access
        stats = manager.cleanup()
        assert stats["deleted_count"] == 1
        assert stats["by_namespace"] == {"swarm/shared/*": 1}
        assert manager.get_stats()["total_entries"] == 0


def test_manual_cleanup_keeps_knowledge_until_reset() -> None:
    with MemoryLifecycleManager() as manager:
        manager.store("knowledge/patterns/api-design", {"pattern": "RESTful"})
        manager.cleanup()
        assert manager.retrieve("knowledge/patterns/api-design") == {"pattern": "RESTful"}
        assert manager.reset() is True
        assert manager.retrieve("knowledge/patterns/api-design") is None


def test_last_write_wins_newer_timestamp_wins() -> None:
    with MemoryLifecycleManager() as manager:
        manager.store("agent/1/progress", "step1", timestamp=100.0)
        manager.store("agent/1/progress", "step2", timestamp=200.0)
        assert manager.retrieve("agent/1/progress") == "step2"
        manager.store("agent/1/progress", "late", timestamp=150.0)  # older write arrives late
        assert manager.retrieve("agent/1/progress") == "step2"


def test_multi_value_keeps_conflicting_values(tmp_path: Path) -> None:
    # The seed's example namespace has a 24 h TTL, and timestamp=100.0 is 1970: such an
    # entry has expired. The example's own comment ("Policy: conflict_strategy:
    # multi_value") is what matters; with a permanent policy it behaves as documented.
    policies = tmp_path / "p.yaml"
    policies.write_text(
        'namespaces:\n  - namespace: "swarm/shared/*"\n    ttl_seconds: 0\n'
        "    cleanup_strategy: scheduled\n    conflict_strategy: multi_value\n"
    )
    with MemoryLifecycleManager(policy_file=policies) as manager:
        manager.store("swarm/shared/decisions", "option_a", timestamp=100.0)
        manager.store("swarm/shared/decisions", "option_b", timestamp=200.0)
        assert manager.retrieve("swarm/shared/decisions") == "option_b"
        entry = manager.retrieve_entry("swarm/shared/decisions")
        assert entry is not None
        assert [c.value for c in entry.conflicts] == ["option_a"]


def test_multi_value_with_builtin_policy_and_current_timestamps() -> None:
    now = time.time()
    with MemoryLifecycleManager() as manager:
        manager.store("swarm/shared/decisions", "option_a", timestamp=now - 100)
        manager.store("swarm/shared/decisions", "option_b", timestamp=now)
        entry = manager.retrieve_entry("swarm/shared/decisions")
        assert entry is not None and entry.value == "option_b"
        assert [c.value for c in entry.conflicts] == ["option_a"]


def test_counter_merges_by_addition() -> None:
    with MemoryLifecycleManager() as manager:
        manager.store("metrics/task/count", 5, timestamp=100.0)
        manager.store("metrics/task/count", 3, timestamp=200.0)
        assert manager.retrieve("metrics/task/count") == 8


def test_compression_is_transparent() -> None:
    large_data = {"data": "x" * 5000}
    with MemoryLifecycleManager() as manager:
        manager.store("test/large", large_data)
        assert manager.retrieve("test/large") == large_data
        assert manager.get_stats()["compressed_entries"] == 1


def test_compression_skipped_when_disabled_or_small(tmp_path: Path) -> None:
    policies = tmp_path / "p.yaml"
    policies.write_text(
        'namespaces:\n  - namespace: "raw/*"\n    ttl_seconds: 0\n    cleanup_strategy: manual\n'
        "    conflict_strategy: lww\n    compression_enabled: false\n"
    )
    with MemoryLifecycleManager(policy_file=policies) as manager:
        manager.store("raw/big", {"data": "x" * 5000})
        manager.store("small/value", {"data": "x" * 10})
        assert manager.retrieve_entry("raw/big").compressed is False  # type: ignore[union-attr]
        assert manager.retrieve_entry("small/value").compressed is False  # type: ignore[union-attr]


def test_memory_compressor_round_trip() -> None:
    compressor = MemoryCompressor()
    large_value = {"text": "abc" * 1000}
    compressed_value, was_compressed = compressor.compress(value=large_value, threshold_bytes=1024)
    assert was_compressed is True
    assert compressor.decompress(value=compressed_value, compressed=was_compressed) == large_value
    small, flag = compressor.compress(value={"a": 1}, threshold_bytes=1024)
    assert (small, flag) == ({"a": 1}, False)


def test_crdt_resolver_resolve() -> None:
    resolver = CRDTResolver()
    current = lww_new("a", "agent-1", 100.0)
    incoming = lww_new("b", "agent-2", 200.0)
    resolved = resolver.resolve(
        strategy=ConflictStrategy.LAST_WRITE_WINS, current=current, incoming=incoming
    )
    assert resolved["v"] == "b"


def test_troubleshooting_get_stats_and_force_cleanup() -> None:
    with MemoryLifecycleManager() as manager:
        manager.store("knowledge/old", "x", ttl_seconds=10, timestamp=time.time() - 100)
        stats = manager.get_stats()
        assert stats["total_entries"] == 1
        assert stats["namespace_counts"]["knowledge/*"] == 1
        assert manager.cleanup()["deleted_count"] == 0  # manual: only a forced cleanup
        stats = manager.cleanup(force=True)
        assert stats["deleted_count"] == 1


def test_troubleshooting_get_policy_and_value_size() -> None:
    with MemoryLifecycleManager() as manager:
        policy = manager._get_policy("coordination/your/key")
        assert policy is not None
        assert policy.ttl_seconds == 3600
        assert policy.cleanup_strategy == CleanupStrategy.LAZY
        value = {"a": "b" * 100}
        value_size = len(json.dumps(value).encode("utf-8"))
        assert value_size < manager._get_policy("coordination/your/key").compression_threshold_bytes


def test_multi_agent_coordination_workflow() -> None:
    manager = MemoryLifecycleManager()
    manager.store(
        "coordination/agent1/status",
        {"task_id": "task-123", "status": "running", "started_at": time.time()},
    )
    status = manager.retrieve("coordination/agent1/status")
    assert status["status"] == "running"
    manager.store(
        "coordination/agent1/status",
        {"task_id": "task-123", "status": "completed", "completed_at": time.time()},
    )
    assert manager.retrieve("coordination/agent1/status")["status"] == "completed"
    manager.delete("coordination/agent1/status")
    assert manager.retrieve("coordination/agent1/status") is None
    manager.close()


def test_knowledge_base_persists_across_cleanups() -> None:
    with MemoryLifecycleManager() as manager:
        manager.store(
            "knowledge/patterns/api-design",
            {"pattern": "RESTful", "principles": ["Stateless", "Cacheable"], "examples": []},
        )
        manager.cleanup()
        assert manager.retrieve("knowledge/patterns/api-design")["pattern"] == "RESTful"


def test_session_lifecycle_hook_cleans_session_and_its_coordination() -> None:
    from lifecycle.hooks import actions

    session_id = str(uuid.uuid4())
    with MemoryLifecycleManager() as manager:
        manager.store(f"session/{session_id}", {"user": "developer", "started_at": time.time()})
        manager.store(f"coordination/{session_id}/task1", {"status": "running"})
        manager.store("coordination/other-session/task1", {"status": "running"})
        result = actions.session_end(manager, session_id)
        assert result["deleted_count"] == 2
        assert manager.retrieve(f"session/{session_id}") is None
        assert manager.retrieve(f"coordination/{session_id}/task1") is None
        assert manager.retrieve("coordination/other-session/task1") == {"status": "running"}
