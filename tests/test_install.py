"""A fresh, non-editable install from the checkout works outside it: ``--version``, ``init``.

This is what ``pipx install /path/to/memory-lifecycle`` does (a venv of its own, a
wheel built from the checkout), so package data such as the default policy file
must be inside the package, not beside it in the checkout.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import httpx2
import pytest

import lifecycle
from tests.support.env import ENV_VARS, PYTHON, REPO
from tests.support.server import free_port, wait_for_port

pytestmark = pytest.mark.slow


def clean_env() -> dict[str, str]:
    """No PYTHONPATH and no configuration: only the installed package can be imported."""
    env = {k: v for k, v in os.environ.items() if k not in (*ENV_VARS, "PYTHONPATH")}
    return env | {"PIP_DISABLE_PIP_VERSION_CHECK": "1"}


def run(*args: str | Path, cwd: Path, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def checkout_copy(tmp_path: Path) -> Path:
    """The checkout without its build products: setuptools builds in the source tree."""
    skip = shutil.ignore_patterns(
        ".git",
        ".venv",
        "build",
        "*.egg-info",
        "__pycache__",
        ".*_cache",
        ".hypothesis",
        ".claude-flow",
    )
    return Path(shutil.copytree(REPO, tmp_path / "checkout", ignore=skip))


def test_a_fresh_install_from_the_checkout_runs_version_and_init_outside_it(tmp_path: Path):
    source = checkout_copy(tmp_path)
    venv = tmp_path / "tool-venv"
    assert run(PYTHON, "-m", "venv", "--without-pip", venv, cwd=tmp_path).returncode == 0
    # this environment's pip installs into the new venv (skips bootstrapping a second pip)
    install = run(
        PYTHON,
        "-m",
        "pip",
        "--python",
        venv / "bin" / "python",
        "install",
        "--verbose",  # shows the build backend's output, warnings included
        source,
        cwd=tmp_path,
        timeout=240,
    )
    assert install.returncode == 0, install.stderr[-3000:]
    # no build warning (setuptools deprecated `license = { text = ... }`, for one)
    assert not re.findall(r"\w+Warning: .*", install.stdout + install.stderr)
    tool = venv / "bin" / "memory-lifecycle"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    version = run(tool, "--version", cwd=elsewhere)
    where = run(
        venv / "bin" / "python", "-c", "import lifecycle; print(lifecycle.__file__)", cwd=elsewhere
    )
    project = tmp_path / "their-project"
    project.mkdir()
    init = run(tool, "init", cwd=project)

    assert version.stdout == f"memory-lifecycle {lifecycle.__version__}\n", version.stderr
    assert where.stdout.startswith(str(venv)), where.stdout  # the installed copy, not REPO
    assert init.returncode == 0, init.stderr
    policies = project / ".claude" / "memory-retention-policies.yaml"
    assert policies.read_text() == (REPO / ".claude" / "memory-retention-policies.yaml").read_text()
    servers = json.loads((project / ".mcp.json").read_text())["mcpServers"]
    assert servers["memory-lifecycle"]["command"] == "memory-lifecycle"
    assert (project / ".claude" / "settings.json").exists()
    assert_the_dashboard_is_shipped(tool, tmp_path)


def assert_the_dashboard_is_shipped(tool: Path, tmp_path: Path) -> None:
    """The page, script and stylesheet are package data: the installed ``ui`` serves them."""
    port = free_port()
    proc = subprocess.Popen(
        [str(tool), "--memory-dir", str(tmp_path / "memory"), "ui", "--port", str(port)],
        cwd=tmp_path,
        env=clean_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_for_port(port, proc)
        with httpx2.Client(timeout=30) as http:
            served = {
                name: http.get(f"http://127.0.0.1:{port}/ui/{path}")
                for name, path in (
                    ("index.html", ""),
                    ("app.js", "static/app.js"),
                    ("style.css", "static/style.css"),
                )
            }
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        assert proc.stderr is not None
        proc.stderr.close()
    for name, response in served.items():
        assert response.status_code == 200, name
        assert response.content == (REPO / "server" / "ui" / "static" / name).read_bytes()
