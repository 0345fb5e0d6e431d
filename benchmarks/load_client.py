"""A load client in its own process: posts request bodies with fixed concurrency.

``python benchmarks/load_client.py URL BODIES.jsonl CONCURRENCY`` posts every line of the
file once and prints ``{"requests": n, "seconds": s, "statuses": {...}}`` as JSON.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections import Counter

import aiohttp


async def post_all(url: str, bodies: list[bytes], concurrency: int) -> dict[str, object]:
    statuses: Counter[int] = Counter()
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)
    headers = {"Content-Type": "application/json"}

    async def worker(session: aiohttp.ClientSession) -> None:
        while not queue.empty():
            body = queue.get_nowait()
            async with session.post(url, data=body, headers=headers) as resp:
                await resp.read()
                statuses[resp.status] += 1

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        started = time.perf_counter()
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
        seconds = time.perf_counter() - started
    return {"requests": len(bodies), "seconds": seconds, "statuses": dict(statuses)}


def main() -> None:
    url, path, concurrency = sys.argv[1], sys.argv[2], int(sys.argv[3])
    with open(path, "rb") as handle:
        bodies = [line.rstrip(b"\n") for line in handle if line.strip()]
    print(json.dumps(asyncio.run(post_all(url, bodies, concurrency))), flush=True)


if __name__ == "__main__":
    main()
