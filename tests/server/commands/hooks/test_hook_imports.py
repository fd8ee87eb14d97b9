"""What a hook process loads: only what its command needs (issue 15, "Speed at scale").

Claude Code starts a fresh ``memory-lifecycle hook ...`` process on every session end,
task, edit and shell command, so each module a hook imports is paid thousands of times
a day. These tests run the real command line in a subprocess and read ``sys.modules``
at exit: the heavy stacks (MCP SDK, pydantic, YAML, PostgreSQL drivers, the web
server, the scheduler) and the other commands' modules must not be there.
"""

from __future__ import annotations

import argparse
import json
import subprocess
from pathlib import Path

import pytest

import lifecycle
from server.commands import COMMANDS, MODULE_NAMES, load
from server.commands.parser import CommandParser
from tests.support.env import PYTHON, child_env

pytestmark = pytest.mark.slow

# search by meaning (issue 23): never on a write path, even with a model configured
SEMANTIC = (
    "numpy",
    "onnxruntime",
    "tokenizers",
    "huggingface_hub",
    "lifecycle.search.semantic.embedder",
    "lifecycle.search.semantic.index",
    "lifecycle.search.semantic.indexer",
    "lifecycle.search.semantic.ranking",
)
HEAVY = (
    "mcp",
    "pydantic",
    "pydantic_core",
    "yaml",
    "psycopg",
    "psycopg_pool",
    "jsonschema",
    "uvicorn",
    "starlette",
    "anyio",
    "apscheduler",
    "httpx",
    "lifecycle.store.postgres",
    "lifecycle.policies.schema",
    *SEMANTIC,
)
# the command modules no hook needs
OTHER_COMMANDS = tuple(f"server.commands.{m}" for m in MODULE_NAMES if m != "hooks.command")

# print the modules loaded by the end of main() as one JSON line on stderr
PROBE = (
    "import json, sys\n"
    "from server.cli import main\n"
    "code = main(sys.argv[1:])\n"
    "print(json.dumps(sorted(sys.modules)), file=sys.stderr)\n"
    "sys.exit(code)\n"
)


