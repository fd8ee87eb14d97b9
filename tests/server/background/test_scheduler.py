"""Background maintenance: runs on its interval, survives a failed run, and runs once at a
time across processes sharing a store (the maintenance turn)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import pytest

from lifecycle import ConfigurationError, MemoryLifecycleManager
from lifecycle.maintenance import TURN_NAME, MaintenanceRun, run_maintenance
from server.background.scheduler import (
    DEFAULT_INTERVAL_SECONDS,
    ENV_INTERVAL,
    MaintenanceScheduler,
    resolve_interval,
)

pytestmark = pytest.mark.anyio

WAIT = 10.0  # bound on every wait; the intervals below are 0.05 s


def expired_entries(manager: MemoryLifecycleManager, n: int) -> None:
    """``n`` coordination entries written two hours ago: expired (1 h TTL), not yet deleted."""
    past = time.time() - 7200
    for i in range(n):
        manager.store(f"coordination/old{i}", i, timestamp=past)


async def wait_until(predicate: Callable[[], bool]) -> None:
    with anyio.fail_after(WAIT):
        while not predicate():
            await anyio.sleep(0.01)


@pytest.fixture
def manager(tmp_path: Path) -> Any:
    with MemoryLifecycleManager(tmp_path / "memory") as m:
        yield m


async def test_maintenance_runs_on_its_interval_and_deletes_expired_entries(
    manager: MemoryLifecycleManager,
) -> None:
    expired_entries(manager, 3)
    scheduler = MaintenanceScheduler(manager, 0.05)
    scheduler.start()
    try:
        await wait_until(lambda: scheduler.completed >= 2)
    finally:
        await scheduler.stop()
    assert manager.get_stats()["total_entries"] == 0
    assert scheduler.failures == 0
    assert scheduler.running is False


async def test_a_failed_run_is_logged_and_the_next_run_still_happens(
    manager: MemoryLifecycleManager, caplog: pytest.LogCaptureFixture
) -> None:
    calls: list[int] = []

    def flaky(m: MemoryLifecycleManager, holder: str, **kw: Any) -> MaintenanceRun:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("disk on fire")
        return run_maintenance(m, holder, **kw)

    expired_entries(manager, 1)
    scheduler = MaintenanceScheduler(manager, 0.05, run=flaky)
    scheduler.start()
    try:
        await wait_until(lambda: scheduler.completed >= 1)
    finally:
        await scheduler.stop()
    assert scheduler.failures == 1
    assert manager.get_stats()["total_entries"] == 0
    assert "maintenance run failed" in caplog.text
    assert "disk on fire" in caplog.text


async def test_an_engine_error_in_a_run_is_logged_as_one_line(
    manager: MemoryLifecycleManager, caplog: pytest.LogCaptureFixture
) -> None:
    scheduler = MaintenanceScheduler(manager, 0)
    manager.close()  # the store refuses: a StoreError, which is a LifecycleError
    with caplog.at_level(logging.ERROR):
        assert await scheduler.run_once() is None
    assert scheduler.failures == 1
    assert "maintenance run failed: store" in caplog.text
    assert "Traceback" not in caplog.text


async def test_the_maintenance_turn_lets_one_process_run_maintenance_at_a_time(
    tmp_path: Path,
) -> None:
    with (
        MemoryLifecycleManager(tmp_path / "memory") as first,
        MemoryLifecycleManager(tmp_path / "memory") as second,
    ):
        expired_entries(first, 2)
        ours = MaintenanceScheduler(first, 0, holder="server-a")
        # another server's run is in progress: it has the maintenance turn in the shared store
        assert second.backend.take_turn(TURN_NAME, "server-b", time.time(), 60)
        blocked = await ours.run_once()
        second.backend.end_turn(TURN_NAME, "server-b")
        after = await ours.run_once()
        assert first.get_stats()["total_entries"] == 0
    assert blocked is not None and blocked.ran is False
    assert ours.skipped == 1
    assert after is not None and after.ran is True
    assert after.report is not None and after.report["deleted_count"] == 2


async def test_a_run_releases_the_lease_so_another_server_can_run_next(tmp_path: Path) -> None:
    with (
        MemoryLifecycleManager(tmp_path / "memory") as first,
        MemoryLifecycleManager(tmp_path / "memory") as second,
    ):
        a = MaintenanceScheduler(first, 0, holder="server-a")
        b = MaintenanceScheduler(second, 0, holder="server-b")
        runs = [await a.run_once(), await b.run_once(), await a.run_once()]
    assert [r.ran for r in runs if r is not None] == [True, True, True]


async def test_concurrent_runs_in_two_servers_never_overlap(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inside = 0
    overlapped = False

    def slowed(cleanup: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
        def sweep(force: bool = False) -> dict[str, Any]:
            nonlocal inside, overlapped
            inside += 1
            overlapped = overlapped or inside > 1
            time.sleep(0.05)  # a sweep that takes a while, so the other server's would overlap
            inside -= 1
            return cleanup(force=force)

        return sweep

    with (
        MemoryLifecycleManager(tmp_path / "memory") as first,
        MemoryLifecycleManager(tmp_path / "memory") as second,
    ):
        for m in (first, second):
            monkeypatch.setattr(m, "cleanup", slowed(m.cleanup))
        a = MaintenanceScheduler(first, 0, holder="server-a")
        b = MaintenanceScheduler(second, 0, holder="server-b")
        with anyio.fail_after(WAIT):
            async with anyio.create_task_group() as tg:
                for _ in range(3):
                    tg.start_soon(a.run_once)
                    tg.start_soon(b.run_once)
    assert overlapped is False
    assert a.completed + b.completed >= 1
    assert a.skipped + b.skipped >= 1  # the real turn in run_maintenance turned them away


async def test_stop_waits_for_a_run_in_progress(manager: MemoryLifecycleManager) -> None:
    finished: list[bool] = []

    def slow(m: MemoryLifecycleManager, holder: str, **kw: Any) -> MaintenanceRun:
        time.sleep(0.2)
        finished.append(True)
        return MaintenanceRun(True, {}, holder)

    scheduler = MaintenanceScheduler(manager, 0, run=slow)
    with anyio.fail_after(WAIT):
        async with anyio.create_task_group() as tg:
            tg.start_soon(scheduler.run_once)
            await wait_until(lambda: scheduler.attempts == 1)
            await anyio.sleep(0.05)
            idle = await scheduler.stop(timeout=5)
            assert finished == [True]  # stop returned only after the run finished
    assert idle is True


def test_interval_comes_from_the_flag_then_the_environment_then_the_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert resolve_interval(None) == DEFAULT_INTERVAL_SECONDS == 300
    monkeypatch.setenv(ENV_INTERVAL, "12.5")
    assert resolve_interval(None) == 12.5
    assert resolve_interval(2) == 2.0
    assert resolve_interval(0) == 0.0  # disables maintenance
    monkeypatch.setenv(ENV_INTERVAL, "soon")
    with pytest.raises(ConfigurationError, match=ENV_INTERVAL):
        resolve_interval(None)
    with pytest.raises(ConfigurationError, match="maintenance interval"):
        resolve_interval(-1)


async def test_a_zero_interval_schedules_nothing(manager: MemoryLifecycleManager) -> None:
    scheduler = MaintenanceScheduler(manager, 0)
    scheduler.start()
    assert scheduler.running is False
    await scheduler.stop()
