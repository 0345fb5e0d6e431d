"""Reconciliation: accepted = delivered + filtered + discarded + expired + pending, no remainder."""

from __future__ import annotations

import json
import logging
from typing import Any

import aiohttp
import pytest

from emulator.clock import ManualClock
from emulator.journal.reconcile import BUCKETS, OUTCOME_BUCKETS, reconcile, reconcile_events
from emulator.journal.traces import OUTCOMES
from emulator.server.emulator import Emulator
from tests.support import DOC, cli, fast_config, until


def test_every_outcome_belongs_to_exactly_one_bucket() -> None:
    assert set(OUTCOME_BUCKETS) == set(OUTCOMES)
    assert set(OUTCOME_BUCKETS.values()) == set(BUCKETS)


def test_buckets_add_up_with_reasons() -> None:
    result = reconcile(
        {
            ("created", None): 3,
            ("already_exists", "email_taken"): 1,
            ("filtered", "UNSUPPORTED_EVENT_TYPE"): 2,
            ("duplicate", "duplicate_message_id"): 1,
            ("rejected", "missing_email"): 2,
            ("ingest_rejected", "no_user_anon_id"): 1,
            ("expired", "awaiting-retry.5xx"): 1,
            ("retrying", "awaiting-retry.429"): 1,
        }
    )
    assert result.accepted == 12
    assert dict(result.totals) == {
        "delivered": 4,
        "filtered": 3,
        "discarded": 3,
        "expired": 1,
        "pending": 1,
    }
    assert result.remainder == 0
    assert result.reasons["discarded"] == {
        "rejected: missing_email": 2,
        "ingest_rejected: no_user_anon_id": 1,
    }
    assert result.equation() == (
        "12 accepted = 4 delivered + 3 filtered + 3 discarded + 1 expired + 1 pending"
    )


def test_an_unknown_outcome_leaves_a_remainder() -> None:
    result = reconcile({("created", None): 2, ("vanished", None): 1})
    assert (result.accepted, result.remainder) == (3, 1)
    assert result.unclassified == {"vanished": 1}
    assert result.to_dict()["reconciled"] is False
    assert result.equation().endswith("+ 1 unaccounted for")


def test_events_as_printed_reconcile_too() -> None:
    events: list[dict[str, Any]] = [
        {"outcome": "created", "reason": None},
        {"outcome": "filtered", "reason": "x"},
    ]
    assert reconcile_events(events).to_dict()["equation"] == (
        "2 accepted = 1 delivered + 1 filtered + 0 discarded + 0 expired + 0 pending"
    )


async def get_report(http: aiohttp.ClientSession, emu: Emulator) -> dict[str, Any]:
    async with http.get(f"{emu.url}/_emulator/report") as resp:
        assert resp.status == 200
        return dict(await resp.json())


def identify(user_id: str, **traits: Any) -> dict[str, Any]:
    return {
        "type": "identify",
        "userId": user_id,
        "messageId": f"m-{user_id}",
        "traits": {"name": "Peter Gibbons", "email": f"{user_id}@example.com", **traits},
    }


async def test_report_accounts_for_every_accepted_event(http: aiohttp.ClientSession) -> None:
    clock = ManualClock()
    config = fast_config(retry_budget=60.0, retry_initial_backoff=1.0, retry_max_backoff=10.0)
    async with Emulator(config, clock=clock) as emu:
        journal = emu.runtime.journal
        down = emu.add_fault("destination=503")
        async with http.post(
            f"{emu.url}/v1/batch", json={"writeKey": "wk", "batch": [identify("a")]}
        ) as resp:
            assert resp.status == 200
        await until(lambda: clock.sleeping == 1)
        report = await get_report(http, emu)
        assert (report["accepted"], report["pending"], report["remainder"]) == (1, 1, 0)

        emu.remove_fault(str(down.id))
        batch = [
            identify("b"),
            {"type": "track", "userId": "c", "event": "Signed Up"},
            identify("b"),  # same messageId: a duplicate
            {"type": "identify", "traits": {"email": "e@example.com"}},  # no user id
            identify("f", email=None),
        ]
        async with http.post(
            f"{emu.url}/v1/batch", json={"writeKey": "wk", "batch": batch}
        ) as resp:
            assert resp.status == 200
        await until(lambda: sum(1 for t in journal if t.final) == 5)
        report = await get_report(http, emu)
        assert report["equation"] == (
            "6 accepted = 1 delivered + 2 filtered + 2 discarded + 0 expired + 1 pending"
        )
        assert report["reasons"]["filtered"] == {
            "duplicate: duplicate_message_id": 1,
            "filtered: UNSUPPORTED_EVENT_TYPE": 1,
        }
        assert report["reasons"]["discarded"] == {
            "ingest_rejected: no_user_anon_id": 1,
            "rejected: missing_email": 1,
        }

        emu.add_fault("destination=503")
        pending = next(t for t in journal if not t.final)
        while not pending.final:
            await until(lambda: pending.final or clock.sleeping == 1)
            clock.advance_to_next()
        report = await get_report(http, emu)
    assert (report["expired"], report["pending"], report["remainder"]) == (1, 0, 0)
    assert report["reconciled"] is True
    assert report["outcomes"] == {
        "created": 1,
        "duplicate": 1,
        "expired": 1,
        "filtered": 1,
        "ingest_rejected": 1,
        "rejected": 1,
    }


async def test_memory_cap_drops_old_traces_says_so_and_still_reconciles(
    http: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="emulator.journal")
    async with Emulator(fast_config(journal_cap=5)) as emu:
        batch = [identify(f"u{n}") for n in range(12)]
        async with http.post(
            f"{emu.url}/v1/batch", json={"writeKey": "wk", "batch": batch}
        ) as resp:
            assert resp.status == 200
        async with http.post(f"{emu.url}/_emulator/flush") as resp:
            assert (await resp.json())["idle"] is True
        report = await get_report(http, emu)
        async with http.get(f"{emu.url}/_emulator/health") as resp:
            health = await resp.json()
    assert (report["accepted"], report["delivered"], report["remainder"]) == (12, 12, 0)
    assert report["droppedFromJournal"] == health["droppedFromJournal"] == 7
    assert report["journal"] == {"inMemory": 5, "cap": 5, "file": None, "dropped": 7}
    warnings = [r.getMessage() for r in caplog.records if r.name == "emulator.journal"]
    assert len(warnings) == 1
    assert "the cap of 5 traces is reached" in warnings[0]


def test_send_prints_the_reconciliation() -> None:
    code, out, _ = cli("send", str(DOC))
    assert code == 0
    assert out.rstrip().endswith(
        "reconciliation: 1 accepted = 1 delivered + 0 filtered + 0 discarded + 0 expired"
        " + 0 pending"
    )
    code, out, _ = cli("send", "--json", str(DOC))
    assert json.loads(out)["reconciliation"]["remainder"] == 0