def _modules_after(
    project: Path, *argv: str, stdin: str = "", env: dict[str, str] | None = None
) -> set[str]:
    done = subprocess.run(
        [PYTHON, "-c", PROBE, *argv],
        cwd=project,
        env=child_env(**(env or {})),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    loaded: set[str] = set(json.loads(done.stderr.strip().splitlines()[-1]))
    return loaded


def _embedding_stack(modules: set[str]) -> set[str]:
    return {m for m in modules if m in SEMANTIC or m.startswith(tuple(f"{h}." for h in SEMANTIC))}


def _heavy(modules: set[str]) -> set[str]:
    return {m for m in modules if m in HEAVY or m.startswith(tuple(f"{h}." for h in HEAVY))}


@pytest.fixture
def repo_project(project: Path) -> Path:
    """A project folder (a git root with the shipped policy file) holding a store."""
    (project / ".claude").mkdir()  # the autouse fixture made it a git root
    policies = Path(lifecycle.__file__).with_name("memory-retention-policies.yaml")
    (project / ".claude" / "memory-retention-policies.yaml").write_bytes(policies.read_bytes())
    return project


@pytest.mark.parametrize(
    "argv",
    [
        ("hook", "session-end", "--session-id", "s1"),
        ("hook", "pre-task", "--description", "build it"),
        ("hooks", "post-edit", "--file", "src/a.py"),
        ("hook", "post-command", "--command", "make test"),
        ("hook", "memory-cleanup"),
    ],
)
def test_a_hook_loads_neither_heavy_stacks_nor_other_commands(
    repo_project: Path, argv: tuple[str, ...]
) -> None:
    # twice: the first run validates the policy file (pydantic, YAML) and caches the result
    # in the store; every later hook must skip both
    _modules_after(repo_project, *argv)
    modules = _modules_after(repo_project, *argv)

    assert "server.commands.hooks.command" in modules and "lifecycle.manager" in modules
    assert (repo_project / ".claude-flow" / "memory" / "memory.db").is_file()
    assert _heavy(modules) == set()
    assert {m for m in OTHER_COMMANDS if m in modules} == set()


def test_claude_codes_stdin_json_hook_loads_no_heavy_stack(repo_project: Path) -> None:
    payload = json.dumps({"session_id": "s1", "hook_event_name": "SessionEnd", "reason": "exit"})
    _modules_after(repo_project, "hook", "session-end", stdin=payload)
    modules = _modules_after(repo_project, "hook", "session-end", stdin=payload)

    assert "lifecycle.hooks.actions" in modules
    assert _heavy(modules) == set()


def test_a_put_and_a_plain_write_load_no_embedding_stack_even_with_a_model_configured(
    repo_project: Path, tmp_path: Path
) -> None:
    env = {"MEMORY_LIFECYCLE_EMBEDDING_MODEL_PATH": str(tmp_path / "model")}  # set, not needed
    modules = _modules_after(repo_project, "put", "notes/a", "we use JWT", env=env)
    assert "server.commands.entries" in modules  # it ran
    assert _embedding_stack(modules) == set()

    write = (
        "import json, sys\n"
        "from lifecycle import MemoryLifecycleManager\n"
        "with MemoryLifecycleManager() as m:\n"
        "    m.store('notes/b', 'we deploy on Fridays'); m.store_many([('notes/c', 'x')])\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    done = subprocess.run(
        [PYTHON, "-c", write], cwd=repo_project, env=child_env(**env), capture_output=True,
        text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert _embedding_stack(set(json.loads(done.stdout))) == set()


def test_importing_the_engine_package_loads_no_submodule() -> None:
    code = "import sys, lifecycle; print(sorted(m for m in sys.modules if m[:9] == 'lifecycle'))"
    done = subprocess.run(
        [PYTHON, "-c", code], env=child_env(), capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "['lifecycle']"


def test_every_exported_engine_name_resolves_from_its_home() -> None:
    assert set(lifecycle._HOMES) == set(lifecycle.__all__)
    for name in lifecycle.__all__:
        value = getattr(lifecycle, name)
        assert value.__name__ == name
        assert value.__module__ == f"lifecycle.{lifecycle._HOMES[name]}"
    assert set(lifecycle.__all__) <= set(dir(lifecycle))
    with pytest.raises(AttributeError, match="no_such_name"):
        lifecycle.no_such_name  # noqa: B018


def test_the_command_table_names_what_each_module_registers() -> None:
    registered: dict[str, str] = {}
    for name in MODULE_NAMES:
        sub = CommandParser(prog="x").add_subparsers()
        load(name).register(sub)
        assert isinstance(sub, argparse._SubParsersAction)
        registered.update(dict.fromkeys(sub.choices, name))
    assert registered == COMMANDS
    assert list(registered) == list(COMMANDS)  # --help lists them in this order


# the standard library a hook does without (issue 24: a hook within ~3.5x of ``python -c
# pass``): typing (~16M instructions; the engine's type-only names are imported under
# ``TYPE_CHECKING``), pathlib (~15M with urllib.parse and ipaddress: the store and the
# project are found with ``os.path``), threading (its lock and thread-local are
# ``_thread``'s), importlib, contextlib and base64 (the store's context managers are
# classes; ``__import__``; binascii), argparse and logging (issue 22)
UNNEEDED_STDLIB = (
    "typing",
    "pathlib",
    "urllib.parse",
    "ipaddress",
    "threading",
    "importlib",
    "contextlib",
    "base64",
    "argparse",
    "logging",
    "datetime",  # the sqlite3 package's date adapters (the store imports _sqlite3 itself)
    "sqlite3",
)


@pytest.mark.parametrize(
    ("argv", "stdin"),
    [
        (("hook", "session-end", "--session-id", "s1"), ""),
        (("hook", "pre-task", "--description", "build it"), ""),
        (("hook", "post-command", "--command", "make test"), ""),
        (("hook", "memory-cleanup"), ""),
        (("hooks", "post-edit", "--file", "src/app.py"), ""),
        (
            ("hook", "pre-task"),
            json.dumps(
                {
                    "session_id": "s1",
                    "hook_event_name": "PreToolUse",
                    "tool_name": "Task",
                    "tool_use_id": "toolu_1",
                    "tool_input": {"description": "write the tests", "prompt": "..."},
                }
            ),
        ),
        (("hook", "session-end"), json.dumps({"session_id": "s1", "reason": "exit"})),
    ],
)
def test_a_hook_loads_no_standard_library_it_does_without(
    repo_project: Path, argv: tuple[str, ...], stdin: str
) -> None:
    _modules_after(repo_project, *argv, stdin=stdin)  # the first validates the policies
    modules = _modules_after(repo_project, *argv, stdin=stdin)

    assert "lifecycle.manager" in modules and "_sqlite3" in modules  # it ran
    assert [m for m in UNNEEDED_STDLIB if m in modules] == []
