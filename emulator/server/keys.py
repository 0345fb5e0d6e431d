"""Typed application state keys."""

from __future__ import annotations

from aiohttp import web

from emulator.server.runtime import Runtime

__all__ = ["RUNTIME"]

RUNTIME = web.AppKey("runtime", Runtime)
