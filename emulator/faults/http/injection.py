"""Carries out fault decisions on the fake Refersion API and the destination receiver.

An aiohttp middleware: for a request to ``/refersion/v2/<endpoint>`` or ``/destination`` it
asks the runtime's :class:`~emulator.faults.rules.FaultInjector` what to do, waits the drawn
latency (real time: the callers' timeouts are real), then answers with the fault, drops the
connection, or lets the request through.
"""

from __future__ import annotations

import asyncio
import socket
import struct
import time
from collections.abc import Awaitable, Callable

from aiohttp import web

from emulator.fake_refersion.http.api import BASE_PATH
from emulator.faults.http.keys import FAULT_INJECTOR
from emulator.faults.rules import FaultAction, FaultKind, fault_response

__all__ = ["fault_middleware"]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_REFERSION_PREFIX = BASE_PATH + "/"
# How often a held request checks whether its client has given up.
_HOLD_POLL = 0.02


@web.middleware
async def fault_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    injector = request.app[FAULT_INJECTOR]
    if not len(injector):
        return await handler(request)
    path = request.path
    if path.startswith(_REFERSION_PREFIX):
        surface, endpoint = "refersion", path[len(_REFERSION_PREFIX) :].strip("/")
    elif path == "/destination":
        surface, endpoint = "destination", ""
    else:
        return await handler(request)
    action = injector.decide(surface, endpoint)
    if action is None:
        return await handler(request)
    if action.delay:
        await asyncio.sleep(action.delay)
    kind = action.effect.kind
    if kind is FaultKind.LATENCY:
        return await handler(request)
    if kind is FaultKind.TIMEOUT:
        await _hold(request, action.effect.hold)
        return _drop(request, reset=False)
    if kind is FaultKind.RESET:
        return _drop(request, reset=True)
    return await _answer(request, surface, action)


async def _answer(request: web.Request, surface: str, action: FaultAction) -> web.StreamResponse:
    answer = fault_response(surface, action)
    if answer.declared_length is None:
        return web.Response(status=answer.status, body=answer.body, headers=answer.headers)
    # Truncated: promise the whole body, send part of it, then close the connection.
    response = web.StreamResponse(status=answer.status, headers=answer.headers)
    response.content_length = answer.declared_length
    await response.prepare(request)
    await response.write(answer.body)
    _abort(request, reset=False)
    return response


async def _hold(request: web.Request, seconds: float) -> None:
    """Answer nothing until ``seconds`` pass or the client hangs up, whichever is first."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        transport = request.transport
        if transport is None or transport.is_closing():
            return
        await asyncio.sleep(min(_HOLD_POLL, max(0.0, deadline - time.monotonic())))


def _drop(request: web.Request, *, reset: bool) -> web.StreamResponse:
    _abort(request, reset=reset)
    # aiohttp needs a response object; it cannot be sent on a closed connection.
    return web.Response(status=499)


def _abort(request: web.Request, *, reset: bool) -> None:
    transport = request.transport
    if transport is None:
        return
    sock = transport.get_extra_info("socket")
    if reset and sock is not None:
        # Linger 0: close() sends RST instead of FIN, which the client sees as ECONNRESET.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()
