"""Chaos: 2,000 identifies while the fake Refersion fails 30 % of calls; nothing lost or doubled."""

from __future__ import annotations

from collections import Counter

import aiohttp
import pytest

from emulator.journal.reconcile import OUTCOME_BUCKETS
from emulator.server.emulator import Emulator
from tests.support import fast_config

pytestmark = pytest.mark.chaos

EVENTS = 2000
BATCH = 100
CHAOS = "refersion:affiliate/new=429|500|503|reset|timeout:2@0.3"


@pytest.mark.slow
async def test_every_event_is_delivered_exactly_once_despite_refersion_failing(
    http: aiohttp.ClientSession,
) -> None:
    config = fast_config(
        retry_initial_backoff=0.01,
        retry_max_backoff=0.1,
        retry_budget=600.0,
        # Short enough that a held request costs little; the fault holds it far longer.
        refersion_timeout=0.25,
        delivery_workers=16,
        seed=2024,
    )
    async with Emulator(config) as emu:
        emu.add_fault(CHAOS)
        for start in range(0, EVENTS, BATCH):
            batch = [
                {
                    "type": "identify",
                    "userId": f"user-{n}",
                    "messageId": f"chaos-{n}",
                    "traits": {"name": f"Chaos Tester{n}", "email": f"user-{n}@example.com"},
                }
                for n in range(start, start + BATCH)
            ]
            async with http.post(
                f"{emu.url}/v1/batch", json={"writeKey": "wk", "batch": batch}
            ) as resp:
                assert resp.status == 200
        async with http.post(f"{emu.url}/_emulator/flush", params={"timeout": "240"}) as resp:
            assert (await resp.json())["idle"] is True
        async with http.get(f"{emu.url}/_emulator/report") as resp:
            report = await resp.json()
        traces = list(emu.runtime.journal)
        affiliates = emu.runtime.store.all()
        [rule] = emu.runtime.faults.listing()
        assert emu.app_errors == []

    # The faults really happened, at the rate asked for, in every kind.
    assert 0.25 < rule["fired"] / rule["matched"] < 0.35
    seen = Counter(
        hop.detail["response"]["status"] or hop.detail["response"]["error"]
        for trace in traces
        for hop in trace.hops
        if hop.name == "refersion"
    )
    assert {429, 500, 503, "connection reset", "timeout"} <= set(seen)
    assert sum(1 for t in traces if t.attempts > 1) > EVENTS // 5

    # Every event ends delivered, by exactly one successful attempt.
    assert len(traces) == EVENTS
    assert all(OUTCOME_BUCKETS[t.outcome] == "delivered" for t in traces)
    successes = Counter(
        t.message_id
        for t in traces
        for hop in t.hops
        if hop.name == "delivery" and hop.detail.get("classification") == "delivered"
    )
    assert set(successes.values()) == {1}
    assert len(successes) == EVENTS

    # One affiliate each: retries never created a second one.
    emails = Counter(a.email for a in affiliates)
    assert len(affiliates) == EVENTS
    assert set(emails.values()) == {1}
    assert set(emails) == {f"user-{n}@example.com" for n in range(EVENTS)}

    assert report["equation"] == (
        f"{EVENTS} accepted = {EVENTS} delivered + 0 filtered + 0 discarded + 0 expired + 0 pending"
    )
    assert report["remainder"] == 0
