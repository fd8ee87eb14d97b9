"""The server as editors run it: a subprocess over real stdio, driven by the SDK's client
(and, where the client would hide it, by raw JSON-RPC lines to signal the process)."""

from __future__ import annotations

import json
import shutil
import stat
import subprocess
from pathlib import Path

import anyio
import pytest
from mcp import Client

from tests.support.claude_code import server_params
from tests.support.env import REPO, child_env
from tests.support.server import (
    EXIT_TIMEOUT,
    STOPPED_MESSAGE,
    bounded,
    error_text,
    raw_stdio_server,
    server_command,
    stdio_params,
    structured,
)

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


async def test_tools_are_listed_over_stdio(tmp_path: Path) -> None:
    with bounded():
        async with Client(stdio_params(tmp_path / "memory")) as client:
            names = {t.name for t in (await client.list_tools()).tools}
    assert "memory_store" in names and "memory_store_batch" in names
    assert "bench_noop" not in names


async def test_store_and_retrieve_round_trip_over_stdio(tmp_path: Path) -> None:
    with bounded():
        async with Client(stdio_params(tmp_path / "memory"), mode="legacy") as client:
            stored = structured(
                await client.call_tool(
                    "memory_store", {"key": "coordination/agent1/status", "value": {"a": [1, 2]}}
                )
            )
            got = structured(
                await client.call_tool("memory_retrieve", {"key": "coordination/agent1/status"})
            )
            resource = await client.read_resource("memory://coordination/agent1/status")
    assert stored["stored"] is True
    assert got["found"] is True and got["value"] == {"a": [1, 2]}
    assert '"a": [1, 2]' in resource.contents[0].text  # type: ignore[union-attr]
    assert (tmp_path / "memory" / "memory.db").exists()


async def test_an_error_result_is_followed_by_a_successful_call(tmp_path: Path) -> None:
    with bounded():
        async with Client(stdio_params(tmp_path / "memory")) as client:
            bad = await client.call_tool("memory_store", {"key": "../etc", "value": 1})
            good = await client.call_tool("memory_store", {"key": "knowledge/etc", "value": 1})
    assert "segment '..' is not allowed" in error_text(bad)
    assert structured(good)["stored"] is True


async def test_two_server_processes_on_one_store_see_writes_and_deletes_at_once(
    tmp_path: Path,
) -> None:
    memory = tmp_path / "memory"
    with bounded():
        async with Client(stdio_params(memory)) as a, Client(stdio_params(memory)) as b:
            await a.call_tool("memory_store", {"key": "swarm/agent/state/x", "value": "v1"})
            seen = structured(await b.call_tool("memory_retrieve", {"key": "swarm/agent/state/x"}))
            await b.call_tool("memory_store", {"key": "swarm/agent/state/x", "value": "v2"})
            updated = structured(
                await a.call_tool("memory_retrieve", {"key": "swarm/agent/state/x"})
            )
            deleted = structured(await b.call_tool("memory_delete", {"key": "swarm/agent/state/x"}))
            gone = structured(await a.call_tool("memory_retrieve", {"key": "swarm/agent/state/x"}))
    assert seen["value"] == "v1"
    assert updated["value"] == "v2"
    assert deleted["deleted"] is True
    assert gone["found"] is False


@pytest.mark.parametrize("how", ["SIGTERM", "SIGINT", "eof"])
def test_server_exits_cleanly_with_lifespan_cleanup_on_signal_or_eof(
    tmp_path: Path, how: str
) -> None:
    with raw_stdio_server(tmp_path / "memory") as server:
        init = server.initialize()
        assert init["result"]["serverInfo"]["name"] == "memory-lifecycle"
        stats = server.call_tool("memory_stats", {})
        assert stats["structuredContent"]["total_entries"] == 0
        code, seconds = server.stop_with(how)
        stderr = server.stderr_text()
    assert code == 0, stderr
    assert seconds < EXIT_TIMEOUT, stderr
    assert STOPPED_MESSAGE in stderr  # logged after the scheduler stopped and the store closed
    assert "Traceback" not in stderr


def test_background_maintenance_deletes_expired_entries_while_serving(tmp_path: Path) -> None:
    with raw_stdio_server(tmp_path / "memory", "--maintenance-interval", "0.2") as server:
        server.initialize()
        past = 1_000_000_000.0  # written long ago: already expired under coordination/*
        stored = server.call_tool(
            "memory_store", {"key": "coordination/old", "value": 1, "timestamp": past}
        )["structuredContent"]
        # stored, not refused (a stats call here could find it collected already: on a
        # busy machine the first 0.2 s pass may come before it); stderr names the deletion
        assert stored["stored"] is True
        for _ in range(200):  # bounded: 200 x 0.05 s
            stats = server.call_tool("memory_stats", {})["structuredContent"]
            if stats["total_entries"] == 0:
                break
            anyio.run(anyio.sleep, 0.05)
        code, _ = server.stop_with("SIGTERM")
        stderr = server.stderr_text()
    assert stats["total_entries"] == 0, stderr
    assert "maintenance: deleted 1 expired entries" in stderr
    assert code == 0


