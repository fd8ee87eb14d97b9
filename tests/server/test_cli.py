"""``memory-lifecycle`` cleanup, stats, export/import, errors and path resolution."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest

from lifecycle import MemoryLifecycleManager
from server.cli import with_default_command
from tests.support.cli import (
    assert_one_line_error,
    command,
    one_json,
    open_store,
    run_cli,
    seed,
    stored_keys,
)
from tests.support.env import child_env

pytestmark = pytest.mark.slow


def test_cleanup_reports_json_and_deletes_only_collectable_entries(project: Path):
    seed(project, {"knowledge/kept": 1}, expired={"swarm/shared/a": 1, "knowledge/manual": 2})

    done = run_cli("cleanup", "--output", "json")

    assert done.returncode == 0, done.stderr
    report = one_json(done.stdout)
    assert report["deleted_count"] == 1
    assert report["by_namespace"] == {"swarm/shared/*": 1}
    assert isinstance(report["duration_ms"], float)
    assert stored_keys(project) == {"knowledge/kept", "knowledge/manual"}


def test_cleanup_force_text_summary_names_the_namespaces(project: Path):
    seed(project, {}, expired={"knowledge/manual": 2, "coordination/a/b": 3})

    done = run_cli("cleanup", "--force")

    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        f"cleanup: deleted 2 entries in {done.stdout.split(' in ')[1].split(' ms')[0]} ms "
        "(coordination/*: 1, knowledge/*: 1) (forced: manual entries included)"
    ]
    assert stored_keys(project) == set()


def test_stats_json_counts_by_policy_pattern(project: Path):
    seed(
        project,
        {"coordination/a/p": {"x": 1}, "coordination/b/p": {"x": 2}, "notes/free": "x" * 5000},
        expired={"swarm/shared/old": 1},
    )

    done = run_cli("stats", "--output", "json")

    assert done.returncode == 0, done.stderr
    stats = one_json(done.stdout)
    assert stats["total_entries"] == 4
    assert stats["expired_pending"] == 1
    assert stats["compressed_entries"] == 1
    by_pattern = {p["pattern"]: p for p in stats["policies"]}
    assert by_pattern["coordination/*"]["entries"] == 2
    assert by_pattern["default"]["compressed"] == 1
    assert by_pattern["swarm/shared/*"]["expired_pending"] == 1


def test_stats_text_is_a_table_by_policy_with_totals(project: Path):
    seed(project, {"coordination/a/p": 1, "knowledge/k": 2}, expired={"swarm/shared/old": 1})

    done = run_cli("stats")

    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    header = next(line for line in lines if line.startswith("policy"))
    columns = ["policy", "entries", "bytes", "stored", "compressed", "expired", "next", "expiry"]
    assert header.split() == columns
    rows = {line.split()[0]: line for line in lines if "/*" in line or "total" in line}
    assert rows["coordination/*"].split()[1] == "1"
    assert "(in " in rows["coordination/*"]  # its entry expires within the hour
    assert rows["knowledge/*"].split()[1] == "1"
    assert rows["knowledge/*"].endswith(" -")  # permanent: no next expiry
    assert rows["total"].split()[1] == "3"
    assert rows["total"].split()[-1] == "1"  # expired, pending collection


def test_a_bad_policy_file_fails_with_one_line_naming_file_and_field(project: Path, tmp_path: Path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("namespaces:\n  - namespace: 'x/*'\n    ttl_seconds: -5\n")
    open_store(project).close()  # the store is there: the policy file is the problem

    for args in (
        ["--policy-file", str(bad), "stats"],
        ["--policy-file", str(bad), "hook", "pre-task"],
    ):
        done = run_cli(*args)
        assert done.returncode == 1
        assert_one_line_error(done, str(bad), "ttl_seconds")
        assert done.stdout == ""


def test_a_bad_policy_file_from_the_environment_is_an_error_too(project: Path):
    bad = project / "typo.yaml"
    bad.write_text(
        "namespaces:\n"
        "  - namespace: 'x/*'\n"
        "    ttl_seconds: 1\n"
        "    cleanup_strategy: lazy\n"
        "    conflict_strategy: lww\n"
        "    colour: red\n"
    )

    done = run_cli("cleanup", "--output", "json", MEMORY_LIFECYCLE_POLICY_FILE=str(bad))

    assert done.returncode == 1
    assert_one_line_error(done, "typo.yaml", "colour")
    assert one_json(done.stdout)["ok"] is False


def test_usage_errors_exit_2_without_a_traceback(project: Path):
    for args in (
        ["daemon", "--at", "25:00"],
        ["export"],
        ["daemon", "--interval-hours", "0"],
    ):
        done = run_cli(*args)
        assert done.returncode == 2, args
        assert "Traceback" not in done.stderr
        assert done.stderr.strip().splitlines()[-1].startswith("memory-lifecycle ")


def test_a_hook_usage_error_exits_1_because_claude_code_reads_2_as_block(project: Path):
    done = run_cli("hook", "nap")
    typo = run_cli("hooks", "session-ned")

    assert done.returncode == 1
    assert_one_line_error(done, "unknown hook 'nap'", "session-end, pre-task")
    assert typo.returncode == 1
    assert_one_line_error(typo, "unknown hook 'session-ned'; did you mean 'session-end'?")


def test_export_then_import_gives_another_store_equal_values_and_counters(
    project: Path, tmp_path: Path
):
    now = time.time()  # both siblings at one instant: the tie must survive the round trip
    with open_store(project) as source:
        source.store("coordination/a/progress", {"step": 2})
        source.store("knowledge/fact", "one", agent_id="agent-a", timestamp=now)
        source.store("knowledge/fact", "two", agent_id="agent-b", timestamp=now)
        source.store("metrics/tasks_done", 3, agent_id="agent-a")
        source.store("metrics/tasks_done", 4, agent_id="agent-b")
        source.store("metrics/tasks_done", -2, agent_id="agent-a")
        source.store("notes/deleted", "gone")
        source.delete("notes/deleted")
    dump = tmp_path / "dump.jsonl"

    exported = run_cli("export", str(dump))
    assert exported.returncode == 0, exported.stderr
    assert exported.stdout.strip() == f"exported 4 entries to {dump}"
    other = tmp_path / "other"
    imported = run_cli("--memory-dir", str(other), "import", str(dump), "--output", "json")
    assert imported.returncode == 0, imported.stderr
    assert one_json(imported.stdout)["created"] == 4

    with open_store(project) as source, MemoryLifecycleManager(memory_dir=other) as copy:
        for key in ("coordination/a/progress", "knowledge/fact", "metrics/tasks_done"):
            mine, theirs = source.retrieve_entry(key), copy.retrieve_entry(key)
            assert theirs is not None and mine is not None
            for field in ("value", "conflicts", "updated_at", "expires_at", "actor", "policy"):
                assert getattr(theirs, field) == getattr(mine, field), (key, field)
        assert copy.retrieve("metrics/tasks_done") == 5
        assert {c.value for c in copy.retrieve_entry("knowledge/fact").conflicts} == {"one"}
        assert copy.retrieve("notes/deleted") is None

    again = run_cli("--memory-dir", str(other), "import", str(dump))
    assert again.returncode == 0, again.stderr
    assert "0 created, 0 updated, 4 unchanged" in again.stdout


def test_export_to_stdout_pipes_into_import_from_stdin(project: Path, tmp_path: Path):
    seed(project, {"knowledge/a": [1, 2], "metrics/n": 7})
    other = tmp_path / "piped"

    exporter = subprocess.Popen(
        [*command(), "export", "-"],
        env=child_env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    importer = subprocess.run(
        [*command(), "--memory-dir", str(other), "import", "-"],
        env=child_env(),
        stdin=exporter.stdout,
        capture_output=True,
        text=True,
        timeout=30,
    )
    _, export_err = exporter.communicate(timeout=30)

    assert exporter.returncode == 0, export_err
    assert b"exported 2 entries to -" in export_err  # stdout carried only the entries
    assert importer.returncode == 0, importer.stderr
    with MemoryLifecycleManager(memory_dir=other) as copy:
        assert copy.retrieve("knowledge/a") == [1, 2]
        assert copy.retrieve("metrics/n") == 7


def test_import_of_a_broken_file_changes_nothing_and_names_the_line(project: Path, tmp_path: Path):
    seed(project, {"knowledge/a": 1})
    dump = tmp_path / "dump.jsonl"
    assert run_cli("export", str(dump)).returncode == 0
    good = dump.read_text()
    dump.write_text(good + json.dumps({"v": 1, "key": "x//y"}) + "\n")
    other = tmp_path / "other"

    done = run_cli("--memory-dir", str(other), "import", str(dump))

    assert done.returncode == 1
    assert_one_line_error(done, "line 2", "x//y")
    with MemoryLifecycleManager(memory_dir=other) as copy:
        assert copy.get_stats()["total_entries"] == 0


def test_import_of_a_missing_file_names_it(project: Path, tmp_path: Path):
    done = run_cli("import", str(tmp_path / "nope.jsonl"))

    assert done.returncode == 1
    assert_one_line_error(done, "nope.jsonl", "No such file")


def test_claude_project_dir_reaches_the_project_store_from_anywhere(project: Path, tmp_path: Path):
    seed(project, {"session/s9/state": 1})
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    done = run_cli(
        "hook", "session-end", "--session-id", "s9", cwd=elsewhere, CLAUDE_PROJECT_DIR=str(project)
    )

    assert done.returncode == 0, done.stderr
    assert stored_keys(project) == set()
    assert not (elsewhere / ".claude-flow").exists()


def test_the_nearest_ancestor_with_dot_claude_is_the_project(tmp_path: Path):
    root = tmp_path / "app"
    (root / ".claude").mkdir(parents=True)
    deep = root / "src" / "module"
    deep.mkdir(parents=True)
    with MemoryLifecycleManager(memory_dir=root / ".claude-flow" / "memory") as manager:
        manager.store("knowledge/where", "root")

    done = run_cli("stats", "--output", "json", cwd=deep)

    assert done.returncode == 0, done.stderr
    stats = one_json(done.stdout)
    assert stats["total_entries"] == 1
    assert str(root / ".claude-flow" / "memory" / "memory.db") in stats["store"]


def test_store_flag_selects_a_store_by_url(project: Path, tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'by-url.db'}"
    with MemoryLifecycleManager(store=url) as manager:
        manager.store("knowledge/u", 1)

    done = run_cli("--store", url, "stats", "--output", "json")

    assert done.returncode == 0, done.stderr
    assert one_json(done.stdout)["total_entries"] == 1


def test_python_dash_m_server_defaults_to_serve_after_global_options():
    assert with_default_command([], "serve") == ["serve"]
    assert with_default_command(["--memory-dir", "d", "--debug"], "serve") == [
        "--memory-dir",
        "d",
        "--debug",
        "serve",
    ]
    assert with_default_command(["--store=x", "--transport", "http"], "serve") == [
        "--store=x",
        "serve",
        "--transport",
        "http",
    ]
    assert with_default_command(["--store", "x", "stats"], "serve") == ["--store", "x", "stats"]
