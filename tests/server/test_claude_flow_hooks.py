"""claude-flow's hook command lines (v2 and v3 names, short options, ``--x true`` booleans)
as real processes, with and without Claude Code's hook JSON on stdin: each exits 0 and has
its memory effect; unknown options are warnings; nothing on the hook path exits 2."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from tests.support.claude_flow import CLAUDE_FLOW_2_HOOKS, CLAUDE_FLOW_3_HOOKS
from tests.support.cli import (
    claude_code_input,
    command,
    one_json,
    open_store,
    run_cli,
    seed,
    stored_keys,
)
from tests.support.env import child_env

pytestmark = pytest.mark.slow

WITH_STDIN = pytest.mark.parametrize("stdin", [False, True], ids=["flags-only", "claude-code-json"])


def hooks(*argv: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    done = run_cli("hooks", *argv, stdin=stdin)
    assert done.returncode == 0, (argv, done.stderr)
    assert "Traceback" not in done.stderr
    return done


def value(project: Path, key: str) -> Any:
    with open_store(project) as manager:
        return manager.retrieve(key)


def under(project: Path, prefix: str) -> dict[str, Any]:
    with open_store(project) as manager:
        keys = [e["key"] for e in manager.list(prefix, limit=1000)["entries"]]
        return {k: manager.retrieve(k) for k in keys}


def session_of(stdin: bool) -> str | None:
    return "sess-1" if stdin else None


@WITH_STDIN
def test_pre_task_with_v3_short_options_records_the_task_and_its_description(
    project: Path, stdin: bool
):
    json_in = claude_code_input(project, "PreToolUse", tool_name="Task", tool_use_id="toolu_9")
    seed(project, {}, expired={"coordination/old/step": 1})

    done = hooks(
        "pre-task",
        "-i",
        "t-42",
        "-d",
        "Build the API",
        "--auto-spawn-agents",
        "true",
        stdin=json_in if stdin else None,
    )

    assert "recorded swarm/shared/tasks/t-42" in done.stdout
    task = value(project, "swarm/shared/tasks/t-42")
    assert task["description"] == "Build the API" and task["status"] == "started"
    assert task.get("session_id") == session_of(stdin)
    assert "coordination/old/step" not in stored_keys(project)  # still collects


def test_pre_task_v2_style_description_only_gets_a_generated_task_id(project: Path):
    done = hooks("pre-task", "--description", "Refactor auth", "--output", "json")

    result = one_json(done.stdout)
    assert result["task_id"].startswith("task-")
    assert value(project, result["recorded"])["description"] == "Refactor auth"


@WITH_STDIN
def test_post_task_records_completion_of_the_started_task(project: Path, stdin: bool):
    hooks("pre-task", "--task-id", "t-42", "--description", "Build the API")
    json_in = claude_code_input(project, "PostToolUse", tool_name="Task", tool_use_id="toolu_9")

    hooks("post-task", "--task-id", "t-42", stdin=json_in if stdin else None)

    task = value(project, "swarm/shared/tasks/t-42")
    assert task["status"] == "completed" and task["description"] == "Build the API"
    assert task["duration_seconds"] >= 0 and task["completed_at"] >= task["started_at"]


def test_post_task_v3_flags_record_failure_quality_and_agent(project: Path):
    hooks("post-task", "-i", "t-7", "-s", "false", "-q", "0.4", "-a", "coder", "--duration", "1500")

    task = value(project, "swarm/shared/tasks/t-7")
    assert (task["status"], task["success"], task["quality"]) == ("failed", False, 0.4)
    assert (task["agent"], task["duration_seconds"]) == ("coder", 1.5)


def test_the_task_tools_pre_and_post_hooks_pair_by_tool_use_id(project: Path):
    tool_input = {"description": "Survey the code", "prompt": "..."}
    for event, name in (("PreToolUse", "pre-task"), ("PostToolUse", "post-task")):
        json_in = claude_code_input(
            project, event, tool_name="Task", tool_use_id="toolu_5", tool_input=tool_input
        )
        hooks(name, stdin=json_in)

    task = value(project, "swarm/shared/tasks/toolu_5")
    assert (task["status"], task["description"]) == ("completed", "Survey the code")


def test_a_failed_subagent_closes_its_task_as_failed_with_the_error(project: Path):
    tool_input = {"description": "Migrate the schema", "prompt": "..."}
    started = claude_code_input(
        project, "PreToolUse", tool_name="Agent", tool_use_id="toolu_8", tool_input=tool_input
    )
    hooks("pre-task", stdin=started)
    failed = claude_code_input(
        project,
        "PostToolUseFailure",
        tool_name="Agent",
        tool_use_id="toolu_8",
        tool_input=tool_input,
        error="Agent stopped: " + "x" * 5000,
        is_interrupt=False,
    )

    hooks("post-task", stdin=failed)

    task = value(project, "swarm/shared/tasks/toolu_8")
    assert (task["status"], task["success"]) == ("failed", False)
    assert task["description"] == "Migrate the schema"
    assert task["error"].startswith("Agent stopped: ") and len(task["error"]) < 2100  # clipped


@WITH_STDIN
def test_post_edit_records_the_edit_under_the_memory_key_too(project: Path, stdin: bool):
    json_in = claude_code_input(
        project, "PostToolUse", tool_name="Edit", tool_input={"file_path": "ignored.py"}
    )

    hooks(
        "post-edit",
        "--file",
        "src/app.py",
        "--memory-key",
        "swarm/coder/app",
        "--format",
        "true",
        "--update-memory",
        "true",
        stdin=json_in if stdin else None,
    )

    edit = value(project, "swarm/shared/edits/src/app.py")
    assert (edit["file"], edit["status"]) == ("src/app.py", "edited")
    assert edit.get("session_id") == session_of(stdin)
    assert value(project, "swarm/coder/app")["file"] == "src/app.py"


def test_post_edit_v3_short_options(project: Path):
    hooks("post-edit", "-f", "src/app.py", "-s", "true", "-o", "tests pass", "-m", "time:5ms")

    edit = value(project, "swarm/shared/edits/src/app.py")
    assert (edit["success"], edit["outcome"], edit["metrics"]) == (True, "tests pass", "time:5ms")


def test_post_edit_takes_the_file_from_claude_codes_json_relative_to_the_project(project: Path):
    json_in = claude_code_input(
        project, "PostToolUse", tool_name="Write", tool_input={"file_path": str(project / "a.py")}
    )

    hooks("post-edit", stdin=json_in)

    assert value(project, "swarm/shared/edits/a.py")["status"] == "edited"


@WITH_STDIN
def test_pre_edit_marks_the_file_as_being_edited(project: Path, stdin: bool):
    json_in = claude_code_input(project, "PreToolUse", tool_name="Write", tool_input={})

    hooks(
        "pre-edit",
        "--file",
        "src/app.py",
        "--auto-assign-agents",
        "true",
        "--load-context",
        "true",
        stdin=json_in if stdin else None,
    )

    assert value(project, "swarm/shared/edits/src/app.py")["status"] == "editing"


@WITH_STDIN
def test_pre_and_post_command_record_the_command(project: Path, stdin: bool):
    pre_in = claude_code_input(
        project, "PreToolUse", tool_name="Bash", tool_use_id="toolu_3", tool_input={}
    )
    post_in = pre_in.replace("PreToolUse", "PostToolUse")

    hooks(
        "pre-command",
        "--command",
        "npm test",
        "--validate-safety",
        "true",
        "--prepare-resources",
        "true",
        stdin=pre_in if stdin else None,
    )
    hooks(
        "post-command",
        "--command",
        "npm test",
        "--track-metrics",
        "true",
        "--store-results",
        "true",
        stdin=post_in if stdin else None,
    )

    logged = under(project, "swarm/shared/commands/")
    if stdin:  # the tool_use_id pairs them in one record
        assert list(logged) == ["swarm/shared/commands/toolu_3"]
        assert logged["swarm/shared/commands/toolu_3"]["status"] == "finished"
    else:
        assert sorted(r["status"] for r in logged.values()) == ["finished", "running"]
    assert {r["command"] for r in logged.values()} == {"npm test"}


def test_post_command_v3_options_and_v2_output_and_bash_aliases(project: Path):
    hooks("post-bash", "-c", "make", "-e", "2", "-d", "1200", "--output", "error: missing")
    hooks("pre-bash", "--command", "ls")

    logged = {r["command"]: r for r in under(project, "swarm/shared/commands/").values()}
    make = logged["make"]
    assert (make["exit_code"], make["success"], make["duration_ms"]) == (2, False, 1200.0)
    assert make["output"] == "error: missing"  # claude-flow 2's --output is the command's
    assert logged["ls"]["status"] == "running"


@WITH_STDIN
def test_notify_keeps_the_notification(project: Path, stdin: bool):
    json_in = claude_code_input(project, "Notification", message="Claude needs your permission")

    hooks(
        "notify",
        "--message",
        "Build finished",
        "--level",
        "success",
        stdin=json_in if stdin else None,
    )

    [note] = under(project, "swarm/shared/notifications/").values()
    assert (note["message"], note["level"]) == ("Build finished", "success")


def test_notify_takes_claude_codes_notification_message(project: Path):
    hooks("notify", stdin=claude_code_input(project, "Notification", message="Waiting for you"))
    hooks("notify", "-m", "v3 style", "-l", "warn", "-c", "console")

    messages = {n["message"] for n in under(project, "swarm/shared/notifications/").values()}
    assert messages == {"Waiting for you", "v3 style"}


@WITH_STDIN
def test_session_end_with_claude_flows_flags_deletes_saves_and_summarizes(
    project: Path, stdin: bool
):
    seed(
        project,
        {"session/sess-1/notes": "n", "knowledge/keep": 1},
        expired={"swarm/shared/old": 1},
    )
    hooks("pre-task", "--task-id", "t-1", "--description", "work")
    args = ["--generate-summary", "true", "--persist-state", "true", "--export-metrics", "true"]
    json_in = claude_code_input(project, "SessionEnd", reason="exit")

    done = hooks("session-end", *args, "--output", "json", stdin=json_in if stdin else None)

    result = one_json(done.stdout)
    assert result["summary"]["tasks"] == 1 and result["metrics"]["store_entries"] >= 2
    assert result["expired_deleted"] == 1
    if stdin:  # the session is known: saved first, then its entries deleted
        assert result["session_deleted"] == 1 and value(project, "session/sess-1/notes") is None
        saved = value(project, "swarm/agent/state/sessions/sess-1")
        assert saved["entries"] == {"session/sess-1/notes": "n"} and saved["ended"] is True
        assert value(project, "swarm/agent/state/sessions/sess-1/metrics")["tasks"] == 1
    else:  # no session id: nothing of a session deleted or saved, and it says so
        assert result["session_deleted"] == 0 and "no session id" in done.stderr
        assert value(project, "session/sess-1/notes") == "n"
        assert "saved" not in result


def test_session_end_v3_save_state_short_option(project: Path):
    seed(project, {"session/s9/notes": "n"})

    done = hooks("session-end", "-s", "--session-id", "s9")

    assert "saved the session's state as swarm/agent/state/sessions/s9" in done.stdout
    assert value(project, "swarm/agent/state/sessions/s9")["entries"] == {"session/s9/notes": "n"}


def test_session_end_at_a_stop_event_keeps_the_session_going(project: Path):
    seed(project, {"session/sess-1/notes": "n"})

    done = hooks("session-end", stdin=claude_code_input(project, "Stop", stop_hook_active=False))

    assert "the session goes on" in done.stdout
    assert value(project, "session/sess-1/notes") == "n"


@WITH_STDIN
def test_session_restore_prints_a_saved_sessions_memory(project: Path, stdin: bool):
    seed(project, {"session/old-1/notes": "the API uses JWT"})
    hooks("session-end", "--session-id", "old-1", "--persist-state", "true")
    json_in = claude_code_input(project, "SessionStart", source="resume")

    done = hooks("session-restore", "--session-id", "old-1", stdin=json_in if stdin else None)

    assert "Saved session old-1" in done.stdout and "the API uses JWT" in done.stdout
    latest = hooks("session-restore", "-i", "latest")
    assert "the API uses JWT" in latest.stdout


@WITH_STDIN
def test_session_start_gives_a_new_session_the_last_sessions_memory(project: Path, stdin: bool):
    seed(project, {"session/old-1/notes": "the API uses JWT"})
    hooks("session-end", "--session-id", "old-1", "--persist-state", "true")
    hooks("pre-task", "--task-id", "t-3", "--description", "Write the login page")
    json_in = claude_code_input(project, "SessionStart", source="startup")

    done = hooks("session-start", stdin=json_in if stdin else None)

    assert "the API uses JWT" in done.stdout and "Write the login page" in done.stdout
    assert len(done.stdout) <= 4200
    if stdin:
        assert value(project, "session/sess-1")["source"] == "startup"


def test_session_start_output_stays_short_on_a_large_store(project: Path):
    seed(project, {f"session/sess-1/n{i}": "x" * 2000 for i in range(40)})

    done = hooks("session-start", stdin=claude_code_input(project, "SessionStart"))

    assert len(done.stdout) <= 4100
    assert "session-restore --output json" in done.stdout


def test_memory_cleanup_takes_force_as_a_value(project: Path):
    seed(project, {}, expired={"knowledge/old": 1})

    hooks("memory-cleanup", "--force", "true")

    assert stored_keys(project) == set()


def test_unknown_options_are_warnings_and_the_hook_still_works(project: Path):
    done = hooks("pre-task", "-d", "work", "--frobnicate", "yes", "--zap", "-q")

    warnings = [line for line in done.stderr.splitlines() if "ignoring unknown option" in line]
    assert [w.rsplit(" ", 1)[-1] for w in warnings] == ["--frobnicate", "--zap", "-q"]
    assert "recorded swarm/shared/tasks/" in done.stdout


def test_claude_flow_hooks_with_no_memory_effect_run_and_say_so(project: Path):
    done = hooks("route", "-t", "Fix the auth bug")

    assert "no memory effect" in done.stderr


@pytest.mark.parametrize("name", sorted({*CLAUDE_FLOW_2_HOOKS, *CLAUDE_FLOW_3_HOOKS}))
def test_every_claude_flow_hook_name_exits_0(project: Path, name: str):
    done = run_cli("hooks", name, "--some-claude-flow-option", "x")

    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr and "unknown hook" not in done.stderr
    if "no memory effect" in done.stderr:  # said in one line, and nothing stored
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr
        assert stored_keys(project) == set()


@pytest.mark.parametrize(
    "argv",
    [
        ["hooks"],
        ["hook"],
        ["hooks", "bogus"],
        ["hooks", "session-end", "--session-id"],
        ["hooks", "session-end", "--session-id", "a/b"],
        ["hooks", "session-end", "--generate-summary", "maybe"],
        ["hooks", "pre-task", "--task-id"],
        ["hooks", "pre-command", "--command", "-rf"],
        ["hooks", "notify"],
        ["hooks", "post-edit", "--memory-key", "a//b", "--file", "x.py"],
        ["hooks", "session-restore", "--session-id", "../x"],
        ["hooks", "pre-edit", "--file"],
        ["--store", "postgresql://nobody@127.0.0.1:1/none", "hooks", "pre-task"],
    ],
)
def test_no_hook_command_line_exits_2_and_failures_are_one_line(project: Path, argv: list[str]):
    done = run_cli(*argv)

    assert done.returncode in (0, 1), done.stderr
    assert "Traceback" not in done.stderr
    if done.returncode == 1:
        errors = [line for line in done.stderr.splitlines() if "error" in line]
        assert len(errors) == 1, done.stderr


def test_a_hook_without_its_flag_does_not_wait_on_an_open_stdin(project: Path):
    proc = subprocess.Popen(
        [*command(), "hooks", "pre-edit"],
        env=child_env(),
        stdin=subprocess.PIPE,  # held open, never written
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    started = time.monotonic()
    try:
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=10)
    assert time.monotonic() - started < 10


def test_the_new_hooks_do_not_import_mcp(project: Path):
    for argv in (["session-start"], ["post-edit", "-f", "a.py"], ["notify", "-m", "x"]):
        done = run_cli("hooks", *argv, PYTHONPROFILEIMPORTTIME="1")
        assert done.returncode == 0, done.stderr
        modules = {
            line.rsplit("|", 1)[-1].strip()
            for line in done.stderr.splitlines()
            if line.startswith("import time:")
        }
        assert "lifecycle.hooks.activity" in modules
        assert not {m for m in modules if m == "mcp" or m.startswith("mcp.")}, argv
