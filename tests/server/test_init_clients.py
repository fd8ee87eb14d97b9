"""``memory-lifecycle init --client``: every coding agent of a repository reaches one store.

Each client's file is merged like ``.mcp.json``: what others wrote stays byte for
byte, a second run changes nothing, ``--dry-run`` writes nothing at all, a file
that cannot be read is refused with nothing touched. Each server is then started
the way its client starts it (``tests.support.clients``), from the project root
and from a subfolder, over real stdio.
"""

from __future__ import annotations

import difflib
import json
import shutil
import sys
import time
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import pytest
import tomlkit
from mcp import Client

from server.clients import claude_code, codex, cursor, gemini, opencode, vscode
from tests.support.claude_code import event_input, hook_input, path_with, run_hook
from tests.support.cli import assert_one_line_error, one_json, open_store, run_cli, stored_keys
from tests.support.clients import CLIENTS, CONFIG, entry, server_params
from tests.support.env import REPO
from tests.support.server import bounded, structured

pytestmark = pytest.mark.slow

TOOL_BIN = Path(sys.executable).parent  # where this environment's memory-lifecycle is
V3_PROJECT = REPO / "tests" / "fixtures" / "claude-flow" / "v3-project"
EXPECTED_ENTRY = {
    "claude-code": claude_code.SERVER_ENTRY,
    "codex": codex.SERVER_ENTRY,
    "gemini": gemini.SERVER_ENTRY,
    "vscode": vscode.SERVER_ENTRY,
    "cursor": cursor.SERVER_ENTRY,
    "opencode": opencode.SERVER_ENTRY,
}
# What a user already has in each file: another server, and settings of their own.
EXISTING = {
    "claude-code": (
        '{\n  "mcpServers": {\n    "github": {"command": "gh-mcp", "args": ["--ro"]}\n  }\n}\n'
    ),
    "codex": (
        '# my Codex settings\nmodel = "o3"  # the one I like\n\n'
        '[mcp_servers.github]\ncommand = "gh-mcp"\nargs = ["--ro"]\n\n'
        '[profiles.fast]\nmodel = "o4-mini"\n'
    ),
    "gemini": (
        "{\n"
        "  // Gemini CLI strips comments\n"
        '  "theme": "GitHub",\n'
        '  "mcpServers": {\n'
        '    "github": {"command": "gh-mcp", "args": ["--ro"]}\n'
        "  },\n"
        '  "hooks": {\n'
        '    "SessionEnd": [\n'
        '      {"hooks": [{"type": "command", "command": "echo bye"}]}\n'
        "    ]\n"
        "  }\n"
        "}\n"
    ),
    "vscode": (
        "{\n"
        '  "inputs": [{"type": "promptString", "id": "tok", "description": "Token"}],\n'
        '  "servers": {\n'
        '    "github": {"type": "stdio", "command": "gh", "env": {"T": "${input:tok}"}}, // mine\n'
        "  },\n"
        "}\n"
    ),
    "cursor": '{\n  "mcpServers": {\n    "github": {"command": "gh-mcp"}\n  }\n}\n',
    "opencode": (
        "{\n"
        '  "$schema": "https://opencode.ai/config.json",\n'
        '  "model": "anthropic/claude-sonnet-5",\n'
        '  "mcp": {\n'
        '    "github": {"type": "local", "command": ["gh-mcp", "--ro"]}\n'
        "  }\n"
        "}\n"
    ),
}
SETUP = (".claude/memory-retention-policies.yaml", ".gitignore")
ALL_FILES = (*CONFIG.values(), ".claude/settings.json", *SETUP)


def snapshot(project: Path) -> dict[str, tuple[bytes, int] | None]:
    out: dict[str, tuple[bytes, int] | None] = {}
    for name in ALL_FILES:
        path = project / name
        out[name] = (path.read_bytes(), path.stat().st_mtime_ns) if path.exists() else None
    return out


def tree(project: Path) -> list[str]:
    """Every path in the project but the .git the test fixture makes."""
    found = (p.relative_to(project).as_posix() for p in project.rglob("*"))
    return sorted(p for p in found if p.split("/")[0] != ".git")


