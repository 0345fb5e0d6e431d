"""What the Segment side's HTTP surfaces need from the emulator that serves them.

The server's runtime provides it; declaring it here keeps the Segment side from importing the
server that assembles it (the dependency points from the server to the concept, never back).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from aiohttp import web

from emulator.clock import Clock
from emulator.config import EmulatorConfig
from emulator.contract_checks.contract_set import ContractSet
from emulator.journal.traces import Journal, Trace
from emulator.segment.engage.space import EngageSpace
from emulator.segment.http.delivery_pipeline import DeliveryPipeline
from emulator.segment.regulations.book import RegulationBook
from emulator.segment.regulations.suppression import SuppressionList

__all__ = ["SEGMENT_HOST", "SegmentHost"]


class SegmentHost(Protocol):
    """The Tracking API, regulations and Engage surfaces' view of the running emulator."""

    @property
    def config(self) -> EmulatorConfig: ...

    @property
    def clock(self) -> Clock: ...

    @property
    def journal(self) -> Journal: ...

    @property
    def contracts(self) -> ContractSet: ...

    @property
    def pipeline(self) -> DeliveryPipeline: ...

    @property
    def engage(self) -> EngageSpace: ...

    @property
    def regulations(self) -> RegulationBook: ...

    @property
    def suppressions(self) -> SuppressionList: ...

    def accept(self, trace: Trace, *, dedupe: bool = True, enqueue: bool = True) -> bool: ...

    async def accept_all(self, traces: Iterable[Trace], *, chunk: int = 100) -> None: ...

    def suppress(self, trace: Trace) -> bool: ...

    async def persist(self, traces: Iterable[Trace]) -> None: ...

    async def keep(self, traces: list[Trace], to_deliver: list[Trace]) -> None: ...


SEGMENT_HOST = web.AppKey("segment_host", SegmentHost)
