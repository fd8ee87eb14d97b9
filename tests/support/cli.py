"""Helpers for the CLI tests: run the installed command as a real subprocess."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from lifecycle import MemoryLifecycleManager
from tests.support.env import child_env

DAY = 86400.0


def command() -> list[str]:
    """The console script beside this interpreter, else the module form."""
    script = Path(sys.executable).with_name("memory-lifecycle")
    return [str(script)] if script.exists() else [sys.executable, "-m", "server.cli"]


def run_cli(
    *args: str,
    cwd: Path | None = None,
    stdin: str | None = None,
    timeout: float = 30,
    **env: str,
) -> subprocess.CompletedProcess[str]:
    """Run ``memory-lifecycle ARGS``; no stdin at all unless ``stdin`` is given (as in CI)."""
    return subprocess.run(
        [*command(), *args],
        cwd=cwd,
        env=child_env(**env),
        input=stdin,
        stdin=subprocess.DEVNULL if stdin is None else None,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def start_cli(*args: str, cwd: Path | None = None, **env: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [*command(), *args],
        cwd=cwd,
        env=child_env(**env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def wait_for_stderr(proc: subprocess.Popen[bytes], needle: str, timeout: float = 15) -> str:
    """Read the child's stderr until ``needle`` appears; fail after ``timeout`` seconds."""
    assert proc.stderr is not None
    fd = proc.stderr.fileno()
    seen = b""
    deadline = time.monotonic() + timeout
    while needle.encode() not in seen:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            raise AssertionError(f"no {needle!r} on stderr within {timeout} s: {seen.decode()}")
        chunk = os.read(fd, 65536)
        if not chunk:
            raise AssertionError(f"exited before {needle!r} (rc {proc.wait()}): {seen.decode()}")
        seen += chunk
    return seen.decode()


def claude_code_input(project: Path, event: str, **fields: object) -> str:
    """The JSON Claude Code writes to a hook command's stdin (session ``sess-1``)."""
    return json.dumps(
        {
            "session_id": "sess-1",
            "transcript_path": str(project / "transcript.jsonl"),
            "cwd": str(project),
            "permission_mode": "default",
            "hook_event_name": event,
            **fields,
        }
    )


def one_json(stdout: str) -> dict[str, Any]:
    """The single JSON object a ``--output json`` run prints, and nothing else."""
    lines = stdout.splitlines()
    assert len(lines) == 1, stdout
    result = json.loads(lines[0])
    assert isinstance(result, dict)
    return result


def assert_one_line_error(done: subprocess.CompletedProcess[str], *fragments: str) -> str:
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "Traceback" not in done.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def store_dir(project: Path) -> Path:
    return project / ".claude-flow" / "memory"


def open_store(project: Path) -> MemoryLifecycleManager:
    """The project's default store, as the command resolves it (no flags, no env)."""
    return MemoryLifecycleManager(memory_dir=store_dir(project))


def seed(project: Path, entries: dict[str, Any], *, expired: dict[str, Any] | None = None) -> None:
    """Store live entries now and ``expired`` ones three days ago (past every seed TTL)."""
    past = time.time() - 3 * DAY
    with open_store(project) as manager:
        for key, value in entries.items():
            manager.store(key, value)
        for key, value in (expired or {}).items():
            manager.store(key, value, timestamp=past, ttl_seconds=60)


def stored_keys(project: Path) -> set[str]:
    """Keys physically present (expired ones included): what cleanup really removed."""
    with open_store(project) as manager:
        return {e["key"] for e in manager.export_entries() if not e["tombstone"]}
