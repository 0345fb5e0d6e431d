"""Waiting for the journal to move on, without polling.

Every change to a trace ends with :meth:`Journal.changed`; a :class:`JournalWatch` listens
there and wakes whoever waits for a condition over the journal (the pipeline idle, traces
settled, an affiliate or a rejection seen), which then checks its condition again.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from emulator.journal.traces import Journal, Trace

__all__ = ["JournalWatch"]


class JournalWatch:
    """Wakes waiters on each journal change, and on :meth:`poke` for changes made elsewhere."""

    def __init__(self, journal: Journal) -> None:
        self._waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()
        journal.listeners.append(self._changed)

    def poke(self) -> None:
        """Wake every waiter: something they may wait for changed outside the journal."""
        for loop, event in list(self._waiters):
            try:
                running = asyncio.get_running_loop()
            except RuntimeError:
                running = None
            if running is loop:
                event.set()
            else:
                # A change reported from another thread wakes the waiter on its own loop.
                loop.call_soon_threadsafe(event.set)

    async def until(
        self, done: Callable[[], bool], timeout: float, *, recheck: float | None = None
    ) -> bool:
        """Wait until ``done()`` holds; ``False`` if it still does not after ``timeout``.

        ``recheck`` also wakes the waiter every that many seconds, for a condition that can
        turn true without any journal change (a direct call to the fake Refersion).
        """
        if done():
            return True
        waiter = (asyncio.get_running_loop(), asyncio.Event())
        self._waiters.add(waiter)
        event = waiter[1]
        try:
            async with asyncio.timeout(timeout):
                while not done():
                    if recheck is None:
                        await event.wait()
                    else:
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(event.wait(), recheck)
                    event.clear()
        except TimeoutError:
            return done()
        finally:
            self._waiters.discard(waiter)
        return True

    def _changed(self, _trace: Trace) -> None:
        if self._waiters:
            self.poke()
