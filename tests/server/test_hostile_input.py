"""Hostile input to the command and the running server ends in one line that says what
is wrong: never a traceback, never "internal error", never a hang. Real subprocesses."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.lifecycle.policies.test_file import GOOD, alias_bomb
from tests.support.cli import open_store, run_cli
from tests.support.server import raw_stdio_server

pytestmark = pytest.mark.slow


def assert_no_internals(stderr: str) -> None:
    assert "Traceback" not in stderr
    assert "internal error" not in stderr


@pytest.mark.parametrize(
    ("stdin", "expected"),
    [
        ("[" * 100_000 + "]" * 100_000, "not valid JSON (nested too deeply)"),
        ('{"session_id": ' + "9" * 5000 + "}", "not valid JSON (a number too long to read)"),
    ],
    ids=["nested 100,000 deep", "a 5,000-digit session_id"],
)
def test_unreadable_hook_stdin_is_a_warning_and_the_flags_still_work(
    project: Path, stdin: str, expected: str
) -> None:
    done = run_cli("hook", "session-end", "--session-id", "s1", stdin=stdin)
    assert done.returncode == 0, done.stderr
    assert expected in done.stderr
    assert_no_internals(done.stderr)


def test_unreadable_hook_stdin_without_flags_says_why_and_what_is_missing(project: Path) -> None:
    done = run_cli("hook", "session-end", stdin='{"session_id": ' + "9" * 5000 + "}")
    assert done.returncode == 0  # a hook never blocks Claude Code: it says what it missed
    warning, missing = done.stderr.strip().splitlines()
    assert "ignoring hook stdin: not valid JSON (a number too long to read)" in warning
    assert "no session id" in missing
    assert_no_internals(done.stderr)


@pytest.mark.parametrize("session_id", ["\ud800", "s/\udfff"])
def test_a_lone_surrogate_session_id_in_hook_json_is_refused_by_name(
    project: Path, session_id: str
) -> None:
    done = run_cli("hook", "session-end", stdin=json.dumps({"session_id": session_id}))
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "invalid session id" in lines[0], done.stderr
    assert_no_internals(done.stderr)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("namespaces: " + "[" * 10_000 + "]" * 10_000 + "\n", "nested more than"),
        (
            'namespaces:\n  - {namespace: "a/*", ttl_seconds: ' + "9" * 5000 + ", "
            "cleanup_strategy: lazy, conflict_strategy: lww}\n",
            "an integer of 5000 characters",
        ),
        (alias_bomb(levels=7), "YAML anchors and aliases are not allowed"),
    ],
    ids=["nested 10,000 deep", "a 5,000-digit integer", "an alias bomb"],
)
def test_a_hostile_policy_file_is_one_line_and_exit_1(
    project: Path, tmp_path: Path, text: str, fragment: str
) -> None:
    policy = tmp_path / "hostile.yaml"
    policy.write_text(text)
    open_store(project).close()  # the store is there: the policy file is the problem
    done = run_cli("--policy-file", str(policy), "stats", timeout=60)
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"memory-lifecycle: error: {policy}")
    assert fragment in lines[0] and len(lines[0]) < 400
    assert_no_internals(done.stderr)


def test_a_running_server_that_reloads_a_bomb_stays_fast_and_keeps_its_policies(
    tmp_path: Path,
) -> None:
    policy = tmp_path / "policies.yaml"
    policy.write_text(GOOD)
    with raw_stdio_server(tmp_path / "memory", "--policy-file", str(policy)) as server:
        server.initialize()
        policy.write_text(alias_bomb(levels=7))
        time.sleep(1.1)  # the server re-reads an edited policy file at most once a second
        stored = server.call_tool("memory_store", {"key": "jobs/a", "value": 1})
        stats = server.call_tool("memory_stats", {})["structuredContent"]
    assert "YAML anchors and aliases are not allowed" in stats["policy_error"]
    assert len(stats["policy_error"]) < 400
    assert stored["structuredContent"]["expires_at"] is not None  # jobs/* (60 s) still applies


def test_stats_of_a_store_with_an_absurd_expiry_from_before_the_ttl_bound_still_works(
    project: Path,
) -> None:
    from lifecycle import MemoryLifecycleManager
    from tests.support.cli import store_dir

    with MemoryLifecycleManager(memory_dir=store_dir(project)) as m:
        m.store("coordination/t", 1)
        with m.backend.transaction(["coordination/t"]) as tx:  # as written before the bound
            row = tx.get("coordination/t")
            assert row is not None
            row.expires_at = 1e300
            tx.put(row)
    done = run_cli("stats")
    assert done.returncode == 0, done.stderr
    assert "beyond any calendar" in done.stdout
