"""The dashboard's test helpers: the app in process on a real store of each backend
(fixtures ``open_dashboard`` and ``dashboard``; import them with ``store_url_fixture`` and
``store_url_factory_fixture``), a seeded swarm memory, the ``ui`` command as a
subprocess, and Chromium driven by Playwright (skipped, saying why, where either is
missing). ``docs/screenshot.py`` uses the same seed for the README's picture."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import httpx2
import pytest

from lifecycle import ManualClock, MemoryLifecycleManager
from server.http.runner import protect
from server.ui.dashboard import DASHBOARD_PATH, standalone_app
from tests.support.env import PYTHON, REPO, child_env
from tests.support.server import wait_for_port

CHROMIUM = os.environ.get("MEMORY_LIFECYCLE_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
HOUR = 3600.0


# ---------------------------------------------------------------- the app in process

POLICIES = """
namespaces:
  - {namespace: "tmp/*", ttl_seconds: 600, cleanup_strategy: lazy, conflict_strategy: lww}
  - {namespace: "job/*", ttl_seconds: 3600, cleanup_strategy: scheduled, conflict_strategy: lww}
  - {namespace: "keep/*", ttl_seconds: 60, cleanup_strategy: manual, conflict_strategy: lww}
  - {namespace: "mv/*", ttl_seconds: 0, cleanup_strategy: manual, conflict_strategy: multi_value}
  - namespace: "big/*"
    ttl_seconds: 0
    cleanup_strategy: manual
    conflict_strategy: lww
    compression_threshold_bytes: 64
"""
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


@dataclass
class Dashboard:
    """An HTTP client of the dashboard and a manager of its own on the same store."""

    http: httpx2.AsyncClient
    m: MemoryLifecycleManager
    clock: ManualClock

    async def get(self, path: str, **params: Any) -> httpx2.Response:
        return await self.http.get(f"{DASHBOARD_PATH}/{path}", params=params)


DashboardFactory = Callable[..., Any]


@pytest.fixture(name="open_dashboard")
def open_dashboard_fixture(store_url: str, clock: ManualClock, tmp_path: Path) -> DashboardFactory:
    """``async with open_dashboard(token=None) as d:`` the app served in process."""
    policy_file = tmp_path / "policies.yaml"
    policy_file.write_text(POLICIES)
    opener = partial(MemoryLifecycleManager, policy_file=policy_file, store=store_url, clock=clock)

    @asynccontextmanager
    async def open_(token: str | None = None) -> AsyncIterator[Dashboard]:
        app = standalone_app(opener)
        served = protect(app, token, LOOPBACK, browser_paths=(DASHBOARD_PATH,))
        transport = httpx2.ASGITransport(app=served)
        with opener() as own:
            async with (
                app.router.lifespan_context(app),
                httpx2.AsyncClient(transport=transport, base_url="http://127.0.0.1:8787") as http,
            ):
                yield Dashboard(http, own, clock)

    return open_


@pytest.fixture(name="dashboard")
async def dashboard_fixture(open_dashboard: DashboardFactory) -> AsyncIterator[Dashboard]:
    async with open_dashboard() as opened:
        yield opened


# ---------------------------------------------------------------- a seeded swarm


def seed(m: MemoryLifecycleManager) -> None:
    """A small swarm at work: statuses, sessions, a shared plan two agents disagree on, a
    large (compressed) design note, a counter, one expired entry awaiting collection, and
    a lock. Built-in policies; times relative to the manager's clock."""
    now = m.clock.now()
    for n, (state, task) in enumerate(
        [("working", "refactor the auth module"), ("reviewing", "PR #214"), ("idle", None)], 1
    ):
        m.store(
            f"coordination/agent-{n}/status",
            {"state": state, "task": task},
            agent_id=f"agent-{n}",
            ttl_seconds=HOUR * n / 2,
            tags=["status"],
        )
    for hours, name in ((2, "context"), (5, "scratch"), (9, "summary")):
        m.store(
            f"session/sess-42/{name}",
            {"notes": f"{name} of session 42", "turns": hours * 7},
            ttl_seconds=HOUR * hours,
        )
    m.store(
        "swarm/shared/plan",
        {"next": "split the auth module", "owner": "agent-1"},
        agent_id="planner",
        tags=["plan"],
    )
    m.store(
        "swarm/shared/plan",
        {"next": "write the migration first", "owner": "agent-2"},
        agent_id="reviewer",
        tags=["plan"],
    )
    m.store("swarm/shared/release", {"version": "2.4.0", "status": "frozen"}, ttl_seconds=14 * HOUR)
    m.store(
        "swarm/agent/state/agent-1",
        {"files": ["auth/session.py", "auth/tokens.py"], "progress": 0.6},
        ttl_seconds=20 * HOUR,
    )
    design = {
        "title": "Authentication design",
        "decisions": [
            {"id": n, "text": f"decision {n}: tokens rotate every {n} hours, sessions are pinned"}
            for n in range(1, 40)
        ],
    }
    m.store("knowledge/architecture/auth", design, tags=["auth", "design"])
    m.store(
        "knowledge/decisions/database",
        {"choice": "PostgreSQL for several hosts", "why": "per-key locks"},
        tags=["design"],
    )
    m.store("metrics/tasks_done", 12, agent_id="agent-1")
    m.store("metrics/tasks_done", 5, agent_id="agent-2")
    m.store(  # written 2 h ago with a 1 h TTL: expired, waiting for collection
        "swarm/shared/stale-heartbeat",
        {"agent": "agent-3"},
        timestamp=now - 2 * HOUR,
        ttl_seconds=HOUR,
    )
    m.lock("deploy/production", owner="agent-2", ttl_seconds=600)


# ---------------------------------------------------------------- the ui command


@contextmanager
def ui_server(
    memory_dir: Path,
    port: int,
    *ui_args: str,
    policy_file: Path | None = None,
    cwd: Path = REPO,
    **env: str,
) -> Iterator[subprocess.Popen[bytes]]:
    """``memory-lifecycle ui`` as a subprocess, once it accepts connections."""
    policies = [] if policy_file is None else ["--policy-file", str(policy_file)]
    args = [PYTHON, "-m", "server", "--memory-dir", str(memory_dir), *policies, "ui"]
    args += ["--port", str(port)]
    proc = subprocess.Popen(
        [*args, *ui_args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=child_env(**env),
        cwd=cwd,
    )
    try:
        wait_for_port(port, proc)
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


# ---------------------------------------------------------------- the browser


def browser_missing() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed (pip install -e '.[dev]')"
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        return f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    return None


@contextmanager
def chromium(profile: Path) -> Iterator[Any]:
    """A headless Chromium (Debian's) with a fresh profile: a Playwright browser context."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1360, "height": 1000},
        )
        try:
            yield context
        finally:
            context.close()


def wait_until(condition: Any, timeout: float = 10.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not met within {timeout} s")
        time.sleep(0.05)