def test_maintenance_interval_zero_turns_background_maintenance_off(tmp_path: Path) -> None:
    with raw_stdio_server(tmp_path / "memory", "--maintenance-interval", "0") as server:
        server.initialize()
        past = 1_000_000_000.0
        server.call_tool("memory_store", {"key": "coordination/old", "value": 1, "timestamp": past})
        stats = server.call_tool("memory_stats", {})["structuredContent"]
        code, _ = server.stop_with("SIGTERM")
        stderr = server.stderr_text()
    assert code == 0, stderr
    assert stats["expired_pending"] == 1
    assert "background maintenance off" in stderr
    assert "maintenance: deleted" not in stderr


def test_a_bad_policy_file_stops_startup_with_one_clear_line(tmp_path: Path) -> None:
    policy = tmp_path / "policies.yaml"
    policy.write_text("namespaces:\n  - namespace: 'x/*'\n    ttl_seconds: -1\n")
    command = server_command(tmp_path / "memory")
    done = subprocess.run(
        [*command[:3], "--policy-file", str(policy), *command[3:]],
        input=b"",
        capture_output=True,
        env=child_env(),
        timeout=60,
    )
    stderr = done.stderr.decode()
    assert done.returncode == 1, stderr
    assert str(policy) in stderr and "ttl_seconds" in stderr
    assert "Traceback" not in stderr
    assert done.stdout == b""


def test_mcp_json_registers_the_server_without_machine_specific_paths() -> None:
    text = (REPO / ".mcp.json").read_text()
    entry = json.loads(text)["mcpServers"]["memory-lifecycle"]
    assert entry["type"] == "stdio"
    assert entry["command"] == "sh" and entry["args"][0] == "-c"
    assert "scripts/serve-mcp" in entry["args"][1]
    assert "${" not in text  # Claude Code would expand it before the shell sees it
    assert str(REPO) not in text
    script = REPO / "scripts" / "serve-mcp"
    assert script.stat().st_mode & stat.S_IXUSR
    assert "1>&2" in script.read_text()  # the build's output never reaches the MCP stream


async def test_the_registered_command_serves_tools_over_stdio_from_a_subfolder(
    tmp_path: Path,
) -> None:
    entry = json.loads((REPO / ".mcp.json").read_text())["mcpServers"]["memory-lifecycle"]
    sub = REPO / "lifecycle" / "store"  # Claude Code started here: CLAUDE_PROJECT_DIR = sub
    params = server_params(entry, sub, MEMORY_LIFECYCLE_DIR=str(tmp_path / "memory"))
    with bounded():
        async with Client(params) as client:
            stored = structured(await client.call_tool("memory_store", {"key": "k", "value": 1}))
    assert stored["stored"] is True
    assert (tmp_path / "memory" / "memory.db").exists()


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_serve_mcp_builds_a_missing_venv_first_with_all_build_output_on_stderr(
    tmp_path: Path,
) -> None:
    clone = tmp_path / "clone"
    (clone / "scripts").mkdir(parents=True)
    shutil.copy2(REPO / "scripts" / "serve-mcp", clone / "scripts" / "serve-mcp")
    # a stand-in for the real stamp target: same name, prints on stdout, makes the command
    (clone / "Makefile").write_text(
        ".venv/.installed:\n"
        "\techo building the venv\n"
        "\tmkdir -p .venv/bin\n"
        "\tprintf '#!/bin/sh\\necho \"served $$*\"\\n' > .venv/bin/memory-lifecycle\n"
        "\tchmod +x .venv/bin/memory-lifecycle\n"
        "\ttouch $@\n"
    )
    run = [str(clone / "scripts" / "serve-mcp"), "--transport", "stdio"]
    first = subprocess.run(run, cwd=tmp_path, capture_output=True, timeout=60)
    second = subprocess.run(run, cwd=tmp_path, capture_output=True, timeout=60)
    assert first.returncode == 0, first.stderr
    assert first.stdout == b"served serve --transport stdio\n"  # nothing from make
    assert b"building the venv" in first.stderr
    assert second.stdout == first.stdout
    assert b"building" not in second.stderr  # built once