def removed_lines(before: str, after: str) -> list[str]:
    diff = difflib.ndiff(before.splitlines(), after.splitlines())
    return [d for d in diff if d.startswith("- ")]


def write(project: Path, name: str, text: str) -> None:
    (project / name).parent.mkdir(parents=True, exist_ok=True)
    (project / name).write_text(text)


def servers_of(project: Path, client: str) -> dict[str, Any]:
    text = (project / CONFIG[client]).read_text()
    if client == "codex":
        return tomlkit.parse(text).unwrap()["mcp_servers"]
    from server.clients.json_text import JSONC, parse

    doc = parse(text, Path(CONFIG[client]), JSONC)
    return {
        "claude-code": doc.get("mcpServers"),
        "gemini": doc.get("mcpServers"),
        "cursor": doc.get("mcpServers"),
        "vscode": doc.get("servers"),
        "opencode": doc.get("mcp"),
    }[client]


@pytest.mark.parametrize("client", CLIENTS)
def test_each_client_file_keeps_what_others_wrote_and_gains_the_server(project: Path, client: str):
    write(project, CONFIG[client], EXISTING[client])

    done = run_cli("init", "--client", client, cwd=project)

    assert done.returncode == 0, done.stderr
    after = (project / CONFIG[client]).read_text()
    assert removed_lines(EXISTING[client], after) == []  # every line of theirs, unchanged
    servers = servers_of(project, client)
    assert set(servers) == {"github", "memory-lifecycle"}
    assert servers["memory-lifecycle"] == EXPECTED_ENTRY[client]
    assert f"updated    {CONFIG[client]}: server memory-lifecycle" in done.stdout
    written = {p for p in tree(project) if (project / p).is_file()}
    hooks = {".claude/settings.json"} if client == "claude-code" else set()
    assert written == {CONFIG[client], *SETUP, *hooks}


def test_codex_tables_stay_and_the_server_lands_after_the_other_servers(project: Path):
    write(project, CONFIG["codex"], EXISTING["codex"])

    assert run_cli("init", "--client", "codex", cwd=project).returncode == 0

    assert (project / CONFIG["codex"]).read_text() == EXISTING["codex"].replace(
        "\n[profiles.fast]",
        '\n[mcp_servers.memory-lifecycle]\ncommand = "memory-lifecycle"\nargs = ["serve"]\n'
        "\n[profiles.fast]",
    )


def test_new_files_for_every_client_and_a_second_run_changes_nothing(project: Path):

    first = one_json(run_cli("init", "--client", "all", "--output", "json", cwd=project).stdout)
    before = snapshot(project)
    time.sleep(0.01)  # a rewrite, even of equal bytes, would show in the mtime
    again = run_cli("init", "--client", "all", cwd=project)

    assert first["clients"] == list(CLIENTS)
    assert {f["path"]: f["action"] for f in first["files"]} == dict.fromkeys(ALL_FILES, "create")
    for client in CLIENTS:
        assert servers_of(project, client)["memory-lifecycle"] == EXPECTED_ENTRY[client]
    assert json.loads((project / "opencode.json").read_text())["$schema"] == opencode.SCHEMA
    assert again.returncode == 0, again.stderr
    assert again.stdout == f"nothing to change: {project} is already set up for memory-lifecycle\n"
    assert snapshot(project) == before


def test_dry_run_prints_every_diff_and_writes_nothing_at_all(project: Path):
    write(project, CONFIG["vscode"], EXISTING["vscode"])
    before, files = snapshot(project), tree(project)

    done = run_cli("init", "--client", "all", "--dry-run", cwd=project)

    assert done.returncode == 0, done.stderr
    assert snapshot(project) == before and tree(project) == files  # not even a folder
    for name in (*CONFIG.values(), ".claude/settings.json"):
        assert f"+++ b/{name}" in done.stdout
    assert "+[mcp_servers.memory-lifecycle]" in done.stdout
    assert '+    "memory-lifecycle": {"type": "stdio"' in done.stdout  # vscode, laid out like its
    assert done.stdout.rstrip().endswith("dry run: nothing written")


