"""The dashboard app in process, on a real store of each backend, behind the same
request checks as a served one (``server.serving.protect``)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import httpx2
import pytest

from lifecycle import ManualClock, MemoryLifecycleManager
from server.serving import protect
from server.ui.app import DASHBOARD_PATH, standalone_app
from tests.support.store import (  # noqa: F401  (fixtures register under their pytest names)
    backend_fixture,
    store_url_factory_fixture,
    store_url_fixture,
)

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
