"""The README documents every registered tool: its name, every input and every result field."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from mcp import Client

from server.app import build_server
from tests.support.env import REPO
from tests.support.server import bounded

pytestmark = pytest.mark.anyio


def readme_section(name: str) -> str:
    text = (REPO / "README.md").read_text()
    match = re.search(rf"<!-- section:{name} -->(.*?)<!-- /section:{name} -->", text, re.S)
    assert match, f"README.md has no {name} section"
    return match.group(1)


def tool_row(section: str, tool: str) -> str:
    rows = [line for line in section.splitlines() if line.startswith(f"| `{tool}` |")]
    assert len(rows) == 1, f"README tools table needs exactly one row for {tool}"
    return rows[0]


async def test_every_registered_tool_is_documented_with_its_inputs_and_results(
    tmp_path: Path,
) -> None:
    section = readme_section("tools")
    assert section.lstrip().startswith("## MCP tools")
    server = build_server(memory_dir=tmp_path / "memory", maintenance_interval=0)
    with bounded():
        async with Client(server, mode="legacy") as client:
            tools = (await client.list_tools()).tools
    assert tools
    for tool in tools:
        inputs, results = tool_row(section, tool.name).split(" | ")[1:3]
        for field in tool.input_schema.get("properties", {}):
            assert f"`{field}`" in inputs, f"README: {tool.name} input {field!r} missing"
        assert tool.output_schema is not None
        for field in tool.output_schema["properties"]:
            assert f"`{field}`" in results, f"README: {tool.name} result {field!r} missing"
    assert "memory://{key}" in section
    assert "isError" in section


def test_the_debugging_section_shows_the_inspector_commands() -> None:
    section = readme_section("debugging")
    assert section.lstrip().startswith("## Debugging with the MCP Inspector")
    assert "--method tools/list" in section
    assert "--tool-name memory_stats" in section
    assert "--tool-args-json" in section
    assert "stderr" in section


def test_the_dashboard_section_documents_every_endpoint_the_page_uses() -> None:
    section = readme_section("dashboard")
    assert section.lstrip().startswith("## Dashboard: the memory in a browser")
    script = (REPO / "server" / "ui" / "static" / "app.js").read_text()
    used = set(re.findall(r"api/(\w+)", script))
    assert {"stats", "expiries", "locks", "entries", "entry", "changes", "cleanup"} <= used
    for name in used:
        assert f"/ui/api/{name}" in section, f"README: the dashboard's api/{name} is missing"
    assert "](docs/ui.png)" in section
    assert (REPO / "docs" / "ui.png").read_bytes().startswith(b"\x89PNG")
    for words in ("memory-lifecycle ui", "--open", "/ui", "?token=", "421", "403", "401"):
        assert words in section, words
