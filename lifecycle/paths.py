"""Where the store and the policy file are, whichever folder of the project we start in.

Claude Code starts the MCP server, hook commands and a daemon in different
working directories, and when it is started in a subfolder of a project it
reads the parent's ``.mcp.json`` but sets ``CLAUDE_PROJECT_DIR`` to the
subfolder. So ``CLAUDE_PROJECT_DIR`` (else the working directory) is where the
search for the project root starts, not the answer. Walking up from there:

1. the nearest folder that already holds the store
   (``.claude-flow/memory/memory.db``) or whose ``.mcp.json`` registers
   memory-lifecycle: the project this server belongs to;
2. else the nearest folder holding ``.git``: a repository is one project,
   however many ``.claude/`` folders its subfolders have;
3. else the nearest folder holding ``.claude/``, ``.claude-flow/`` or
   ``.mcp.json``;
4. else the starting folder itself.

Other coding agents start the server too (``memory-lifecycle init --client``):
a folder whose Codex, Gemini, VS Code, Cursor or opencode configuration runs
memory-lifecycle is a project root like one whose ``.mcp.json`` does, and
``MEMORY_LIFECYCLE_PROJECT_DIR`` (what VS Code and Cursor set from their
``${workspaceFolder}``) starts the walk like ``CLAUDE_PROJECT_DIR``.

The walk stops below the home directory when it starts inside it: ``~/.claude/``
is Claude Code's user configuration, not a project. Order of precedence for
each location: explicit argument, environment, project root.

Every hook resolves these, so the walk works on ``os.path`` strings: ``pathlib`` (with
``urllib.parse`` and ``ipaddress``, ~15M instructions) is imported only by the callers
that ask for a ``Path`` (``project_root``, ``ResolvedPaths.policy_file``, the
``DEFAULT_*`` constants).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator

from lifecycle.basics.dataclass_lite import FrozenRecord
from lifecycle.store.url import plain_path

TYPE_CHECKING = False  # typing's flag without importing typing
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any

    DEFAULT_MEMORY_DIR: Path  # .claude-flow/memory
    DEFAULT_POLICY_FILE: Path  # .claude/memory-retention-policies.yaml

_set = object.__setattr__  # how a frozen record's __init__ sets its fields

ENV_DIR = "MEMORY_LIFECYCLE_DIR"
ENV_POLICY = "MEMORY_LIFECYCLE_POLICY_FILE"
ENV_STORE = "MEMORY_LIFECYCLE_STORE"
ENV_PROJECT = "CLAUDE_PROJECT_DIR"
ENV_PROJECT_DIR = "MEMORY_LIFECYCLE_PROJECT_DIR"  # any client: where the walk starts
SERVER_NAME = "memory-lifecycle"
MCP_CONFIG = ".mcp.json"
MEMORY_DIR = os.path.join(".claude-flow", "memory")  # DEFAULT_MEMORY_DIR as a string
POLICY_FILE = os.path.join(".claude", "memory-retention-policies.yaml")
_PATH_CONSTANTS = {"DEFAULT_MEMORY_DIR": MEMORY_DIR, "DEFAULT_POLICY_FILE": POLICY_FILE}
DB_NAME = "memory.db"
REPOSITORY_MARKER = ".git"
_MARKERS = (".claude", ".claude-flow", MCP_CONFIG)
_MCP_CONFIG_MAX_BYTES = 1 << 20
# Each coding agent's project file and where in it its servers may be (``init --client``).
_SERVERS = (("mcpServers",),)
CLIENT_CONFIGS: tuple[tuple[str, tuple[tuple[str, ...], ...]], ...] = (
    (MCP_CONFIG, _SERVERS),  # Claude Code (and Copilot's portable format)
    (".codex/config.toml", (("mcp_servers",),)),
    (".gemini/settings.json", _SERVERS),
    (".vscode/mcp.json", (("servers",),)),
    (".cursor/mcp.json", _SERVERS),
    ("opencode.json", (("mcp",), ("mcp", "servers"))),  # opencode 1.x, V2
    ("opencode.jsonc", (("mcp",), ("mcp", "servers"))),
)


def __getattr__(name: str) -> Path:
    """``DEFAULT_MEMORY_DIR`` and ``DEFAULT_POLICY_FILE``, relative ``Path``s made on first
    use (module ``__getattr__``): a hook never asks for them."""
    if name not in _PATH_CONSTANTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from pathlib import Path

    return Path(_PATH_CONSTANTS[name])


class ResolvedPaths(FrozenRecord):
    """Where the store and the policy file are: ``os.path`` strings, and as ``Path``s
    (``policy_file``, ``memory_dir``) for the callers that want them."""

    __slots__ = ("memory_path", "policy_explicit", "policy_path", "store_url")
    store_url: str
    policy_path: str
    policy_explicit: bool  # named by the user: it must exist
    memory_path: str | None  # the store's folder, for a SQLite store found by folder

    def __init__(
        self, store_url: str, policy_path: str, policy_explicit: bool, memory_path: str | None
    ) -> None:
        _set(self, "store_url", store_url)
        _set(self, "policy_path", policy_path)
        _set(self, "policy_explicit", policy_explicit)
        _set(self, "memory_path", memory_path)

    @property
    def policy_file(self) -> Path:
        from pathlib import Path

        return Path(self.policy_path)

    @property
    def memory_dir(self) -> Path | None:
        from pathlib import Path

        return None if self.memory_path is None else Path(self.memory_path)


def project_root(cwd: str | os.PathLike[str] | None = None) -> Path:
    """The project's root folder: where its one store and its policy file live."""
    from pathlib import Path

    return Path(project_folder(cwd))


