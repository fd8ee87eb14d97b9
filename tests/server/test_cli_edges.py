"""What a newcomer trips on at the command line (issue 21): ``--output`` before the
command, read commands in a folder with no store, a reader that goes away, one style
for warnings. Real ``memory-lifecycle`` subprocesses."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.cli import one_json, open_store, run_cli

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
