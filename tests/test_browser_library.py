"""Segment's published browser library, on a page of another origin, in a real Chromium.

The page is the copy-paste page of docs/web-frontend.md (see tests/web_frontend_doc.py),
served with the library from ``clients/browser/node_modules`` (installed by ``make`` from its
lock file) by a small server on another port than the emulator's: another origin. Only the
emulator's address and the write key are filled in.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web
from playwright.async_api import BrowserContext, ConsoleMessage, Page, Response, Route

from emulator.server.emulator import Emulator
from tests.browser import browser_test_marks, chromium
from tests.support import ROOT, fast_config

from .web_frontend_doc import WRITE_KEY, doc_page, doc_snippet_lines

pytestmark = browser_test_marks()

CLIENT = ROOT / "clients" / "browser"
LIBRARY = CLIENT / "node_modules" / "@segment" / "analytics-next"


def snippet(write_key: str) -> str:
    """Segment's snippet as ``@segment/snippet`` renders it, without its load and page calls."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not on PATH; rendering Segment's snippet needs Node.js")
    options = {"host": "cdn.segment.com", "apiKey": write_key, "page": False, "load": False}
    rendered = subprocess.run(
        [
            node,
            "-e",
            f"process.stdout.write(require('@segment/snippet').max({json.dumps(options)}))",
        ],
        cwd=CLIENT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return rendered.stdout


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
async def page_server() -> AsyncIterator[PageServer]:
    server = PageServer()
    await server.start()
    yield server
    await server.stop()


@pytest_asyncio.fixture(loop_scope="module")
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


class Pages:
    """Opens pages from the page server and collects what went wrong in them."""

    def __init__(self, browser: BrowserContext, server: PageServer) -> None:
        self.browser = browser
        self.server = server
        self.opened: list[Page] = []
        # Uncaught errors, console errors (CORS blocks included) and answers of 400 or more.
        self.problems: list[str] = []

    async def open(self, html: str) -> Page:
        self.server.html = html
        page = await self.browser.new_page()
        page.on("pageerror", lambda error: self.problems.append(str(error)))
        page.on("console", self._console)
        page.on("response", self._response)
        self.opened.append(page)
        await page.goto(f"{self.server.url}/signup.html")
        return page

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.problems.append(message.text)

    def _response(self, answer: Response) -> None:
        if answer.status >= 400:
            self.problems.append(f"{answer.status} {answer.request.method} {answer.url}")


@pytest_asyncio.fixture(loop_scope="module")
async def pages(browser: BrowserContext, page_server: PageServer) -> AsyncIterator[Pages]:
    """Pages of another origin; the test fails if one threw or logged an error it did not expect."""
    opened = Pages(browser, page_server)
    yield opened
    for page in opened.opened:
        await page.close()
    assert opened.problems == [], "the page threw, logged errors or got error answers"


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
    seen = [(e["type"], e["messageId"], e["outcome"]) for e in events]
    raise AssertionError(f"expected {count} settled events, the journal has {seen}")


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
    inline: bool, emu: Emulator, pages: Pages, http: aiohttp.ClientSession
) -> None:
    # Another port of the same host: another origin, the same site.
    assert pages.server.url.split(":")[:2] == emu.url.split(":")[:2]
    assert pages.server.url != emu.url
    page = await pages.open(doc_page(emu.url, inline=inline))

    status = await sign_up(page, "Wanda Web", "wanda@example.com")

    assert status.startswith("sent identify "), status
    (event,) = await wait_for_events(http, emu, 1)
    assert (event["type"], event["outcome"]) == ("identify", "created")
    message = event["message"]
    assert message["userId"] == "user-wanda@example.com"
    assert message["context"]["library"]["name"] == "analytics.js"
    # The library sends no channel; ingest stamps the browser-channel default.
    assert message["channel"] == "client"
    assert ("browser-channel", "client") in [(n["id"], n["variant"]) for n in event["assumptions"]]
    assert message["context"]["page"]["url"] == f"{pages.server.url}/signup.html"
    assert "accepted by POST /v1/i" in [hop["summary"] for hop in event["hops"]]
    (affiliate,) = (await control(http, emu, "affiliates"))["affiliates"]
    assert {k: affiliate[k] for k in ("first_name", "last_name", "email")} == {
        "first_name": "Wanda",
        "last_name": "Web",
        "email": "wanda@example.com",
    }


async def test_track_and_page_from_the_page_are_filtered(
    emu: Emulator, pages: Pages, http: aiohttp.ClientSession
) -> None:
    page = await pages.open(doc_page(emu.url, inline=False))

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
        ("page", "filtered", "UNSUPPORTED_EVENT_TYPE"),
        ("track", "filtered", "UNSUPPORTED_EVENT_TYPE"),
    ]
    assert (await control(http, emu, "affiliates"))["affiliates"] == []