def project_folder(cwd: str | os.PathLike[str] | None = None) -> str:
    """``project_root`` as an absolute, resolved ``os.path`` string."""
    env = os.environ.get(ENV_PROJECT_DIR) or os.environ.get(ENV_PROJECT)
    start = os.path.realpath(os.path.expanduser(env) if env else (cwd or os.getcwd()))
    chain = list(_folders_up(start))
    for folder in chain:
        if os.path.isfile(os.path.join(folder, MEMORY_DIR, DB_NAME)) or sets_server_up(folder):
            return folder
    for folder in chain:
        if os.path.exists(os.path.join(folder, REPOSITORY_MARKER)):
            return folder
    for folder in chain:
        if any(os.path.exists(os.path.join(folder, m)) for m in _MARKERS):
            return folder
    return start


def has_project_marker(folder: str | os.PathLike[str]) -> bool:
    """Whether ``folder`` holds any of the markers ``project_root`` looks for."""
    return any(os.path.exists(os.path.join(folder, m)) for m in (REPOSITORY_MARKER, *_MARKERS))


def _folders_up(start: str) -> Iterator[str]:
    """``start`` (absolute, resolved) and its ancestors, stopping below the home directory
    if inside it."""
    found = os.path.expanduser("~")
    home = None if found == "~" else os.path.realpath(found)  # "~": no HOME, no passwd entry
    inside_home = home is not None and start != home and start.startswith(home.rstrip("/") + "/")
    folder = start
    while True:
        if inside_home and folder == home:
            return
        yield folder
        parent = os.path.dirname(folder)
        if parent == folder:
            return
        folder = parent


def sets_server_up(folder: str | os.PathLike[str]) -> bool:
    """Whether a coding agent's project file in ``folder`` starts memory-lifecycle."""
    return any(
        registers_server(os.path.join(folder, name), places) for name, places in CLIENT_CONFIGS
    )


def registers_server(
    config: str | os.PathLike[str], places: tuple[tuple[str, ...], ...] = _SERVERS
) -> bool:
    """Whether this client file starts memory-lifecycle (by server name or command) from
    any of ``places`` (the keys leading to a servers table).

    A file that does not parse (JSON with comments, TOML on Python 3.10) counts when
    it names memory-lifecycle at all: this only decides where a project's root is.
    """
    try:
        with open(config, "rb") as f:
            raw = f.read(_MCP_CONFIG_MAX_BYTES)
    except OSError:
        return False
    try:
        doc: Any = _parse_toml(raw) if os.fspath(config).endswith(".toml") else json.loads(raw)
    except (ValueError, RecursionError, ImportError):
        return SERVER_NAME.encode() in raw
    for keys in places:
        servers = doc
        for key in keys:
            servers = servers.get(key) if isinstance(servers, dict) else None
        if registered_in(servers) is not None:
            return True
    return False


def _parse_toml(raw: bytes) -> Any:
    if sys.version_info >= (3, 11):
        import tomllib

        return tomllib.loads(raw.decode("utf-8"))
    raise ImportError("tomllib")  # Python 3.10: the plain check above


def registered_server(mcp_config: Any) -> str | None:
    """The name under which a parsed ``.mcp.json`` registers memory-lifecycle, if it does."""
    servers = mcp_config.get("mcpServers") if isinstance(mcp_config, dict) else None
    return registered_in(servers)


def registered_in(servers: Any) -> str | None:
    """The name under which a client's servers table runs memory-lifecycle, if it does:
    the server's name, or its command (a string, or opencode's list) or arguments."""
    if not isinstance(servers, dict):
        return None
    for name, server in servers.items():
        if name == SERVER_NAME:
            return str(name)
        if isinstance(server, dict):
            command, args = server.get("command"), server.get("args")
            words = [*(command if isinstance(command, list) else [command])]
            words += args if isinstance(args, list) else []
            if any(isinstance(w, str) and SERVER_NAME in w for w in words):
                return str(name)
    return None


def _from_env(name: str, root: str) -> str | None:
    value = os.environ.get(name)
    if not value:
        return None
    return _plain(os.path.join(root, os.path.expanduser(value)))  # an absolute one: itself


def resolve(
    memory_dir: str | os.PathLike[str] | None = None,
    policy_file: str | os.PathLike[str] | None = None,
    store: str | os.PathLike[str] | None = None,
) -> ResolvedPaths:
    root = project_folder()
    if policy_file is not None:
        policy, explicit = _plain(policy_file), True
    elif (env_policy := _from_env(ENV_POLICY, root)) is not None:
        policy, explicit = env_policy, True
    else:
        policy, explicit = os.path.join(root, POLICY_FILE), False

    if store is not None:
        return ResolvedPaths(str(store), policy, explicit, None)
    if memory_dir is not None:
        directory = _plain(memory_dir)
    elif os.environ.get(ENV_STORE):
        return ResolvedPaths(os.environ[ENV_STORE], policy, explicit, None)
    else:
        directory = _from_env(ENV_DIR, root) or os.path.join(root, MEMORY_DIR)
    return ResolvedPaths(os.path.join(directory, DB_NAME), policy, explicit, directory)


def _plain(path: str | os.PathLike[str]) -> str:
    """A path given by the caller as ``Path(path).expanduser()`` spells it (no trailing
    ``/`` or ``.`` parts), as a string."""
    return plain_path(os.path.expanduser(os.fspath(path)))
