"""``memory-lifecycle get / put / list / delete / --version``: one entry by hand."""

from __future__ import annotations

import json
import subprocess
from importlib.metadata import version
from pathlib import Path

import pytest

import lifecycle
from server.mcp.models import DeleteOutput, ListOutput, RetrieveOutput, StoreOutput
from tests.support.cli import assert_one_line_error, one_json, open_store, run_cli
from tests.support.env import PYTHON, child_env

pytestmark = pytest.mark.slow


def test_put_parses_json_and_keeps_other_text_as_a_string(project: Path):
    cases = {
        "notes/obj": ('{"step": 1, "ok": true}', {"step": 1, "ok": True}),
        "notes/num": ("5", 5),
        "notes/quoted": ('"5"', "5"),
        "notes/word": ("hello world", "hello world"),
        "notes/nan": ("NaN", "NaN"),  # Python's json would read a float; JSON has no NaN
        "notes/broken": ('{"a": ', '{"a": '),
    }
    for key, (text, _) in cases.items():
        done = run_cli("put", key, text, cwd=project)
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith(f"stored {key} (policy default, lww; expires never)")
    with open_store(project) as m:
        assert {k: m.retrieve(k) for k in cases} == {k: v for k, (_, v) in cases.items()}


def test_put_json_is_the_memory_store_result_and_ttl_seconds_sets_the_expiry(project: Path):
    done = run_cli("put", "knowledge/api", '["REST"]', "--ttl-seconds", "90", "--output", "json")

    assert done.returncode == 0, done.stderr
    result = one_json(done.stdout)
    assert set(result) == set(StoreOutput.model_fields)
    assert result["stored"] is True and result["value"] == ["REST"]
    assert result["policy"] == "knowledge/*" and result["strategy"] == "multi_value"
    with open_store(project) as m:
        entry = m.retrieve_entry("knowledge/api")
    assert entry is not None and entry.expires_at == pytest.approx(entry.updated_at + 90)
    assert result["expires_at"] == pytest.approx(entry.expires_at)


def test_put_tags_label_the_entry_for_list_and_search(project: Path):
    done = run_cli("put", "knowledge/auth", '"use JWT"', "--tag", "adr", "--tag", "security")
    assert done.returncode == 0, done.stderr

    listed = one_json(run_cli("list", "knowledge/", "--output", "json").stdout)
    found = one_json(run_cli("search", "jwt", "--tag", "adr", "--output", "json").stdout)
    assert listed["entries"][0]["tags"] == ["adr", "security"]
    assert [r["key"] for r in found["results"]] == ["knowledge/auth"]


def test_get_prints_the_value_and_json_is_the_memory_retrieve_result(project: Path):
    with open_store(project) as m:
        m.store("coordination/a1/status", {"state": "busy", "step": 2}, agent_id="coder")

    text = run_cli("get", "coordination/a1/status")
    as_json = run_cli("get", "coordination/a1/status", "--output", "json")

    assert text.returncode == 0, text.stderr
    assert json.loads(text.stdout) == {"state": "busy", "step": 2}
    assert text.stderr == ""
    result = one_json(as_json.stdout)
    assert set(result) == set(RetrieveOutput.model_fields)
    assert result["found"] is True and result["actor"] == "coder"
    assert result["value"] == {"state": "busy", "step": 2}
    assert result["policy"] == "coordination/*" and result["expires_at"] is not None


def test_get_of_a_multi_value_key_notes_the_concurrent_values(project: Path):
    with open_store(project) as m:
        m.store("knowledge/style", "REST", agent_id="architect")
        m.store("knowledge/style", "GraphQL", agent_id="coder")

    text = run_cli("get", "knowledge/style")
    result = one_json(run_cli("get", "knowledge/style", "--output", "json").stdout)

    assert json.loads(text.stdout) == "GraphQL"
    assert "1 more concurrent value (multi_value)" in text.stderr
    assert [(c["value"], c["actor"]) for c in result["conflicts"]] == [("REST", "architect")]
    assert result["context"]


def test_a_missing_key_exits_1_for_get_and_delete(project: Path):
    open_store(project).close()
    for args in (("get", "notes/none"), ("delete", "notes/none")):
        done = run_cli(*args)
        assert_one_line_error(done, "no entry 'notes/none'")
        assert done.returncode == 1 and done.stdout == ""

    got = run_cli("get", "notes/none", "--output", "json")
    deleted = run_cli("delete", "notes/none", "--output", "json")

    assert got.returncode == 1 and deleted.returncode == 1
    assert one_json(got.stdout) == RetrieveOutput(found=False, key="notes/none").model_dump()
    assert one_json(deleted.stdout) == DeleteOutput(deleted=False, key="notes/none").model_dump()


def test_delete_removes_the_entry(project: Path):
    with open_store(project) as m:
        m.store("notes/gone", 1)

    done = run_cli("delete", "notes/gone", "--output", "json")

    assert done.returncode == 0, done.stderr
    assert one_json(done.stdout) == DeleteOutput(deleted=True, key="notes/gone").model_dump()
    with open_store(project) as m:
        assert m.retrieve("notes/gone") is None
    assert run_cli("get", "notes/gone").returncode == 1


