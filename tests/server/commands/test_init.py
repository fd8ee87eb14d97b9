"""``memory-lifecycle init``: a project set up for Claude Code in one step, from any folder."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from server.clients.claude_code import HOOKS, SERVER_ENTRY
from server.clients.project_files import STORE_IGNORE
from server.commands.init import default_policies
from tests.support.claude_code import (
    event_input,
    hook_commands,
    path_with,
    run_hook,
    server_params,
)
from tests.support.cli import DAY, assert_one_line_error, one_json, open_store, run_cli, stored_keys
from tests.support.env import REPO
from tests.support.server import bounded, structured

pytestmark = pytest.mark.slow

TOOL_BIN = Path(sys.executable).parent  # where this environment's memory-lifecycle is

EXISTING_MCP = {
    "mcpServers": {
        "github": {"type": "stdio", "command": "gh-mcp", "args": ["--ro"], "env": {"T": "${T}"}}
    },
    "note": "kept",
}
EXISTING_SETTINGS = {
    "permissions": {"allow": ["Bash(ls)"]},
    "env": {"FOO": "bar"},
    "hooks": {
        "SessionEnd": [{"hooks": [{"type": "command", "command": "echo bye", "timeout": 5}]}],
        "PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "./lint"}]}],
        "Stop": [{"hooks": [{"type": "command", "command": "notify-send done"}]}],
    },
}
FILES = (
    ".mcp.json",
    ".claude/settings.json",
    ".claude/memory-retention-policies.yaml",
    ".gitignore",
)


def existing_project(project: Path) -> None:
    (project / ".claude").mkdir()
    (project / ".mcp.json").write_text(json.dumps(EXISTING_MCP, indent=4) + "\n")
    (project / ".claude" / "settings.json").write_text(json.dumps(EXISTING_SETTINGS))
    (project / ".gitignore").write_text("node_modules/\n*.log")


def snapshot(project: Path) -> dict[str, tuple[bytes, int] | None]:
    out: dict[str, tuple[bytes, int] | None] = {}
    for name in FILES:
        path = project / name
        out[name] = (path.read_bytes(), path.stat().st_mtime_ns) if path.exists() else None
    return out


def load(project: Path, name: str) -> Any:
    return json.loads((project / name).read_text())


def ours(groups: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [g for g in groups if any("memory-lifecycle" in h["command"] for h in g["hooks"])]


def theirs(groups: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [g for g in groups if g not in ours(groups)]


def test_init_merges_into_existing_files_and_keeps_everything_else(project: Path):
    existing_project(project)

    done = run_cli("init", cwd=project)

    assert done.returncode == 0, done.stderr
    mcp = load(project, ".mcp.json")
    assert mcp["note"] == "kept"
    assert mcp["mcpServers"] == {**EXISTING_MCP["mcpServers"], "memory-lifecycle": SERVER_ENTRY}
    assert (project / ".mcp.json").read_text().startswith('{\n    "mcpServers"')  # its indent
    settings = load(project, ".claude/settings.json")
    assert {k: v for k, v in settings.items() if k != "hooks"} == {
        k: v for k, v in EXISTING_SETTINGS.items() if k != "hooks"
    }
    for event, groups in EXISTING_SETTINGS["hooks"].items():
        assert theirs(settings["hooks"][event]) == groups  # theirs kept, in their order
    assert sorted(c for _, _, c in hook_commands(settings) if "memory-lifecycle" in c) == sorted(
        spec.command for spec in HOOKS
    )
    for spec in HOOKS:
        (group,) = ours(settings["hooks"][spec.event])
        assert group.get("matcher") == spec.matcher
        assert group["hooks"][0]["timeout"] == 10
    assert [s.matcher for s in HOOKS if s.event == "PreToolUse"] == ["Agent|Task"]
    policies = project / ".claude" / "memory-retention-policies.yaml"
    assert policies.read_text() == (REPO / ".claude" / "memory-retention-policies.yaml").read_text()
    assert (project / ".gitignore").read_text().splitlines()[:2] == ["node_modules/", "*.log"]
    assert STORE_IGNORE in (project / ".gitignore").read_text().splitlines()
    assert "updated    .mcp.json: server memory-lifecycle" in done.stdout
    assert "created    .claude/memory-retention-policies.yaml" in done.stdout


def test_the_files_init_writes_hold_no_path_of_this_machine(tmp_path: Path, project: Path):
    done = run_cli("init", str(project), cwd=tmp_path)

    assert done.returncode == 0, done.stderr
    for name in FILES:
        text = (project / name).read_text()
        for machine_path in (str(project), str(REPO), str(Path.home()), str(TOOL_BIN)):
            assert machine_path not in text, (name, machine_path)


def test_a_second_run_changes_nothing_and_says_so(project: Path):
    existing_project(project)
    assert run_cli("init", cwd=project).returncode == 0
    before = snapshot(project)
    time.sleep(0.01)  # a rewrite, even of equal bytes, would show in the mtime

    again = run_cli("init", cwd=project)
    as_json = run_cli("init", "--output", "json", cwd=project)

    assert again.returncode == 0, again.stderr
    assert again.stdout == f"nothing to change: {project} is already set up for memory-lifecycle\n"
    report = one_json(as_json.stdout)
    assert report["changed"] is False
    assert {f["action"] for f in report["files"]} == {"unchanged"}
    assert snapshot(project) == before


def test_dry_run_prints_the_change_and_writes_nothing(project: Path):
    existing_project(project)
    before = snapshot(project)

    done = run_cli("init", "--dry-run", cwd=project)
    as_json = run_cli("init", "--dry-run", "--output", "json", cwd=project)

    assert done.returncode == 0, done.stderr
    assert snapshot(project) == before
    assert "would update  .mcp.json: server memory-lifecycle" in done.stdout
    assert "+++ b/.mcp.json" in done.stdout
    assert '+        "memory-lifecycle": {' in done.stdout
    assert "+++ b/.claude/settings.json" in done.stdout
    assert f"+{STORE_IGNORE}" in done.stdout
    assert "--- /dev/null\n+++ b/.claude/memory-retention-policies.yaml" in done.stdout
    assert done.stdout.rstrip().endswith("dry run: nothing written")
    report = one_json(as_json.stdout)
    assert report["dry_run"] is True and report["changed"] is True
    diffs = {f["path"]: f.get("diff", "") for f in report["files"]}
    assert '"memory-lifecycle hook session-end"' in diffs[".claude/settings.json"]
    assert snapshot(project) == before


@pytest.mark.parametrize(
    ("name", "text", "problem"),
    [
        (".claude/settings.json", '{"hooks": {"SessionEnd": [', "invalid JSON at line 1"),
        (".claude/settings.json", '{"hooks": []}', '"hooks" is a list, not a JSON object'),
        (
            ".claude/settings.json",
            '{"hooks": {"PreToolUse": {}}}',
            '"hooks"."PreToolUse" is an object, not a list',
        ),
        (".mcp.json", '{"mcpServers": {"a": 1},}', "invalid JSON at line 1"),
        (".mcp.json", "[]", "the file is a list, not a JSON object"),
    ],
)
def test_a_file_init_cannot_read_is_refused_with_nothing_touched(
    project: Path, name: str, text: str, problem: str
):
    existing_project(project)
    (project / name).write_text(text)
    before = snapshot(project)

    done = run_cli("init", cwd=project)

    assert done.returncode == 1
    assert_one_line_error(done, f"{project / name}: ", "nothing was changed")
    assert problem in done.stderr
    assert snapshot(project) == before
    assert not (project / ".claude" / "memory-retention-policies.yaml").exists()


def test_a_server_and_hooks_already_wired_by_any_path_are_kept_as_they_are(project: Path):
    tool = "/opt/tools/bin/memory-lifecycle"
    (project / ".claude").mkdir()
    mcp = {"mcpServers": {"memory": {"command": tool, "args": ["serve"]}}}
    settings = {
        "hooks": {
            "SessionStart": [
                {"hooks": [{"type": "command", "command": f"{tool} hook session-start"}]}
            ],
            "SessionEnd": [{"hooks": [{"type": "command", "command": f"{tool} hook session-end"}]}],
            "PreToolUse": [
                {
                    "matcher": "Task",
                    "hooks": [{"type": "command", "command": f"{tool} hooks pre-task"}],
                }
            ],
            "PostToolUse": [
                {
                    "matcher": "Task",
                    "hooks": [{"type": "command", "command": f"{tool} hook post-task"}],
                }
            ],
            "PostToolUseFailure": [
                {
                    "matcher": "Agent",
                    "hooks": [{"type": "command", "command": f"{tool} hooks post-task"}],
                }
            ],
        }
    }
    (project / ".mcp.json").write_text(json.dumps(mcp))
    (project / ".claude" / "settings.json").write_text(json.dumps(settings))
    (project / ".gitignore").write_text(".claude-flow/\n")
    before = snapshot(project)

    report = one_json(run_cli("init", "--output", "json", cwd=project).stdout)

    actions = {f["path"]: f["action"] for f in report["files"]}
    assert actions == {
        ".mcp.json": "unchanged",
        ".claude/settings.json": "unchanged",
        ".claude/memory-retention-policies.yaml": "create",
        ".gitignore": "unchanged",
    }
    after = snapshot(project)
    for name in (".mcp.json", ".claude/settings.json", ".gitignore"):
        assert after[name] == before[name]


def test_init_of_a_folder_that_does_not_exist_is_a_clear_error(tmp_path: Path):
    done = run_cli("init", str(tmp_path / "nowhere"))
    assert_one_line_error(done, str(tmp_path / "nowhere"), "not a directory")
    assert done.returncode == 1


def test_init_in_a_subfolder_of_a_set_up_project_warns_of_a_second_store(project: Path):
    assert run_cli("init", cwd=project).returncode == 0
    (project / "tools").mkdir()

    done = run_cli("init", "tools", "--dry-run", cwd=project)

    assert done.returncode == 0
    assert f"{project} already sets memory-lifecycle up" in done.stderr


def test_the_shipped_policy_template_is_this_repositorys_policy_file():
    assert default_policies() == (REPO / ".claude" / "memory-retention-policies.yaml").read_text()


def subfolder_of_a_new_project(project: Path) -> Path:
    """A project set up by init, and a subfolder with its own .claude/ (commands, say)."""
    assert run_cli("init", cwd=project).returncode == 0
    sub = project / "packages" / "web"
    (sub / ".claude").mkdir(parents=True)
    return sub


@pytest.mark.anyio
async def test_the_server_init_wrote_started_from_a_subfolder_stores_in_the_projects_store(
    project: Path,
):
    sub = subfolder_of_a_new_project(project)
    entry = load(project, ".mcp.json")["mcpServers"]["memory-lifecycle"]
    params = server_params(entry, sub, PATH=path_with(TOOL_BIN))

    with bounded():
        async with Client(params) as client:
            stored = structured(
                await client.call_tool("memory_store", {"key": "knowledge/where", "value": "root"})
            )

    assert stored["stored"] is True
    with open_store(project) as m:
        assert m.retrieve("knowledge/where") == "root"
    assert not (sub / ".claude-flow").exists()


def test_each_hook_init_wrote_run_from_a_subfolder_uses_the_projects_store(project: Path):
    sub = subfolder_of_a_new_project(project)
    past = time.time() - 3 * DAY
    with open_store(project) as m:
        m.store("session/sess-9/scratch", 1)
        m.store("knowledge/kept", 1)
        m.store("coordination/old/step", 1, timestamp=past, ttl_seconds=60)
    written = [
        (event, command)
        for event, _, command in hook_commands(load(project, ".claude/settings.json"))
        if "memory-lifecycle" in command
    ]
    assert sorted(written) == sorted((s.event, s.command) for s in HOOKS)

    for event, command in written:
        done = run_hook(command, sub, event_input(sub, event, "sess-9"), PATH=path_with(TOOL_BIN))
        assert done.returncode == 0, (command, done.stderr)
        assert "Traceback" not in done.stderr

    # session removed, expired collected, the subagent task recorded and then finished (the
    # last hook run is PostToolUseFailure's, so it ends as failed)
    assert stored_keys(project) == {"knowledge/kept", "swarm/shared/tasks/toolu_01"}
    with open_store(project) as m:
        assert m.retrieve("swarm/shared/tasks/toolu_01")["status"] == "failed"
    assert not (sub / ".claude-flow").exists()
