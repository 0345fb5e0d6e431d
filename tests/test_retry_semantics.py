"""Segment's delivery semantics with an injected clock: a four-hour schedule in milliseconds.

A scripted receiver on loopback answers Segment's delivery attempts; the manual clock stands
in for the wait between them, so every retry is a real HTTP attempt but no test waits.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from email.utils import formatdate
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from emulator.assumptions import AssumptionChoices
from emulator.clock import ManualClock
from emulator.journal.traces import Trace
from emulator.segment.http.tracking_api import TRACE_IDS_HEADER
from emulator.server.emulator import Emulator
from tests.support import fast_config, until

FOUR_HOURS = 4 * 3600.0
# What Segment does by default: 1 s doubling up to 10 minutes, for four hours.
SEGMENT_LIKE = {
    "retry_initial_backoff": 1.0,
    "retry_max_backoff": 600.0,
    "retry_budget": FOUR_HOURS,
    "delivery_timeout": 0.3,
}

Answer = int | str | tuple[int, str]


class ScriptedReceiver:
    """Answers each delivery with the next scripted answer; 503 once the script runs out.

    An answer is a status, ``(status, Retry-After)``, ``"hang"`` (no answer until the
    client gives up), ``"reset"`` (TCP reset) or ``"truncated"`` (a body cut short).
    """

    def __init__(self) -> None:
        self.script: list[Answer] = []
        self.requests = 0
        self.release = asyncio.Event()

    async def handle(self, request: web.Request) -> web.StreamResponse:
        await request.read()
        self.requests += 1
        answer = self.script.pop(0) if self.script else 503
        if answer == "hang":
            await self.release.wait()
            return web.Response(status=200)
        if answer in ("reset", "truncated"):
            response = web.StreamResponse(status=200)
            if answer == "truncated":
                response.content_length = 100
                await response.prepare(request)
                await response.write(b'{"message": "cut')
            assert request.transport is not None
            request.transport.abort()
            return response
        headers = {}
        if isinstance(answer, tuple):
            answer, headers["Retry-After"] = answer
        assert isinstance(answer, int)
        return web.json_response({"message": f"answered {answer}"}, status=answer, headers=headers)


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[ScriptedReceiver, str]]:
    scripted = ScriptedReceiver()
    app = web.Application()
    app.router.add_post("/hook", scripted.handle)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    yield scripted, f"http://{host}:{port}/hook"
    scripted.release.set()
    await runner.cleanup()


async def identify(http: aiohttp.ClientSession, emu: Emulator, user_id: str = "u") -> Trace:
    payload = {
        "writeKey": "wk",
        "userId": user_id,
        "traits": {"name": "Peter Gibbons", "email": f"{user_id}@example.com"},
    }
    async with http.post(f"{emu.url}/v1/identify", json=payload) as resp:
        assert resp.status == 200
        [trace_id] = resp.headers[TRACE_IDS_HEADER].split(",")
    trace = emu.runtime.journal.get(trace_id)
    assert trace is not None
    return trace


async def run_schedule(clock: ManualClock, trace: Trace) -> None:
    """Let the pipeline attempt, then jump the clock to each retry, until the trace is final."""
    while True:
        await until(lambda: trace.final or (trace.outcome == "retrying" and clock.sleeping > 0))
        if trace.final:
            return
        clock.advance_to_next()


def attempts(trace: Trace) -> list[dict[str, Any]]:
    return [hop.detail for hop in trace.hops if hop.name == "delivery"]


@pytest.mark.parametrize(
    ("script", "outcome", "labels"),
    [
        ([200], "delivered", ["delivered"]),
        ([202], "delivered", ["delivered"]),
        ([400], "discarded", ["discarded.400"]),
        ([401], "discarded", ["discarded.401"]),
        ([403], "discarded", ["discarded.403"]),
        ([404], "discarded", ["discarded.404"]),
        ([409], "discarded", ["discarded.409"]),
        ([422], "discarded", ["discarded.422"]),
        ([501], "discarded", ["discarded.UNSUPPORTED_EVENT_TYPE"]),
        ([429, 200], "delivered", ["awaiting-retry.429", "delivered"]),
        ([500, 502, 503, 504, 200], "delivered", ["awaiting-retry.5xx"] * 4 + ["delivered"]),
        (["hang", 200], "delivered", ["awaiting-retry.ETIMEDOUT", "delivered"]),
        (["reset", 200], "delivered", ["awaiting-retry.ECONNRESET", "delivered"]),
        (["truncated", 200], "delivered", ["awaiting-retry.ECONNRESET", "delivered"]),
    ],
)
async def test_every_status_class_is_treated_as_segment_does(
    receiver: tuple[ScriptedReceiver, str],
    http: aiohttp.ClientSession,
    script: list[Answer],
    outcome: str,
    labels: list[str],
) -> None:
    scripted, url = receiver
    scripted.script = list(script)
    clock = ManualClock()
    async with Emulator(fast_config(destination_url=url, **SEGMENT_LIKE), clock=clock) as emu:
        trace = await identify(http, emu)
        await run_schedule(clock, trace)
    assert trace.outcome == outcome
    tried = attempts(trace)
    assert [a["classification"] for a in tried] == labels
    assert scripted.requests == len(script)
    for attempt in tried:
        # Event Delivery shows each attempt's status (or error) and latency.
        assert attempt["latencyMs"] >= 0
        assert attempt["response"]["status"] is not None or attempt["response"]["error"]
    if outcome == "discarded":
        assert trace.reason == labels[0]


async def test_backoff_grows_is_capped_and_the_budget_expires_the_event(
    receiver: tuple[ScriptedReceiver, str], http: aiohttp.ClientSession
) -> None:
    clock = ManualClock()
    config = fast_config(destination_url=receiver[1], **SEGMENT_LIKE)
    async with Emulator(config, clock=clock) as emu:
        trace = await identify(http, emu)
        started = clock.now()
        await run_schedule(clock, trace)
        report = emu.report()
    tried = attempts(trace)
    delays = [a["retryInSeconds"] for a in tried if "retryInSeconds" in a]
    # Randomized exponential backoff: attempt n waits within [base/2, base], base = 2^(n-1) s.
    for n, delay in enumerate(delays, start=1):
        base = min(600.0, 2.0 ** (n - 1))
        assert base / 2 <= delay <= base, (n, delay)
    assert len(set(delays)) == len(delays)  # jittered, not lockstep
    assert max(delays) <= 600
    assert sum(1 for d in delays if d >= 300) >= 10  # most of four hours at the cap
    # Every attempt is inside the budget; the next one would not have been.
    assert all(a["elapsedSeconds"] <= FOUR_HOURS for a in tried)
    assert len(tried) == len(delays) + 1
    assert FOUR_HOURS - 600 < clock.now() - started <= FOUR_HOURS
    assert trace.outcome == "expired"
    assert trace.reason == "awaiting-retry.5xx"
    expired = trace.hops[-1]
    assert expired.name == "expired"
    assert "retry budget of 4h" in expired.summary
    assert expired.detail["attempts"] == len(tried)
    assert expired.detail["lastClassification"] == "awaiting-retry.5xx"
    assert (report.totals["expired"], report.remainder) == (1, 0)
    assert report.reasons["expired"] == {"expired: awaiting-retry.5xx": 1}


@pytest.mark.parametrize(
    ("retry_after", "expected"),
    [
        ("120", 120.0),
        ("2.5", 2.5),
        ("3600", 600.0),  # honoured up to the maximum backoff
        ("soon", None),  # unreadable: the computed backoff applies
    ],
)
async def test_retry_after_is_honoured(
    receiver: tuple[ScriptedReceiver, str],
    http: aiohttp.ClientSession,
    retry_after: str,
    expected: float | None,
) -> None:
    scripted, url = receiver
    scripted.script = [(429, retry_after), 200]
    clock = ManualClock()
    async with Emulator(fast_config(destination_url=url, **SEGMENT_LIKE), clock=clock) as emu:
        trace = await identify(http, emu)
        await run_schedule(clock, trace)
    first, second = attempts(trace)
    if expected is None:
        assert "retryAfterSeconds" not in first
        assert 0.5 <= first["retryInSeconds"] <= 1.0
    else:
        assert first["retryInSeconds"] == expected
    assert second["elapsedSeconds"] == pytest.approx(first["retryInSeconds"], abs=1e-3)
    assert trace.outcome == "delivered"


async def test_retry_after_as_an_http_date(
    receiver: tuple[ScriptedReceiver, str], http: aiohttp.ClientSession
) -> None:
    scripted, url = receiver
    clock = ManualClock()
    scripted.script = [(503, formatdate(clock.now() + 300, usegmt=True)), 200]
    async with Emulator(fast_config(destination_url=url, **SEGMENT_LIKE), clock=clock) as emu:
        trace = await identify(http, emu)
        await run_schedule(clock, trace)
    assert 299 <= attempts(trace)[0]["retryInSeconds"] <= 300
    assert trace.outcome == "delivered"


async def test_a_short_budget_expires_and_says_so(
    receiver: tuple[ScriptedReceiver, str], http: aiohttp.ClientSession
) -> None:
    clock = ManualClock()
    config = fast_config(destination_url=receiver[1], **{**SEGMENT_LIKE, "retry_budget": 60.0})
    async with Emulator(config, clock=clock) as emu:
        trace = await identify(http, emu)
        await run_schedule(clock, trace)
        async with http.get(f"{emu.url}/_emulator/report") as resp:
            report = await resp.json()
    assert trace.outcome == "expired"
    assert "retry budget of 1m" in trace.hops[-1].summary
    assert report["expired"] == report["accepted"] == 1
    assert report["remainder"] == 0


async def test_refersions_retry_after_reaches_segment(http: aiohttp.ClientSession) -> None:
    clock = ManualClock()
    async with Emulator(fast_config(**SEGMENT_LIKE), clock=clock) as emu:
        emu.add_fault("refersion:affiliate/new=429:45x1")
        trace = await identify(http, emu)
        await run_schedule(clock, trace)
    first, second = attempts(trace)
    assert first["response"]["status"] == 429
    assert (first["retryAfterSeconds"], first["retryInSeconds"]) == (45, 45)
    assert second["classification"] == "delivered"
    assert trace.outcome == "created"


async def test_retry_after_ignored_follows_the_backoff_and_the_trace_says_so(
    receiver: tuple[ScriptedReceiver, str], http: aiohttp.ClientSession
) -> None:
    scripted, url = receiver
    scripted.script = [(429, "120"), 200]
    clock = ManualClock()
    ignored = AssumptionChoices.of({"retry-after": "ignored"})
    config = fast_config(destination_url=url, assumptions=ignored, **SEGMENT_LIKE)
    async with Emulator(config, clock=clock) as emu:
        trace = await identify(http, emu)
        await run_schedule(clock, trace)
    first = attempts(trace)[0]
    assert first["retryAfterSeconds"] == 120
    assert 0.5 <= first["retryInSeconds"] <= 1.0
    notes = {n["id"]: n for n in trace.assumptions}
    assert notes["retry-after"]["variant"] == "ignored"
    assert notes["retry-after"]["note"] == "Retry-After 120 s ignored"
    assert notes["retry-backoff"]["variant"] == "exponential"


async def test_six_retries_then_the_event_expires_within_the_budget(
    receiver: tuple[ScriptedReceiver, str], http: aiohttp.ClientSession
) -> None:
    _, url = receiver  # an empty script answers 503 to every attempt
    clock = ManualClock()
    six = AssumptionChoices.of({"retry-backoff": "six-retries"})
    config = fast_config(destination_url=url, assumptions=six, **SEGMENT_LIKE)
    async with Emulator(config, clock=clock) as emu:
        trace = await identify(http, emu)
        await run_schedule(clock, trace)
    delays = [hop["retryInSeconds"] for hop in attempts(trace) if "retryInSeconds" in hop]
    assert delays == [225.0, 450.0, 900.0, 1800.0, 3600.0, 7200.0]
    assert trace.outcome == "expired"
    assert "allows 6 retries" in trace.hops[-1].summary


async def test_a_ten_second_timeout_waits_for_a_slow_answer(
    receiver: tuple[ScriptedReceiver, str], http: aiohttp.ClientSession
) -> None:
    scripted, url = receiver
    scripted.script = ["hang", 200]
    clock = ManualClock()
    # The default run (0.3 s here) times out; delivery-timeout=10s makes the wait 10 s.
    config = fast_config(destination_url=url, **SEGMENT_LIKE)
    async with Emulator(config, clock=clock) as emu:
        assert emu.runtime.delivery_timeout == 0.3
        trace = await identify(http, emu)
        await run_schedule(clock, trace)
        scripted.release.set()
    notes = [n for n in trace.assumptions if n["id"] == "delivery-timeout"]
    assert notes[0]["variant"] == "5s"
    assert notes[0]["note"].startswith("no answer within")
    longer = AssumptionChoices.of({"delivery-timeout": "10s"})
    async with Emulator(fast_config(destination_url=url, assumptions=longer), clock=clock) as emu:
        assert emu.runtime.delivery_timeout == 10.0
