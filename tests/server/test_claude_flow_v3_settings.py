"""claude-flow 3.43's own ``.claude/settings.json`` (written by its ``init``), pointed at
memory-lifecycle, run as Claude Code runs hook commands: ``sh -c COMMAND`` in the project,
the event's JSON on stdin, ``memory-lifecycle`` on PATH.

claude-flow 3 runs ``hook-handler.cjs session-end`` before every compaction (PreCompact,
manual and auto): pointed at us, that must keep the live session's memory.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from lifecycle.hooks import session_memory
from tests.support.claude_code import hook_commands, hook_input, path_with, run_hook
from tests.support.cli import open_store, seed, stored_keys
from tests.support.docs import example
from tests.support.env import REPO

FIXTURE = REPO / "tests" / "fixtures" / "claude-flow" / "v3-project" / ".claude" / "settings.json"
BIN = Path(sys.executable).parent
HANDLER = 'node \\"$D/.claude/helpers/hook-handler.cjs\\"'  # as it stands in the JSON text
MEMORY_SUBCOMMANDS = (
    "session-restore",
    "session-end",
    "pre-bash",
    "post-bash",
    "pre-edit",
    "post-edit",
    "post-task",
    "notify",
)
# docs/claude-flow.md, "Instead of claude-flow's memory": the command that points the memory
# lines of a 3.x settings file at memory-lifecycle, run here as the page gives it
SWITCH = example("claude-flow.md", "switch-v3")
SESSION = {
    "session/sess-1": {"open": True},
    "session/sess-1/notes": "n",
    "coordination/sess-1/x": 1,
}

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("sed") is None, reason="sed is not installed"),
    pytest.mark.skipif(
        not (BIN / "memory-lifecycle").exists(), reason="memory-lifecycle is not installed here"
    ),
]


def switched(project: Path, command: str = SWITCH) -> dict[str, Any]:
    """The fixture copied into ``project`` and changed by ``command``, as a user would."""
    settings = project / ".claude" / "settings.json"
    settings.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(FIXTURE, settings)
    done = subprocess.run(["sh", "-c", command], cwd=project, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(settings.read_text())
    return result


def ours(settings: dict[str, Any], event: str, matcher: str | None = None) -> list[str]:
    return [
        c
        for e, m, c in hook_commands(settings)
        if e == event and (matcher is None or m == matcher) and "memory-lifecycle" in c
    ]


def run(command: str, project: Path, event: str, **fields: object) -> subprocess.CompletedProcess:
    done = run_hook(command, project, hook_input(project, event, **fields), PATH=path_with(BIN))
    assert done.returncode == 0, (command, done.stderr)
    assert "Traceback" not in done.stderr
    return done


def test_the_fixture_is_claude_flow_3s_settings_with_session_end_before_each_compaction():
    settings = json.loads(FIXTURE.read_text())
    lines = hook_commands(settings)

    assert settings["claudeFlow"]["version"] == "3.0.0"
    assert all("exec node" in c for _, _, c in lines)
    precompact = [(m, c.rsplit(" ", 1)[-1]) for e, m, c in lines if e == "PreCompact"]
    assert precompact == [
        ("manual", "compact-manual'"),
        ("manual", "session-end'"),
        ("auto", "compact-auto'"),
        ("auto", "session-end'"),
    ]


def test_the_switch_changes_exactly_the_memory_lines(project: Path):
    before = hook_commands(json.loads(FIXTURE.read_text()))
    after = hook_commands(switched(project))

    changed = [(b, a) for b, a in zip(before, after, strict=True) if b != a]
    assert len(changed) == 10  # session-end 3 times (SessionEnd, PreCompact manual and auto)
    for (event, _, old), (new_event, _, new) in changed:
        assert event == new_event
        sub = old.rsplit(" ", 1)[-1].rstrip("'")
        assert sub in MEMORY_SUBCOMMANDS
        assert new == old.replace(HANDLER.replace('\\"', '"'), "memory-lifecycle hooks")
        assert new.endswith(f"exec memory-lifecycle hooks {sub}'")
    assert {c.rsplit(" ", 1)[-1] for _, _, c in after if "exec node" in c} == {
        "route'",
        "import'",
        "sync'",
        "compact-manual'",
        "compact-auto'",
        "status'",
    }


@pytest.mark.parametrize("trigger", ["manual", "auto"])
def test_a_compaction_keeps_every_entry_of_the_live_session(project: Path, trigger: str):
    settings = switched(project)
    seed(project, SESSION)
    [command] = ours(settings, "PreCompact", trigger)
    assert command.endswith("exec memory-lifecycle hooks session-end'")

    done = run(command, project, "PreCompact", trigger=trigger, custom_instructions="")

    assert "the session goes on (PreCompact), its entries are kept" in done.stdout
    assert stored_keys(project) == set(SESSION)


def test_the_session_end_event_deletes_the_session(project: Path):
    settings = switched(project)
    seed(project, SESSION)
    [command] = ours(settings, "SessionEnd")

    run(command, project, "SessionEnd", reason="exit")

    assert stored_keys(project) == set()


def test_tool_hooks_record_commands_and_edits(project: Path):
    settings = switched(project)
    bash = {"tool_name": "Bash", "tool_input": {"command": "npm test"}, "tool_use_id": "toolu_1"}
    edit = {"tool_name": "Write", "tool_input": {"file_path": str(project / "src/app.py")}}
    for event in ("PreToolUse", "PostToolUse"):
        for call in (bash, edit):
            for command in ours(settings, event):
                if (call is bash) == command.endswith("bash'"):
                    run(command, project, event, **call)

    with open_store(project) as manager:
        command_record = manager.retrieve("swarm/shared/commands/toolu_1")
        edit_record = manager.retrieve("swarm/shared/edits/src/app.py")
    assert command_record["command"] == "npm test" and command_record["status"] == "finished"
    assert edit_record["status"] == "edited"


def test_session_start_restores_and_subagent_stop_records_a_task(project: Path):
    settings = switched(project)
    seed(project, SESSION)
    [restore] = ours(settings, "SessionStart")
    [post_task] = ours(settings, "SubagentStop")
    [notify] = ours(settings, "Notification")

    restored = run(restore, project, "SessionStart", source="resume")
    run(post_task, project, "SubagentStop", stop_hook_active=False)
    run(notify, project, "Notification", message="Claude needs your permission")

    assert "session/sess-1/notes: n" in restored.stdout
    with open_store(project) as manager:
        tasks = manager.list("swarm/shared/tasks/")["entries"]
        notes = manager.list("swarm/shared/notifications/")["entries"]
    assert len(tasks) == 1 and len(notes) == 1


def test_session_restore_at_session_start_gives_a_new_session_the_last_saved_one(project: Path):
    settings = switched(project)
    seed(project, {"session/old/notes": "the API uses JWT"})
    with open_store(project) as manager:
        session_memory.save_state(manager, "old", summary=None, ended=True)
    [restore] = ours(settings, "SessionStart")

    done = run(restore, project, "SessionStart", source="startup")  # session sess-1 starts

    assert "Saved session old" in done.stdout and "the API uses JWT" in done.stdout
    with open_store(project) as manager:
        assert manager.retrieve("session/sess-1")["source"] == "startup"


EVENT_FIELDS: dict[str, dict[str, object]] = {
    "PreToolUse": {"tool_name": "Bash", "tool_input": {"command": "ls"}},
    "PostToolUse": {"tool_name": "Bash", "tool_input": {"command": "ls"}},
    "UserPromptSubmit": {"prompt": "fix the login bug"},
    "SessionStart": {"source": "startup"},
    "SessionEnd": {"reason": "exit"},
    "Stop": {"stop_hook_active": False},
    "PreCompact": {"trigger": "auto", "custom_instructions": ""},
    "SubagentStart": {"agent_id": "a1", "agent_type": "coder"},
    "SubagentStop": {"stop_hook_active": False},
    "Notification": {"message": "waiting for input"},
}


def test_every_line_of_the_file_pointed_at_us_exits_0(project: Path):
    """Every hook-handler.cjs and auto-memory-hook.mjs line, replaced wholesale: the ones
    with no memory effect (route, compact-*, status, import, sync) warn and exit 0."""
    settings = switched(
        project,
        r"sed -i -E 's#node \\\"\$D/\.claude/helpers/(hook-handler\.cjs|auto-memory-hook\.mjs)"
        r"\\\"#memory-lifecycle hooks#' .claude/settings.json",
    )
    lines = hook_commands(settings)
    assert all("exec memory-lifecycle hooks" in c for _, _, c in lines)
    seed(project, SESSION)

    ends = [line for line in lines if line[0] == "SessionEnd"]
    for event, _, command in [line for line in lines if line not in ends] + ends:
        if event == "SessionEnd":  # every other event came first and kept the session
            assert stored_keys(project) >= set(SESSION)
        done = run(command, project, event, **EVENT_FIELDS[event])
        if "no memory effect" in done.stderr:
            assert len(done.stderr.strip().splitlines()) == 1, done.stderr

    assert not stored_keys(project) & set(SESSION)
