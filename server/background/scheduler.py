"""Background maintenance while the server runs.

An APScheduler 3.11 ``AsyncIOScheduler`` on the server's event loop fires a
job every ``interval_seconds``; the job runs ``lifecycle.maintenance.
run_maintenance`` in a worker thread (the engine is blocking), so tool calls
keep flowing during a sweep. A run that fails is logged and the next one still
runs. When several servers share one store, the maintenance turn taken in
``run_maintenance`` lets one of them sweep at a time; the others skip.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

import anyio

from lifecycle import LifecycleError, MemoryLifecycleManager
from lifecycle.maintenance import (
    DEFAULT_INTERVAL_SECONDS,
    DEFAULT_TURN_SECONDS,
    ENV_INTERVAL,
    MaintenanceRun,
    holder_id,
    resolve_interval,
    run_maintenance,
)

__all__ = [
    "DEFAULT_INTERVAL_SECONDS",
    "ENV_INTERVAL",
    "MaintenanceScheduler",
    "resolve_interval",
]

if TYPE_CHECKING:
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

log = logging.getLogger("memory_lifecycle.server.maintenance")

RunFn = Callable[..., MaintenanceRun]


class MaintenanceScheduler:
    """Repeats maintenance on an interval; counts what happened so tests and stats can see it."""

    def __init__(
        self,
        manager: MemoryLifecycleManager,
        interval_seconds: float,
        *,
        run: RunFn = run_maintenance,
        holder: str | None = None,
        turn_seconds: float = DEFAULT_TURN_SECONDS,
    ) -> None:
        self.manager = manager
        self.interval_seconds = interval_seconds
        self.holder = holder or holder_id("server")
        self.turn_seconds = turn_seconds
        self._run = run
        self._scheduler: AsyncIOScheduler | None = None
        self._busy = threading.Lock()  # held by the worker thread while a run is in progress
        self._stopping = False
        self.attempts = 0
        self.completed = 0  # runs that swept the store
        self.skipped = 0  # runs that found another process in its maintenance turn
        self.failures = 0
        self.last_run: MaintenanceRun | None = None

    @property
    def running(self) -> bool:
        return self._scheduler is not None and self._scheduler.running

    def start(self) -> None:
        """Schedule runs on the current event loop (call from async code); 0 s = no runs."""
        if self.running:
            return
        if self.interval_seconds <= 0:
            log.info("background maintenance off (interval 0)")
            return
        # imported here, not at the top: APScheduler costs a server ~20 ms of CPU, which
        # the lifespan spends after the first answer (server.background.first_answer)
        from apscheduler.schedulers.asyncio import AsyncIOScheduler
        from apscheduler.triggers.interval import IntervalTrigger

        scheduler = AsyncIOScheduler(event_loop=asyncio.get_running_loop())
        scheduler.add_job(
            self.run_once,
            IntervalTrigger(seconds=self.interval_seconds),
            id="memory-maintenance",
            name="memory-lifecycle maintenance",
            max_instances=1,  # a slow sweep delays the next one instead of overlapping it
            coalesce=True,
            misfire_grace_time=None,
        )
        scheduler.start()
        self._scheduler = scheduler
        log.info("maintenance every %g s (holder %s)", self.interval_seconds, self.holder)

    async def run_once(self) -> MaintenanceRun | None:
        """One maintenance pass off the event loop; a failure is logged, never raised."""
        self.attempts += 1
        try:
            result = await anyio.to_thread.run_sync(self._run_blocking)
        except LifecycleError as exc:
            self.failures += 1
            log.error("maintenance run failed: %s; the next run still happens", exc)
            return None
        except Exception:
            self.failures += 1
            log.exception("maintenance run failed; the next run still happens")
            return None
        self.last_run = result
        if result.ran:
            self.completed += 1
        else:
            self.skipped += 1
        return result

    def _run_blocking(self) -> MaintenanceRun:
        with self._busy:
            if self._stopping:  # started just before stop(): the store is about to close
                return MaintenanceRun(False, None, self.holder)
            return self._run(self.manager, self.holder, turn_seconds=self.turn_seconds)

    async def stop(self, timeout: float = 1.0) -> bool:
        """Stop scheduling and wait (bounded, shielded) for a run in progress to finish.

        Returns whether no run was left in progress, so the caller may close the store.
        """
        self._stopping = True
        if self._scheduler is not None:
            if self._scheduler.running:
                self._scheduler.shutdown(wait=False)
            self._scheduler = None
        with anyio.CancelScope(shield=True):
            idle = await anyio.to_thread.run_sync(self._busy.acquire, True, timeout)
        if idle:
            self._busy.release()
        else:
            log.warning("a maintenance run was still in progress after %g s", timeout)
        return idle
