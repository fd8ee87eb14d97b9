"""This checkout's own ``.mcp.json`` and hooks reach its one store from any subfolder.

A copy of the checkout's Claude Code files (``.mcp.json``, ``.claude/``,
``scripts/``) with this checkout's ``.venv`` stands in for a clone, so the test
writes to its own store, never to this checkout's.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest
from mcp import Client

from tests.support.claude_code import event_input, hook_commands, run_hook, server_params
from tests.support.cli import DAY, open_store, stored_keys
from tests.support.env import REPO
from tests.support.server import bounded, structured

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (REPO / ".venv" / "bin" / "memory-lifecycle").exists(), reason="no .venv"
    ),
]


@pytest.fixture
def clone(tmp_path: Path) -> Path:
    copy = tmp_path / "clone"
    shutil.copytree(REPO / "scripts", copy / "scripts")
    shutil.copytree(REPO / ".claude", copy / ".claude")
    shutil.copy2(REPO / ".mcp.json", copy / ".mcp.json")
    (copy / ".venv").symlink_to(REPO / ".venv")
    (copy / "lifecycle" / "store").mkdir(parents=True)
    return copy


@pytest.mark.anyio
async def test_the_checkouts_server_started_in_a_subfolder_uses_the_checkouts_store(clone: Path):
    entry = json.loads((clone / ".mcp.json").read_text())["mcpServers"]["memory-lifecycle"]
    sub = clone / "lifecycle" / "store"

    with bounded():
        async with Client(server_params(entry, sub)) as client:
            stored = structured(await client.call_tool("memory_store", {"key": "k/v", "value": 1}))

    assert stored["stored"] is True
    with open_store(clone) as m:
        assert m.retrieve("k/v") == 1
    assert not (sub / ".claude-flow").exists()


def test_the_checkouts_hooks_run_in_a_subfolder_use_the_checkouts_store(clone: Path):
    sub = clone / "lifecycle" / "store"
    with open_store(clone) as m:
        m.store("session/sess-3/notes", 1)
        m.store("coordination/old/step", 1, timestamp=time.time() - 3 * DAY, ttl_seconds=60)
        m.store("knowledge/kept", 1)
    settings = json.loads((clone / ".claude" / "settings.json").read_text())

    for event, _, command in hook_commands(settings):
        done = run_hook(command, sub, event_input(sub, event, "sess-3"))
        assert done.returncode == 0, (command, done.stderr)

    # session removed, expired collected, the subagent task recorded and then finished (the
    # last hook run is PostToolUseFailure's, so it ends as failed)
    assert stored_keys(clone) == {"knowledge/kept", "swarm/shared/tasks/toolu_01"}
    with open_store(clone) as m:
        assert m.retrieve("swarm/shared/tasks/toolu_01")["status"] == "failed"
    assert not (sub / ".claude-flow").exists()
