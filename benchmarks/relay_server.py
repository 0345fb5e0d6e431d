"""The relay ceiling: the emulator's HTTP exchanges per event, in one process, and no other work.

``python benchmarks/relay_server.py`` prints ``listening on http://127.0.0.1:PORT`` and serves
until SIGINT/SIGTERM. Per event it does what the emulator's design requires over real HTTP and
nothing else: ``/v1/batch`` parses the batch, answers 200 and queues each event (a bounded
queue, as the emulator's delivery backlog); eight workers (the emulator's default) POST each
event to ``/destination``, which POSTs it to ``/refersion/v2/affiliate/new``, which parses it
and answers; each answer is relayed back. No contracts, journal, store or mapping.
``/_emulator/health`` reports ``affiliates`` (answers relayed back) and ``pending``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import uvloop
from aiohttp import web

WORKERS = 8
BACKLOG = 2_000

QUEUE = web.AppKey("queue", asyncio.Queue)
STATE = web.AppKey("state", dict)
SESSION = web.AppKey("session", aiohttp.ClientSession)


async def batch(request: web.Request) -> web.Response:
    body = json.loads(await request.read())
    queue = request.app[QUEUE]
    for event in body["batch"]:
        await queue.put(event)
    return web.json_response({"success": True})


async def destination(request: web.Request) -> web.Response:
    message = json.loads(await request.read())
    session = request.app[SESSION]
    url = f"{request.app[STATE]['base']}/refersion/v2/affiliate/new"
    async with session.post(url, data=json.dumps(message).encode()) as resp:
        answer = json.loads(await resp.read())
    return web.json_response(answer, status=resp.status)


async def refersion(request: web.Request) -> web.Response:
    json.loads(await request.read())
    request.app[STATE]["refersion_calls"] += 1
    return web.json_response({"id": "1", "message": "created"})


async def health(request: web.Request) -> web.Response:
    state = request.app[STATE]
    return web.json_response(
        {
            "status": "ok",
            "affiliates": state["done"],
            "refersionCalls": state["refersion_calls"],
            "pending": request.app[QUEUE].qsize(),
        }
    )


async def deliver(app: web.Application) -> None:
    queue, state, session = app[QUEUE], app[STATE], app[SESSION]
    headers = {"Content-Type": "application/json"}
    while True:
        event: Any = await queue.get()
        url = f"{state['base']}/destination"
        async with session.post(url, data=json.dumps(event).encode(), headers=headers) as resp:
            json.loads(await resp.read())
        state["done"] += 1
        queue.task_done()


@contextlib.asynccontextmanager
async def running() -> AsyncIterator[tuple[str, dict[str, Any]]]:
    """The relay listening on loopback: its URL and its state (``done`` counts events)."""
    app = web.Application(client_max_size=4 * 1024 * 1024)
    app[QUEUE] = asyncio.Queue(BACKLOG)
    app[STATE] = {"done": 0, "refersion_calls": 0, "base": ""}
    app[SESSION] = aiohttp.ClientSession()
    app.router.add_post("/v1/batch", batch)
    app.router.add_post("/destination", destination)
    app.router.add_post("/refersion/v2/affiliate/new", refersion)
    app.router.add_get("/_emulator/health", health)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    app[STATE]["base"] = f"http://{host}:{port}"
    workers = [asyncio.create_task(deliver(app)) for _ in range(WORKERS)]
    try:
        yield app[STATE]["base"], app[STATE]
    finally:
        for worker in workers:
            worker.cancel()
        await runner.cleanup()
        await app[SESSION].close()


async def serve() -> None:
    async with running() as (url, _state):
        print(f"listening on {url}", flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await stop.wait()


if __name__ == "__main__":
    # The loop serve runs on (emulator/commands/event_loop.py), so the baseline is like with like.
    uvloop.run(serve())