async def test_the_batching_strategy_posts_to_the_short_batch_path(
    emu: Emulator, pages: Pages, http: aiohttp.ClientSession
) -> None:
    """analytics-next's ``batching`` delivery strategy sends one request to ``/v1/b``."""
    page = await pages.open(doc_page(emu.url, inline=False))
    sent = await page.evaluate(
        """async ([emulator, writeKey]) => {
            const [batching] = await AnalyticsNext.AnalyticsBrowser.load(
                { writeKey, cdnURL: emulator },
                {
                    disableClientPersistence: true,
                    integrations: {
                        "Segment.io": {
                            deliveryStrategy: { strategy: "batching", config: { size: 2 } },
                        },
                    },
                },
            );
            const calls = await Promise.all([
                batching.identify("batch-1", { name: "Bo Batch", email: "bo@example.com" }),
                batching.track("Signed Up"),
            ]);
            return calls.map((ctx) => ctx.failedDelivery() ?? "sent");
        }""",
        [emu.url, WRITE_KEY],
    )

    assert sent == ["sent", "sent"]
    events = await wait_for_events(http, emu, 2)
    assert {e["hops"][0]["summary"] for e in events} == {"accepted by POST /v1/b"}
    assert sorted((e["type"], e["outcome"]) for e in events) == [
        ("identify", "created"),
        ("track", "filtered"),
    ]
    (affiliate,) = (await control(http, emu, "affiliates"))["affiliates"]
    assert affiliate["email"] == "bo@example.com"


async def test_the_snippet_with_only_cdn_set_sends_to_the_emulator(
    emu: Emulator, pages: Pages, http: aiohttp.ClientSession
) -> None:
    """Segment's snippet loads the library from Segment's CDN: here the package's standalone
    build stands in for it. The doc's one added line (``analytics._cdn``) does the rest."""
    loading = doc_snippet_lines(emu.url)
    html = (
        '<!doctype html><html lang="en"><meta charset="utf-8"><title>snippet</title>'
        f"<script>{snippet(WRITE_KEY)}\n{loading}</script></html>"
    )
    standalone = LIBRARY / "dist" / "umd" / "standalone.js"
    served: list[str] = []

    async def from_the_package(route: Route) -> None:
        served.append(route.request.url)
        await route.fulfill(path=standalone, content_type="text/javascript")

    await pages.browser.route("https://cdn.segment.com/**", from_the_package)
    try:
        page = await pages.open(html)
        sent = await page.evaluate(
            """async () => {
                await new Promise((resolve) => window.analytics.ready(resolve));
                const ctx = await window.analytics.identify("snip-1", {
                    name: "Sonia Snippet", email: "sonia@example.com",
                });
                return ctx.failedDelivery() ?? "sent";
            }"""
        )
    finally:
        await pages.browser.unroute("https://cdn.segment.com/**")

    assert served == [f"https://cdn.segment.com/analytics.js/v1/{WRITE_KEY}/analytics.min.js"]
    assert sent == "sent"
    (event,) = await wait_for_events(http, emu, 1)
    assert (event["type"], event["outcome"]) == ("identify", "created")
    assert event["message"]["context"]["library"]["name"] == "analytics.js"
    (affiliate,) = (await control(http, emu, "affiliates"))["affiliates"]
    assert (affiliate["first_name"], affiliate["email"]) == ("Sonia", "sonia@example.com")


# -- beacons ---------------------------------------------------------------------------------


async def test_beacons_are_delivered(
    emu: Emulator, pages: Pages, http: aiohttp.ClientSession
) -> None:
    """``sendBeacon`` with a string (text/plain, no preflight) and with a JSON Blob (preflighted
    and credentialed: refused by the browser unless the answer names the origin)."""
    page = await pages.open(doc_page(emu.url, inline=False))

    queued = await page.evaluate(
        """([emulator, writeKey]) => {
            const identify = {
                writeKey, userId: "beacon-1", messageId: "beacon-identify",
                traits: { name: "Bea Con", email: "bea@example.com" },
            };
            const track = {
                writeKey, userId: "beacon-1", messageId: "beacon-track", event: "Left",
            };
            const blob = new Blob([JSON.stringify(track)], { type: "application/json" });
            return [
                navigator.sendBeacon(emulator + "/v1/i", JSON.stringify(identify)),
                navigator.sendBeacon(emulator + "/v1/t", blob),
            ];
        }""",
        [emu.url, WRITE_KEY],
    )

    assert queued == [True, True]
    events = await wait_for_events(http, emu, 2)
    outcomes = sorted((e["messageId"], e["outcome"]) for e in events)
    assert outcomes == [("beacon-identify", "created"), ("beacon-track", "filtered")]
    (affiliate,) = (await control(http, emu, "affiliates"))["affiliates"]
    assert (affiliate["first_name"], affiliate["email"]) == ("Bea", "bea@example.com")


