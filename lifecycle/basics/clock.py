"""Clocks: a hybrid logical clock for production, a manual one for tests.

Write timestamps must never go backwards, or a later local write could lose
to an earlier one under last-write-wins when the wall clock is stepped back.
The hybrid logical clock follows the wall clock while it moves forward and
otherwise advances by a microsecond per stamp. It also observes timestamps it
reads from the store (bounded, so one far-future timestamp cannot drag it
along forever), so a local overwrite always orders after what it replaced.
"""

from __future__ import annotations

import _thread  # threading's Lock without importing threading (~3M instructions a hook)
import math
import time
from collections.abc import Callable

from lifecycle.basics.typing_lite import Protocol

RESOLUTION = 1e-6
MAX_OBSERVED_DRIFT = 300.0


class Clock(Protocol):
    def now(self) -> float:
        """The current time, for expiry checks (does not stamp)."""

    def stamp(self) -> float:
        """A write timestamp, strictly greater than every earlier stamp."""

    def stamp_many(self, n: int) -> list[float]:
        """``n`` write timestamps, as ``n`` calls of ``stamp`` at one instant give them."""

    def observe(self, timestamp: float) -> None:
        """Learn a timestamp seen in the store."""


class HybridLogicalClock:
    def __init__(self, wall: Callable[[], float] = time.time) -> None:
        self._wall = wall
        self._last = 0.0
        self._lock = _thread.allocate_lock()  # what threading.Lock is

    def now(self) -> float:
        return self._wall()

    def stamp(self) -> float:
        wall = self._wall()
        with self._lock:
            # nextafter: past ~9e9 s a microsecond is below float spacing and would not move
            nxt = max(wall, self._last + RESOLUTION, math.nextafter(self._last, math.inf))
            self._last = nxt
            return nxt

    def stamp_many(self, n: int) -> list[float]:
        """``n`` stamps under one acquisition of the lock, from one reading of the wall
        clock: exactly what ``n`` calls of ``stamp`` return while the wall reads the same
        (a batch's writes, stamped as of one instant; the lock and the call were ~4k
        instructions a write of a bulk load). Monotonic with every other stamp: the lock
        is held from the first to the last."""
        wall = self._wall()
        out: list[float] = []
        append = out.append
        with self._lock:
            last = self._last
            for _ in range(n):
                nxt = last + RESOLUTION
                if nxt == last:  # (past ~9e9 s: ``stamp``'s nextafter is the larger)
                    nxt = math.nextafter(last, math.inf)
                last = wall if wall > nxt else nxt  # (``stamp``'s max, in the same order)
                append(last)
            self._last = last
        return out

    def observe(self, timestamp: float) -> None:
        if timestamp > self._wall() + MAX_OBSERVED_DRIFT:
            return
        with self._lock:
            if timestamp > self._last:
                self._last = timestamp


class ManualClock(HybridLogicalClock):
    """A clock that moves only when told to: tests never wait for a TTL."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.time = float(start)
        super().__init__(wall=lambda: self.time)

    def tick(self, seconds: float) -> float:
        self.time += seconds
        return self.time

    def set(self, timestamp: float) -> None:
        self.time = float(timestamp)
