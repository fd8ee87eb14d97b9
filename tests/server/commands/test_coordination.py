"""``memory-lifecycle locks`` and ``memory-lifecycle watch``, as real subprocesses."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import assert_one_line_error, one_json, open_store, run_cli, start_cli

pytestmark = pytest.mark.slow

LINE_TIMEOUT = 15.0


def next_change(
    proc: subprocess.Popen[bytes], pending: bytearray, timeout: float = LINE_TIMEOUT
) -> dict[str, Any]:
    """The next JSON line the child prints, within ``timeout`` seconds."""
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    deadline = time.monotonic() + timeout
    while b"\n" not in pending:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            raise TimeoutError(f"no line within {timeout} s: {bytes(pending)!r}")
        chunk = os.read(fd, 65536)
        assert chunk, f"watch exited early (rc {proc.wait()})"
        pending += chunk
    line, _, rest = bytes(pending).partition(b"\n")
    pending[:] = rest
    change = json.loads(line)
    assert isinstance(change, dict)
    return change


def test_locks_lists_what_is_held_as_a_table_and_as_json(project: Path) -> None:
    open_store(project).close()
    assert run_cli("locks", cwd=project).stdout.strip() == "no locks held"
    with open_store(project) as m:
        held = m.lock("deploy", owner="agent-7", ttl_seconds=600)
    text = run_cli("locks", cwd=project)
    assert text.returncode == 0
    header, rule, row = text.stdout.splitlines()
    assert header.split() == ["name", "owner", "token", "expires"]
    assert set(rule) == {"-", " "}
    assert row.split()[:3] == ["deploy", "agent-7", str(held["token"])] and "(in 9m)" in row
    listed = one_json(run_cli("locks", "--output", "json", cwd=project).stdout)
    assert listed == {
        "count": 1,
        "locks": [
            {
                "name": "deploy",
                "owner": "agent-7",
                "token": held["token"],
                "expires_at": held["expires_at"],
            }
        ],
    }


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_watch_prints_each_change_as_it_happens_until_interrupted(
    project: Path, stop: signal.Signals
) -> None:
    with open_store(project) as m:
        before = m.put("task/early", 1)
        m.put("other/x", 1)
    proc = start_cli("watch", "task/", "--since", "0", cwd=project)
    pending = bytearray()
    try:
        assert next_change(proc, pending) == {
            "key": "task/early",
            "revision": before.revision,
            "op": "put",
            "policy": "default",
        }
        with open_store(project) as m:
            m.put("other/y", 2)
            m.delete("task/early")
        assert next_change(proc, pending)["op"] == "delete"
        proc.send_signal(stop)
        assert proc.wait(timeout=10) == 0
        assert proc.stderr is not None and b"Traceback" not in proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


def test_watch_without_since_starts_from_now(project: Path) -> None:
    with open_store(project) as m:
        m.put("task/old", 1)
    proc = start_cli("watch", cwd=project)
    pending = bytearray()
    try:
        # write until watch (still starting, maybe) reports something: whatever it
        # reports first must be one of these, never the entry written before it started
        for i in range(60):
            with open_store(project) as m:
                m.put(f"task/new/{i}", 1)
            try:
                first = next_change(proc, pending, timeout=0.5)
                break
            except TimeoutError:
                continue
        else:
            raise AssertionError("watch reported nothing")
        assert first["key"].startswith("task/new/")
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


def test_watch_refuses_a_bad_cursor_in_one_line(project: Path) -> None:
    with open_store(project) as m:
        m.put("task/a", 1)
    assert_one_line_error(run_cli("watch", "--since", "50", cwd=project), "invalid since 50")
    usage = run_cli("watch", "--since", "-1", cwd=project)
    assert usage.returncode == 2 and "is not a revision" in usage.stderr
