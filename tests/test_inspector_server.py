"""The inspector's server side: the page and its files, the live stream, the summaries."""

from __future__ import annotations

import asyncio
import json
import re
import socket
import tracemalloc
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from emulator.contract_checks.contract_set import default_contracts
from emulator.contract_checks.tally import ContractTally
from emulator.journal.traces import OUTCOMES, Journal
from emulator.server.emulator import Emulator
from emulator.server.live_stream import STREAM_HUB, StreamHub, Subscriber
from emulator.server.ui import STATIC_DIR
from emulator.web.errors import BodyError
from tests.support import fast_config

IDENTIFY = {
    "type": "identify",
    "userId": "u1",
    "messageId": "m1",
    "traits": {"name": "Peter Gibbons", "email": "peter@example.com"},
}


async def sse_events(response: aiohttp.ClientResponse) -> AsyncIterator[tuple[str, Any]]:
    """``(event, data)`` pairs from a server-sent event stream."""
    name, data = "message", ""
    async for raw in response.content:
        line = raw.decode().rstrip("\n")
        if line.startswith("event: "):
            name = line[len("event: ") :]
        elif line.startswith("data: "):
            data = line[len("data: ") :]
        elif line == "" and data:
            yield name, json.loads(data)
            name, data = "message", ""


async def next_event(events: AsyncIterator[tuple[str, Any]], wanted: str) -> Any:
    async with asyncio.timeout(10):
        async for name, data in events:
            if name == wanted:
                return data
    raise AssertionError(f"the stream ended before a {wanted!r} event")


# ---------------------------------------------------------------- the page


