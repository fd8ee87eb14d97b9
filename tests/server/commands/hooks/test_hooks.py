"""``memory-lifecycle hook ...`` as Claude Code and claude-flow run it: a real process."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from tests.support.cli import (
    assert_one_line_error,
    claude_code_input,
    command,
    one_json,
    open_store,
    run_cli,
    seed,
    store_dir,
    stored_keys,
)
from tests.support.env import REPO, child_env

pytestmark = pytest.mark.slow


def test_session_end_with_session_id_deletes_the_session_and_expired_entries(project: Path):
    seed(
        project,
        {
            "session/abc": {"open": True},
            "session/abc/notes": "n",
            "coordination/abc/step": 3,
            "session/other/notes": "keep",
            "knowledge/facts": "keep",
        },
        expired={"coordination/old/step": 1},
    )

    done = run_cli("hook", "session-end", "--session-id", "abc", "--output", "json")

    assert done.returncode == 0, done.stderr
    result = one_json(done.stdout)
    assert result["session_deleted"] == 3
    assert result["expired_deleted"] == 1
    assert result["deleted_count"] == 4
    assert sorted(result["deleted_keys"]) == [
        "coordination/abc/step",
        "coordination/old/step",
        "session/abc",
        "session/abc/notes",
    ]
    assert stored_keys(project) == {"session/other/notes", "knowledge/facts"}


def test_session_end_takes_the_session_id_from_claude_code_stdin_json(project: Path):
    seed(project, {"session/sess-1/state": 1, "session/sess-2/state": 2})

    done = run_cli(
        "hook", "session-end", stdin=claude_code_input(project, "SessionEnd", reason="exit")
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "session-end sess-1: deleted 1 entry (1 of the session, 0 expired)"
    ]
    assert stored_keys(project) == {"session/sess-2/state"}


def test_session_end_flag_wins_over_the_stdin_session_id(project: Path):
    seed(project, {"session/sess-1/state": 1, "session/chosen/state": 2})

    done = run_cli(
        "hook",
        "session-end",
        "--session-id",
        "chosen",
        stdin=claude_code_input(project, "SessionEnd"),
    )

    assert done.returncode == 0, done.stderr
    assert stored_keys(project) == {"session/sess-1/state"}


SESSION = {
    "session/sess-1": {"open": True},
    "session/sess-1/notes": "n",
    "coordination/sess-1/x": 1,
}


@pytest.mark.parametrize(
    ("event", "fields"),
    [
        ("PreCompact", {"trigger": "auto", "custom_instructions": ""}),
        ("PreCompact", {"trigger": "manual", "custom_instructions": ""}),
        ("Stop", {"stop_hook_active": False}),
        ("SubagentStop", {"stop_hook_active": False}),
        ("UserPromptSubmit", {"prompt": "go on"}),
    ],
)
@pytest.mark.parametrize("flags", [[], ["--session-id", "sess-1"]])
def test_session_end_from_any_event_but_session_end_keeps_every_entry(
    project: Path, event: str, fields: dict[str, object], flags: list[str]
):
    seed(project, SESSION, expired={"coordination/old/step": 1})

    done = run_cli(
        "hooks", "session-end", *flags, stdin=claude_code_input(project, event, **fields)
    )

    assert done.returncode == 0, done.stderr
    assert stored_keys(project) == set(SESSION)  # the expired entry is collected, no other
    assert done.stdout.splitlines()[0] == (
        f"session-end sess-1: the session goes on ({event}), its entries are kept; "
        "deleted 1 entry expired"
    )
    assert done.stdout.splitlines()[1].startswith("summary: ")


def test_session_end_json_says_which_event_kept_the_session(project: Path):
    seed(project, SESSION)

    done = run_cli(
        "hooks",
        "session-end",
        "--output",
        "json",
        stdin=claude_code_input(project, "PreCompact", trigger="auto"),
    )

    result = one_json(done.stdout)
    assert (result["kept_session"], result["event"], result["session_deleted"]) == (
        True,
        "PreCompact",
        0,
    )
    assert result["summary"]["tasks"] == 0


def test_session_end_from_a_session_end_event_or_no_event_deletes_the_session(project: Path):
    seed(project, SESSION)
    json_in = json.dumps({"session_id": "sess-1", "cwd": str(project)})  # no hook_event_name

    done = run_cli("hooks", "session-end", stdin=json_in)

    assert done.returncode == 0, done.stderr
    assert stored_keys(project) == set()
    seed(project, SESSION)
    run_cli("hooks", "session-end", stdin=claude_code_input(project, "SessionEnd"))
    assert stored_keys(project) == set()


def test_session_end_without_any_session_id_collects_expired_entries_and_says_why(project: Path):
    seed(project, {"session/abc/state": 1}, expired={"coordination/old/step": 1})

    done = run_cli("hook", "session-end", "--output", "json")

    assert done.returncode == 0, done.stderr
    assert "no session id" in done.stderr and "--session-id" in done.stderr
    result = one_json(done.stdout)
    assert (result["session_deleted"], result["expired_deleted"]) == (0, 1)
    assert stored_keys(project) == {"session/abc/state"}


def test_session_end_with_an_invalid_session_id_names_it(project: Path):
    done = run_cli("hook", "session-end", "--session-id", "a/b")

    assert done.returncode == 1
    assert_one_line_error(done, "'a/b'")


def test_hook_does_not_block_on_an_open_stdin_pipe_with_no_data(project: Path):
    seed(project, {"session/abc/state": 1})
    proc = subprocess.Popen(
        [*command(), "hook", "session-end", "--session-id", "abc"],
        env=child_env(),
        stdin=subprocess.PIPE,  # held open, never written: must not hang
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=10)
    assert stored_keys(project) == set()


def test_hook_reads_stdin_json_written_after_a_short_delay(project: Path):
    seed(project, {"session/late/state": 1})
    proc = subprocess.Popen(
        [*command(), "hook", "session-end", "--output", "json"],
        env=child_env(),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdin is not None
    time.sleep(0.05)  # the writer is a little late, as a busy Claude Code may be
    out, err = proc.communicate(json.dumps({"session_id": "late"}).encode(), timeout=10)
    assert proc.returncode == 0, err
    assert json.loads(out)["session_deleted"] == 1


def test_hook_ignores_stdin_that_is_not_a_json_object_with_a_warning(project: Path):
    done = run_cli("hook", "pre-task", stdin="not json")

    assert done.returncode == 0, done.stderr
    assert "ignoring hook stdin" in done.stderr
    assert done.stdout.startswith("pre-task: deleted 0 entries")

    no_id = run_cli("hook", "session-end", stdin="[1, 2]")
    assert no_id.returncode == 0
    assert "ignoring hook stdin" in no_id.stderr and "no session id" in no_id.stderr


def test_pre_task_collects_only_expired_coordination_data(project: Path):
    seed(
        project,
        {"coordination/agent1/progress": {"step": 1}},
        expired={
            "coordination/agent2/progress": {"step": 9},
            "swarm/shared/plan": "old",
            "session/s1/state": "old",
        },
    )

    done = run_cli("hook", "pre-task", "--output", "json")

    assert done.returncode == 0, done.stderr
    result = one_json(done.stdout)
    assert result["hook"] == "pre-task"
    assert result["deleted_count"] == 1
    assert result["deleted_keys"] == ["coordination/agent2/progress"]
    assert stored_keys(project) == {
        "coordination/agent1/progress",
        "swarm/shared/plan",
        "session/s1/state",
    }


def test_pre_task_reads_the_task_from_claude_code_pretooluse_json(project: Path):
    stdin = claude_code_input(
        project,
        "PreToolUse",
        tool_name="Task",
        tool_use_id="toolu_01",
        tool_input={"description": "Survey the codebase", "prompt": "..."},
    )

    done = run_cli("hook", "pre-task", "--output", "json", stdin=stdin)

    assert done.returncode == 0, done.stderr
    result = one_json(done.stdout)
    assert result["task_id"] == "toolu_01"
    assert result["recorded"] == "swarm/shared/tasks/toolu_01"
    with open_store(project) as manager:
        task = manager.retrieve("swarm/shared/tasks/toolu_01")
    assert task["description"] == "Survey the codebase" and task["status"] == "started"
    assert task["session_id"] == "sess-1"

    text = run_cli("hook", "pre-task", "--task-id", "t-7")
    assert text.stdout.splitlines() == [
        "pre-task t-7: recorded swarm/shared/tasks/t-7; deleted 0 entries of expired "
        "coordination data"
    ]


def test_memory_cleanup_keeps_expired_manual_entries_unless_forced(project: Path):
    seed(project, {}, expired={"knowledge/old": "x", "swarm/shared/old": "y"})

    plain = run_cli("hook", "memory-cleanup", "--output", "json")
    assert plain.returncode == 0, plain.stderr
    assert one_json(plain.stdout)["deleted_count"] == 1
    assert stored_keys(project) == {"knowledge/old"}

    forced = run_cli("hook", "memory-cleanup", "--force")
    assert forced.returncode == 0, forced.stderr
    assert forced.stdout.startswith("memory-cleanup: deleted 1 entry")
    assert "forced" in forced.stdout
    assert stored_keys(project) == set()


def test_hook_uses_the_stdin_cwd_as_project_when_nothing_else_is_configured(
    project: Path, tmp_path: Path
):
    seed(project, {"session/sess-1/state": 1})
    (project / "src" / "pkg").mkdir(parents=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    stdin = json.dumps({"session_id": "sess-1", "cwd": str(project / "src" / "pkg")})

    done = run_cli("hook", "session-end", cwd=elsewhere, stdin=stdin)

    assert done.returncode == 0, done.stderr
    assert stored_keys(project) == set()
    assert not (elsewhere / ".claude-flow").exists()


def test_hook_path_does_not_import_mcp(project: Path):
    done = run_cli("hook", "pre-task", PYTHONPROFILEIMPORTTIME="1")

    assert done.returncode == 0, done.stderr
    modules = {
        line.rsplit("|", 1)[-1].strip()
        for line in done.stderr.splitlines()
        if line.startswith("import time:")
    }
    assert "lifecycle.hooks.actions" in modules  # the import log really was captured
    assert "server.cli" in modules
    assert not {m for m in modules if m == "mcp" or m.startswith("mcp.")}
    assert "apscheduler" not in modules
    assert "server.commands.ui" not in modules  # only the named command's module is loaded
    web = ("starlette", "uvicorn", "server.ui", "server.http.runner")
    assert not {m for m in modules if m in web or m.startswith(tuple(f"{w}." for w in web))}


def test_claude_code_settings_wire_session_hooks_and_subagent_tasks_through_scripts_hook():
    settings = json.loads((REPO / ".claude" / "settings.json").read_text())
    wired = {}
    for event, groups in settings["hooks"].items():
        for group in groups:
            for hook in group["hooks"]:
                assert hook["type"] == "command"
                assert isinstance(hook["timeout"], int) and 0 < hook["timeout"] <= 30
                wired[(event, group.get("matcher"))] = hook["command"]
    assert set(wired) == {
        ("SessionStart", None),
        ("SessionEnd", None),
        ("PreToolUse", "Agent|Task"),
        ("PostToolUse", "Agent|Task"),
        ("PostToolUseFailure", "Agent|Task"),
    }
    assert wired[("SessionStart", None)].endswith("exec ./scripts/hook session-start")
    # found from any subfolder: walk up from $CLAUDE_PROJECT_DIR to scripts/hook
    assert wired[("SessionEnd", None)].endswith("exec ./scripts/hook session-end")
    assert wired[("PreToolUse", "Agent|Task")].endswith("exec ./scripts/hook pre-task")
    assert wired[("PostToolUse", "Agent|Task")].endswith("exec ./scripts/hook post-task")
    assert wired[("PostToolUseFailure", "Agent|Task")].endswith("exec ./scripts/hook post-task")


@pytest.mark.skipif(not (REPO / ".venv" / "bin" / "memory-lifecycle").exists(), reason="no .venv")
def test_scripts_hook_runs_the_project_venv_command_as_claude_code_does(project: Path):
    seed(project, {"session/sess-1/state": 1})
    settings = json.loads((REPO / ".claude" / "settings.json").read_text())
    command_line = settings["hooks"]["SessionEnd"][0]["hooks"][0]["command"]
    env = child_env(
        CLAUDE_PROJECT_DIR=str(REPO / "lifecycle"),  # Claude Code started in a subfolder
        MEMORY_LIFECYCLE_DIR=str(store_dir(project)),
    )
    env.pop("PYTHONPATH")  # the venv's own install must be enough

    done = subprocess.run(
        ["sh", "-c", command_line],
        input=claude_code_input(project, "SessionEnd", reason="clear"),
        env=env,
        cwd=REPO / "lifecycle",
        capture_output=True,
        text=True,
        timeout=30,
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("session-end sess-1: deleted 1 entry")
    assert stored_keys(project) == set()


def test_scripts_hook_without_a_venv_fails_saying_how_to_build_it(tmp_path: Path):
    copy = tmp_path / "checkout" / "scripts"
    copy.mkdir(parents=True)
    shutil.copy2(REPO / "scripts" / "hook", copy / "hook")

    done = subprocess.run(
        [str(copy / "hook"), "session-end"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=10,
    )

    assert done.returncode == 1
    assert "make test" in done.stderr and str(tmp_path / "checkout") in done.stderr
