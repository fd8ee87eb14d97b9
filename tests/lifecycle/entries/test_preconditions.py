"""Compare-and-set (``if_revision``) and guarded writes (``lock`` + ``lock_token``), through
the manager, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from lifecycle import InvalidKeyError, InvalidValueError, ManualClock, MemoryLifecycleManager
from tests.support.store import (  # noqa: F401  (fixtures register under their pytest names)
    ManagerFactory,
    backend_fixture,
    make_backend_manager_fixture,
    manager_fixture,
    store_url_factory_fixture,
)

# ---------------------------------------------------------------- revisions


def test_every_applied_write_reports_a_new_revision_and_reads_report_it(
    manager: MemoryLifecycleManager,
) -> None:
    first = manager.put("task/1", "a")
    second = manager.put("task/2", "b")
    third = manager.put("task/1", "c")
    assert 0 < first.revision < second.revision < third.revision
    assert manager.retrieve_entry("task/1").revision == third.revision
    listed = {e["key"]: e["revision"] for e in manager.list("task/")["entries"]}
    assert listed == {"task/1": third.revision, "task/2": second.revision}


def test_a_write_that_changes_nothing_keeps_the_revision(
    manager: MemoryLifecycleManager,
) -> None:
    newer = manager.put("task/1", "new", timestamp=1_799_999_990.0)
    older = manager.put("task/1", "old", timestamp=1_799_999_980.0)  # LWW: loses
    assert (older.applied, older.revision) == (False, newer.revision)
    counted = manager.put("metrics/runs", 1, op_id="run-1")
    again = manager.put("metrics/runs", 1, op_id="run-1")  # duplicate op id
    assert (again.duplicate, again.revision) == (True, counted.revision)
    assert manager.changes(since=newer.revision)["changes"] == [
        {"key": "metrics/runs", "revision": counted.revision, "op": "put", "policy": "metrics/*"}
    ]


def test_if_revision_zero_creates_only_a_key_that_does_not_exist(
    manager: MemoryLifecycleManager, clock: ManualClock
) -> None:
    created = manager.put("coordination/leader", "a", if_revision=0)
    assert (created.applied, created.conflict) == (True, None)
    lost = manager.put("coordination/leader", "b", if_revision=0)
    assert (lost.applied, lost.conflict) == (False, "revision")
    assert (lost.revision, lost.value) == (created.revision, "a")  # the current state
    assert manager.store("coordination/leader", "b", if_revision=0) is False
    assert manager.retrieve("coordination/leader") == "a"
    clock.tick(3601)  # expired counts as absent
    assert manager.put("coordination/leader", "c", if_revision=0).applied
    manager.delete("coordination/leader")  # so does deleted
    assert manager.put("coordination/leader", "d", if_revision=0).applied


def test_if_revision_applies_a_write_only_on_the_revision_it_read(
    manager: MemoryLifecycleManager,
) -> None:
    base = manager.put("knowledge/plan", {"v": 1})
    ok = manager.put("knowledge/plan", {"v": 2}, if_revision=base.revision)
    assert ok.applied and ok.revision > base.revision
    stale = manager.put("knowledge/plan", {"v": 3}, if_revision=base.revision)
    assert (stale.applied, stale.conflict, stale.revision) == (False, "revision", ok.revision)
    assert manager.retrieve("knowledge/plan") == {"v": 2}
    manager.delete("knowledge/plan")
    manager.put("knowledge/plan", {"v": 4})  # recreated: an old revision never matches again
    assert manager.put("knowledge/plan", {"v": 5}, if_revision=ok.revision).conflict == "revision"


def test_a_compare_and_set_counter_loop_never_loses_an_increment(
    manager: MemoryLifecycleManager,
) -> None:
    entry = manager.retrieve_entry("coordination/seq")
    revision, value = (entry.revision, entry.value) if entry else (0, 0)
    for _ in range(5):
        result = manager.put("coordination/seq", value + 1, if_revision=revision)
        assert result.applied
        revision, value = result.revision, value + 1
    assert manager.retrieve("coordination/seq") == 5


def test_one_failed_precondition_rejects_the_whole_batch_and_says_which(
    manager: MemoryLifecycleManager,
) -> None:
    base = manager.put("task/a", 1)
    results = manager.store_many(
        [
            {"key": "task/new", "value": 1},
            {"key": "task/a", "value": 2, "if_revision": base.revision + 100},
            {"key": "task/b", "value": 3, "if_revision": 0},
        ]
    )
    assert [(r.key, r.applied, r.conflict) for r in results] == [
        ("task/new", False, None),
        ("task/a", False, "revision"),
        ("task/b", False, None),
    ]
    assert results[1].revision == base.revision
    assert manager.retrieve("task/new") is None and manager.retrieve("task/a") == 1
    assert manager.changes(since=base.revision)["changes"] == []


def test_a_batch_that_wrote_a_key_cannot_match_a_revision_read_before_it(
    manager: MemoryLifecycleManager,
) -> None:
    base = manager.put("task/a", 1)
    results = manager.store_many(
        [
            {"key": "task/a", "value": 2, "if_revision": base.revision},
            {"key": "task/a", "value": 3, "if_revision": base.revision},
        ]
    )
    assert [r.conflict for r in results] == [None, "revision"]
    assert manager.retrieve("task/a") == 1


def test_a_batch_whose_preconditions_hold_applies_with_a_revision_per_key(
    manager: MemoryLifecycleManager,
) -> None:
    base = manager.put("task/a", 1)
    results = manager.store_many(
        [
            {"key": "task/a", "value": 2, "if_revision": base.revision},
            {"key": "task/b", "value": 3, "if_revision": 0},
        ]
    )
    assert all(r.applied for r in results)
    assert results[0].revision != results[1].revision
    assert {r.revision for r in results} == {
        manager.retrieve_entry("task/a").revision,
        manager.retrieve_entry("task/b").revision,
    }


def test_delete_with_if_revision_deletes_only_what_was_read(
    manager: MemoryLifecycleManager,
) -> None:
    base = manager.put("task/a", 1)
    manager.put("task/a", 2)
    stale = manager.delete_entry("task/a", if_revision=base.revision)
    assert (stale.deleted, stale.conflict) == (False, "revision")
    assert manager.retrieve("task/a") == 2
    current = manager.retrieve_entry("task/a").revision
    done = manager.delete_entry("task/a", if_revision=current)
    assert done.deleted and done.revision > current
    assert manager.delete("task/a", if_revision=0) is False  # absent: holds, nothing to do


@pytest.mark.parametrize("bad", [-1, 1.5, "3", True, None])
def test_a_bad_if_revision_is_refused_naming_it_and_changes_nothing(
    manager: MemoryLifecycleManager, bad: object
) -> None:
    manager.put("task/a", 1)
    if bad is None:  # None is "no precondition": the write applies
        assert manager.put("task/a", 2, if_revision=bad).applied
        return
    with pytest.raises(InvalidValueError, match=r"if_revision for key 'task/a'"):
        manager.put("task/a", 2, if_revision=bad)  # type: ignore[arg-type]
    with pytest.raises(InvalidValueError, match="if_revision"):
        manager.delete("task/a", if_revision=bad)  # type: ignore[arg-type]
    assert manager.retrieve("task/a") == 1


# ---------------------------------------------------------------- guarded writes


def test_a_guarded_write_applies_only_while_its_token_holds_the_lock(
    manager: MemoryLifecycleManager, clock: ManualClock
) -> None:
    held = manager.lock("migration", ttl_seconds=10)
    token = held["token"]
    assert manager.put("task/a", 1, lock="migration", lock_token=token).applied
    clock.tick(11)  # the lease ran out: the holder may not know it yet
    late = manager.put("task/a", 2, lock="migration", lock_token=token)
    assert (late.applied, late.conflict, late.value) == (False, "lock", 1)
    taken = manager.lock("migration", owner="other")
    assert taken["token"] > token
    assert manager.put("task/a", 3, lock="migration", lock_token=token).conflict == "lock"
    assert manager.delete_entry("task/a", lock="migration", lock_token=token).conflict == "lock"
    assert manager.put("task/a", 4, lock="migration", lock_token=taken["token"]).applied
    assert manager.retrieve("task/a") == 4


def test_a_failed_guard_in_a_batch_writes_nothing(
    manager: MemoryLifecycleManager,
) -> None:
    held = manager.lock("job")
    manager.unlock("job", held["token"])
    results = manager.store_many(
        [
            {"key": "task/a", "value": 1},
            {"key": "task/b", "value": 2, "lock": "job", "lock_token": held["token"]},
        ]
    )
    assert [r.conflict for r in results] == [None, "lock"]
    assert manager.retrieve("task/a") is None


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"lock": "job"}, "lock_token is missing"),
        ({"lock_token": 1}, "lock is missing"),
        ({"lock": "job", "lock_token": 0}, "lock_token for key 'task/a'"),
        ({"lock": "job", "lock_token": "1"}, "lock_token for key 'task/a'"),
        ({"lock": "job", "lock_token": 999}, "unknown lock token 999"),
    ],
)
def test_a_bad_guard_is_refused_naming_it_and_changes_nothing(
    manager: MemoryLifecycleManager, fields: dict[str, object], message: str
) -> None:
    manager.lock("job")
    manager.put("task/a", 1)
    with pytest.raises(InvalidValueError, match=message):
        manager.put("task/a", 2, **fields)  # type: ignore[arg-type]
    assert manager.retrieve("task/a") == 1


def test_a_guard_naming_an_invalid_lock_is_refused(manager: MemoryLifecycleManager) -> None:
    with pytest.raises(InvalidKeyError, match="lock name"):
        manager.put("task/a", 1, lock="a//b", lock_token=1)
    assert manager.retrieve("task/a") is None


def test_revisions_are_local_to_a_store_and_an_import_gets_new_ones(
    make_backend_manager: ManagerFactory,
) -> None:
    source, target = make_backend_manager("source"), make_backend_manager("target")
    for i in range(3):
        source.put(f"task/{i}", i)
    target.put("other/x", 1)
    target.merge_entries(source.export_entries())
    revisions = sorted(target.retrieve_entry(f"task/{i}").revision for i in range(3))
    assert revisions == [2, 3, 4]
    merged_again = target.merge_entries(source.export_entries())  # unchanged: no new revision
    assert merged_again["unchanged"] == 3
    assert target.get_stats()["revision"] == 4


def test_a_policy_change_reapplied_to_entries_keeps_their_revisions(
    make_backend_manager: ManagerFactory,
) -> None:
    policy = (
        "namespaces:\n  - {namespace: 'task/*', ttl_seconds: %d, cleanup_strategy: lazy, "
        "conflict_strategy: lww}\n"
    )
    manager = make_backend_manager("p", policy % 3600)
    revision = manager.put("task/a", 1).revision
    manager.policy_file.write_text(policy % 60)
    assert manager.reload_policies()
    entry = manager.retrieve_entry("task/a")
    assert entry.revision == revision
    assert entry.expires_at == entry.updated_at + 60