@pytest.mark.parametrize(
    ("client", "text", "problem"),
    [
        ("codex", "[mcp_servers.github\ncommand = 1\n", "invalid TOML"),
        ("codex", 'mcp_servers = "none"\n', '"mcp_servers" is a string, not a table'),
        ("gemini", '{"mcpServers": {},}', "invalid JSON at line 1 column 19"),
        ("vscode", '{"servers": []}', '"servers" is a list, not a JSON object'),
        ("cursor", '{"mcpServers": {"a": 1} // mine\n}', "invalid JSON at line 1 column 25"),
        ("opencode", '{"mcp": "off"}', '"mcp" is a string, not a JSON object'),
        (
            "gemini",
            '{"hooks": {"SessionEnd": {}}}',
            '"hooks"."SessionEnd" is an object, not a list',
        ),
    ],
)
def test_a_file_init_cannot_read_is_refused_and_nothing_at_all_is_written(
    project: Path, client: str, text: str, problem: str
):
    write(project, CONFIG[client], text)
    before, files = snapshot(project), tree(project)

    done = run_cli("init", "--client", "all", cwd=project)

    assert done.returncode == 1
    assert_one_line_error(done, f"{project / CONFIG[client]}: ", "nothing was changed")
    assert problem in done.stderr
    assert snapshot(project) == before and tree(project) == files


def test_an_unknown_client_is_one_clear_error_naming_the_valid_ones(project: Path):

    done = run_cli("init", "--client", "codex", "--client", "zed", cwd=project)

    assert done.returncode == 2
    assert_one_line_error(done, "unknown client 'zed'")
    for name in (*CLIENTS, "all"):
        assert name in done.stderr
    assert tree(project) == []


def test_clients_named_twice_or_with_commas_are_set_up_once_each(project: Path):

    report = one_json(
        run_cli(
            "init", "--client", "gemini,codex", "--client", "codex", "--output", "json", cwd=project
        ).stdout
    )

    assert report["clients"] == ["codex", "gemini"]
    assert [f["path"] for f in report["files"]] == [CONFIG["codex"], CONFIG["gemini"], *SETUP]
    assert not (project / ".mcp.json").exists()
    assert any("trusted" in step for step in report["next"])


def test_opencode_v2_files_get_the_server_under_mcp_servers(project: Path):
    v2 = (
        '{\n  "mcp": {\n    "servers": {\n'
        '      "github": {"type": "local", "command": ["gh"]}\n    }\n  }\n}\n'
    )
    write(project, "opencode.json", v2)

    assert run_cli("init", "--client", "opencode", cwd=project).returncode == 0

    doc = json.loads((project / "opencode.json").read_text())
    assert set(doc["mcp"]) == {"servers"}
    assert doc["mcp"]["servers"]["memory-lifecycle"] == opencode.SERVER_ENTRY
    assert entry(project, "opencode") == opencode.SERVER_ENTRY


def test_a_server_registered_under_another_name_or_path_counts_as_there(project: Path):
    tool = "/opt/tools/bin/memory-lifecycle"
    write(project, CONFIG["codex"], f'[mcp_servers.memory]\ncommand = "{tool}"\nargs = ["serve"]\n')
    write(
        project, "opencode.json", json.dumps({"mcp": {"mem": {"type": "local", "command": [tool]}}})
    )
    write(
        project,
        CONFIG["vscode"],
        json.dumps({"servers": {"m": {"command": "uvx", "args": [tool]}}}),
    )
    before = snapshot(project)

    report = one_json(
        run_cli("init", "--client", "codex,opencode,vscode", "--output", "json", cwd=project).stdout
    )

    actions = {f["path"]: f["action"] for f in report["files"]}
    assert [actions[CONFIG[c]] for c in ("codex", "opencode", "vscode")] == ["unchanged"] * 3
    after = snapshot(project)
    assert all(after[CONFIG[c]] == before[CONFIG[c]] for c in ("codex", "opencode", "vscode"))


# -- claude-flow 3 and compact files (issues 20 and 21) ---------------------------------------


