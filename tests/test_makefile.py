"""``make serve`` puts nothing on stdout but the MCP stream (make echoes no command line)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.env import REPO, child_env

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("make") is None, reason="needs make"),
]

INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "tests", "version": "0"},
    },
}


def shell_env(**extra: str) -> dict[str, str]:
    """As typed in a shell: not a sub-make of `make test`, which would print
    "make[1]: Entering directory" itself (make does that in every sub-make)."""
    env = child_env(**extra)
    for name in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES"):
        env.pop(name, None)
    return env


def test_make_serve_stdout_starts_with_the_mcp_response(tmp_path: Path):
    done = subprocess.run(
        ["make", "serve"],
        cwd=REPO,
        input=json.dumps(INITIALIZE) + "\n",  # then EOF: the server answers and exits
        env=shell_env(MEMORY_LIFECYCLE_DIR=str(tmp_path / "memory")),
        capture_output=True,
        text=True,
        timeout=300,  # a stale .venv is rebuilt first, its output on stderr
    )

    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 1, done.stdout
    response = json.loads(lines[0])
    assert response["id"] == 1 and response["result"]["serverInfo"]["name"] == "memory-lifecycle"
