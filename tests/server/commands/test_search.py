"""``memory-lifecycle search`` and ``reindex`` as real subprocesses on the project's store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from server.commands.search import format_search
from tests.support.cli import assert_one_line_error, one_json, open_store, run_cli

pytestmark = pytest.mark.slow


def seed(project: Path) -> None:
    with open_store(project) as m:
        m.store(
            "knowledge/api/auth",
            {"decision": "We decided to use JWT for auth, not server sessions"},
            tags=["decision", "auth"],
        )
        m.store("coordination/agent1/status", "reviewing the auth module")
        m.store("knowledge/db", "Postgres in production", tags=["decision"])


def test_search_prints_a_table_best_match_first(project: Path) -> None:
    seed(project)
    done = run_cli("search", "auth")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split() == ["score", "key", "tags", "updated", "snippet"]
    assert set(lines[1]) <= {"-", " "}
    body = lines[2:4]
    assert {line.split()[1] for line in body} == {
        "knowledge/api/auth",
        "coordination/agent1/status",
    }
    assert any("auth,decision" in line and "use JWT for **auth**" in line for line in body)
    assert lines[-1] == "2 matches"


def test_search_filters_by_tag_prefix_and_limit_and_prints_json(project: Path) -> None:
    seed(project)
    tagged = one_json(run_cli("search", "auth", "--tag", "decision", "--output", "json").stdout)
    assert [r["key"] for r in tagged["results"]] == ["knowledge/api/auth"]
    assert set(tagged["results"][0]) == {
        "key",
        "score",
        "snippet",
        "policy",
        "revision",
        "updated_at",
        "tags",
        "value",
        "provenance_type",
        "similarity",
        "matched",
    }
    both = run_cli("search", "auth", "--tag", "decision", "--tag", "nope", "--output", "json")
    assert one_json(both.stdout)["results"] == []
    scoped = one_json(
        run_cli("search", "auth", "--prefix", "coordination/", "--output", "json").stdout
    )
    assert [r["key"] for r in scoped["results"]] == ["coordination/agent1/status"]
    first = one_json(run_cli("search", "knowledge", "--limit", "1", "--output", "json").stdout)
    assert len(first["results"]) == 1 and first["next_cursor"]
    text = run_cli("search", "knowledge", "--limit", "1").stdout
    assert f"next page: --cursor {first['next_cursor']}" in text
    rest = run_cli(
        "search", "knowledge", "--limit", "1", "--cursor", first["next_cursor"], "--output", "json"
    )
    keys = {first["results"][0]["key"], one_json(rest.stdout)["results"][0]["key"]}
    assert keys == {"knowledge/api/auth", "knowledge/db"}


def test_no_match_says_so(project: Path) -> None:
    seed(project)
    done = run_cli("search", "kubernetes")
    assert (done.returncode, done.stdout.strip()) == (0, "no entries match 'kubernetes'")


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["auth OR db"], "'OR' is not an operator"),
        (['"auth'], "unterminated quote"),
        (["*"], "needs letters or digits"),
        (["auth", "--limit", "500"], "invalid limit 500: use 1-100"),
        (["auth", "--cursor", "zz"], "next_cursor"),
    ],
)
def test_a_bad_search_is_one_line_that_says_what_to_fix(
    project: Path, args: list[str], fragment: str
) -> None:
    seed(project)
    done = run_cli("search", *args)
    assert done.returncode == 1
    assert_one_line_error(done, "memory-lifecycle: error: ", fragment)
    as_json = run_cli("search", *args, "--output", "json")
    assert json.loads(as_json.stdout) == {
        "ok": False,
        "error": as_json.stderr.split("error: ", 1)[1].strip(),
    }


def test_reindex_rebuilds_the_index_and_reports_it(project: Path) -> None:
    seed(project)
    done = run_cli("reindex")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("reindexed 3 entries in ")
    report = one_json(run_cli("reindex", "--output", "json").stdout)
    assert report["indexed"] == 3 and report["duration_ms"] >= 0
    assert [
        r["key"]
        for r in one_json(run_cli("search", "postgres", "--output", "json").stdout)["results"]
    ] == ["knowledge/db"]


def test_a_long_snippet_is_cut_to_the_width() -> None:
    found = {
        "results": [
            {
                "key": "k",
                "score": 1.5,
                "snippet": "word " * 100,
                "policy": "default",
                "revision": 7,
                "updated_at": 0.0,
                "tags": [],
            }
        ],
        "next_cursor": None,
    }
    lines = format_search(found, "word", width=100).splitlines()
    assert all(len(line) <= 100 for line in lines)
    assert lines[2].endswith("…")
