"""The real coding-agent CLIs read what ``init --client`` wrote and start our server.

Gemini CLI (``@google/gemini-cli``), Codex CLI (``@openai/codex``) and opencode
(``opencode-ai``) from npm, each run with a scratch HOME: none needs a login for
``mcp list``. Gemini CLI also runs a whole session offline (its own
``--fake-responses`` test flag stands in for the model): the model's tool call
reaches our server and the ``SessionEnd`` hook init wired clears the session.

The CLIs are found in ``MEMORY_LIFECYCLE_CLIENTS_BIN`` (a folder, such as
``node_modules/.bin``) or on PATH; where one is missing its tests are skipped,
saying so. CI installs them and sets ``MEMORY_LIFECYCLE_REQUIRE_CLIENTS=1``, which
fails instead. Claude Code's own file is checked by the tests that start its
server as Claude Code does (``test_commands_init.py``, ``test_init_clients.py``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.support.claude_code import path_with
from tests.support.cli import open_store, run_cli, stored_keys
from tests.support.env import child_env

pytestmark = pytest.mark.slow

ENV_BIN = "MEMORY_LIFECYCLE_CLIENTS_BIN"
ENV_REQUIRE = "MEMORY_LIFECYCLE_REQUIRE_CLIENTS"
TOOL_BIN = Path(sys.executable).parent  # where this environment's memory-lifecycle is
PACKAGES = {"gemini": "@google/gemini-cli", "codex": "@openai/codex", "opencode": "opencode-ai"}
TIMEOUT = 120  # a CLI's first start on a busy 2-core machine


def cli(name: str) -> str:
    """The CLI's path; skip (or fail, where CI requires them) when it is not installed."""
    folder = os.environ.get(ENV_BIN)
    found = shutil.which(name, path=folder) if folder else shutil.which(name)
    if found:
        return found
    where = f"in {ENV_BIN}={folder}" if folder else f"on PATH (or set {ENV_BIN})"
    missing = f"{name} not found {where}; npm install {PACKAGES[name]}"
    if os.environ.get(ENV_REQUIRE, "").strip() not in ("", "0", "false", "no"):
        pytest.fail(f"{ENV_REQUIRE}=1 but {missing}")
    pytest.skip(missing)


def scratch_env(home: Path, **extra: str) -> dict[str, str]:
    """A clean HOME (and XDG folders) so the CLI sees no user's settings or logins."""
    home.mkdir(exist_ok=True)
    cli_bin = os.environ.get(ENV_BIN)  # before PATH: the node CI installed beside them wins
    path = (
        path_with(TOOL_BIN) if not cli_bin else f"{TOOL_BIN}{os.pathsep}{path_with(Path(cli_bin))}"
    )
    xdg = {f"XDG_{k}_HOME": str(home / v) for k, v in _XDG.items()}
    (home / "tmp").mkdir(exist_ok=True)  # their crash reports and caches stay in the test
    env = {"HOME": str(home), "TMPDIR": str(home / "tmp"), "PATH": path, "NO_COLOR": "1"}
    return child_env(**env, **xdg, **extra)


_XDG = {"CONFIG": ".config", "DATA": ".local/share", "CACHE": ".cache", "STATE": ".local/state"}


def run(argv: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )


