"""``memory-lifecycle import --from claude-flow PATH`` and ``--from seed DIR`` as real
processes on the committed fixtures, each imported twice (the second import changes nothing)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.support.cli import assert_one_line_error, one_json, open_store, run_cli
from tests.support.env import REPO

pytestmark = pytest.mark.slow

FIXTURES = REPO / "tests" / "fixtures"


def export_state(project: Path) -> list[dict[str, object]]:
    with open_store(project) as manager:
        return list(manager.export_entries())


@pytest.mark.parametrize(("name", "found", "deleted"), [("v3", 10, 1), ("v2", 19, 0)])
def test_a_claude_flow_database_imports_once_and_a_second_import_changes_nothing(
    project: Path, tmp_path: Path, name: str, found: int, deleted: int
):
    database = tmp_path / "memory.db"
    shutil.copy(FIXTURES / "claude-flow" / f"{name}-memory.db", database)

    first = run_cli("import", "--from", "claude-flow", str(database), "--output", "json")
    state = export_state(project)
    second = run_cli("import", "--from", "claude-flow", str(database), "--output", "json")

    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    one, two = one_json(first.stdout), one_json(second.stdout)
    assert (one["found"], one["skipped_deleted"], one["rejected"]) == (found, deleted, 0)
    # how many have expired by now depends on today's date; together they are all the rest
    assert one["imported"] + one["skipped_expired"] == found - deleted
    assert one["imported"] >= 3  # the entries without a TTL never expire
    assert (two["imported"], two["unchanged"]) == (0, one["imported"])
    assert export_state(project) == state


def test_the_seed_layout_imports_once_and_a_second_import_changes_nothing(project: Path):
    directory = FIXTURES / "seed" / ".claude-flow" / "memory"

    first = run_cli("import", "--from", "seed", str(directory))
    state = export_state(project)
    second = run_cli("import", "--from", "seed", str(directory), "--output", "json")

    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines()[0] == (
        f"imported seed {directory}: 10 found, 6 imported, 0 unchanged, "
        "4 skipped as expired, 0 refused"
    )
    assert "1 entries listed in" in first.stdout  # knowledge/lost has no file
    assert second.returncode == 0, second.stderr
    assert (one_json(second.stdout)["imported"], one_json(second.stdout)["unchanged"]) == (0, 6)
    assert export_state(project) == state
    with open_store(project) as manager:
        assert manager.retrieve("test/large") == {"data": "x" * 5000}
        assert manager.retrieve("metrics/task/count") == 8


def test_a_missing_or_wrong_source_fails_with_one_line_naming_it(project: Path, tmp_path: Path):
    missing = run_cli("import", "--from", "claude-flow", str(tmp_path / "nope.db"))
    not_dir = run_cli("import", "--from", "seed", str(FIXTURES / "seed" / "make_fixture.py"))

    assert missing.returncode == 1
    assert_one_line_error(missing, "nope.db", "no such file")
    assert not_dir.returncode == 1
    assert_one_line_error(not_dir, "make_fixture.py", "not a directory")
