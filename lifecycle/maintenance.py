"""Background maintenance, shared by the MCP server, the daemon and the hooks.

Several servers (one per agent) may share a store; a run takes the store's
maintenance turn (a row in the store, named ``maintenance``) so that one run
happens at a time instead of one per server. A turn expires on its own, so a
holder that crashed never blocks the others for longer than ``turn_seconds``.
(The store keeps turns in its ``leases`` table, under ``Store.take_turn``:
they are not the locks of ``lifecycle.coordination.locks``.) Each run also gives
freed space back to the filesystem (``Store.compact``), which is why only one
process should do it.
"""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lifecycle.basics.lazy_logging import get_logger
from lifecycle.errors import ConfigurationError, LifecycleError
from lifecycle.store.base import Store

if TYPE_CHECKING:
    from lifecycle.manager import MemoryLifecycleManager

ENV_INTERVAL = "MEMORY_LIFECYCLE_MAINTENANCE_SECONDS"
DEFAULT_INTERVAL_SECONDS = 300.0
TURN_NAME = "maintenance"  # the stored row name: existing stores keep it
DEFAULT_TURN_SECONDS = 300.0

log = get_logger("memory_lifecycle.maintenance")


def holder_id(kind: str = "process") -> str:
    return f"{kind}:{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass
class MaintenanceRun:
    ran: bool  # false when another process has the maintenance turn
    report: dict[str, Any] | None = None
    holder: str | None = None


def run_maintenance(
    manager: MemoryLifecycleManager,
    holder: str,
    *,
    force: bool = False,
    turn_seconds: float = DEFAULT_TURN_SECONDS,
) -> MaintenanceRun:
    """One collection pass, in the store's maintenance turn."""
    store = manager.backend
    if not store.take_turn(TURN_NAME, holder, manager.clock.now(), turn_seconds):
        log.info("maintenance skipped: another process has the maintenance turn")
        return MaintenanceRun(False, None, holder)
    try:
        report = manager.cleanup(force=force)
        _compact(store)
    finally:
        store.end_turn(TURN_NAME, holder)
    log.info(
        "maintenance: deleted %d expired entries in %.1f ms %s",
        report["deleted_count"],
        report["duration_ms"],
        report["by_namespace"],
    )
    return MaintenanceRun(True, report, holder)


def _compact(store: Store) -> None:
    """Give freed space back; a failure (a full disk for the one-time VACUUM) is logged
    and tried again by the next run, because the cleanup itself has succeeded."""
    try:
        store.compact()
    except LifecycleError as exc:
        log.warning("maintenance: space not given back: %s", exc)


def resolve_interval(interval: float | None) -> float:
    """The maintenance interval: the flag, else the environment, else 300 s; 0 disables it."""
    if interval is None:
        raw = os.environ.get(ENV_INTERVAL)
        if not raw:
            return DEFAULT_INTERVAL_SECONDS
        try:
            interval = float(raw)
        except ValueError:
            raise ConfigurationError(
                f"invalid {ENV_INTERVAL}={raw[:40]!r}: use a number of seconds "
                "(0 disables maintenance)"
            ) from None
    if not interval >= 0 or interval == float("inf"):
        raise ConfigurationError(
            f"invalid maintenance interval {interval!r}: use a finite number of seconds >= 0 "
            "(0 disables maintenance)"
        )
    return float(interval)
