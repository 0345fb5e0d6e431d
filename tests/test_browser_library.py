"""Segment's published browser library, on a page of another origin, in a real Chromium.

The page is the copy-paste page of docs/web-frontend.md, served with the library from
``clients/browser/node_modules`` (installed by ``make`` from its lock file) by a small server on
another port than the emulator's: another origin. Only the emulator's address and the write
key are filled in.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web
from playwright.async_api import BrowserContext, Page

from emulator.server.emulator import Emulator

from .browser import chromium, chromium_missing
from .conftest import ROOT, fast_config

_missing = chromium_missing()
if _missing is not None and os.environ.get("INSPECTOR_BROWSER_REQUIRED") == "1":
    raise RuntimeError(f"browser tests are required here, but {_missing}")

pytestmark = [
    pytest.mark.skipif(_missing is not None, reason=_missing or ""),
    pytest.mark.asyncio(loop_scope="module"),
]

CLIENT = ROOT / "clients" / "browser"
LIBRARY = CLIENT / "node_modules" / "@segment" / "analytics-next"
DOC = ROOT / "docs" / "web-frontend.md"
WRITE_KEY = "browser-write-key"
PAGE_EMULATOR_LINE = 'const EMULATOR = "http://localhost:8765";'
PAGE_WRITE_KEY_LINE = 'const WRITE_KEY = "YOUR_WRITE_KEY";'
PAGE_LOAD_LINE = (
    # One line of the page, split here only for the line length.
    "const analytics = AnalyticsNext.AnalyticsBrowser.load("
    "{ writeKey: WRITE_KEY, cdnURL: EMULATOR });"
)


def fenced(language: str) -> list[str]:
    """Every ```language block of the doc, in order."""
    pattern = rf"^```{language}\n(.*?)^```$"
    return re.findall(pattern, DOC.read_text(encoding="utf-8"), flags=re.DOTALL | re.MULTILINE)


def doc_page(emulator_url: str, *, inline: bool) -> str:
    """The doc's page with this emulator's address; ``inline``: the doc's inline-settings load."""
    (page,) = fenced("html")
    for line in (PAGE_EMULATOR_LINE, PAGE_WRITE_KEY_LINE, PAGE_LOAD_LINE):
        assert page.count(line) == 1, f"the page in {DOC.name} no longer has {line!r}"
    page = page.replace(PAGE_EMULATOR_LINE, f"const EMULATOR = {json.dumps(emulator_url)};")
    page = page.replace(PAGE_WRITE_KEY_LINE, f"const WRITE_KEY = {json.dumps(WRITE_KEY)};")
    if inline:
        (load,) = [block for block in fenced("js") if "cdnSettings" in block]
        page = page.replace(PAGE_LOAD_LINE, load.strip().replace("\n", "\n  "))
    return page


def library_installed() -> None:
    if not (LIBRARY / "package.json").is_file():
        pytest.fail("@segment/analytics-next is not installed: run `make pytest` (npm ci)")


class PageServer:
    """Serves one page and the installed packages from 127.0.0.1 on its own port."""

    def __init__(self) -> None:
        self.html = ""
        self.url = ""
        app = web.Application()
        app.router.add_get("/signup.html", self._page)
        app.router.add_get("/favicon.ico", self._no_icon)
        app.router.add_static("/node_modules", CLIENT / "node_modules")
        self._runner = web.AppRunner(app)

    async def _page(self, _: web.Request) -> web.Response:
        return web.Response(text=self.html, content_type="text/html")

    async def _no_icon(self, _: web.Request) -> web.Response:
        return web.Response(status=204)

    async def start(self) -> None:
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        await self._runner.cleanup()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser() -> AsyncIterator[BrowserContext]:
    library_installed()
    async with chromium() as context:
        yield context


@pytest_asyncio.fixture(loop_scope="module")
async def emu() -> AsyncIterator[Emulator]:
    async with Emulator(fast_config()) as emulator:
        yield emulator
        assert emulator.app_errors == [], "the server hit unhandled exceptions"


@pytest_asyncio.fixture(loop_scope="module")
async def pages() -> AsyncIterator[PageServer]:
    server = PageServer()
    await server.start()
    yield server
    await server.stop()


@pytest_asyncio.fixture(loop_scope="module")
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


Opener = Callable[[str], Awaitable[Page]]


@pytest_asyncio.fixture(loop_scope="module")
async def open_page(browser: BrowserContext, pages: PageServer) -> AsyncIterator[Opener]:
    """Open ``html`` from the page server; the test fails if the page threw."""
    opened: list[Page] = []
    errors: list[str] = []

    async def open_(html: str) -> Page:
        pages.html = html
        page = await browser.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on(
            "console",
            lambda message: errors.append(message.text) if message.type == "error" else None,
        )
        page.on(
            "response",
            lambda answer: (
                errors.append(f"{answer.status} {answer.url}") if answer.status >= 400 else None
            ),
        )
        opened.append(page)
        await page.goto(f"{pages.url}/signup.html")
        return page

    yield open_
    for page in opened:
        await page.close()
    assert errors == [], "the page threw or logged errors"


async def control(http: aiohttp.ClientSession, emu: Emulator, path: str) -> Any:
    async with http.get(f"{emu.url}/_emulator/{path}") as response:
        assert response.status == 200, await response.text()
        return await response.json()


async def wait_for_events(
    http: aiohttp.ClientSession, emu: Emulator, count: int
) -> list[dict[str, Any]]:
    """The journal once ``count`` events have an outcome other than pending (at most 10 s)."""
    for _ in range(200):
        async with http.post(f"{emu.url}/_emulator/flush") as response:
            assert response.status == 200, await response.text()
        events: list[dict[str, Any]] = (await control(http, emu, "events?full=1"))["events"]
        if len(events) >= count and all(e["outcome"] != "pending" for e in events):
            return events
        await asyncio.sleep(0.05)
    raise AssertionError(f"expected {count} settled events, the journal has {events}")


async def sign_up(page: Page, name: str, email: str) -> str:
    """Fill and send the doc page's form; the status line the page shows afterwards."""
    await page.fill("input[name=name]", name)
    await page.fill("input[name=email]", email)
    await page.click("button")
    status = page.locator("#status")
    await status.filter(has_text=re.compile(r"\S")).wait_for(timeout=10_000)
    return await status.inner_text()


# -- the library, both ways of configuring it ------------------------------------------------


@pytest.mark.parametrize("inline", [False, True], ids=["cdnURL-only", "settings-inline"])
async def test_an_identify_from_the_page_becomes_an_affiliate(
    inline: bool,
    emu: Emulator,
    pages: PageServer,
    open_page: Opener,
    http: aiohttp.ClientSession,
) -> None:
    # Another port of the same host: another origin, the same site.
    assert pages.url.split(":")[:2] == emu.url.split(":")[:2]
    assert pages.url != emu.url
    page = await open_page(doc_page(emu.url, inline=inline))

    status = await sign_up(page, "Wanda Web", "wanda@example.com")

    assert status.startswith("sent identify "), status
    (event,) = await wait_for_events(http, emu, 1)
    assert (event["type"], event["outcome"]) == ("identify", "created")
    message = event["message"]
    assert message["userId"] == "user-wanda@example.com"
    assert message["context"]["library"]["name"] == "analytics.js"
    assert message["context"]["page"]["url"] == f"{pages.url}/signup.html"
    assert "accepted by POST /v1/i" in [hop["summary"] for hop in event["hops"]]
    (affiliate,) = (await control(http, emu, "affiliates"))["affiliates"]
    assert {k: affiliate[k] for k in ("first_name", "last_name", "email")} == {
        "first_name": "Wanda",
        "last_name": "Web",
        "email": "wanda@example.com",
    }


async def test_track_and_page_from_the_page_are_filtered(
    emu: Emulator, open_page: Opener, http: aiohttp.ClientSession
) -> None:
    page = await open_page(doc_page(emu.url, inline=False))

    sent = await page.evaluate(
        """async () => {
            const track = await analytics.track("Order Completed", { revenue: 42 });
            const view = await analytics.page("Pricing");
            return [track, view].map((ctx) => ctx.failedDelivery() ?? "sent");
        }"""
    )

    assert sent == ["sent", "sent"]
    events = await wait_for_events(http, emu, 2)
    outcomes = sorted((e["type"], e["outcome"], e["reason"]) for e in events)
    assert outcomes == [
        ("page", "filtered", "unsupported_type"),
        ("track", "filtered", "unsupported_type"),
    ]
    assert (await control(http, emu, "affiliates"))["affiliates"] == []
