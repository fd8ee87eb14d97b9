"""A session's memory: summary, saved state, and what a (re)starting session is given."""

from __future__ import annotations

import pytest

from lifecycle import InvalidKeyError, ManualClock
from lifecycle.hooks import activity, session_memory


def test_the_summary_counts_the_sessions_records_and_unowned_ones_since_it_started(
    make_manager, clock: ManualClock
):
    manager = make_manager()
    activity.record_command(manager, "early", "post", details={"exit_code": 0})  # before start
    clock.tick(10)
    session_memory.record_session_start(manager, "s1")
    clock.tick(10)
    activity.start_task(manager, "t1", "mine", session_id="s1")
    activity.start_task(manager, "t2", "theirs", session_id="s2")
    activity.finish_task(manager, "t1", success=False, session_id="s1")
    activity.record_command(manager, "make", "post", details={"exit_code": 2})  # no session
    activity.record_edit(manager, "a.py", "post", session_id="s1")
    activity.notify(manager, "hi", session_id="s1")
    since = session_memory.session_started_at(manager, "s1")

    summary = session_memory.summarize(manager, "s1", since)

    assert summary == {
        "tasks": 1,
        "tasks_completed": 0,
        "tasks_failed": 1,
        "tasks_open": 0,
        "edits": 1,
        "commands": 1,
        "commands_failed": 1,
        "notifications": 1,
    }
    assert session_memory.summarize(manager, None)["commands"] == 2  # no session: everything


def test_saved_state_keeps_the_sessions_entries_within_a_bound(make_manager):
    manager = make_manager()
    manager.store("session/s1", {"started_at": 1})
    manager.store("coordination/s1/step", 3)
    for i in range(3):
        manager.store(f"session/s1/big{i}", "x" * 30_000)

    key = session_memory.save_state(manager, "s1", summary=None, ended=True)

    state = manager.retrieve(key)
    assert key == "swarm/agent/state/sessions/s1"
    assert state["entries"]["coordination/s1/step"] == 3
    assert state["entries_left_out"] == 1  # 3 x 30 KB is over the 64 KB snapshot


def test_the_latest_saved_session_is_found_and_a_fresh_session_gets_it(
    make_manager, clock: ManualClock
):
    manager = make_manager()
    for name in ("old", "newer"):
        manager.store(f"session/{name}/notes", name)
        session_memory.save_state(manager, name, summary=None, ended=True)
        clock.tick(60)
    activity.start_task(manager, "t1", "open task")
    activity.notify(manager, "heads up")

    context = session_memory.context(manager, "fresh", fall_back_to_latest=True)

    assert session_memory.latest_saved_session(manager) == "newer"
    assert context["saved_session_id"] == "newer"
    assert context["saved"]["entries"] == {"session/newer/notes": "newer"}
    assert [t["task_id"] for t in context["open_tasks"]] == ["t1"]
    assert [n["message"] for n in context["notifications"]] == ["heads up"]


def test_a_session_start_is_recorded_once(make_manager, clock: ManualClock):
    manager = make_manager()
    assert session_memory.record_session_start(manager, "s1", "startup") is True
    clock.tick(5)
    assert session_memory.record_session_start(manager, "s1", "resume") is False
    assert manager.retrieve("session/s1")["source"] == "startup"


@pytest.mark.parametrize("bad", ["a/b", "", "..", "*"])
def test_a_session_id_that_is_not_one_segment_is_refused(make_manager, bad: str):
    with pytest.raises(InvalidKeyError, match="session id"):
        session_memory.session_entries(make_manager(), bad)