def test_list_pages_by_prefix_in_text_and_json(project: Path):
    with open_store(project) as m:
        for key in ("notes/a", "notes/b", "notes/c", "other/x"):
            m.store(key, key)

    first = one_json(run_cli("list", "notes/", "--limit", "2", "--output", "json").stdout)
    assert ListOutput.model_validate(first)
    assert [e["key"] for e in first["entries"]] == ["notes/a", "notes/b"]
    cursor = first["next_cursor"]
    rest = one_json(run_cli("list", "notes/", f"--cursor={cursor}", "--output", "json").stdout)
    assert [e["key"] for e in rest["entries"]] == ["notes/c"] and rest["next_cursor"] is None

    text = run_cli("list", "notes/", "--limit", "2")
    lines = text.stdout.splitlines()
    assert lines[0].split() == ["key", "policy", "tags", "size", "expires"]
    assert [line.split()[0] for line in lines[2:4]] == ["notes/a", "notes/b"]
    assert lines[4] == f"more: add --cursor={cursor}"
    assert run_cli("list", "nothing/").stdout == "no entries\n"


def test_bad_input_is_one_line_naming_it_and_nothing_is_written(project: Path):
    done = run_cli("put", "a//b", "1", "--output", "json")
    assert_one_line_error(done, "invalid key 'a//b'", "use 'a/b'")
    assert done.returncode == 1
    assert one_json(done.stdout)["ok"] is False

    done = run_cli("put", "notes/t", "1", "--ttl-seconds", "-5")
    assert_one_line_error(done, "ttl_seconds", "notes/t")
    assert run_cli("list", "--cursor", "zzz").returncode == 1
    with open_store(project) as m:
        assert m.list()["entries"] == []


def test_version_in_text_and_json_is_the_installed_version():
    text = run_cli("--version")
    as_json = run_cli("--version", "--output", "json")

    assert text.returncode == 0 and as_json.returncode == 0
    assert text.stdout == f"memory-lifecycle {lifecycle.__version__}\n"
    assert one_json(as_json.stdout) == {
        "name": "memory-lifecycle",
        "version": version("memory-lifecycle"),
    }
    assert version("memory-lifecycle") == lifecycle.__version__
    module = subprocess.run(
        [PYTHON, "-m", "server", "--version"],
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert module.stdout == text.stdout  # not taken for `serve --version`


def test_the_entry_commands_do_not_import_the_mcp_sdk(project: Path):
    code = (
        "import sys; from server.cli import main\n"
        "assert main(['put', 'notes/x', '1']) == 0 and main(['get', 'notes/x']) == 0\n"
        "assert main(['list']) == 0 and main(['delete', 'notes/x']) == 0\n"
        "assert 'mcp' not in sys.modules, 'mcp was imported'\n"
    )
    done = subprocess.run(
        [PYTHON, "-c", code],
        cwd=project,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr


def test_two_puts_on_a_multi_value_key_leave_one_value(project: Path):
    for value in ('"REST"', '"GraphQL"'):
        assert run_cli("put", "knowledge/style", value).returncode == 0

    with open_store(project) as m:
        entry = m.retrieve_entry("knowledge/style")
    assert entry is not None and entry.strategy == "multi_value"
    assert (entry.value, entry.conflicts) == ("GraphQL", ())


def test_put_replaces_the_siblings_it_has_seen_and_keep_siblings_adds_one(project: Path):
    with open_store(project) as m:
        m.store("knowledge/api", "REST", agent_id="architect")
        m.store("knowledge/api", "gRPC", agent_id="coder")

    kept = run_cli("put", "knowledge/api", '"GraphQL"', "--keep-siblings", "--output", "json")
    with open_store(project) as m:
        after_keep = m.retrieve_entry("knowledge/api")
    replaced = run_cli("put", "knowledge/api", '"SOAP"')
    with open_store(project) as m:
        after_put = m.retrieve_entry("knowledge/api")

    assert kept.returncode == 0 and replaced.returncode == 0, kept.stderr + replaced.stderr
    assert after_keep is not None and len(after_keep.conflicts) == 2
    assert {after_keep.value, *(c.value for c in after_keep.conflicts)} == {
        "REST",
        "gRPC",
        "GraphQL",
    }
    assert after_put is not None and (after_put.value, after_put.conflicts) == ("SOAP", ())


def test_list_filters_by_every_tag_given_and_shows_tags(project: Path):
    with open_store(project) as m:
        m.store("knowledge/auth", "use JWT", tags=["adr", "security"])
        m.store("knowledge/db", "postgres", tags=["adr"])
        m.store("knowledge/misc", "x")

    one = one_json(run_cli("list", "--tag", "adr", "--output", "json").stdout)
    both = one_json(run_cli("list", "--tag", "adr", "--tag", "security", "--output", "json").stdout)
    text = run_cli("list", "knowledge/").stdout.splitlines()

    assert [e["key"] for e in one["entries"]] == ["knowledge/auth", "knowledge/db"]
    assert [e["key"] for e in both["entries"]] == ["knowledge/auth"]
    rows = {line.split()[0]: line.split()[2] for line in text[2:]}
    assert rows == {"knowledge/auth": "adr,security", "knowledge/db": "adr", "knowledge/misc": "-"}
    assert run_cli("list", "--tag", "nope").stdout == "no entries\n"
