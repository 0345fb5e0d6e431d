"""Python API of the Engage simulator: define audiences, push snapshots through a running emulator.

async with Emulator(config) as emu:
    engage = EngageSimulator(emu.runtime)
    engage.define({"name": "VIP Users", "includeTraits": ["first_name", "last_name"]})
    run = await engage.sync("vip_users", [{"userId": "u1", "email": "a@example.com",
                                           "traits": {"first_name": "Ada", "last_name": "Lo"}}])
    run.outcomes()   # ["created"]
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from emulator.clock import Clock
from emulator.config import EmulatorConfig
from emulator.journal.traces import Journal, Trace
from emulator.segment.engage.input import Computation
from emulator.segment.engage.space import EngageSpace, SyncResult

__all__ = ["EngageHost", "EngageSimulator", "SyncRun"]


class _Settling(Protocol):
    async def wait_settled(self, traces: list[Trace], timeout: float) -> bool: ...


class EngageHost(Protocol):
    """What the simulator needs from a running emulator (the server's runtime provides it)."""

    @property
    def config(self) -> EmulatorConfig: ...

    @property
    def clock(self) -> Clock: ...

    @property
    def journal(self) -> Journal: ...

    @property
    def engage(self) -> EngageSpace: ...

    @property
    def pipeline(self) -> _Settling: ...

    async def accept_all(self, traces: Iterable[Trace], *, chunk: int = 100) -> None: ...


@dataclass(frozen=True, slots=True)
class SyncRun:
    """One sync and the journal trace of every identify it sent, in order."""

    result: SyncResult
    traces: tuple[Trace, ...]

    def outcomes(self) -> list[str]:
        return [trace.outcome for trace in self.traces]

    def to_dict(self, *, full: bool = True) -> dict[str, Any]:
        events = [t.to_dict() if full else t.summary_dict() for t in self.traces]
        return {"sync": self.result.to_dict(), "events": events}


class EngageSimulator:
    """Engage's side of audience and computed-trait syncs, bound to one emulator's runtime."""

    def __init__(self, runtime: EngageHost) -> None:
        self._runtime = runtime

    def define(self, definition: Any) -> Computation:
        """Add an audience (default) or computed trait; raises on a bad or duplicate definition."""
        return self._runtime.engage.define(definition, now=self._runtime.clock.now())

    async def send(self, key: str, members: Any, *, at: datetime | None = None) -> SyncRun:
        """Compute the sync of snapshot ``members`` and queue its identifies; do not wait."""
        runtime = self._runtime
        result = runtime.engage.sync(key, members, at=at.timestamp() if at else None)
        traces = []
        for item in result.sent:
            change = item.change.change
            trace = runtime.journal.new_trace("engage", item.message)
            trace.add_hop(
                "engage",
                f"{result.kind} sync {result.number} of {result.computation.computation_class} "
                f"{key}: {change}",
                ok=True,
                detail={"sync": result.number, "kind": result.kind, "change": change},
            )
            traces.append(trace)
        await runtime.accept_all(traces)
        return SyncRun(result, tuple(traces))

    async def sync(
        self, key: str, members: Any, *, at: datetime | None = None, timeout: float | None = None
    ) -> SyncRun:
        """:meth:`send`, then wait until every identify is delivered, refused or retrying."""
        run = await self.send(key, members, at=at)
        config = self._runtime.config
        if timeout is None:
            timeout = config.delivery_timeout + config.refersion_timeout + 1
        await self._runtime.pipeline.wait_settled(list(run.traces), timeout)
        return run