def test_beside_claude_flow_3_its_files_keep_every_byte_and_ours_come_once(project: Path):
    shutil.copytree(V3_PROJECT, project, dirs_exist_ok=True)
    theirs = {n: (project / n).read_text() for n in (".mcp.json", ".claude/settings.json")}

    done = run_cli("init", cwd=project)
    again = run_cli("init", cwd=project)

    assert done.returncode == 0, done.stderr
    for name, before in theirs.items():
        after = (project / name).read_text()
        assert removed_lines(before, after) == [], name
        assert after.count("memory-lifecycle") >= 1
    mcp = json.loads((project / ".mcp.json").read_text())
    assert (
        mcp["mcpServers"]["claude-flow"]
        == json.loads(theirs[".mcp.json"])["mcpServers"]["claude-flow"]
    )
    assert mcp["mcpServers"]["memory-lifecycle"] == claude_code.SERVER_ENTRY
    settings = json.loads((project / ".claude" / "settings.json").read_text())
    original = json.loads(theirs[".claude/settings.json"])
    assert {k: v for k, v in settings.items() if k != "hooks"} == {
        k: v for k, v in original.items() if k != "hooks"
    }
    for event, groups in original["hooks"].items():
        assert [g for g in settings["hooks"][event] if g in groups] == groups
    ours = [
        (event, h["command"])
        for event, groups in settings["hooks"].items()
        for g in groups
        for h in g["hooks"]
        if "memory-lifecycle" in h["command"]
    ]
    assert sorted(ours) == sorted((s.event, s.command) for s in claude_code.HOOKS)
    assert again.stdout.startswith("nothing to change")


def test_a_compact_hand_written_file_gains_only_the_lines_init_adds(project: Path):
    """Issue 21: three small additions used to rewrite the whole file (68 lines added,
    6 removed); now the diff holds only the added lines, laid out like the file."""
    mcp = '{\n  "mcpServers": {\n    "github": {"command": "gh-mcp", "args": ["--ro"]}\n  }\n}\n'
    settings = (
        "{\n"
        '  "permissions": {"allow": ["Bash(ls)"]},\n'
        '  "hooks": {\n'
        '    "SessionEnd": [\n'
        '      {"hooks": [{"type": "command", "command": "echo bye"}]}\n'
        "    ],\n"
        '    "PreToolUse": [\n'
        '      {"matcher": "Bash", "hooks": [{"type": "command", "command": "./lint"}]}\n'
        "    ]\n"
        "  }\n"
        "}\n"
    )
    write(project, ".mcp.json", mcp)
    write(project, ".claude/settings.json", settings)

    done = run_cli("init", "--dry-run", cwd=project)
    assert run_cli("init", cwd=project).returncode == 0

    for name, before in ((".mcp.json", mcp), (".claude/settings.json", settings)):
        after = (project / name).read_text()
        assert removed_lines(before, after) == [], name
        added = len(after.splitlines()) - len(before.splitlines())
        # one line a server or hook group, as theirs are (a new event: its list around it)
        assert added == {".mcp.json": 1, ".claude/settings.json": 11}[name], after
    diff_lines = [
        line
        for line in done.stdout.splitlines()
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]
    assert not [line for line in diff_lines if line.startswith("-")]


# -- one store, whichever client starts the server, from whichever folder ---------------------


def subfolder(project: Path) -> Path:
    """A git submodule with a .claude/ of its own: the walk up must pass both markers."""
    sub = project / "packages" / "web"
    (sub / ".claude").mkdir(parents=True)
    (sub / ".git").write_text("gitdir: ../../.git/modules/web\n")
    return sub


@pytest.mark.anyio
@pytest.mark.parametrize("client", CLIENTS)
async def test_the_server_each_client_starts_from_root_or_subfolder_uses_the_projects_store(
    project: Path, client: str
):
    assert run_cli("init", "--client", client, cwd=project).returncode == 0
    sub = subfolder(project)

    for where, folder in (("sub", sub), ("root", project)):  # sub first: no store yet
        params = server_params(project, client, folder, PATH=path_with(TOOL_BIN))
        with bounded():
            async with Client(params) as session:
                key = f"knowledge/{client}-{where}"
                stored = structured(
                    await session.call_tool("memory_store", {"key": key, "value": 1})
                )
        assert stored["stored"] is True

    assert stored_keys(project) == {f"knowledge/{client}-root", f"knowledge/{client}-sub"}
    assert not (sub / ".claude-flow").exists()


