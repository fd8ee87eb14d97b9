"""The repository, the interpreter and a clean environment for child processes."""

from __future__ import annotations

import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PYTHON = sys.executable

ENV_VARS = (
    "MEMORY_LIFECYCLE_DIR",
    "MEMORY_LIFECYCLE_POLICY_FILE",
    "MEMORY_LIFECYCLE_STORE",
    "MEMORY_LIFECYCLE_AGENT_ID",
    "MEMORY_LIFECYCLE_AUTH_TOKEN",
    "MEMORY_LIFECYCLE_MAINTENANCE_SECONDS",
    "MEMORY_LIFECYCLE_ALLOWED_HOSTS",
    "CLAUDE_PROJECT_DIR",
    "MEMORY_LIFECYCLE_PROJECT_DIR",
)


def child_env(**extra: str) -> dict[str, str]:
    """Environment for subprocesses: this interpreter's, minus inherited configuration."""
    env = {k: v for k, v in os.environ.items() if k not in ENV_VARS}
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    env.update(extra)
    return env
