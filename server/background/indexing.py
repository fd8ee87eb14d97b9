"""Background indexing for search by meaning while the server runs.

A loop in the lifespan's task group wakes every ``interval_seconds`` and, in a
worker thread (the engine is blocking; the event loop keeps serving), looks at
the store's revision: when something was written since its last look, or its
last run left entries pending, it embeds up to ``batch`` pending entries and
brings the in-memory copy of the vectors up to date, so the next query finds
nothing left to read. Each wake-up is bounded (one batch), so shutdown waits
for at most one batch.

When several servers share one store, the indexer's turn (a row in the store,
named ``semantic-indexer``) lets one of them embed at a time (the others only
refresh their copies); nothing here runs when search by meaning is off (no extra,
no model): ``stats`` says why.
"""

from __future__ import annotations

import logging
import os

import anyio

from lifecycle import LifecycleError, MemoryLifecycleManager
from lifecycle.maintenance import holder_id

log = logging.getLogger("memory_lifecycle.server.indexing")

ENV_INTERVAL = "MEMORY_LIFECYCLE_INDEX_SECONDS"
DEFAULT_INTERVAL_SECONDS = 2.0
BATCH = 64  # about half a second of embedding on 2 cores: what shutdown may wait for
MAX_BACKOFF_SECONDS = 60.0
TURN_NAME = "semantic-indexer"  # the stored row name: existing stores keep it
TURN_SECONDS = 120.0


class BackgroundIndexer:
    """Embeds new and changed entries in batches; counts what it did (tests, logs)."""

    def __init__(
        self,
        manager: MemoryLifecycleManager,
        interval_seconds: float | None = None,
        *,
        batch: int = BATCH,
        holder: str | None = None,
    ) -> None:
        self.manager = manager
        self.interval_seconds = _interval(interval_seconds)
        self.batch = batch
        self.holder = holder or holder_id("indexer")
        self.embedded = 0
        self.failures = 0
        self._seen_revision = -1
        self._more = True
        self._off_logged = False

    async def run(self, *, pause_first: bool = False) -> None:
        """Run until cancelled (the lifespan cancels it on shutdown); with ``pause_first``
        the first look comes one interval from now."""
        if self.interval_seconds <= 0:
            return
        if pause_first:
            await anyio.sleep(self.interval_seconds)
        failed_in_a_row = 0
        while True:
            try:
                await anyio.to_thread.run_sync(self.run_once)
                failed_in_a_row = 0
            except LifecycleError as exc:
                failed_in_a_row += 1
                self.failures += 1
                log.error("background indexing failed: %s; the next run still happens", exc)
            except Exception:
                failed_in_a_row += 1
                self.failures += 1
                log.exception("background indexing failed; the next run still happens")
            # a store that keeps failing (read-only, unreachable) is retried less and less often
            pause = self.interval_seconds * 2 ** min(failed_in_a_row, 6)
            await anyio.sleep(min(pause, max(self.interval_seconds, MAX_BACKOFF_SECONDS)))

    def run_once(self) -> int:
        """One bounded step: how many vectors it saved."""
        from lifecycle.search.semantic.engine import SemanticUnavailableError

        semantic = self.manager.semantic  # made (imported) on first use
        why = semantic.cannot_try()
        if why is not None:
            if not self._off_logged:
                log.info("search by meaning is off, no background indexing: %s", why)
                self._off_logged = True
            return 0
        store = self.manager.backend
        revision = store.current_revision()
        if revision == self._seen_revision and not self._more:
            semantic.refresh()  # vectors saved by another server
            return 0
        now = self.manager.clock.now()
        if not store.take_turn(TURN_NAME, self.holder, now, TURN_SECONDS):
            semantic.refresh()
            return 0
        try:
            saved = semantic.index_step(self.batch)
        except SemanticUnavailableError as exc:  # e.g. the default model cannot be fetched
            log.warning("no background indexing: %s", exc)
            self._off_logged = True
            return 0
        self._seen_revision = revision
        self._more = saved >= self.batch
        self.embedded += saved
        if saved:
            log.info("embedded %d entries for search by meaning", saved)
        return saved


def _interval(given: float | None) -> float:
    if given is not None:
        return given
    raw = os.environ.get(ENV_INTERVAL, "").strip()
    try:
        return float(raw) if raw else DEFAULT_INTERVAL_SECONDS
    except ValueError:
        log.warning("%s=%r is not a number of seconds; using %g", ENV_INTERVAL, raw, 2.0)
        return DEFAULT_INTERVAL_SECONDS
