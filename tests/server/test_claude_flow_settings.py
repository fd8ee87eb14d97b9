"""A claude-flow v2 ``.claude/settings.json``, with ``npx claude-flow@alpha hooks`` replaced by
``memory-lifecycle hooks`` and nothing else changed, run as Claude Code runs hook commands:
``sh -c COMMAND`` in the project, the event's JSON on stdin, ``memory-lifecycle`` on PATH."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import claude_code_input, open_store, seed
from tests.support.env import REPO, child_env

FIXTURES = REPO / "tests" / "fixtures" / "claude-flow"
BIN = Path(sys.executable).parent

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        shutil.which("jq") is None,
        reason="jq is not installed (apt-get install jq): the v2 template's hooks pipe through it",
    ),
    pytest.mark.skipif(
        not (BIN / "memory-lifecycle").exists(), reason="memory-lifecycle is not installed here"
    ),
]


def settings() -> dict[str, Any]:
    return json.loads((FIXTURES / "settings-v2.json").read_text())


def commands(event: str, tool: str | None = None) -> list[str]:
    """The hook commands Claude Code runs for ``event`` (and ``tool``, by matcher regex)."""
    found = []
    for group in settings()["hooks"].get(event, []):
        matcher = group.get("matcher") or ""
        if tool is None or matcher in ("", "*") or re.fullmatch(matcher, tool):
            found += [hook["command"] for hook in group["hooks"] if hook["type"] == "command"]
    return found


def run_as_claude_code(command: str, stdin: str, project: Path) -> subprocess.CompletedProcess[str]:
    env = child_env(CLAUDE_PROJECT_DIR=str(project))
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    return subprocess.run(
        ["sh", "-c", command],
        input=stdin,
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def records(project: Path, prefix: str) -> list[dict[str, Any]]:
    with open_store(project) as manager:
        keys = [e["key"] for e in manager.list(prefix, limit=1000)["entries"]]
        return [manager.retrieve(k) for k in keys]


def test_the_fixture_is_claude_flows_template_with_only_the_command_replaced():
    template = (FIXTURES / "settings-v2.template.json").read_text()
    ours = (FIXTURES / "settings-v2.json").read_text()

    assert template.count("npx claude-flow@alpha hooks") == 5
    assert ours == template.replace("npx claude-flow@alpha hooks", "memory-lifecycle hooks")
    assert "xargs -0 -I {} memory-lifecycle hooks pre-command" in ours


TOOL_CALLS = {
    "Bash": {"command": "npm test -- --watch=false", "description": "Run the tests"},
    "Write": {"file_path": "{project}/src/app.py", "content": "print('hi')\n"},
    "Edit": {"file_path": "{project}/src/app.py", "old_string": "hi", "new_string": "hello"},
    "MultiEdit": {"file_path": "{project}/src/util.py", "edits": []},
}


def _tool_input(tool: str, project: Path) -> dict[str, Any]:
    return {
        k: v.replace("{project}", str(project)) if isinstance(v, str) else v
        for k, v in TOOL_CALLS[tool].items()
    }


@pytest.mark.parametrize("tool", sorted(TOOL_CALLS))
@pytest.mark.parametrize("event", ["PreToolUse", "PostToolUse"])
def test_each_tool_hook_runs_with_claude_codes_input_and_exits_0(
    project: Path, event: str, tool: str
):
    stdin = claude_code_input(
        project, event, tool_name=tool, tool_use_id="toolu_1", tool_input=_tool_input(tool, project)
    )
    hooks = commands(event, tool)
    assert len(hooks) == 1

    done = run_as_claude_code(hooks[0], stdin, project)

    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr


def test_bash_hooks_record_the_command_before_and_after(project: Path):
    call = _tool_input("Bash", project)
    for event in ("PreToolUse", "PostToolUse"):
        stdin = claude_code_input(project, event, tool_name="Bash", tool_input=call)
        done = run_as_claude_code(commands(event, "Bash")[0], stdin, project)
        assert done.returncode == 0, done.stderr

    logged = records(project, "swarm/shared/commands/")
    assert sorted(r["status"] for r in logged) == ["finished", "running"]
    assert {r["command"] for r in logged} == {"npm test -- --watch=false"}


def test_a_multi_line_command_is_recorded_line_by_line_as_xargs_splits_it(project: Path):
    stdin = claude_code_input(
        project, "PreToolUse", tool_name="Bash", tool_input={"command": "cd src\nmake 'all'"}
    )

    done = run_as_claude_code(commands("PreToolUse", "Bash")[0], stdin, project)

    assert done.returncode == 0, done.stderr
    assert sorted(r["command"] for r in records(project, "swarm/shared/commands/")) == [
        "cd src",
        "make 'all'",
    ]


def test_edit_hooks_mark_the_file_being_edited_then_edited(project: Path):
    call = _tool_input("Write", project)
    stdin = claude_code_input(project, "PreToolUse", tool_name="Write", tool_input=call)
    assert run_as_claude_code(commands("PreToolUse", "Write")[0], stdin, project).returncode == 0
    assert records(project, "swarm/shared/edits/")[0]["status"] == "editing"

    stdin = claude_code_input(project, "PostToolUse", tool_name="Write", tool_input=call)
    done = run_as_claude_code(commands("PostToolUse", "Write")[0], stdin, project)

    assert done.returncode == 0, done.stderr
    with open_store(project) as manager:
        edit = manager.retrieve_entry("swarm/shared/edits/src/app.py")
    assert edit is not None and edit.conflicts == ()  # post-edit replaced the marker it read
    assert edit.value["status"] == "edited" and edit.value["file"] == call["file_path"]


def test_the_stop_hook_saves_and_summarizes_the_session_but_keeps_it_going(project: Path):
    seed(project, {"session/sess-1/notes": "halfway", "coordination/sess-1/step": 2})
    stop = commands("Stop")
    assert stop == [
        "memory-lifecycle hooks session-end --generate-summary true --persist-state true "
        "--export-metrics true"
    ]

    done = run_as_claude_code(
        stop[0], claude_code_input(project, "Stop", stop_hook_active=False), project
    )

    assert done.returncode == 0, done.stderr
    assert "the session goes on" in done.stdout and "summary:" in done.stdout
    with open_store(project) as manager:
        assert manager.retrieve("session/sess-1/notes") == "halfway"  # Stop is not the end
        saved = manager.retrieve("swarm/agent/state/sessions/sess-1")
        metrics = manager.retrieve("swarm/agent/state/sessions/sess-1/metrics")
    assert saved["entries"]["session/sess-1/notes"] == "halfway"
    assert saved["ended"] is False and "summary" in saved
    assert metrics["store_entries"] >= 2


@pytest.mark.parametrize("trigger", ["manual", "auto"])
def test_the_precompact_hooks_still_run(project: Path, trigger: str):
    [command] = [
        h["command"]
        for g in settings()["hooks"]["PreCompact"]
        if g["matcher"] == trigger
        for h in g["hooks"]
    ]
    stdin = claude_code_input(project, "PreCompact", trigger=trigger, custom_instructions="")

    done = run_as_claude_code(command, stdin, project)

    assert done.returncode == 0, done.stderr
    assert "Compact" in done.stdout


def test_no_hook_command_in_the_fixture_still_calls_claude_flow():
    text = json.dumps(settings()["hooks"])
    assert "claude-flow" not in text
