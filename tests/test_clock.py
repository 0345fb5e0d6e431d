"""The manual clock: time moves only when a test says so, and sleepers wake in order."""

from __future__ import annotations

import asyncio

import pytest

from emulator.clock import ManualClock


async def test_sleepers_wake_when_their_time_comes_earliest_first() -> None:
    clock = ManualClock(start=100.0)
    woke: list[tuple[str, float]] = []

    async def sleeper(name: str, seconds: float) -> None:
        await clock.sleep(seconds)
        woke.append((name, clock.now()))

    tasks = [asyncio.create_task(sleeper(n, s)) for n, s in (("late", 30), ("early", 10))]
    await asyncio.sleep(0)
    assert (clock.sleeping, clock.next_wakeup) == (2, 110.0)
    clock.advance(5)
    await asyncio.sleep(0)
    assert woke == []
    assert clock.advance_to_next() == 5
    await asyncio.sleep(0)
    assert woke == [("early", 110.0)]
    clock.advance(3600)
    await asyncio.gather(*tasks)
    assert woke == [("early", 110.0), ("late", 3710.0)]
    assert clock.sleeping == 0
    assert clock.advance_to_next() == 0


async def test_a_cancelled_sleep_is_forgotten() -> None:
    clock = ManualClock()
    task = asyncio.create_task(clock.sleep(10))
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert clock.sleeping == 0
    assert clock.next_wakeup is None


def test_time_never_goes_back() -> None:
    with pytest.raises(ValueError, match="cannot go back"):
        ManualClock().advance(-1)
