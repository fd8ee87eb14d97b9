"""The maintenance daemon behind ``memory-lifecycle daemon``.

It replaces the seed's ``scripts/scheduled_memory_cleanup.py``: one
maintenance pass (``--once``, for cron) or a pass on a schedule (every N hours,
or daily at HH:MM, 02:00 by default). One daemon per store: a turn row named
``daemon`` in the store itself is the lock, so it works the same for SQLite
and PostgreSQL and across hosts; the daemon renews it while it runs and
releases it on SIGTERM/SIGINT. A daemon that crashed stops blocking others
once its turn runs out (``LOCK_SECONDS``).

Each pass itself runs in the store's ``maintenance`` turn
(``lifecycle.maintenance``), so it never overlaps the MCP servers' own
background maintenance.
"""

from __future__ import annotations

import logging
import signal
import threading
from dataclasses import dataclass
from types import FrameType
from typing import Any

from lifecycle import MemoryLifecycleManager
from lifecycle.errors import LifecycleError
from lifecycle.maintenance import MaintenanceRun, holder_id, run_maintenance

LOCK_NAME = "daemon"
LOCK_SECONDS = 60.0
RENEW_SECONDS = 15.0
MISFIRE_GRACE_SECONDS = 3600  # a machine that slept through 02:00 still runs the pass

log = logging.getLogger("memory_lifecycle.daemon")


class DaemonLockError(LifecycleError):
    """Another daemon holds this store's daemon lock."""


@dataclass(frozen=True)
class Schedule:
    """Every ``interval_hours``, or daily at ``at`` (hour, minute) local time."""

    interval_hours: float | None = None
    at: tuple[int, int] = (2, 0)

    def trigger(self) -> Any:
        if self.interval_hours is not None:
            from apscheduler.triggers.interval import IntervalTrigger

            return IntervalTrigger(seconds=self.interval_hours * 3600)
        from apscheduler.triggers.cron import CronTrigger

        return CronTrigger(hour=self.at[0], minute=self.at[1])

    def describe(self) -> str:
        if self.interval_hours is not None:
            return f"every {self.interval_hours:g} h"
        return f"daily at {self.at[0]:02d}:{self.at[1]:02d}"


def parse_at(text: str) -> tuple[int, int]:
    """'HH:MM' (24 h) as (hour, minute); ValueError says what is wrong."""
    hour_text, sep, minute_text = text.partition(":")
    if sep and hour_text.isdigit() and minute_text.isdigit() and len(minute_text) == 2:
        hour, minute = int(hour_text), int(minute_text)
        if hour < 24 and minute < 60:
            return hour, minute
    raise ValueError(f"invalid time {text!r}: use HH:MM in 24-hour form, e.g. 02:00")


def run_once(manager: MemoryLifecycleManager, force: bool = False) -> MaintenanceRun:
    """One maintenance pass (what cron runs: ``daemon --once``)."""
    return run_maintenance(manager, holder_id("daemon-once"), force=force)


class Daemon:
    """Runs maintenance on a schedule until SIGTERM/SIGINT, holding the store's daemon lock."""

    def __init__(
        self,
        manager: MemoryLifecycleManager,
        schedule: Schedule,
        *,
        lock_seconds: float = LOCK_SECONDS,
        renew_seconds: float = RENEW_SECONDS,
    ) -> None:
        self.manager = manager
        self.schedule = schedule
        self.lock_seconds = lock_seconds
        self.renew_seconds = renew_seconds
        self.holder = holder_id("daemon")
        self._stop = threading.Event()
        self._signal: int | None = None

    def run(self) -> int:
        """Serve until stopped; 0 after a signal, 1 if the lock was lost."""
        self._acquire_lock()
        previous = self._install_signals()
        scheduler = None
        try:
            scheduler = self._start_scheduler()
            return self._hold_lock()
        finally:
            if scheduler is not None:
                scheduler.shutdown(wait=True)  # lets a running pass finish its transaction
            self._release_lock()
            for signum, handler in previous.items():
                signal.signal(signum, handler)
            reason = signal.Signals(self._signal).name if self._signal else "lock lost"
            log.info("memory-lifecycle daemon stopped (%s); lock released", reason)

    def stop(self) -> None:
        self._stop.set()

    # ------------------------------------------------------------ internals

    def _acquire_lock(self) -> None:
        store = self.manager.backend
        if not store.take_turn(LOCK_NAME, self.holder, self.manager.clock.now(), self.lock_seconds):
            raise DaemonLockError(
                f"another memory-lifecycle daemon is already running on store {store.url}; "
                f"stop it first (the lock of a daemon that crashed expires within "
                f"{self.lock_seconds:g} s)",
                path=store.url,
            )

    def _release_lock(self) -> None:
        try:
            self.manager.backend.end_turn(LOCK_NAME, self.holder)
        except LifecycleError as exc:
            log.warning("could not release the daemon lock: %s (it expires on its own)", exc)

    def _hold_lock(self) -> int:
        """Renew the lock until a signal arrives; waking on the event stops at once."""
        while not self._stop.wait(self.renew_seconds):
            try:
                renewed = self.manager.backend.take_turn(
                    LOCK_NAME, self.holder, self.manager.clock.now(), self.lock_seconds
                )
            except LifecycleError as exc:
                log.warning("could not renew the daemon lock: %s; retrying", exc)
                continue
            if not renewed:
                log.error("lost the daemon lock to another daemon; stopping this one")
                return 1
        return 0

    def _install_signals(self) -> dict[int, Any]:
        def on_signal(signum: int, frame: FrameType | None) -> None:
            self._signal = signum
            self._stop.set()

        previous: dict[int, Any] = {}
        for signum in (signal.SIGTERM, signal.SIGINT):
            previous[signum] = signal.signal(signum, on_signal)
        return previous

    def _start_scheduler(self) -> Any:
        from apscheduler.schedulers.background import BackgroundScheduler

        scheduler = BackgroundScheduler()
        job = scheduler.add_job(
            self._maintain,
            self.schedule.trigger(),
            id="maintenance",
            max_instances=1,
            coalesce=True,
            misfire_grace_time=MISFIRE_GRACE_SECONDS,
        )
        scheduler.start()
        log.info(
            "memory-lifecycle daemon started (store %s, %s, next run %s)",
            self.manager.store_url,
            self.schedule.describe(),
            job.next_run_time.isoformat(timespec="minutes") if job.next_run_time else "none",
        )
        return scheduler

    def _maintain(self) -> None:
        """One scheduled pass; a failed pass is logged and the schedule carries on."""
        try:
            run_maintenance(self.manager, self.holder)
        except LifecycleError as exc:
            log.error("maintenance failed: %s; retrying at the next run", exc)
