"""What a newcomer trips on at the command line (issue 21): ``--output`` before the
command, read commands in a folder with no store, a reader that goes away, one style
for warnings. Real ``memory-lifecycle`` subprocesses."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.support.cli import (
    assert_one_line_error,
    command,
    one_json,
    open_store,
    run_cli,
    store_dir,
)
from tests.support.env import child_env

pytestmark = pytest.mark.slow


def test_output_before_the_command_works_like_after_it(project: Path):
    with open_store(project) as m:
        m.store("notes/a", 1)

    before = run_cli("--output", "json", "stats")
    after = run_cli("stats", "--output", "json")
    got = run_cli("--output=json", "get", "notes/a")
    hook = run_cli("--output", "json", "hook", "pre-task")

    assert before.returncode == 0, before.stderr
    assert one_json(before.stdout)["total_entries"] == one_json(after.stdout)["total_entries"] == 1
    assert one_json(got.stdout)["value"] == 1
    assert one_json(hook.stdout)["hook"] == "pre-task"


def test_a_global_output_that_cannot_apply_is_a_usage_error(project: Path):
    bad = run_cli("--output", "yaml", "stats")
    serve = run_cli("--output", "json", "serve")

    assert bad.returncode == 2 and "--output 'yaml': use text or json" in bad.stderr
    assert serve.returncode == 2 and "--output does not apply to serve" in serve.stderr
    assert "Traceback" not in bad.stderr + serve.stderr


def test_a_global_output_before_a_hook_without_output_is_ignored_never_exit_2(project: Path):
    # claude-flow's hooks with no memory effect here take no --output: a hook must not
    # exit 2 (Claude Code reads 2 as "block the tool"), so the flag is ignored, said once
    done = run_cli("--output", "json", "hooks", "pre-search")

    assert done.returncode == 0, done.stderr
    assert "--output does not apply to this hook; ignored" in done.stderr


def test_a_bad_global_output_before_a_command_hook_is_a_warning_never_exit_2(project: Path):
    # the pre- and post-command hooks' own --command once hid that the line runs a hook
    done = run_cli("--output", "yaml", "hooks", "pre-bash", "--command", "ls")

    assert done.returncode == 0, done.stderr
    assert "--output 'yaml' is not text or json; using text" in done.stderr
    assert done.stdout.startswith("pre-command: ")


READS = (
    ("stats",),
    ("get", "notes/a"),
    ("list",),
    ("search", "auth"),
    ("export", "dump.jsonl"),
    ("locks",),
)


@pytest.mark.parametrize("args", READS, ids=lambda a: a[0])
def test_a_read_where_no_store_exists_says_so_and_creates_nothing(project: Path, args):
    done = run_cli(*args)

    assert done.returncode == 1 and done.stdout == ""
    line = assert_one_line_error(done, "no store at", str(store_dir(project) / "memory.db"))
    assert f"(in the project {project})" in line  # its .git marks it
    assert "put KEY VALUE" in line and "--memory-dir" in line
    assert sorted(p.name for p in project.iterdir()) == [".git"]  # no store, no dump file


def test_a_read_from_a_subfolder_names_the_project_it_found(project: Path):
    sub = project / "src" / "deep"
    sub.mkdir(parents=True)

    done = run_cli("stats", "--output", "json", cwd=sub)

    assert done.returncode == 1
    assert f"in the project {project}, found from {sub}" in done.stderr
    assert one_json(done.stdout)["ok"] is False
    assert not store_dir(project).exists()


def test_a_read_of_a_named_store_that_is_not_there_says_where_it_came_from(tmp_path: Path):
    done = run_cli("--memory-dir", str(tmp_path / "elsewhere"), "list")

    assert_one_line_error(
        done, f"no store at {tmp_path / 'elsewhere' / 'memory.db'} (from --memory-dir)"
    )
    assert not (tmp_path / "elsewhere").exists()


def test_a_write_still_creates_the_store(project: Path):
    assert run_cli("put", "notes/a", "1").returncode == 0
    assert run_cli("get", "notes/a").stdout == "1\n"
    assert (store_dir(project) / "memory.db").is_file()


def test_a_read_outside_any_project_says_no_project_was_found(tmp_path: Path):
    bare = tmp_path / "bare"
    bare.mkdir()

    done = run_cli("list", cwd=bare)

    assert_one_line_error(done, f"no .git, .claude/ or .mcp.json in {bare} or above it")
    assert list(bare.iterdir()) == []


def run_into_closed_pipe(*args: str) -> subprocess.CompletedProcess[bytes]:
    """``memory-lifecycle ARGS`` writing into a pipe whose reader has already gone."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        return subprocess.run(
            [*command(), *args],
            stdout=write_end,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            env=child_env(),
            timeout=60,
        )
    finally:
        os.close(write_end)


@pytest.mark.parametrize(
    "args",
    [("stats", "--output", "json"), ("hook", "pre-task", "--output", "json"), ("list",)],
    ids=["stats", "hook pre-task", "list"],
)
def test_a_reader_that_went_away_ends_the_command_quietly(project: Path, args):
    with open_store(project) as m:
        m.store("notes/a", 1)

    done = run_into_closed_pipe(*args)

    assert done.stderr == b""  # no broken-pipe error, no traceback
    assert done.returncode == 141  # as a process ended by SIGPIPE: pipefail still sees it


def test_a_reader_that_stops_midway_ends_a_long_output_quietly(project: Path):
    with open_store(project) as m:
        for start in range(0, 3000, 1000):  # ~1 MB of export, more than a pipe holds
            m.store_many((f"notes/n{i:05d}", "x" * 200) for i in range(start, start + 1000))

    writer = subprocess.Popen(
        [*command(), "export", "-"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        env=child_env(),
    )
    assert writer.stdout is not None and writer.stderr is not None
    head = subprocess.run(["head", "-c", "10"], stdin=writer.stdout, capture_output=True)
    writer.stdout.close()
    stderr = writer.stderr.read()
    writer.stderr.close()
    code = writer.wait(timeout=60)

    assert len(head.stdout) == 10
    assert stderr == b""
    assert code == 141


def test_hook_warnings_come_in_one_style(project: Path):
    done = run_cli("hook", "pre-task", "--bogus", "1", stdin="not json")

    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert lines == [
        "memory-lifecycle: warning: hook pre-task: ignoring unknown option --bogus",
        "memory-lifecycle: warning: ignoring hook stdin: not valid JSON (Expecting value)",
    ]


def test_with_debug_a_one_shot_command_logs_with_times_again(project: Path):
    done = run_cli("--debug", "hook", "pre-task", stdin="not json")

    warning = [line for line in done.stderr.splitlines() if "ignoring hook stdin" in line]
    assert len(warning) == 1 and " memory_lifecycle.cli WARNING: " in warning[0]
