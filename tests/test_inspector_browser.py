"""The inspector in a real headless Chromium: live list, filters, trace, violations, faults, XSS.

One browser for the module, a fresh emulator and page per test. Events are sent over real
HTTP while the page is open, so "appears" means it came through the live stream.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest_asyncio
from playwright.async_api import BrowserContext, Page, expect

from emulator.cases.payloads import parse_cases
from emulator.server.emulator import Emulator
from emulator.server.runners.case_runner import run_case
from tests.browser import browser_test_marks, chromium
from tests.support import fast_config

pytestmark = browser_test_marks()

XSS_NAME = "<img src=x onerror=alert(1)>"
XSS_USER = "<script>alert('user')</script>"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser() -> AsyncIterator[BrowserContext]:
    async with chromium() as context:
        yield context


@pytest_asyncio.fixture(loop_scope="module")
async def emu() -> AsyncIterator[Emulator]:
    async with Emulator(fast_config()) as emulator:
        yield emulator
        assert emulator.app_errors == [], "the server hit unhandled exceptions"


@pytest_asyncio.fixture(loop_scope="module")
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest_asyncio.fixture(loop_scope="module")
async def page(browser: BrowserContext, emu: Emulator) -> AsyncIterator[Page]:
    page = await browser.new_page()
    dialogs: list[str] = []
    errors: list[str] = []
    page.on("dialog", lambda dialog: dialogs.append(dialog.message))
    page.on("pageerror", lambda error: errors.append(str(error)))
    await page.goto(f"{emu.url}/")
    await expect(page.locator("#live")).to_have_class(re.compile(r"\bon\b"))
    yield page
    await page.close()
    assert dialogs == [], "a payload ran script in the page"
    assert errors == [], "the page threw"


async def deliver(http: aiohttp.ClientSession, emu: Emulator, *messages: dict[str, Any]) -> None:
    """Enter messages as Segment delivers them: each with a messageId (Segment always sets one)."""
    numbered = [{"messageId": f"msg-{i}-{id(m)}", **m} for i, m in enumerate(messages)]
    async with http.post(f"{emu.url}/_emulator/deliver", json=numbered) as response:
        assert response.status == 200, await response.text()


async def identify(http: aiohttp.ClientSession, emu: Emulator, **fields: Any) -> None:
    body = {"writeKey": "test", **fields}
    async with http.post(f"{emu.url}/v1/identify", json=body) as response:
        assert response.status == 200, await response.text()


async def add_fault(http: aiohttp.ClientSession, emu: Emulator, spec: str) -> None:
    async with http.post(f"{emu.url}/_emulator/faults", data=spec) as response:
        assert response.status == 201, await response.text()


def rows(page: Page) -> Any:
    return page.locator("tr.event-row")


async def test_events_appear_live_newest_first_without_a_reload(
    page: Page, emu: Emulator, http: aiohttp.ClientSession
) -> None:
    await page.evaluate("window.__sameDocument = true")
    await expect(page.locator("#events-empty")).to_contain_text("No events yet")

    await identify(http, emu, userId="first", traits={"name": "Ann Lee", "email": "a@x.io"})
    await expect(rows(page)).to_have_count(1)
    await identify(http, emu, userId="second", traits={"email": "not-an-email", "name": "B C"})

    await expect(rows(page)).to_have_count(2)
    newest = rows(page).nth(0)
    await expect(newest.locator(".c-user")).to_have_text("second")
    await expect(newest.locator(".badge")).to_have_text("rejected")
    await expect(newest.locator(".reason")).to_have_text("invalid_email")
    oldest = rows(page).nth(1)
    await expect(oldest.locator(".c-email")).to_have_text("a@x.io")
    await expect(oldest.locator(".badge")).to_have_text("created")
    assert await page.evaluate("window.__sameDocument") is True


async def test_filters_by_outcome_type_and_text(
    page: Page, emu: Emulator, http: aiohttp.ClientSession
) -> None:
    await deliver(
        http,
        emu,
        {"type": "identify", "userId": "alice", "traits": {"name": "A L", "email": "al@x.io"}},
        {"type": "identify", "userId": "bob", "traits": {"name": "B", "email": "bob@x.io"}},
        {"type": "track", "userId": "carol", "event": "Signed Up"},
    )
    await expect(rows(page)).to_have_count(3)

    await page.select_option("#filter-outcome", "rejected")
    await expect(rows(page)).to_have_count(1)
    await expect(rows(page).locator(".c-user")).to_have_text("bob")
    await expect(page.locator("#shown-count")).to_have_text("1 of 3")

    await page.select_option("#filter-outcome", "")
    await page.select_option("#filter-type", "track")
    await expect(rows(page)).to_have_count(1)
    await expect(rows(page).locator(".badge")).to_have_text("filtered")

    await page.select_option("#filter-type", "")
    await page.fill("#filter-text", "AL@X")
    await expect(rows(page)).to_have_count(1)
    await expect(rows(page).locator(".c-user")).to_have_text("alice")

    # A live event that does not match stays out of the filtered list.
    await deliver(http, emu, {"type": "identify", "userId": "dave", "traits": {"name": "D"}})
    await expect(page.locator("#shown-count")).to_have_text("1 of 4")


async def test_trace_shows_hops_lineage_and_highlights_the_violation(
    page: Page, browser: BrowserContext, emu: Emulator, http: aiohttp.ClientSession
) -> None:
    # userId must be a string (segment/identify); the mapping still coerces it and goes on.
    message = {
        "type": "identify",
        "userId": 42,
        "messageId": "m-42",
        "traits": {"name": "Peter Gibbons", "email": "peter@example.com"},
    }
    await deliver(http, emu, message)
    await rows(page).first.click()

    trace = page.locator("article.trace")
    await expect(trace.locator(".hop-name")).to_have_text(
        ["deliver", "routing", "delivery", "receive", "mapping", "refersion", "answer"]
    )
    await expect(trace.locator("[data-hop=delivery] .chip").first).to_have_text("HTTP 200")
    lineage = trace.locator("table.lineage tr", has_text="/traits/email")
    await expect(lineage.locator("td")).to_have_text(
        ["/traits/email", "email", "traits.email → email", "peter@example.com"]
    )
    await expect(trace.locator("#violation-summary")).to_contain_text("segment/identify")
    marked = trace.locator(
        "[data-hop=routing] .violation[data-contract='segment/identify'] mark.violation-hl"
    )
    await expect(marked).to_have_attribute("data-pointer", "/userId")
    await expect(marked).to_have_text("42")

    await browser.grant_permissions(["clipboard-read", "clipboard-write"], origin=emu.url)
    await page.click("#copy-fixture")
    fixture = await page.evaluate("navigator.clipboard.readText()")
    [case] = parse_cases("copied.json", fixture.encode())
    assert case.expect is not None
    assert case.expect.outcomes == ("created",)
    assert case.expect.violations == ("segment/identify",)
    replay = await run_case(case, base=fast_config())
    assert replay.failures == []

    await page.click("#copy-curl")
    curl = shlex.split(await page.evaluate("navigator.clipboard.readText()"))
    assert curl[:3] == ["curl", "-s", f"{emu.url}/_emulator/deliver"]
    assert json.loads(curl[curl.index("-d") + 1]) == message


async def test_the_trace_lists_its_assumptions_and_warns_of_another_users_delete(
    page: Page, emu: Emulator, http: aiohttp.ClientSession
) -> None:
    peter = {"name": "Peter Gibbons", "email": "peter@example.com", "address": {"country": "USA"}}
    await deliver(http, emu, {"type": "identify", "userId": "u-owner", "traits": peter})
    await expect(rows(page)).to_have_count(1)
    await rows(page).first.click()
    assumed = page.locator("article.trace #assumptions")
    await expect(assumed).to_contain_text("country-spelling=normalise")
    await expect(assumed).to_contain_text("country 'USA' normalised to US")
    await expect(assumed).to_have_class(re.compile(r"\binfo\b"))

    delete = {"type": "delete", "userId": "u-other", "email": "peter@example.com"}
    await deliver(http, emu, delete)
    await expect(rows(page)).to_have_count(2)
    await rows(page).first.click()
    assumed = page.locator("article.trace #assumptions")
    await expect(assumed).to_have_class(re.compile(r"\bwarn\b"))
    await expect(assumed.locator("li.assumption-warning")).to_contain_text(
        "not the delete's userId 'u-other'"
    )


async def test_a_fault_rule_added_in_the_panel_makes_a_delivery_retry(
    page: Page, emu: Emulator, http: aiohttp.ClientSession
) -> None:
    await page.click("nav a[data-tab=faults]")
    await page.select_option("#fault-target", "refersion")
    await page.fill("#fault-endpoint", "affiliate/new")
    await page.fill("#fault-fault", '{"status": 503}')
    await page.select_option("#fault-limit-kind", "times")
    await page.fill("#fault-limit", "1")
    await page.click("#fault-add")
    await expect(page.locator("tr.fault-row")).to_have_count(1)
    await expect(page.locator("tr.fault-row")).to_contain_text("affiliate/new")

    await page.click("nav a[data-tab=events]")
    await identify(http, emu, userId="retry-me", traits={"name": "R M", "email": "r@x.io"})
    row = rows(page).first
    await expect(row.locator(".badge")).to_have_text("created")
    await expect(row.locator(".c-tries")).to_have_text("2")
    await row.click()
    attempts = page.locator("article.trace [data-hop=delivery]")
    await expect(attempts).to_have_count(2)
    await expect(attempts.nth(0).locator(".chip-retry")).to_have_text(re.compile("awaiting-retry"))

    await page.click("nav a[data-tab=faults]")
    await page.click("#fault-clear")
    await expect(page.locator("tr.fault-row")).to_have_count(0)


async def test_payload_markup_is_shown_as_text_everywhere(
    page: Page, emu: Emulator, http: aiohttp.ClientSession
) -> None:
    await deliver(
        http,
        emu,
        {
            "type": "identify",
            "userId": XSS_USER,
            "traits": {"name": XSS_NAME, "email": "x@example.com", "<b>key</b>": "<i>v</i>"},
        },
        {"type": "<svg onload=alert(1)>", "userId": "svg"},
    )
    await expect(rows(page)).to_have_count(2)
    await expect(page.locator("#filter-type option", has_text="<svg")).to_have_count(1)
    victim = rows(page).nth(1)
    await expect(victim.locator(".c-user")).to_have_text(XSS_USER)
    await victim.click()
    message = page.locator("article.trace > pre.json")
    await expect(message).to_contain_text(json.dumps(XSS_NAME))
    await expect(message).to_contain_text('"<b>key</b>": "<i>v</i>"')

    await page.click("nav a[data-tab=affiliates]")
    await expect(page.locator("tr.affiliate-row")).to_contain_text(XSS_USER)
    markup = await page.evaluate(
        "[...document.querySelectorAll('img, svg, b, i, script')].map(e => e.outerHTML)"
    )
    assert markup == [
        # The page's own: its script, and the summaries it arrived with (none yet).
        '<script src="/_emulator/ui/inspector.js" defer=""></script>',
        '<script type="application/json" id="initial-events">[]</script>',
    ]


async def test_the_event_list_is_filled_before_the_pages_load_event(
    browser: BrowserContext, emu: Emulator, http: aiohttp.ClientSession
) -> None:
    await deliver(
        http,
        emu,
        {"type": "identify", "userId": "early", "traits": {"name": "E L", "email": "e@x.io"}},
        {"type": "track", "userId": "early", "event": "Signed Up"},
    )
    page = await browser.new_page()
    await page.add_init_script(
        "window.addEventListener('load', () => {"
        " window.__rowsAtLoad = document.querySelectorAll('tr.event-row').length; })"
    )
    try:
        await page.goto(f"{emu.url}/_emulator/ui", wait_until="load")
        assert await page.evaluate("window.__rowsAtLoad") == 2
    finally:
        await page.close()


async def test_a_numeric_user_id_is_shown_as_sent(
    page: Page, emu: Emulator, http: aiohttp.ClientSession
) -> None:
    await deliver(
        http,
        emu,
        {"type": "identify", "userId": 12345, "traits": {"name": "N U", "email": "n@x.io"}},
    )
    await expect(rows(page).locator(".c-user")).to_have_text("12345 (not a string)")
    await page.fill("#filter-text", "12345")
    await expect(rows(page)).to_have_count(1)
    await rows(page).first.click()
    await expect(page.locator("article.trace .facts")).to_contain_text("12345 (not a string)")


async def test_one_events_violations_agree_with_the_contracts_tab(
    page: Page, emu: Emulator, http: aiohttp.ClientSession
) -> None:
    # A numeric userId breaks segment/identify where Segment routes it and where the
    # destination receives it: two findings, in the event and in the tab alike.
    await deliver(
        http, emu, {"type": "identify", "userId": 7, "traits": {"name": "S V", "email": "s@x.io"}}
    )
    await expect(rows(page).locator(".warn-count")).to_have_text("2")
    await rows(page).first.click()
    await expect(page.locator("#violation-summary strong")).to_have_text("2 contract violations")
    await page.click("nav a[data-tab=contracts]")
    row = page.locator("#contracts-table tr", has_text="segment/identify")
    await expect(row.locator("td").nth(4)).to_have_text("2")
    await expect(page.locator("#count-violations")).to_have_text("⚠ 2")


async def test_a_used_up_fault_rule_is_shown_as_used_up(
    page: Page, emu: Emulator, http: aiohttp.ClientSession
) -> None:
    await add_fault(http, emu, "refersion:affiliate/new=503x1")
    await identify(http, emu, userId="spent", traits={"name": "S P", "email": "sp@x.io"})
    await expect(rows(page).locator(".badge")).to_have_text("created")
    await page.click("nav a[data-tab=faults]")
    rule = page.locator("tr.fault-row")
    await expect(rule).to_have_attribute("data-state", "used-up")
    await expect(rule).to_contain_text("used up: fired 1 of 1")
    await expect(page.locator("#faults-status")).to_contain_text("0 active rules, 1 used up")


async def test_long_outcome_badges_are_shown_whole(
    page: Page, emu: Emulator, http: aiohttp.ClientSession
) -> None:
    await add_fault(http, emu, "refersion:affiliate/new=422x1")
    await identify(http, emu, userId="long", traits={"name": "L O", "email": "lo@x.io"})
    badge = rows(page).locator(".badge")
    await expect(badge).to_have_text("refersion_rejected")
    fits = await badge.evaluate(
        "b => b.scrollWidth <= b.clientWidth"
        " && b.getBoundingClientRect().right <= b.closest('td').getBoundingClientRect().right"
    )
    assert fits, "the outcome badge is cut off"
