"""Fault injection over real HTTP: the control API, every fault kind, and Segment's retries."""

from __future__ import annotations

import json
import time
from typing import Any

import aiohttp
import pytest

from emulator.faults.rules import FAULT_HEADER
from emulator.faults.specs import parse_fault_spec
from emulator.server.emulator import Emulator
from tests.support import cli, fast_config

NEW_AFFILIATE = {
    "first_name": "Peter",
    "last_name": "Gibbons",
    "email": "peter@example.com",
    "password": "Secret-123456",
    "status": "PENDING",
}


def refersion_headers(emu: Emulator) -> dict[str, str]:
    credentials = emu.config.credentials
    return {
        "Refersion-Public-Key": credentials.public_key,
        "Refersion-Secret-Key": credentials.secret_key,
    }


async def call_new(
    http: aiohttp.ClientSession, emu: Emulator, *, timeout: float = 5.0
) -> tuple[int, dict[str, str], bytes]:
    async with http.post(
        f"{emu.refersion_url}/affiliate/new",
        json=NEW_AFFILIATE,
        headers=refersion_headers(emu),
        timeout=aiohttp.ClientTimeout(total=timeout),
    ) as resp:
        return resp.status, dict(resp.headers), await resp.read()


async def add_rules(http: aiohttp.ClientSession, emu: Emulator, payload: Any) -> tuple[int, Any]:
    async with http.post(f"{emu.url}/_emulator/faults", json=payload) as resp:
        return resp.status, await resp.json()


async def test_rules_are_listed_added_removed_and_cleared(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    async with http.get(f"{emulator.url}/_emulator/faults") as resp:
        assert await resp.json() == {"seed": 7, "rules": []}
    status, body = await add_rules(http, emulator, "refersion:affiliate/new=503@0.3")
    assert status == 201
    assert body["rules"][0]["id"] == "f1"
    status, body = await add_rules(
        http,
        emulator,
        {"rules": [{"surface": "destination", "effect": {"kind": "reset"}, "times": 2}]},
    )
    assert (status, body["rules"][0]["spec"]) == (201, "destination=resetx2")
    async with http.get(f"{emulator.url}/_emulator/faults") as resp:
        rules = (await resp.json())["rules"]
    assert [(r["id"], r["spec"], r["remaining"]) for r in rules] == [
        ("f1", "refersion:affiliate/new=503@0.3", None),
        ("f2", "destination=resetx2", 2),
    ]
    async with http.delete(f"{emulator.url}/_emulator/faults/f1") as resp:
        assert (resp.status, await resp.json()) == (200, {"removed": "f1"})
    async with http.delete(f"{emulator.url}/_emulator/faults/f1") as resp:
        assert resp.status == 404
    async with http.delete(f"{emulator.url}/_emulator/faults") as resp:
        assert await resp.json() == {"cleared": 1}
    assert emulator.faults == []


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"surface": "refersion", "effect": "200"}, "rules[1].effect: status: must be 400-599"),
        ({"surface": "nowhere", "effect": "503"}, "rules[1].surface: must be one of"),
        ({"surface": "refersion", "effect": "503", "probability": 0}, "rules[1].probability"),
        ("refersion=sometimes", "rules[1]: fault 'refersion=sometimes': effect 'sometimes'"),
    ],
)
async def test_bad_rules_are_a_clear_400_and_nothing_is_added(
    emulator: Emulator, http: aiohttp.ClientSession, payload: Any, message: str
) -> None:
    good = {"surface": "refersion", "effect": "503"}
    status, body = await add_rules(http, emulator, [good, payload])
    assert (status, body["code"]) == (400, "invalid_fault")
    assert body["message"].startswith(message)
    assert emulator.faults == []