@pytest.mark.anyio
async def test_every_client_at_once_reads_what_the_others_wrote(project: Path):
    assert run_cli("init", "--client", "all", cwd=project).returncode == 0
    sub = subfolder(project)
    keys = [f"knowledge/by-{c}" for c in CLIENTS]

    with bounded(60):
        async with AsyncExitStack() as stack:
            sessions = []
            for i, client in enumerate(CLIENTS):
                folder = sub if i % 2 else project
                params = server_params(project, client, folder, PATH=path_with(TOOL_BIN))
                sessions.append(await stack.enter_async_context(Client(params)))
            for session, key in zip(sessions, keys, strict=True):
                await session.call_tool("memory_store", {"key": key, "value": key})
            for session in sessions:
                for key in keys:
                    got = structured(await session.call_tool("memory_retrieve", {"key": key}))
                    assert got["value"] == key

    assert stored_keys(project) == set(keys)


# -- hooks: Claude Code's post-task, Gemini CLI's SessionEnd ----------------------------------


def test_a_finished_subagent_task_leaves_open_tasks(project: Path):
    assert run_cli("init", cwd=project).returncode == 0
    settings = json.loads((project / ".claude" / "settings.json").read_text())
    command = {
        event: g["hooks"][0]["command"]
        for event, groups in settings["hooks"].items()
        for g in groups
        if "memory-lifecycle" in g["hooks"][0]["command"]
    }
    env = {"PATH": path_with(TOOL_BIN)}

    def run(event: str, session: str) -> str:
        done = run_hook(command[event], project, event_input(project, event, session), **env)
        assert done.returncode == 0, done.stderr
        return done.stdout

    run("PreToolUse", "s1")
    assert "Open tasks:" in run("SessionStart", "s2")
    run("PostToolUse", "s1")
    assert "Open tasks:" not in run("SessionStart", "s3")
    # a subagent that fails ends through PostToolUseFailure: its task closes too
    run("PreToolUse", "s4")
    assert "Open tasks:" in run("SessionStart", "s5")
    run("PostToolUseFailure", "s4")
    assert "Open tasks:" not in run("SessionStart", "s6")


def test_gemini_session_end_hook_clears_the_sessions_memory(project: Path):
    write(project, CONFIG["gemini"], EXISTING["gemini"])
    assert run_cli("init", "--client", "gemini", cwd=project).returncode == 0
    from server.clients.json_text import COMMENTS, parse

    doc = parse((project / CONFIG["gemini"]).read_text(), Path("settings.json"), COMMENTS)
    groups = doc["hooks"]["SessionEnd"]
    assert groups[-1] == {"hooks": [{"type": "command", "command": "echo bye"}]}  # theirs kept
    (ours,) = [g for g in groups if "memory-lifecycle" in json.dumps(g)]
    assert ours["hooks"][0]["timeout"] == 10000  # Gemini counts milliseconds
    with open_store(project) as m:
        m.store("session/g-1/scratch", 1)
        m.store("knowledge/kept", 1)
    sub = subfolder(project)
    # Gemini CLI runs a hook through a shell in the session's folder, the event on stdin
    stdin = hook_input(sub, "SessionEnd", session_id="g-1", reason="exit")
    done = run_hook(ours["hooks"][0]["command"], sub, stdin, PATH=path_with(TOOL_BIN))

    assert done.returncode == 0, done.stderr
    assert stored_keys(project) == {"knowledge/kept"}


def test_no_file_of_any_client_holds_a_path_of_this_machine(tmp_path: Path, project: Path):
    done = run_cli("init", str(project), "--client", "all", cwd=tmp_path)

    assert done.returncode == 0, done.stderr
    for name in (*CONFIG.values(), ".claude/settings.json"):
        text = (project / name).read_text()
        for machine_path in (str(project), str(REPO), str(Path.home()), str(TOOL_BIN)):
            assert machine_path not in text, (name, machine_path)


def test_a_windows_file_keeps_its_crlf_line_ends(project: Path):
    before = '{\r\n  "mcpServers": {\r\n    "github": {"command": "gh"}\r\n  }\r\n}\r\n'
    (project / ".mcp.json").write_bytes(before.encode())

    assert run_cli("init", cwd=project).returncode == 0

    after = (project / ".mcp.json").read_bytes().decode()
    assert after.count("\r\n") == after.count("\n") == before.count("\n") + 1
    assert removed_lines(before, after) == []
