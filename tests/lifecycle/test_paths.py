"""The store is found from the project root, not the working directory alone."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lifecycle import MemoryLifecycleManager
from lifecycle.errors import ConfigurationError
from lifecycle.paths import resolve


def test_nearest_ancestor_with_a_marker_is_the_root(project: Path, monkeypatch) -> None:
    deep = project / "src" / "pkg"
    deep.mkdir(parents=True)
    monkeypatch.chdir(deep)
    assert resolve().store_url == str(project / ".claude-flow" / "memory" / "memory.db")
    assert resolve().policy_file == project / ".claude" / "memory-retention-policies.yaml"


def test_claude_project_dir_wins_over_the_working_directory(tmp_path: Path, monkeypatch) -> None:
    other = tmp_path / "elsewhere"
    other.mkdir()
    monkeypatch.setenv("CLAUDE_PROJECT_DIR", str(other))
    assert resolve().store_url == str(other / ".claude-flow" / "memory" / "memory.db")


def test_environment_then_explicit_arguments(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("MEMORY_LIFECYCLE_DIR", str(tmp_path / "env-dir"))
    monkeypatch.setenv("MEMORY_LIFECYCLE_POLICY_FILE", str(tmp_path / "env.yaml"))
    r = resolve()
    assert r.store_url == str(tmp_path / "env-dir" / "memory.db")
    assert r.policy_file == tmp_path / "env.yaml" and r.policy_explicit
    r = resolve(memory_dir=tmp_path / "arg-dir", policy_file=tmp_path / "arg.yaml")
    assert r.store_url == str(tmp_path / "arg-dir" / "memory.db")
    assert r.policy_file == tmp_path / "arg.yaml"
    monkeypatch.setenv("MEMORY_LIFECYCLE_STORE", f"sqlite:///{tmp_path}/s.db")
    assert resolve().store_url == f"sqlite:///{tmp_path}/s.db"


def test_two_working_directories_reach_one_store(project: Path, monkeypatch) -> None:
    (project / "a").mkdir()
    (project / "b" / "c").mkdir(parents=True)
    monkeypatch.chdir(project / "a")
    with MemoryLifecycleManager() as m:
        m.store("knowledge/shared", "yes")
    monkeypatch.chdir(project / "b" / "c")
    with MemoryLifecycleManager() as m:
        assert m.retrieve("knowledge/shared") == "yes"


def test_sqlite_url_forms(tmp_path: Path) -> None:
    with MemoryLifecycleManager(store=f"sqlite:///{tmp_path}/via-url.db") as m:
        m.store("k/v", 1)
    assert (tmp_path / "via-url.db").exists()
    with MemoryLifecycleManager(store=str(tmp_path / "plain.db")) as m:
        assert m.store_url.endswith("plain.db")


def test_unknown_store_scheme_is_a_clear_error() -> None:
    with pytest.raises(ConfigurationError, match="unknown scheme"):
        MemoryLifecycleManager(store="redis://localhost/0")


def _store_of(project: Path) -> str:
    return str(project / ".claude-flow" / "memory" / "memory.db")


def _register(folder: Path, name: str = "memory-lifecycle", command: str = "memory-lifecycle"):
    servers = {name: {"type": "stdio", "command": command, "args": ["serve"]}}
    (folder / ".mcp.json").write_text(json.dumps({"mcpServers": servers}))


def test_claude_project_dir_of_a_subfolder_reaches_the_projects_store(
    project: Path, monkeypatch
) -> None:
    # Claude Code started in a subfolder sets CLAUDE_PROJECT_DIR to the subfolder
    sub = project / "services" / "api"
    sub.mkdir(parents=True)
    monkeypatch.chdir(sub)
    monkeypatch.setenv("CLAUDE_PROJECT_DIR", str(sub))
    assert resolve().store_url == _store_of(project)
    assert resolve().policy_file == project / ".claude" / "memory-retention-policies.yaml"


def test_a_subfolder_with_its_own_claude_folder_stays_in_the_repository(
    project: Path, monkeypatch
) -> None:
    sub = project / "web"
    (sub / ".claude").mkdir(parents=True)  # its own commands or settings
    monkeypatch.setenv("CLAUDE_PROJECT_DIR", str(sub))
    assert resolve().store_url == _store_of(project)


def test_an_existing_store_in_a_parent_wins_over_nearer_markers(tmp_path: Path, monkeypatch):
    workspace = tmp_path / "workspace"  # no .git: a plain folder of checkouts
    with MemoryLifecycleManager(memory_dir=workspace / ".claude-flow" / "memory") as m:
        m.store("knowledge/where", "workspace")
    sub = workspace / "tool"
    (sub / ".claude").mkdir(parents=True)
    monkeypatch.chdir(sub)
    with MemoryLifecycleManager() as m:
        assert m.retrieve("knowledge/where") == "workspace"


def test_a_parent_mcp_json_that_registers_the_server_wins_over_a_nested_repository(
    project: Path, monkeypatch
) -> None:
    _register(project)
    nested = project / "vendor" / "lib"
    (nested / ".git").mkdir(parents=True)  # a submodule: Claude Code still reads the parent's
    monkeypatch.setenv("CLAUDE_PROJECT_DIR", str(nested))
    assert resolve().store_url == _store_of(project)


def test_registration_by_command_counts_and_other_servers_do_not(
    tmp_path: Path, monkeypatch
) -> None:
    outer = tmp_path / "outer"
    inner = outer / "inner"
    (inner / ".claude").mkdir(parents=True)
    _register(outer, name="memory", command="/opt/tools/bin/memory-lifecycle")
    monkeypatch.setenv("CLAUDE_PROJECT_DIR", str(inner))
    assert resolve().store_url == _store_of(outer)
    _register(outer, name="github", command="github-mcp")
    assert resolve().store_url == _store_of(inner)  # only .claude/ is left: the nearest


def test_a_subfolder_registering_the_server_itself_is_its_own_project(
    project: Path, monkeypatch
) -> None:
    sub = project / "tools" / "agent"
    sub.mkdir(parents=True)
    _register(sub)
    monkeypatch.chdir(sub / "..")
    assert resolve().store_url == _store_of(project)
    monkeypatch.chdir(sub)
    assert resolve().store_url == _store_of(sub)


def test_a_broken_mcp_json_is_only_a_plain_marker(tmp_path: Path, monkeypatch) -> None:
    folder = tmp_path / "broken"
    folder.mkdir()
    (folder / ".mcp.json").write_text("{not json")
    (folder / "src").mkdir()
    monkeypatch.chdir(folder / "src")
    assert resolve().store_url == _store_of(folder)


def test_the_home_directory_is_never_the_project_root(tmp_path: Path, monkeypatch) -> None:
    home = tmp_path / "home"
    (home / ".claude").mkdir(parents=True)  # Claude Code's user settings
    (home / ".claude-flow" / "memory").mkdir(parents=True)
    (home / ".claude-flow" / "memory" / "memory.db").touch()  # a stray store in ~
    scratch = home / "scratch" / "notes"
    scratch.mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(scratch)
    assert resolve().store_url == _store_of(scratch)


# Each coding agent's file, as init --client writes it (plus the forms a user may have).
CLIENT_FILES = {
    "codex": (".codex/config.toml", '[mcp_servers.memory]\ncommand = "memory-lifecycle"\n'),
    "gemini": (".gemini/settings.json", '{"mcpServers": {"m": {"command": "memory-lifecycle"}}}'),
    "gemini-comments": (
        ".gemini/settings.json",
        '{\n  // mine\n  "mcpServers": {"m": {"command": "memory-lifecycle"}}\n}',
    ),
    "vscode": (".vscode/mcp.json", '{"servers": {"memory-lifecycle": {"command": "uvx"}}}'),
    "cursor": (".cursor/mcp.json", '{"mcpServers": {"m": {"args": ["memory-lifecycle"]}}}'),
    "opencode": ("opencode.json", '{"mcp": {"m": {"command": ["memory-lifecycle", "serve"]}}}'),
    "opencode-v2": ("opencode.json", '{"mcp": {"servers": {"memory-lifecycle": {}}}}'),
    "opencode-jsonc": ("opencode.jsonc", '{"mcp": {"memory-lifecycle": {},},}'),
}


@pytest.mark.parametrize("client", CLIENT_FILES)
def test_a_parent_whose_client_file_runs_the_server_wins_over_a_nested_repository(
    project: Path, monkeypatch, client: str
) -> None:
    name, text = CLIENT_FILES[client]
    (project / name).parent.mkdir(parents=True, exist_ok=True)
    (project / name).write_text(text)
    nested = project / "vendor" / "lib"
    (nested / ".git").mkdir(parents=True)
    monkeypatch.chdir(nested)
    assert resolve().store_url == _store_of(project)


def test_a_client_file_running_other_servers_only_is_no_registration(project: Path, monkeypatch):
    (project / ".codex").mkdir()
    (project / ".codex" / "config.toml").write_text('[mcp_servers.gh]\ncommand = "gh-mcp"\n')
    nested = project / "vendor" / "lib"
    (nested / ".git").mkdir(parents=True)
    monkeypatch.chdir(nested)
    assert resolve().store_url == _store_of(nested)


def test_memory_lifecycle_project_dir_starts_the_walk_before_claude_project_dir(
    tmp_path: Path, monkeypatch
) -> None:
    workspace = tmp_path / "workspace"
    (workspace / ".git").mkdir(parents=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # an editor runs the server in a folder of its own
    monkeypatch.setenv("CLAUDE_PROJECT_DIR", str(elsewhere))
    monkeypatch.setenv("MEMORY_LIFECYCLE_PROJECT_DIR", str(workspace))
    assert resolve().store_url == _store_of(workspace)
