"""The per-exchange reference: a bare aiohttp app that parses the JSON body and answers 200.

``/v1/batch`` takes a batch, ``/v1/identify`` one identify per request (the single-request
reference), and nothing else happens: no contracts, journal, store or onward exchange.

``python benchmarks/bare_server.py`` prints ``listening on http://127.0.0.1:PORT`` and serves
until SIGINT/SIGTERM.
"""

from __future__ import annotations

import asyncio
import json
import signal

import uvloop
from aiohttp import web


async def batch(request: web.Request) -> web.Response:
    json.loads(await request.read())
    return web.json_response({"success": True})


async def identify(request: web.Request) -> web.Response:
    json.loads(await request.read())
    return web.json_response({"success": True})


async def health(_request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def serve() -> None:
    app = web.Application(client_max_size=4 * 1024 * 1024)
    app.router.add_post("/v1/batch", batch)
    app.router.add_post("/v1/identify", identify)
    app.router.add_get("/_emulator/health", health)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    print(f"listening on http://{host}:{port}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    await runner.cleanup()


if __name__ == "__main__":
    # The loop serve runs on (emulator/commands/event_loop.py), so the baseline is like with like.
    uvloop.run(serve())
