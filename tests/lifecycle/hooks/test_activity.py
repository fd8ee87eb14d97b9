"""The records claude-flow's hooks keep under swarm/shared/ (engine level, manual clock)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lifecycle import ManualClock, MemoryLifecycleManager
from lifecycle.basics.keys import validate_key
from lifecycle.hooks.activity import (
    _file_key_by_pathlib,
    file_key,
    finish_task,
    new_id,
    notify,
    record_command,
    record_edit,
    segment,
    start_task,
    update_record,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("toolu_01", "toolu_01"),
        ("a/b", "a%2Fb"),
        ("50%", "50%25"),
        ("..", "%2E%2E"),
        (".", "%2E"),
        ("", "%00"),
        ("tab\there", "tab%09here"),
    ],
)
def test_any_text_becomes_one_valid_key_segment(text: str, expected: str):
    assert segment(text) == expected
    validate_key("x/" + segment(text))


def test_a_long_segment_is_shortened_keeping_distinct_texts_distinct():
    a, b = segment("x" * 300 + "a"), segment("x" * 300 + "b")
    assert len(a) <= 200 and a != b


def test_file_keys_are_project_relative_and_always_valid(tmp_path: Path):
    assert file_key(str(tmp_path / "src" / "app.py"), tmp_path) == "swarm/shared/edits/src/app.py"
    assert file_key("src/../app.py") == "swarm/shared/edits/src/%2E%2E/app.py"
    outside = file_key("/etc/hosts", tmp_path)
    assert outside == "swarm/shared/edits/%2F/etc/hosts"
    validate_key(file_key("/" + "d/" * 400 + "f.py"))


def test_ids_sort_by_time():
    assert new_id("task", 1.5) < new_id("task", 2.0)


def test_an_update_merges_fields_and_replaces_the_siblings_it_read(
    make_manager: Callable[..., MemoryLifecycleManager],
):
    manager = make_manager()
    manager.store("swarm/shared/tasks/t", {"a": 1}, agent_id="one")
    manager.store("swarm/shared/tasks/t", {"b": 2}, agent_id="two")  # a concurrent sibling

    record = update_record(manager, "swarm/shared/tasks/t", {"c": 3, "skip": None})

    entry = manager.retrieve_entry("swarm/shared/tasks/t")
    assert entry is not None and entry.conflicts == () and entry.value == record
    assert "skip" not in record and record["c"] == 3


def test_a_task_keeps_its_description_and_gets_a_duration(make_manager, clock: ManualClock):
    manager = make_manager()
    start_task(manager, "t-1", "Build the API", session_id="s1")
    clock.tick(90)

    done = finish_task(manager, "t-1", success=True)

    record = done["record"]
    assert (record["description"], record["status"], record["duration_seconds"]) == (
        "Build the API",
        "completed",
        90.0,
    )
    assert record["session_id"] == "s1"


def test_an_edit_is_recorded_by_file_and_under_the_memory_key(make_manager):
    manager = make_manager()

    done = record_edit(manager, "src/a.py", "post", memory_key="swarm/coder/a")

    assert done["keys"] == ["swarm/shared/edits/src/a.py", "swarm/coder/a"]
    assert manager.retrieve("swarm/coder/a")["record"] == "swarm/shared/edits/src/a.py"


def test_commands_pair_by_id_and_long_text_is_clipped(make_manager):
    manager = make_manager()
    record_command(manager, "x" * 5000, "pre", command_id="toolu_1")

    done = record_command(manager, "x" * 5000, "post", command_id="toolu_1")

    assert done["key"] == "swarm/shared/commands/toolu_1"
    assert done["record"]["status"] == "finished" and "started_at" in done["record"]
    assert len(done["record"]["command"]) < 2100


def test_notifications_each_get_their_own_key(make_manager):
    manager = make_manager()

    first = notify(manager, "one", level="info")
    second = notify(manager, "two", level="warn", session_id="s1")

    assert first["key"] != second["key"]
    assert manager.retrieve(second["key"]) == second["record"]
    assert "session_id" not in first["record"]


_PATH_TEXT = st.lists(st.sampled_from(["/", "//", ".", "..", "a", "b c", "%", "é", ""]), max_size=8)


@given(path=_PATH_TEXT.map("".join), root=st.one_of(st.none(), _PATH_TEXT.map("".join)))
def test_a_file_key_reads_a_path_as_pathlib_does(path: str, root: str | None) -> None:
    """file_key splits paths with strings (an edit hook loads no pathlib): the same key as
    the pathlib reading it replaced, for any mix of slashes, dots and names."""
    assert file_key(path, root) == _file_key_by_pathlib(path, root)