async def test_compact_rules_can_be_posted_as_plain_text(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    # What `curl -d 'refersion=503x2'` sends: no JSON, one rule per line.
    text = "refersion:affiliate/new=503x2\ndestination=latency:0.01@50%\n"
    async with http.post(f"{emulator.url}/_emulator/faults", data=text.encode()) as resp:
        assert resp.status == 201
        added = (await resp.json())["rules"]
    assert [r["spec"] for r in added] == [
        "refersion:affiliate/new=503x2",
        "destination=latency:0.01@0.5",
    ]


async def test_duplicate_ids_and_bad_json_are_refused(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    rule = {"id": "hook-down", "surface": "destination", "effect": "503"}
    assert (await add_rules(http, emulator, rule))[0] == 201
    status, body = await add_rules(http, emulator, rule)
    assert (status, body["code"]) == (400, "invalid_fault")
    assert "'hook-down' is already in force" in body["message"]
    async with http.post(f"{emulator.url}/_emulator/faults", data=b"{nope") as resp:
        assert (resp.status, (await resp.json())["code"]) == (400, "invalid_json")


async def test_status_fault_answers_like_refersion_and_says_it_is_injected(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    emulator.add_fault("refersion:affiliate/new=429:2x1")
    status, headers, body = await call_new(http, emulator)
    assert (status, headers["Retry-After"], headers[FAULT_HEADER]) == (429, "2", "f1")
    assert json.loads(body) == {
        "error": "You're making too many API calls. Please limit your usage."
    }
    # The next request is served normally: the rule was for one request only.
    status, headers, _ = await call_new(http, emulator)
    assert status == 200
    assert FAULT_HEADER not in headers
    assert emulator.runtime.store.count() == 1


async def test_fault_applies_only_to_its_endpoint(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    emulator.add_fault("refersion:affiliate/new=503")
    async with http.post(
        f"{emulator.refersion_url}/affiliate/list", json={}, headers=refersion_headers(emulator)
    ) as resp:
        assert resp.status == 200
    assert (await call_new(http, emulator))[0] == 503


async def test_reset_truncated_malformed_timeout_and_latency(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    emulator.add_fault("refersion:affiliate/new=resetx1")
    with pytest.raises((aiohttp.ClientOSError, aiohttp.ServerDisconnectedError)):
        await call_new(http, emulator)

    emulator.add_fault("refersion:affiliate/new=truncatedx1")
    with pytest.raises(aiohttp.ClientPayloadError):
        await call_new(http, emulator)

    emulator.add_fault("refersion:affiliate/new=malformedx1")
    status, _, body = await call_new(http, emulator)
    assert status == 200
    with pytest.raises(ValueError, match=r"Unterminated|Expecting"):
        json.loads(body)

    emulator.add_fault("refersion:affiliate/new=timeout:5x1")
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        await call_new(http, emulator, timeout=0.2)
    assert time.monotonic() - started < 2  # the client gave up; nothing answered

    emulator.add_fault("refersion:affiliate/new=latency:0.2x1")
    started = time.monotonic()
    status, _, _ = await call_new(http, emulator)
    assert status == 200  # delayed, then served for real
    assert time.monotonic() - started >= 0.2
    assert emulator.runtime.store.count() == 1
    assert [r["fired"] for r in emulator.runtime.faults.listing()] == [1, 1, 1, 1, 1]


async def identify_and_flush(http: aiohttp.ClientSession, emu: Emulator) -> dict[str, Any]:
    payload = {
        "writeKey": "wk",
        "userId": "u",
        "traits": {"name": "Peter Gibbons", "email": "peter@example.com"},
    }
    async with http.post(f"{emu.url}/v1/identify", json=payload) as resp:
        assert resp.status == 200
    async with http.post(f"{emu.url}/_emulator/flush") as resp:
        assert (await resp.json())["idle"] is True
    async with http.get(f"{emu.url}/_emulator/events", params={"full": "1"}) as resp:
        [trace] = (await resp.json())["events"]
    return dict(trace)


def delivery_labels(trace: dict[str, Any]) -> list[str]:
    return [h["detail"]["classification"] for h in trace["hops"] if h["name"] == "delivery"]


async def test_a_destination_that_is_down_is_retried_until_it_recovers(
    http: aiohttp.ClientSession,
) -> None:
    config = fast_config(retry_budget=30.0, delivery_timeout=0.3)
    async with Emulator(config) as emu:
        emu.add_fault("destination=503x2")
        emu.add_fault("destination=resetx1")
        emu.add_fault("destination=timeout:2x1")
        trace = await identify_and_flush(http, emu)
    assert delivery_labels(trace) == [
        "awaiting-retry.5xx",
        "awaiting-retry.5xx",
        "awaiting-retry.ECONNRESET",
        "awaiting-retry.ETIMEDOUT",
        "delivered",
    ]
    assert trace["outcome"] == "created"


async def test_refersion_failures_make_the_destination_ask_segment_to_retry(
    http: aiohttp.ClientSession,
) -> None:
    async with Emulator(fast_config(retry_budget=30.0, refersion_timeout=0.3)) as emu:
        emu.add_fault("refersion:affiliate/new=500x1")
        emu.add_fault("refersion:affiliate/new=502x1")
        emu.add_fault("refersion:affiliate/new=truncatedx1")
        emu.add_fault("refersion:affiliate/new=timeout:2x1")
        trace = await identify_and_flush(http, emu)
        affiliates = emu.runtime.store.all()
    refersion = [h for h in trace["hops"] if h["name"] == "refersion"]
    seen = [
        h["detail"]["response"]["status"] or h["detail"]["response"]["error"] for h in refersion
    ]
    assert seen == [500, 502, 200, "timeout", 200]
    assert refersion[2]["detail"]["response"]["error"] == "truncated body"
    assert delivery_labels(trace) == ["awaiting-retry.5xx"] * 4 + ["delivered"]
    assert trace["outcome"] == "created"
    assert len(affiliates) == 1


async def test_faults_from_configuration_and_the_python_api() -> None:
    config = fast_config(faults=(parse_fault_spec("refersion:affiliate/new=503x1"),))
    async with Emulator(config) as emu:
        assert [r.spec() for r in emu.faults] == ["refersion:affiliate/new=503x1"]
        added = emu.add_fault("destination=latency:0.01")
        assert added.id == "f2"
        assert emu.remove_fault("f2") is True
        emu.clear_faults()
        assert emu.faults == []


def test_serve_refuses_bad_options_in_one_line() -> None:
    code, _, err = cli("serve", "--port", "0", "--journal-cap", "0")
    assert (code, err) == (2, "error: journal_cap must be at least 1, got 0\n")


def test_serve_refuses_a_bad_fault_spec_in_one_line() -> None:
    code, out, err = cli("serve", "--port", "0", "--fault", "refersion:affiliate/new=503@2")
    assert (code, out) == (2, "")
    assert err == (
        "error: fault 'refersion:affiliate/new=503@2': probability: must be in (0, 1], got 2.0\n"
    )