# -- the cors-origin assumption, in a real browser -------------------------------------------

CREDENTIALED = """async ([emulator, writeKey]) => {
    const send = async (messageId, credentials) => {
        try {
            const answer = await fetch(emulator + "/v1/t", {
                method: "POST",
                credentials,
                headers: { "Content-Type": "text/plain" },
                body: JSON.stringify({ writeKey, userId: "cred", messageId, event: "Probe" }),
            });
            return `read ${answer.status}`;
        } catch (error) {
            return "blocked";
        }
    };
    const plain = await send("plain", "same-origin");
    return { plain, credentialed: await send("cred", "include") };
}"""


@pytest.mark.parametrize(
    ("variant", "credentialed"),
    [("echo-with-credentials", "read 200"), ("wildcard", "blocked")],
)
async def test_cors_origin_decides_whether_a_page_reads_a_credentialed_answer(
    variant: str, credentialed: str, emu: Emulator, pages: Pages, http: aiohttp.ClientSession
) -> None:
    chosen = {"assumptions": {"cors-origin": variant}}
    async with http.put(f"{emu.url}/_emulator/assumptions", json=chosen) as response:
        assert response.status == 200, await response.text()
    page = await pages.open(doc_page(emu.url, inline=False))

    seen = await page.evaluate(CREDENTIALED, [emu.url, WRITE_KEY])

    assert seen == {"plain": "read 200", "credentialed": credentialed}
    if credentialed == "blocked":
        # The browser's own complaint about the '*' answer: expected here, so not a failure.
        assert any("credentials mode is 'include'" in p for p in pages.problems), pages.problems
        pages.problems.clear()
    # Either way the event arrived (the browser hides only the answer), and says what it relied on.
    events = await wait_for_events(http, emu, 2)
    for event in events:
        assert ("cors-origin", variant) in [(n["id"], n["variant"]) for n in event["assumptions"]]


# -- what a page of another origin cannot do -------------------------------------------------

PROBE = """async ([emulator, writeKey]) => {
    const attempt = async (path, init) => {
        try {
            const answer = await fetch(emulator + path, init);
            return `read ${answer.status} ${answer.type}`;
        } catch (error) {
            return "blocked";
        }
    };
    const json = { "Content-Type": "application/json" };
    return {
        track: await attempt("/v1/t", {
            method: "POST",
            headers: { "Content-Type": "text/plain" },
            body: JSON.stringify({ writeKey, userId: "probe", event: "Probe" }),
        }),
        affiliates: await attempt("/_emulator/affiliates"),
        events: await attempt("/_emulator/events"),
        reset: await attempt("/_emulator/reset", { method: "POST" }),
        resetBlind: await attempt("/_emulator/reset", { method: "POST", mode: "no-cors" }),
        refersion: await attempt("/refersion/v2/affiliate/list", {
            method: "POST", headers: json, body: "{}",
        }),
        destination: await attempt("/destination", { method: "POST", headers: json, body: "{}" }),
    };
}"""


async def test_a_page_of_another_origin_can_send_events_but_not_read_or_change_state(
    emu: Emulator, pages: Pages, http: aiohttp.ClientSession
) -> None:
    page = await pages.open(doc_page(emu.url, inline=False))
    await sign_up(page, "Otto Origin", "otto@example.com")
    await wait_for_events(http, emu, 1)

    seen = await page.evaluate(PROBE, [emu.url, WRITE_KEY])

    assert seen == {
        "track": "read 200 cors",
        "affiliates": "blocked",
        "events": "blocked",
        "reset": "blocked",
        # Sent without reading the answer: the emulator refuses it (below).
        "resetBlind": "read 0 opaque",
        # Both need a preflight, which only /v1/* grants: never sent.
        "refersion": "blocked",
        "destination": "blocked",
    }
    blocked = {
        match[1]: "preflight" if "preflight" in problem else "answer"
        for problem in pages.problems
        if (match := re.match(rf"Access to fetch at '{re.escape(emu.url)}(\S+)'", problem))
    }
    assert blocked == {
        "/_emulator/affiliates": "answer",
        "/_emulator/events": "answer",
        "/_emulator/reset": "answer",
        "/refersion/v2/affiliate/list": "preflight",
        "/destination": "preflight",
    }
    assert f"403 POST {emu.url}/_emulator/reset" in pages.problems
    pages.problems.clear()
    (affiliate,) = (await control(http, emu, "affiliates"))["affiliates"]
    assert affiliate["email"] == "otto@example.com"
    events = await wait_for_events(http, emu, 2)
    assert sorted(e["type"] for e in events) == ["identify", "track"]
