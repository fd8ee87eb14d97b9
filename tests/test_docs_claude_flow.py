"""docs/claude-flow.md says what the code does: its commands, run on claude-flow's own files,
give the files the tests run; its tables name every claude-flow hook and every argument of
claude-flow's memory tools and ours.

The 3.x command itself is run (and its result run as Claude Code runs hooks) by
``tests/server/test_claude_flow_v3_settings.py``; the 2.x result by
``tests/server/test_claude_flow_settings.py``.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from mcp import Client

from server.mcp.server import build_server
from tests.support.claude_flow import CLAUDE_FLOW_2_HOOKS, CLAUDE_FLOW_3_HOOKS
from tests.support.docs import example, page, table_rows
from tests.support.env import REPO
from tests.support.server import bounded

FIXTURES = REPO / "tests" / "fixtures" / "claude-flow"
PAGE = "claude-flow.md"
CLAUDE_FLOW_TOOLS = {
    t["name"]: t["inputSchema"] for t in json.loads((FIXTURES / "v3-memory-tools.json").read_text())
}


def names(cell: str) -> set[str]:
    """The `code` names in a table cell."""
    return set(re.findall(r"`([^`]+)`", cell))


@pytest.mark.skipif(shutil.which("sed") is None, reason="sed is not installed")
def test_the_2x_command_turns_claude_flows_template_into_the_tested_settings(tmp_path: Path):
    settings = tmp_path / ".claude" / "settings.json"
    settings.parent.mkdir()
    shutil.copyfile(FIXTURES / "settings-v2.template.json", settings)

    done = subprocess.run(
        ["sh", "-c", example(PAGE, "switch-v2")], cwd=tmp_path, capture_output=True, text=True
    )

    assert done.returncode == 0, done.stderr
    assert settings.read_text() == (FIXTURES / "settings-v2.json").read_text()


def test_the_3x_table_names_the_lines_the_3x_command_changes():
    text = page(PAGE)
    rows = table_rows(text, "event (matcher)")
    switched = set(re.search(r"\(([a-z|-]+)\)#", example(PAGE, "switch-v3")).group(1).split("|"))  # type: ignore[union-attr]
    settings = (FIXTURES / "v3-project" / ".claude" / "settings.json").read_text()

    assert {r[1].split()[-1].strip("`") for r in rows} == switched
    for _, theirs, ours in rows:
        sub = theirs.split()[-1].strip("`")
        assert f'hook-handler.cjs\\" {sub}' in settings  # a line of claude-flow's own file
        assert ours == f"`memory-lifecycle hooks {sub}`"


def test_the_deny_rules_name_claude_flows_server_and_its_seven_memory_tools():
    server = json.loads((FIXTURES / "mcp-v3.json").read_text())["mcpServers"]
    rules = json.loads(example(PAGE, "deny-v3"))["permissions"]["deny"]

    assert list(server) == ["claude-flow"]
    assert set(rules) == {f"mcp__claude-flow__{tool}" for tool in CLAUDE_FLOW_TOOLS}


def test_the_hook_table_names_every_hook_claude_flow_wires_or_lists():
    rows = table_rows(page(PAGE), "claude-flow subcommand")
    documented: set[str] = set()
    for first, *_ in rows:
        documented |= {n.split()[0] for n in names(first)}

    missing = {*CLAUDE_FLOW_2_HOOKS, *CLAUDE_FLOW_3_HOOKS} - documented
    assert not missing, f"docs/claude-flow.md: hooks missing from the table: {sorted(missing)}"


@pytest.mark.anyio
async def test_the_tool_table_names_every_argument_of_theirs_and_ours(tmp_path: Path):
    rows = {names(r[0]).pop(): r for r in table_rows(page(PAGE), "tool")}
    server = build_server(memory_dir=tmp_path / "memory", maintenance_interval=0)
    with bounded():
        async with Client(server) as client:  # type: ignore[arg-type]
            ours = {t.name: t.input_schema for t in (await client.list_tools()).tools}

    for tool, schema in CLAUDE_FLOW_TOOLS.items():
        assert set(schema["properties"]) <= names(rows[tool][1]), tool
    for tool, row in rows.items():
        if tool in ours:  # every argument of ours: claude-flow's, or ours besides those
            assert set(ours[tool]["properties"]) <= names(row[1]) | names(row[2]), tool
