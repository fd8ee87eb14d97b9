"""Session-end deletes what a session left behind, and the delete replicates."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from lifecycle import LifecycleError, ManualClock, MemoryLifecycleManager
from lifecycle.hooks import actions

MakeManager = Callable[..., MemoryLifecycleManager]


def test_session_end_is_not_undone_by_a_replicas_older_export(make_manager: MakeManager) -> None:
    a, b = make_manager("a", shared_clock=False), make_manager("b", shared_clock=False)
    for key in ("session/s9", "session/s9/x", "coordination/s9/plan", "coordination/s10/keep"):
        a.store(key, {"k": key})
    b.merge_entries(a.export_entries())
    result = actions.session_end(a, "s9")
    assert result["session_deleted"] == 3
    assert sorted(result["deleted_keys"]) == [
        "coordination/s9/plan",
        "session/s9",
        "session/s9/x",
    ]
    a.merge_entries(b.export_entries())  # b still has the session
    assert a.retrieve("session/s9") is None and a.retrieve("session/s9/x") is None
    b.merge_entries(a.export_entries())  # and the delete reaches b
    assert b.retrieve("coordination/s9/plan") is None
    assert b.retrieve("coordination/s10/keep") == {"k": "coordination/s10/keep"}


def test_session_end_counts_expired_session_entries(
    make_manager: MakeManager, clock: ManualClock
) -> None:
    m = make_manager()
    m.store("session/old", 1)
    m.store("session/old/deep/key", 2)
    clock.tick(7200)
    assert sorted(m.delete_session("old")) == ["session/old", "session/old/deep/key"]
    assert m.get_stats()["total_entries"] == 0


@pytest.mark.parametrize("bad", ["", ".", "..", "a/b", "s*", "bad\nid"])
def test_bad_session_ids_are_named_as_given(make_manager: MakeManager, bad: str) -> None:
    m = make_manager()
    m.store("session/keep", 1)
    with pytest.raises(LifecycleError) as err:
        m.delete_session(bad)
    assert f"invalid session id {bad!r}" in str(err.value)
    assert m.retrieve("session/keep") == 1
