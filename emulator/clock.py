"""Time as the emulator sees it, injectable so a four-hour retry budget runs in milliseconds."""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from typing import Protocol

__all__ = ["Clock", "ManualClock", "SystemClock"]

# 2025-01-01T00:00:00Z: a manual clock starts at a plausible date, so timestamps derived from
# it (receivedAt, dedupe windows) look like real ones.
_DEFAULT_START = 1_735_689_600.0


class Clock(Protocol):
    """Seconds since the epoch, and a way to wait."""

    def now(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """Real time."""

    def now(self) -> float:
        return time.time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class ManualClock:
    """Time that moves only when told to: :meth:`advance` wakes every sleeper that is due.

    Tests drive a retry schedule with it: wait until the emulator is parked in
    :meth:`sleep` (:attr:`sleeping`), then :meth:`advance_to_next` to the earliest wake-up.
    """

    def __init__(self, start: float = _DEFAULT_START) -> None:
        self._now = start
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    def now(self) -> float:
        return self._now

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        waker: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self._now + seconds, next(self._order), waker))
        await waker

    @property
    def sleeping(self) -> int:
        """How many sleeps are waiting for time to move."""
        return sum(1 for _, _, waker in self._sleepers if not waker.done())

    @property
    def next_wakeup(self) -> float | None:
        """When the earliest waiting sleep ends, or ``None`` if nothing sleeps."""
        self._discard_done()
        return self._sleepers[0][0] if self._sleepers else None

    def advance(self, seconds: float) -> None:
        """Move time forward and wake every sleep that is now due, earliest first."""
        if seconds < 0:
            raise ValueError(f"a clock cannot go back; got {seconds} seconds")
        self._now += seconds
        while self._sleepers and self._sleepers[0][0] <= self._now:
            _, _, waker = heapq.heappop(self._sleepers)
            if not waker.done():
                waker.set_result(None)

    def advance_to_next(self) -> float:
        """Jump to the earliest wake-up (waking it); returns the seconds moved, 0 if none."""
        wakeup = self.next_wakeup
        if wakeup is None:
            return 0.0
        moved = max(0.0, wakeup - self._now)
        self.advance(moved)
        return moved

    def _discard_done(self) -> None:
        # A cancelled sleep (e.g. a retry timer cancelled by reset) leaves a done future behind.
        while self._sleepers and self._sleepers[0][2].done():
            heapq.heappop(self._sleepers)
