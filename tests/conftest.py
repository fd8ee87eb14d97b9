"""Shared fixtures: real SQLite files in a temp dir, a manual clock, a clean environment;
and how a parallel run (pytest-xdist) hands out the tests (tests/support/parallel.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

from lifecycle import ManualClock, MemoryLifecycleManager
from tests.support import parallel
from tests.support.env import ENV_VARS, HUB_OFFLINE
from tests.support.ports import release_ports

# No hypothesis deadline anywhere: a per-example time limit is a timed unit test, and on
# the shared 2-core machine a first example that opens a store can take 0.4 s of wall time.
settings.register_profile("no-deadline", deadline=None)
settings.load_profile("no-deadline")


@pytest.hookimpl(optionalhook=True)  # a hook of pytest-xdist, absent without it
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    return parallel.make_scheduler(config, log)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    parallel.slow_first(config, items)


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test runs in its own project directory with no inherited configuration."""
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    for name, value in HUB_OFFLINE.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub-cache"))  # no model cached
    project = tmp_path / "project"
    project.mkdir()
    (project / ".git").mkdir()  # marks the project root for path resolution
    monkeypatch.chdir(project)


@pytest.fixture(autouse=True)
def _ports() -> Iterator[None]:
    """The ports ``free_port()`` held for a test are given back after it."""
    yield
    release_ports()


@pytest.fixture
def anyio_backend() -> str:
    """APScheduler 3.11 needs asyncio; tests marked ``@pytest.mark.anyio`` run on it."""
    return "asyncio"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return tmp_path / "project"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(1_800_000_000.0)


@pytest.fixture
def make_manager(
    tmp_path: Path, clock: ManualClock
) -> Iterator[Callable[..., MemoryLifecycleManager]]:
    """Build managers on real store files; ``policies`` is YAML text for a policy file."""
    opened: list[MemoryLifecycleManager] = []

    def make(
        name: str = "store",
        policies: str | None = None,
        *,
        shared_clock: bool = True,
        **kwargs: object,
    ) -> MemoryLifecycleManager:
        policy_file = None
        if policies is not None:
            policy_file = tmp_path / f"{name}-policies.yaml"
            policy_file.write_text(policies)
        kwargs.setdefault("clock", clock if shared_clock else ManualClock(clock.time))
        manager = MemoryLifecycleManager(
            memory_dir=tmp_path / name, policy_file=policy_file, **kwargs
        )
        opened.append(manager)
        return manager

    yield make
    for manager in opened:
        manager.close()
