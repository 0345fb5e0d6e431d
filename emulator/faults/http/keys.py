"""Where the fault surfaces find the running emulator's fault injector."""

from __future__ import annotations

from aiohttp import web

from emulator.faults.rules import FaultInjector

__all__ = ["FAULT_INJECTOR"]

FAULT_INJECTOR = web.AppKey("fault_injector", FaultInjector)