def plain(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


def git_project(project: Path) -> Path:
    """The test's project as a real git repository (Codex finds its root by git), with a
    subfolder."""
    shutil.rmtree(project / ".git")
    subprocess.run(["git", "init", "-q", str(project)], check=True)
    (project / "src" / "app").mkdir(parents=True)
    return project / "src" / "app"


def init(project: Path, client: str) -> None:
    done = run_cli("init", "--client", client, cwd=project)
    assert done.returncode == 0, done.stderr


# -- Gemini CLI ------------------------------------------------------------------------------


def trust_gemini(home: Path, project: Path) -> None:
    (home / ".gemini").mkdir(parents=True, exist_ok=True)
    trusted = {str(project): "TRUST_FOLDER"}
    (home / ".gemini" / "trustedFolders.json").write_text(json.dumps(trusted))


def test_gemini_lists_the_server_connected_in_a_trusted_folder(project: Path, tmp_path: Path):
    gemini = cli("gemini")
    init(project, "gemini")
    home = tmp_path / "home"
    env = scratch_env(home)

    untrusted = run([gemini, "mcp", "list"], project, env)
    trust_gemini(home, project)
    connected = r"memory-lifecycle: memory-lifecycle serve \(stdio\) - Connected"
    # `gemini mcp list` gives a server `timeout` ms (5,000 unless the server's entry says) to
    # start and answer a ping; on a 2-core machine loaded with other suites our start alone
    # can take that (seen at load 10). The file as init wrote it is tried first; then, with a
    # longer timeout in the server's entry, twice more: what is tested is that Gemini starts
    # and reaches the server init configured, not how fast a loaded machine starts it.
    for attempt in range(3):
        trusted = run([gemini, "mcp", "list"], project, env)
        out = plain(trusted.stdout + trusted.stderr)  # gemini prints this to stderr
        if re.search(connected, out):
            break
        if attempt == 0:
            settings_file = project / ".gemini" / "settings.json"
            settings = json.loads(settings_file.read_text())
            settings["mcpServers"]["memory-lifecycle"]["timeout"] = 60_000
            settings_file.write_text(json.dumps(settings, indent=2))

    before = plain(untrusted.stdout + untrusted.stderr)
    assert re.search(r"memory-lifecycle: memory-lifecycle serve \(stdio\) - Disabled", before)
    assert re.search(connected, out), out
    assert (project / ".claude-flow" / "memory" / "memory.db").is_file()  # the project's store


def test_a_gemini_session_calls_our_tools_and_its_session_end_clears_the_session(
    project: Path, tmp_path: Path
):
    """A whole Gemini CLI session, offline: the fake model stores two entries through the
    server init registered, and the SessionEnd hook init wired removes the session's one."""
    gemini = cli("gemini")
    init(project, "gemini")
    home = tmp_path / "home"
    trust_gemini(home, project)
    session = str(uuid.uuid4())
    model = tmp_path / "responses.jsonl"
    calls = [
        ("knowledge/from-gemini", "shared with every agent"),
        (f"session/{session}/scratch", "only for this session"),
    ]
    turns = [[_call(key, value) for key, value in calls], [_text("stored both")]]
    model.write_text("".join(json.dumps(_turn(parts)) + "\n" for parts in turns))
    with open_store(project) as m:  # the store exists, so the check below sees a deletion
        m.store("knowledge/before", 1)

    done = run(
        [
            gemini,
            "--fake-responses-non-strict",
            str(model),
            "--session-id",
            session,
            "-y",
            "-p",
            "remember two things",
        ],
        project,
        scratch_env(home, GEMINI_API_KEY="offline"),
    )

    assert "stored both" in done.stdout, done.stdout + done.stderr
    assert stored_keys(project) == {"knowledge/before", "knowledge/from-gemini"}


def _call(key: str, value: str) -> dict[str, object]:
    name = "mcp_memory-lifecycle_memory_store"  # Gemini CLI's name for an MCP server's tool
    return {"functionCall": {"name": name, "args": {"key": key, "value": value}}}


def _text(text: str) -> dict[str, object]:
    return {"text": text}


def _turn(parts: list[dict[str, object]]) -> dict[str, object]:
    candidate = {"content": {"role": "model", "parts": parts}, "finishReason": "STOP", "index": 0}
    return {"method": "generateContentStream", "response": [{"candidates": [candidate]}]}


# -- Codex CLI -------------------------------------------------------------------------------


def test_codex_lists_the_server_enabled_in_a_trusted_project_from_any_folder(
    project: Path, tmp_path: Path
):
    codex = cli("codex")
    sub = git_project(project)
    init(project, "codex")
    home = tmp_path / "home"
    env = scratch_env(home, CODEX_HOME=str(home / ".codex"))
    (home / ".codex").mkdir(parents=True)

    untrusted = run([codex, "mcp", "list", "--json"], project, env)
    trust = f'[projects."{project}"]\ntrust_level = "trusted"\n'
    (home / ".codex" / "config.toml").write_text(trust)
    listed = {where: run([codex, "mcp", "list", "--json"], where, env) for where in (project, sub)}

    assert untrusted.returncode == 0, untrusted.stderr
    assert json.loads(untrusted.stdout) == []  # an untrusted project's file is not read
    for where, done in listed.items():
        assert done.returncode == 0, done.stderr
        (server,) = [s for s in json.loads(done.stdout) if s["name"] == "memory-lifecycle"]
        assert server["enabled"] is True, where
        assert server["transport"]["command"] == "memory-lifecycle"
        assert server["transport"]["args"] == ["serve"]


# -- opencode --------------------------------------------------------------------------------


def test_opencode_connects_to_the_server_from_the_root_and_a_subfolder(
    project: Path, tmp_path: Path
):
    opencode = cli("opencode")
    sub = git_project(project)
    init(project, "opencode")
    env = scratch_env(tmp_path / "home")

    for where in (project, sub):
        done = run([opencode, "mcp", "list"], where, env)
        out = plain(done.stdout + done.stderr)
        assert done.returncode == 0, out
        assert re.search(r"memory-lifecycle\s+connected", out), out
    assert (project / ".claude-flow" / "memory" / "memory.db").is_file()
    assert not (sub / ".claude-flow").exists()
