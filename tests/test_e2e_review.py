"""Regressions found by the end-to-end review: each test is a bug a user or agent hit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from mcp import Client

from lifecycle import MemoryLifecycleManager
from server.mcp.server import build_server
from tests.support.cli import run_cli
from tests.support.server import bounded, error_text, structured


@pytest.mark.anyio
async def test_a_misspelt_tool_argument_is_rejected_naming_it_and_nothing_is_stored(
    tmp_path: Path,
) -> None:
    server = build_server(memory_dir=tmp_path / "memory", maintenance_interval=0)
    with bounded():
        async with Client(server, mode="legacy") as client:  # type: ignore[arg-type]
            tools = {t.name: t for t in (await client.list_tools()).tools}
            assert all(t.input_schema.get("additionalProperties") is False for t in tools.values())

            bad = await client.call_tool(  # ttl is claude-flow's name, ttl_second a typo
                "memory_store", {"key": "coordination/a/status", "value": 1, "ttl_second": 5}
            )
            message = error_text(bad)
            assert "unknown argument 'ttl_second'; did you mean 'ttl_seconds'?" in message
            bad_list = await client.call_tool("memory_list", {"limt": 5})
            assert "unknown argument 'limt'; did you mean 'limit'?" in error_text(bad_list)

            found = structured(
                await client.call_tool("memory_retrieve", {"key": "coordination/a/status"})
            )
            assert found["found"] is False
            good = await client.call_tool(
                "memory_store", {"key": "coordination/a/status", "value": 1, "ttl_seconds": 5}
            )
            assert structured(good)["stored"] is True


def _export_of_two_new_entries(tmp_path: Path) -> list[str]:
    source = tmp_path / "source"
    with MemoryLifecycleManager(memory_dir=source) as manager:
        manager.store("knowledge/a", "A")
        manager.store("knowledge/b", "B")
        return [json.dumps(entry) for entry in manager.export_entries()]


def test_importing_a_file_that_is_not_utf8_fails_in_one_line_naming_it_and_merges_nothing(
    tmp_path: Path,
) -> None:
    dump = tmp_path / "dump.jsonl"
    dump.write_bytes(("\n".join(_export_of_two_new_entries(tmp_path)) + "\n").encode() + b"\xff\n")
    target = tmp_path / "target"

    result = run_cli("--memory-dir", str(target), "import", str(dump))

    assert result.returncode == 1
    assert result.stderr.count("\n") == 1, result.stderr
    assert f"{dump}: not UTF-8 text" in result.stderr
    assert "internal error" not in result.stderr and "Traceback" not in result.stderr
    with MemoryLifecycleManager(memory_dir=target) as manager:
        assert manager.get_stats()["total_entries"] == 0


def test_an_import_error_about_one_entry_names_the_file_as_well_as_the_line(
    tmp_path: Path,
) -> None:
    good = _export_of_two_new_entries(tmp_path)
    dump = tmp_path / "dump.jsonl"
    dump.write_text(f'{good[0]}\n{{"v": 99}}\n', encoding="utf-8")

    result = run_cli("--memory-dir", str(tmp_path / "target"), "import", str(dump))

    assert result.returncode == 1
    assert f"error: {dump}: line 2: unsupported format version 99" in result.stderr


def test_exporting_to_a_directory_says_it_is_a_directory(tmp_path: Path) -> None:
    MemoryLifecycleManager(memory_dir=tmp_path / "memory").close()
    result = run_cli("--memory-dir", str(tmp_path / "memory"), "export", str(tmp_path))

    assert result.returncode == 1
    assert f"error: {tmp_path}: is a directory; name a file" in result.stderr
    assert not list(tmp_path.glob(".*.tmp"))


@pytest.mark.parametrize(
    ("flags", "named"),
    [
        (["--port", "8765"], "--port applies only to HTTP"),
        (["--host", "0.0.0.0", "--auth-token-file", "t"], "--host, --auth-token-file apply"),
    ],
)
def test_http_options_without_the_http_transport_are_a_usage_error_not_a_silent_stdio_server(
    tmp_path: Path, flags: list[str], named: str
) -> None:
    result = run_cli("--memory-dir", str(tmp_path / "memory"), "serve", *flags, timeout=10)

    assert result.returncode == 2
    assert named in result.stderr and "add --transport http" in result.stderr
    assert result.stdout == ""
