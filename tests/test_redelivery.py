"""Segment's delivery sends what it is given, and at least once: redelivery by call and fault."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from emulator.faults.rules import FaultRuleError
from emulator.faults.specs import parse_fault_spec, rule_from_json
from emulator.server.emulator import Emulator
from tests.support import fast_config

TRAITS = {"name": "Peter Gibbons", "email": "peter@example.com"}
IDENTIFY = {"type": "identify", "userId": "u1", "messageId": "m-1", "traits": TRAITS}
DELETE = {"type": "delete", "userId": "u1", "messageId": "delete-1"}


async def deliver(http: aiohttp.ClientSession, emu: Emulator, *messages: Any) -> list[Any]:
    async with http.post(f"{emu.url}/_emulator/deliver", json=list(messages)) as resp:
        assert resp.status == 200
        return list((await resp.json())["events"])


async def all_events(http: aiohttp.ClientSession, emu: Emulator) -> list[dict[str, Any]]:
    async with http.post(f"{emu.url}/_emulator/flush", json={}) as resp:
        assert (await resp.json())["idle"] is True
    async with http.get(f"{emu.url}/_emulator/events", params={"full": "1"}) as resp:
        return list(reversed((await resp.json())["events"]))


async def test_deliver_has_no_ingest_dedupe(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    first = await deliver(http, emulator, IDENTIFY)
    second = await deliver(http, emulator, IDENTIFY)
    assert [e["outcome"] for e in first + second] == ["created", "already_exists"]
    assert not any(hop["name"] == "dedupe" for hop in second[0]["hops"])
    assert emulator.runtime.store.count() == 1


async def test_redeliver_sends_the_same_message_again(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    async with http.post(
        f"{emulator.url}/v1/identify", json={"writeKey": "wk", "userId": "u1", "traits": TRAITS}
    ) as resp:
        assert resp.status == 200
    [original] = await all_events(http, emulator)
    assert original["outcome"] == "created"
    url = f"{emulator.url}/_emulator/events/{original['id']}/redeliver"
    async with http.post(url) as resp:
        assert resp.status == 200
        [again] = (await resp.json())["events"]
    assert again["entry"] == "redelivery"
    assert again["messageId"] == original["messageId"]
    assert again["outcome"] == "already_exists"
    [hop] = [hop for hop in again["hops"] if hop["name"] == "redeliver"]
    assert hop["detail"]["original"] == original["id"]
    assert emulator.runtime.store.count() == 1


async def test_redeliver_refuses_what_segment_never_delivers(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    async with http.post(f"{emulator.url}/_emulator/events/t999999/redeliver") as resp:
        assert (resp.status, (await resp.json())["code"]) == (404, "not_found")
    async with http.post(
        f"{emulator.url}/v1/identify", json={"writeKey": "wk", "traits": TRAITS}
    ) as resp:
        assert resp.status == 200
    [dropped] = await all_events(http, emulator)
    assert dropped["outcome"] == "ingest_rejected"
    async with http.post(f"{emulator.url}/_emulator/events/{dropped['id']}/redeliver") as resp:
        assert (resp.status, (await resp.json())["code"]) == (409, "not_deliverable")


@pytest.mark.parametrize(
    ("spec", "messages", "outcomes"),
    [
        ("segment=redeliver", [IDENTIFY], ["created", "already_exists"]),
        ("segment:delete=redeliverx1", [IDENTIFY, DELETE], ["created", "deleted", "not_found"]),
    ],
)
async def test_a_fault_rule_makes_segment_deliver_an_event_twice(
    http: aiohttp.ClientSession, spec: str, messages: list[Any], outcomes: list[str]
) -> None:
    async with Emulator(fast_config(faults=(parse_fault_spec(spec),))) as emu:
        for message in messages:
            await deliver(http, emu, message)
        found = await all_events(http, emu)
    assert [e["outcome"] for e in found] == outcomes
    copy = found[-1]
    assert copy["entry"] == "redelivery"
    assert "fault rule" in next(h for h in copy["hops"] if h["name"] == "redeliver")["summary"]


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        ("segment=503", "takes only redeliver"),
        ("refersion=redeliver", "only applies to the segment surface"),
        ("segment:track=redeliver", "identify, delete"),
        ("segment=latency:1+redeliver", "takes no latency"),
    ],
)
def test_redeliver_rules_are_checked(spec: str, words: str) -> None:
    with pytest.raises(FaultRuleError, match=words):
        parse_fault_spec(spec)


def test_redeliver_rule_round_trips_through_json() -> None:
    rule = rule_from_json({"surface": "segment", "endpoint": "identify", "effect": "redeliver"})
    assert rule.spec() == "segment:identify=redeliver"
    assert parse_fault_spec(rule.spec()) == rule