async def test_root_redirects_to_the_inspector(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    async with http.get(f"{emulator.url}/", allow_redirects=False) as response:
        assert response.status == 302
        assert response.headers["Location"] == "/_emulator/ui"
    async with http.get(f"{emulator.url}/") as response:
        assert response.status == 200
        assert response.content_type == "text/html"
        assert "<title>Inspector" in await response.text()


async def test_the_page_forbids_inline_and_foreign_script(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    async with http.get(f"{emulator.url}/_emulator/ui") as response:
        csp = response.headers["Content-Security-Policy"]
        page = await response.text()
    assert "script-src 'self'" in csp
    assert "default-src 'none'" in csp
    assert "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    # Everything the page loads is one of the files the server serves.
    for asset in re.findall(r'(?:src|href)="/_emulator/ui/([^"]+)"', page):
        async with http.get(f"{emulator.url}/_emulator/ui/{asset}") as response:
            assert response.status == 200, asset
            assert response.content_type in ("text/css", "text/javascript")


@pytest.mark.parametrize("name", ["index.htm", "..%2f..%2fpyproject.toml", "ui.py", "x.js"])
async def test_only_the_inspector_files_are_served(
    emulator: Emulator, http: aiohttp.ClientSession, name: str
) -> None:
    async with http.get(f"{emulator.url}/_emulator/ui/{name}") as response:
        assert response.status == 404
        body = await response.json()
    assert body["code"] == "not_found"
    assert "inspector.js" in body["message"]


def test_the_script_never_parses_data_as_html() -> None:
    script = (STATIC_DIR / "inspector.js").read_text()
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert sink not in script


# ---------------------------------------------------------------- summaries


async def test_outcomes_lists_every_outcome_with_its_meaning(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    async with http.get(f"{emulator.url}/_emulator/outcomes") as response:
        items = (await response.json())["outcomes"]
    assert [item["outcome"] for item in items] == list(OUTCOMES)
    final = {item["outcome"]: item["final"] for item in items}
    assert final["created"] is True
    assert final["retrying"] is False


async def test_contracts_counts_passes_and_violations_until_reset(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    broken = {**IDENTIFY, "userId": 42, "messageId": "m2"}
    async with http.post(f"{emulator.url}/_emulator/deliver", json=[IDENTIFY, broken]) as r:
        assert r.status == 200
    async with http.get(f"{emulator.url}/_emulator/contracts") as response:
        summary = await response.json()
    rows = {row["contract"]: row for row in summary["contracts"]}
    assert set(rows) == set(default_contracts().names)
    # Routing and the destination each check the identify: once per message per hop.
    identify = rows["segment/identify"]
    assert (identify["checked"], identify["passed"], identify["failed"]) == (4, 2, 2)
    assert identify["violations"] >= 2
    assert rows["refersion/affiliate-new.request"]["passed"] == 2
    assert rows["segment/batch"]["checked"] == 0
    assert summary["failed"] == sum(row["failed"] for row in rows.values())

    async with http.post(f"{emulator.url}/_emulator/reset") as response:
        assert response.status == 200
    async with http.get(f"{emulator.url}/_emulator/contracts") as response:
        assert (await response.json())["checked"] == 0


def test_an_observed_contract_set_leaves_the_shared_one_uncounted() -> None:
    mine, other = ContractTally(), ContractTally()
    shared = default_contracts()
    observed = shared.observed(mine.record)
    shared.observed(other.record)
    observed.validate("segment/identify", {"type": "identify"})
    shared.validate("segment/identify", {"type": "identify", "userId": "u"})
    assert mine.get("segment/identify").to_dict() == {
        "checked": 1,
        "passed": 0,
        "failed": 1,
        "violations": 1,
    }
    assert other.get("segment/identify").checked == 0


# ---------------------------------------------------------------- the live stream


async def test_stream_sends_each_change_of_a_trace_as_it_happens(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    async with http.get(f"{emulator.url}/_emulator/stream") as response:
        assert response.content_type == "text/event-stream"
        events = sse_events(response)
        assert await next_event(events, "hello") == {"events": 0}
        async with http.post(f"{emulator.url}/_emulator/deliver", json=IDENTIFY) as r:
            trace_id = (await r.json())["events"][0]["id"]
        seen: list[dict[str, Any]] = []
        while not seen or seen[-1]["outcome"] == "pending":
            seen.append(await next_event(events, "trace"))
    assert {s["id"] for s in seen} == {trace_id}
    assert seen[-1]["outcome"] == "created"
    assert seen[-1]["email"] == "peter@example.com"


async def test_a_closed_browser_stops_being_fed(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    journal = emulator.runtime.journal
    before = len(journal.listeners)
    async with http.get(f"{emulator.url}/_emulator/stream") as response:
        await next_event(sse_events(response), "hello")
        assert len(journal.listeners) == before + 1
    # The server learns of the close on its next write; a change makes one.
    async with http.post(f"{emulator.url}/_emulator/deliver", json=IDENTIFY):
        pass
    async with asyncio.timeout(10):
        while len(journal.listeners) > before:
            await asyncio.sleep(0.01)


async def test_shutdown_ends_open_streams(http: aiohttp.ClientSession) -> None:
    emulator = Emulator(fast_config())
    await emulator.start()
    async with http.get(f"{emulator.url}/_emulator/stream") as response:
        events = sse_events(response)
        await next_event(events, "hello")
        await emulator.stop()
        # A clean end of the stream: a stream cut at the shutdown timeout fails to read.
        rest = [name async for name, _ in events]
    assert rest == []


async def test_a_browser_that_stops_reading_does_not_grow_memory() -> None:
    # 5,000 changes of 2 KB traces would be ~10 MB if anything queued them per browser.
    async with Emulator(fast_config(journal_cap=100)) as emulator:
        host, port = emulator.url.removeprefix("http://").rsplit(":", 1)
        with socket.create_connection((host, int(port))) as stalled:
            stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            stalled.sendall(b"GET /_emulator/stream HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            async with asyncio.timeout(10):
                while len(emulator.app[STREAM_HUB]) == 0:
                    await asyncio.sleep(0.01)
            journal = emulator.runtime.journal
            tracemalloc.start()
            try:
                before = tracemalloc.get_traced_memory()[0]
                for n in range(5_000):
                    trace = journal.new_trace("delivery", {"userId": f"u{n}", "pad": "x" * 2048})
                    trace.outcome = "created"
                    journal.changed(trace)
                    if n % 100 == 0:
                        await asyncio.sleep(0)  # let the stream writer run until it blocks
                grown = tracemalloc.get_traced_memory()[0] - before
            finally:
                tracemalloc.stop()
            assert len(emulator.app[STREAM_HUB]) == 1
    assert grown < 1_500_000


def trace_in(journal: Journal, n: int) -> Any:
    return journal.new_trace("delivery", {"type": "identify", "userId": f"u{n}"})


async def test_a_slow_browser_costs_a_bounded_number_of_ids() -> None:
    journal = Journal(cap=100_000)
    subscriber = Subscriber(limit=50)
    journal.listeners.append(subscriber.notify)
    traces = [trace_in(journal, n) for n in range(40)]
    for _ in range(3):  # the same traces changing again are coalesced, not queued twice
        for trace in traces:
            journal.changed(trace)
    assert subscriber.pending == 40
    changes = await subscriber.changes(timeout=0)
    assert changes.trace_ids == tuple(t.id for t in traces)
    assert not changes.overflowed

    for n in range(10_000):
        trace_in(journal, n)
    assert subscriber.pending == 0
    changes = await subscriber.changes(timeout=0)
    assert changes.overflowed
    assert changes.trace_ids == ()
    # After the reload it asked for, the subscriber is fed again.
    journal.changed(traces[0])
    assert (await subscriber.changes(timeout=0)).trace_ids == (traces[0].id,)


async def test_a_quiet_journal_yields_an_empty_change_set_after_the_timeout() -> None:
    subscriber = Subscriber(limit=10)
    changes = await subscriber.changes(timeout=0.01)
    assert changes.trace_ids == ()
    assert not changes.overflowed


def test_the_number_of_streams_is_capped() -> None:
    journal = Journal(cap=10)
    hub = StreamHub(journal, max_subscribers=2)
    first = hub.subscribe()
    hub.subscribe()
    with pytest.raises(BodyError) as refused:
        hub.subscribe()
    assert refused.value.status_code == 503
    hub.unsubscribe(first)
    hub.subscribe()
    assert len(hub) == 2
    assert len(journal.listeners) == 2
