"""Take the README's inspector screenshot: ``python -m tests.make_inspector_screenshot [PATH]``.

Starts an emulator on a free port, sends a small realistic mix of events, opens the trace of
the one that breaks a contract, and saves a laptop-sized PNG (default ``docs/inspector.png``).
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import aiohttp

from emulator.server.emulator import Emulator
from tests.browser import chromium
from tests.support import ROOT, fast_config

_TRACKING = [
    {
        "type": "identify",
        "userId": "97980cfea0067",
        "traits": {
            "name": "Peter Gibbons",
            "email": "peter@example.com",
            "address": {"city": "San Francisco", "postalCode": 94103, "country": "USA"},
        },
    },
    {
        "type": "identify",
        "userId": "u-samir",
        "traits": {"name": "Samir Nagheenanajar", "email": "samir@example.com"},
    },
    {"type": "track", "userId": "97980cfea0067", "event": "Order Completed"},
    {
        "type": "identify",
        "userId": "u-joanna",
        "traits": {"firstName": "Joanna", "lastName": "Smith", "email": "not-an-email"},
    },
    {
        "type": "identify",
        "userId": "u-milton",
        "traits": {"name": "Milton Waddams", "email": "milton@example.com", "phone": 5551234},
    },
]
_DELIVERED: list[dict[str, Any]] = [
    {
        "type": "identify",
        "userId": 4242,
        "messageId": "ajs-next-4242",
        "traits": {"name": "Bill Lumbergh", "email": "bill@example.com"},
    },
    {"type": "delete", "userId": "u-samir", "messageId": "delete-u-samir"},
]


async def main(path: Path) -> None:
    emulator = Emulator(fast_config())
    async with emulator, aiohttp.ClientSession() as http, chromium() as browser:
        page = await browser.new_page()
        await page.goto(f"{emulator.url}/_emulator/ui")
        await page.wait_for_selector("#live.on")
        body = {"writeKey": "test", "batch": _TRACKING}
        async with http.post(f"{emulator.url}/v1/batch", json=body) as response:
            response.raise_for_status()
        async with http.post(f"{emulator.url}/_emulator/flush") as response:
            response.raise_for_status()
        async with http.post(f"{emulator.url}/_emulator/deliver", json=_DELIVERED) as r:
            r.raise_for_status()
            broken = (await r.json())["events"][0]["id"]
        await page.wait_for_selector(f"tr.event-row[data-id={broken}]")
        await page.click(f"tr.event-row[data-id={broken}]")
        await page.wait_for_selector("mark.violation-hl")
        path.parent.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(path))


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "inspector.png"))
