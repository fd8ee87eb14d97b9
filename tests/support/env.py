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
    "MEMORY_LIFECYCLE_EMBEDDING_MODEL",
    "MEMORY_LIFECYCLE_EMBEDDING_MODEL_PATH",
    # the terminal's size: a table's width must not depend on where the suite runs
    # (pytest-xdist workers have COLUMNS=80 in their environment, a plain run does not)
    "COLUMNS",
    "LINES",
)
# no test reaches a model hub: tests that need a model get a local folder (tests/support/
# semantic.py), and a default model is looked for in an empty cache, offline
HUB_OFFLINE = {"HF_HUB_OFFLINE": "1"}


def child_env(**extra: str) -> dict[str, str]:
    """Environment for subprocesses: this interpreter's, minus inherited configuration."""
    env = {k: v for k, v in os.environ.items() if k not in ENV_VARS}
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    env.update(HUB_OFFLINE)
    env.update(extra)
    return env
