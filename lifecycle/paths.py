"""Where the store and the policy file are, whichever directory we start in.

Claude Code starts the MCP server, hook commands and a daemon in different
working directories; resolving from the project root (not the working
directory alone) makes them all reach one store. Order: explicit argument,
environment, project root, working directory.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

ENV_DIR = "MEMORY_LIFECYCLE_DIR"
ENV_POLICY = "MEMORY_LIFECYCLE_POLICY_FILE"
ENV_STORE = "MEMORY_LIFECYCLE_STORE"
ENV_PROJECT = "CLAUDE_PROJECT_DIR"
DEFAULT_MEMORY_DIR = Path(".claude-flow") / "memory"
DEFAULT_POLICY_FILE = Path(".claude") / "memory-retention-policies.yaml"
DB_NAME = "memory.db"
_MARKERS = (".claude", ".claude-flow", ".git")


@dataclass(frozen=True)
class ResolvedPaths:
    store_url: str
    policy_file: Path
    policy_explicit: bool  # named by the user: it must exist
    memory_dir: Path | None


def project_root(cwd: Path | None = None) -> Path:
    env = os.environ.get(ENV_PROJECT)
    if env:
        return Path(env).expanduser().resolve()
    start = (cwd or Path.cwd()).resolve()
    for folder in (start, *start.parents):
        if any((folder / m).exists() for m in _MARKERS):
            return folder
    return start


def _from_env(name: str, root: Path) -> Path | None:
    value = os.environ.get(name)
    if not value:
        return None
    p = Path(value).expanduser()
    return p if p.is_absolute() else root / p


def resolve(
    memory_dir: str | os.PathLike[str] | None = None,
    policy_file: str | os.PathLike[str] | None = None,
    store: str | os.PathLike[str] | None = None,
) -> ResolvedPaths:
    root = project_root()
    if policy_file is not None:
        policy, explicit = Path(policy_file).expanduser(), True
    elif (env_policy := _from_env(ENV_POLICY, root)) is not None:
        policy, explicit = env_policy, True
    else:
        policy, explicit = root / DEFAULT_POLICY_FILE, False

    directory: Path | None
    if store is not None:
        return ResolvedPaths(str(store), policy, explicit, None)
    if memory_dir is not None:
        directory = Path(memory_dir).expanduser()
    elif os.environ.get(ENV_STORE):
        return ResolvedPaths(os.environ[ENV_STORE], policy, explicit, None)
    else:
        directory = _from_env(ENV_DIR, root) or root / DEFAULT_MEMORY_DIR
    return ResolvedPaths(str(directory / DB_NAME), policy, explicit, directory)
