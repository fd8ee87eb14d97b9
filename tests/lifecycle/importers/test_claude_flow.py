"""Importing claude-flow's memory database: both fixtures were written by claude-flow's own
CLI (see tests/fixtures/claude-flow/README.md), imported on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from lifecycle import ImportFormatError, ManualClock, MemoryLifecycleManager
from lifecycle.importers.claude_flow import decode, import_database
from tests.support.env import REPO
from tests.support.store import (  # noqa: F401  (fixtures register under their pytest names)
    backend_fixture,
    make_backend_manager_fixture,
    manager_fixture,
    store_url_factory_fixture,
)

FIXTURES = REPO / "tests" / "fixtures" / "claude-flow"
V3_AFTER_WRITES = 1795613400.0  # a minute after claude-flow 3.43 wrote the v3 fixture
V2_AFTER_WRITES = 1795614000.0  # just after claude-flow 2.7.47's hooks wrote the v2 fixture
DAY = 86400.0


def copy(name: str, tmp_path: Path) -> Path:
    """A copy: opening a WAL database, even read-only, may create -wal/-shm beside it."""
    target = tmp_path / name
    shutil.copy(FIXTURES / name, target)
    return target


def live(manager: MemoryLifecycleManager) -> dict[str, Any]:
    return {e["key"]: e for e in manager.export_entries() if not e["tombstone"]}


def test_v3_database_imports_keys_namespaces_values_and_ttls(
    manager: MemoryLifecycleManager, clock: ManualClock, tmp_path: Path
):
    clock.set(V3_AFTER_WRITES)

    report = import_database(manager, copy("v3-memory.db", tmp_path)).to_dict()

    assert (report["found"], report["imported"], report["unchanged"]) == (10, 8, 0)
    assert (report["skipped_expired"], report["skipped_deleted"], report["rejected"]) == (1, 1, 0)
    assert "schema: claude-flow v3" in report["notes"]
    assert manager.retrieve("auth/strategy") == "JWT with rotating refresh tokens"  # default ns
    assert manager.retrieve("knowledge/api-design") == {"style": "REST", "version": 2}
    assert manager.retrieve("swarm/shared/plan") == ["design", "build", "test"]
    assert manager.retrieve("coordination/stale") is None  # its 1 s TTL had passed
    assert manager.retrieve("knowledge/to-delete") is None  # deleted in claude-flow
    status = manager.retrieve_entry("coordination/agent1/status")
    assert status is not None and status.value == {"state": "busy", "step": 3}
    assert status.updated_at == pytest.approx(1795613110.142)
    assert status.expires_at == pytest.approx(1795613110.142 + DAY)  # its own TTL, not 1 h
    architecture = manager.retrieve_entry("knowledge/architecture")
    assert architecture is not None and architecture.compressed  # our policies applied
    assert architecture.strategy == "multi_value"


def test_v3_tags_and_provenance_come_along(
    manager: MemoryLifecycleManager, clock: ManualClock, tmp_path: Path
):
    clock.set(V3_AFTER_WRITES)

    import_database(manager, copy("v3-memory.db", tmp_path))

    design = manager.retrieve_entry("knowledge/api-design")  # --tags "api,design"
    goal = manager.retrieve_entry("user/goal")  # --provenance user_claim --tags goal,planning
    run = manager.retrieve_entry("results/test-run")  # --provenance tool_result
    assert design is not None and design.tags == ("api", "design")
    assert design.provenance_type == "unknown"  # claude-flow's default, carried as it is
    assert goal is not None and (goal.tags, goal.provenance_type) == (
        ("goal", "planning"),
        "user_claim",
    )
    assert run is not None and (run.tags, run.provenance_type) == ((), "tool_result")
    found = manager.search("friday", provenance_filter=["user_claim"], tags=["goal"])
    assert [r["key"] for r in found["results"]] == ["user/goal"]


def test_tags_that_break_our_rules_are_left_out_and_counted(
    make_manager: Any, clock: ManualClock, tmp_path: Path
):
    database = tmp_path / "memory.db"
    conn = sqlite3.connect(database)
    conn.execute(
        "CREATE TABLE memory_entries (id INTEGER PRIMARY KEY, key TEXT, value TEXT, "
        "namespace TEXT, metadata TEXT, created_at INTEGER, updated_at INTEGER, ttl INTEGER, "
        "expires_at INTEGER)"
    )
    many = [f"t{i:02}" for i in range(20)]
    metadata = [json.dumps({"tags": ["ok", "x" * 65]}), json.dumps({"tags": many})]
    for key, meta in zip(("a", "b"), metadata, strict=True):
        conn.execute(
            "INSERT INTO memory_entries (key, value, namespace, metadata, created_at, "
            "updated_at) VALUES (?, '1', 'notes', ?, ?, ?)",
            (key, meta, int(clock.time) - 10, int(clock.time) - 10),
        )
    conn.commit()
    conn.close()
    manager = make_manager()

    report = import_database(manager, database).to_dict()

    assert report["imported"] == 2
    assert "5 tags left out" in " ".join(report["notes"])
    assert manager.retrieve_entry("notes/a").tags == ("ok",)  # type: ignore[union-attr]
    assert manager.retrieve_entry("notes/b").tags == tuple(many[:16])  # type: ignore[union-attr]


def test_importing_the_same_database_again_changes_nothing(
    manager: MemoryLifecycleManager, clock: ManualClock, tmp_path: Path
):
    clock.set(V3_AFTER_WRITES)
    database = copy("v3-memory.db", tmp_path)
    import_database(manager, database)
    before = live(manager)

    again = import_database(manager, database).to_dict()

    assert (again["imported"], again["unchanged"]) == (0, 8)
    assert live(manager) == before


def test_entries_expired_by_their_ttl_or_our_policy_are_skipped(
    manager: MemoryLifecycleManager, clock: ManualClock, tmp_path: Path
):
    clock.set(V3_AFTER_WRITES + 3 * DAY)  # past the 1 s, 1 day and 2 day TTLs, not 7 days

    report = import_database(manager, copy("v3-memory.db", tmp_path)).to_dict()

    assert (report["imported"], report["skipped_expired"]) == (6, 3)
    assert set(live(manager)) == {
        "auth/strategy",
        "knowledge/api-design",
        "knowledge/architecture",
        "swarm/decision",
        "user/goal",
        "results/test-run",
    }


def test_v2_database_written_by_claude_flow_2_hooks_imports(
    manager: MemoryLifecycleManager, clock: ManualClock, tmp_path: Path
):
    clock.set(V2_AFTER_WRITES)

    report = import_database(manager, copy("v2-memory.db", tmp_path)).to_dict()

    assert (report["found"], report["imported"], report["rejected"]) == (19, 19, 0)
    assert "schema: claude-flow v2" in report["notes"]
    task = manager.retrieve("hooks:pre-task/task:task-auth")
    assert task["description"] == "Build the auth API" and "agentId" not in task  # undefined
    edit = manager.retrieve_entry("coordination/swarm/coder/auth")  # post-edit --memory-key
    assert edit is not None and edit.value["file"] == "src/auth.js"
    assert edit.expires_at == pytest.approx(edit.updated_at + 3600)  # coordination/* policy
    recommendation = manager.retrieve_entry("agent-assignments/agent-recommendation:src/auth.js")
    assert recommendation is not None
    assert recommendation.expires_at == pytest.approx(1795617578.0)  # its own ttl: 3600
    state = manager.retrieve("session-states/session-state:session-1795613983609-16z47c7fm")
    assert state["sessionId"] == "session-1795613983609-16z47c7fm"  # __compressed__ decoded
    assert isinstance(state["tasks"][0]["createdAt"], str)  # a __Date__ marker, as ISO text

    again = import_database(manager, copy("v2-memory.db", tmp_path)).to_dict()
    assert (again["imported"], again["unchanged"]) == (0, 19)


def test_v2_entries_whose_ttl_or_policy_expired_are_skipped(
    manager: MemoryLifecycleManager, clock: ManualClock, tmp_path: Path
):
    clock.set(V2_AFTER_WRITES + 7200)

    report = import_database(manager, copy("v2-memory.db", tmp_path)).to_dict()

    assert (report["imported"], report["skipped_expired"]) == (16, 3)
    assert not [k for k in live(manager) if k.startswith(("coordination/", "agent-assign"))]


def test_an_entry_our_rules_refuse_is_reported_and_the_others_imported(
    make_manager: Any, clock: ManualClock, tmp_path: Path
):
    database = tmp_path / "memory.db"
    conn = sqlite3.connect(database)
    conn.execute(
        "CREATE TABLE memory_entries (id INTEGER PRIMARY KEY, key TEXT, value TEXT, "
        "namespace TEXT, created_at INTEGER, updated_at INTEGER, ttl INTEGER, expires_at INTEGER)"
    )
    rows = [("ok", '"fine"'), ("a//b", '"bad key"'), ("x", '"text"')]
    namespaces = ["default", "default", "metrics"]  # metrics/* is a counter: text is refused
    for (key, value), ns in zip(rows, namespaces, strict=True):
        conn.execute(
            "INSERT INTO memory_entries (key, value, namespace, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (key, value, ns, int(clock.time) - 10, int(clock.time) - 10),
        )
    conn.commit()
    conn.close()
    manager = make_manager()

    report = import_database(manager, database).to_dict()

    assert (report["found"], report["imported"], report["rejected"]) == (3, 1, 2)
    reasons = " ".join(r["reason"] for r in report["rejected_entries"])
    assert "a//b" in reasons and "metrics/x" in reasons
    assert manager.retrieve("ok") == "fine"


@pytest.mark.parametrize(
    ("content", "problem"),
    [(b"not a database at all, just text" * 200, "not a SQLite database"), (None, "no such file")],
)
def test_a_file_that_is_not_claude_flows_database_is_refused_naming_it(
    make_manager: Any, tmp_path: Path, content: bytes | None, problem: str
):
    path = tmp_path / "memory.db"
    if content is not None:
        path.write_bytes(content)

    with pytest.raises(ImportFormatError, match=problem) as caught:
        import_database(make_manager(), path)
    assert str(path) in str(caught.value)


def test_a_sqlite_database_without_memory_entries_is_refused(make_manager: Any, tmp_path: Path):
    path = tmp_path / "other.db"
    sqlite3.connect(path).execute("CREATE TABLE t (x)").connection.close()

    with pytest.raises(ImportFormatError, match="no memory_entries table"):
        import_database(make_manager(), path)


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ('{"a": 1}', {"a": 1}),
        ("plain text", "plain text"),
        ("7", 7),
        ("NaN", "NaN"),
        (
            '{"d": {"__type__": "__Date__", "value": "2026-01-01T00:00:00Z"}}',
            {"d": "2026-01-01T00:00:00Z"},
        ),
        ('{"u": {"__type__": "__undefined__"}, "k": 1}', {"k": 1}),
        ('{"__type__": "__Map__", "entries": [["a", 1]]}', {"a": 1}),
        ('{"__type__": "__Set__", "values": [1, 2]}', [1, 2]),
        ("__compressed__eyJhIjogMX0=", {"a": 1}),
    ],
)
def test_values_decode_the_way_claude_flow_reads_them_back(raw: str, value: Any):
    assert decode(raw) == value
