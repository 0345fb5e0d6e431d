"""The event loop the long-running commands (``serve``, ``check``) run on: uvloop where it is.

uvloop runs the same asyncio programs with its transports, timers and polling in C: on the
emulator's hot path (four loopback HTTP exchanges per delivered event) the loop and socket
work is a sixth of the time with asyncio's own loop (BENCHMARKS.md). Nothing in the emulator
depends on which loop runs it; where uvloop is not installed (Windows has no wheel),
asyncio's own loop runs the same code.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

__all__ = ["run"]

T = TypeVar("T")


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def run(main: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(main)``, on uvloop when it is installed."""
    with asyncio.Runner(loop_factory=_loop_factory()) as runner:
        return runner.run(main)
