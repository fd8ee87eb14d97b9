"""Importing the seed's file-per-key layout (tests/fixtures/seed, written by make_fixture.py
in the seed implementation's format), on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from lifecycle import ImportFormatError, ManualClock, MemoryLifecycleManager
from lifecycle.importers.seed import import_directory
from tests.support.env import REPO
from tests.support.store import (  # noqa: F401  (fixtures register under their pytest names)
    backend_fixture,
    make_backend_manager_fixture,
    manager_fixture,
    store_url_factory_fixture,
)

SEED = REPO / "tests" / "fixtures" / "seed" / ".claude-flow" / "memory"
T = 1735689600.0  # the fixture's base timestamp (2025-01-01T00:00:00Z)


def live(manager: MemoryLifecycleManager) -> dict[str, Any]:
    return {e["key"]: e for e in manager.export_entries() if not e["tombstone"]}


def test_every_entry_imports_with_its_timestamp_while_its_policy_keeps_it(
    manager: MemoryLifecycleManager, clock: ManualClock
):
    clock.set(T + 1800)  # 30 min after the first write: nothing has expired yet

    report = import_directory(manager, SEED).to_dict()

    assert (report["found"], report["imported"], report["skipped_expired"]) == (10, 10, 0)
    assert report["rejected"] == 0
    assert any("1 entries listed" in note and "memory.db" in note for note in report["notes"])
    progress = manager.retrieve_entry("coordination/agent1/progress")
    assert progress is not None and progress.value == {"step": 1, "status": "running"}
    assert progress.updated_at == T and progress.expires_at == T + 3600  # the policy's TTL
    assert manager.retrieve("test/large") == {"data": "x" * 5000}  # base64-gzip decoded
    assert manager.retrieve("metrics/task/count") == 8
    assert manager.retrieve("agent:coder/notes") == "keys may hold ':'"


def test_conflict_values_become_multi_value_siblings(
    manager: MemoryLifecycleManager, clock: ManualClock
):
    clock.set(T + 1800)

    import_directory(manager, SEED)

    database = manager.retrieve_entry("knowledge/decisions/database")
    assert database is not None and database.value == "sqlite"
    assert [(c.value, c.timestamp) for c in database.conflicts] == [("postgres", T + 500)]
    docs = manager.retrieve_entry("knowledge/docs/architecture")
    assert docs is not None and docs.value == "short summary"
    assert [c.value for c in docs.conflicts] == [{"doc": "y" * 3000}]  # stored compressed
    decisions = manager.retrieve_entry("swarm/shared/decisions")
    assert decisions is not None and [c.value for c in decisions.conflicts] == ["option_a"]
    coder = manager.retrieve_entry("swarm/agent/state/coder")  # lww: the newest value only
    assert coder is not None and coder.conflicts == ()


def test_importing_the_seed_again_changes_nothing(
    manager: MemoryLifecycleManager, clock: ManualClock
):
    clock.set(T + 1800)
    import_directory(manager, SEED)
    before = live(manager)

    again = import_directory(manager, SEED).to_dict()

    assert (again["imported"], again["unchanged"]) == (0, 10)
    assert live(manager) == before


def test_entries_whose_policy_ttl_has_passed_are_skipped(
    manager: MemoryLifecycleManager, clock: ManualClock
):
    clock.set(T + 2 * 86400)  # past 1 h (coordination, session) and 24 h (swarm/shared)

    report = import_directory(manager, SEED).to_dict()

    assert (report["imported"], report["skipped_expired"]) == (7, 3)
    assert not {"coordination/agent1/progress", "session/abc/notes"} & set(live(manager))
    assert "swarm/agent/state/coder" in live(manager)  # 7 days


def test_a_broken_file_is_reported_and_the_rest_imported(make_manager: Any, tmp_path: Path):
    directory = tmp_path / ".claude-flow" / "memory"
    shutil.copytree(SEED, directory)
    (directory / "broken.json").write_text("{not json")
    (directory / "no_key.json").write_text(json.dumps({"value": 1, "timestamp": 1.0}))
    clock = ManualClock(T + 1800)
    manager = make_manager(clock=clock)

    report = import_directory(manager, directory).to_dict()

    assert (report["found"], report["imported"], report["rejected"]) == (12, 10, 2)
    assert {r["key"] for r in report["rejected_entries"]} == {"broken.json", "no_key.json"}


def test_a_directory_that_does_not_exist_is_refused_naming_it(make_manager: Any, tmp_path: Path):
    with pytest.raises(ImportFormatError, match="not a directory") as caught:
        import_directory(make_manager(), tmp_path / "nowhere")
    assert "nowhere" in str(caught.value)
