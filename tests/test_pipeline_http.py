"""The whole pipeline over real loopback HTTP: Tracking API → delivery → destination → fake."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from emulator.server.emulator import Emulator
from tests.support import doc_event, fast_config

# The traits of the identify example on Segment's Refersion destination page.
DOC_TRAITS = doc_event("segment-docs/refersion-destination-identify.json")["traits"]


async def post_json(http: aiohttp.ClientSession, url: str, payload: Any) -> tuple[int, Any]:
    async with http.post(url, json=payload) as resp:
        return resp.status, await resp.json()


async def identify(
    http: aiohttp.ClientSession, emu: Emulator, user_id: str, traits: dict[str, Any], **extra: Any
) -> None:
    status, body = await post_json(
        http,
        f"{emu.url}/v1/identify",
        {"writeKey": "wk", "userId": user_id, "traits": traits, **extra},
    )
    assert (status, body) == (200, {"success": True})


async def flush(http: aiohttp.ClientSession, emu: Emulator) -> None:
    status, body = await post_json(http, f"{emu.url}/_emulator/flush", {})
    assert status == 200
    assert body["idle"] is True


async def events(http: aiohttp.ClientSession, emu: Emulator, **query: str) -> list[dict[str, Any]]:
    async with http.get(f"{emu.url}/_emulator/events", params={**query, "full": "1"}) as resp:
        assert resp.status == 200
        return list((await resp.json())["events"])


async def affiliates(http: aiohttp.ClientSession, emu: Emulator) -> list[dict[str, Any]]:
    async with http.get(f"{emu.url}/_emulator/affiliates") as resp:
        return list((await resp.json())["affiliates"])


async def test_identify_becomes_an_affiliate_with_every_hop_journaled(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    await identify(http, emulator, "97980cfea0067", DOC_TRAITS)
    await flush(http, emulator)
    [affiliate] = await affiliates(http, emulator)
    assert affiliate["first_name"] == "Peter"
    assert affiliate["last_name"] == "Gibbons"
    assert affiliate["email"] == "peter@example.com"
    assert affiliate["zip"] == "94103"
    assert affiliate["country"] == "US"
    assert affiliate["address1"] == "6th St"
    assert affiliate["unique_merchant_id"] == "97980cfea0067"
    assert affiliate["status"] == "PENDING"
    assert "password" not in json.dumps(affiliate)

    [trace] = await events(http, emulator)
    assert trace["outcome"] == "created"
    assert [hop["name"] for hop in trace["hops"]] == [
        "ingest",
        "routing",
        "delivery",
        "receive",
        "mapping",
        "refersion",
        "answer",
    ]
    assert trace["violations"] == []
    refersion_hop = trace["hops"][5]
    sent = refersion_hop["detail"]["request"]
    assert sent["body"]["password"].startswith("<generated")
    assert "…" in sent["headers"]["Refersion-Secret-Key"]
    assert refersion_hop["detail"]["response"]["status"] == 200


async def test_repeated_identify_is_already_exists_and_delete_removes(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    await identify(http, emulator, "u1", DOC_TRAITS)
    await identify(http, emulator, "u1", {**DOC_TRAITS, "plan": "gold"})
    await flush(http, emulator)
    outcomes = [t["outcome"] for t in await events(http, emulator)]
    assert outcomes == ["already_exists", "created"]  # newest first
    assert len(await affiliates(http, emulator)) == 1

    delete: dict[str, Any] = {
        "type": "delete",
        "userId": "u1",
        "messageId": "delete-1",
        "context": [],
        "integrations": None,
    }
    status, body = await post_json(http, f"{emulator.url}/_emulator/deliver", delete)
    assert status == 200
    assert body["events"][0]["outcome"] == "deleted"
    assert await affiliates(http, emulator) == []

    again = {**delete, "messageId": "delete-2"}
    status, body = await post_json(http, f"{emulator.url}/_emulator/deliver", again)
    assert body["events"][0]["outcome"] == "not_found"


async def test_filtered_duplicate_and_ingest_rejected_are_journaled_not_delivered(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    batch = {
        "writeKey": "wk",
        "batch": [
            {"type": "track", "userId": "u", "event": "Signed Up"},
            {
                "type": "identify",
                "userId": "u",
                "traits": DOC_TRAITS,
                "integrations": {"Refersion": False},
            },
            {"type": "identify", "userId": "u", "traits": DOC_TRAITS, "messageId": "same"},
            {"type": "identify", "userId": "u", "traits": DOC_TRAITS, "messageId": "same"},
            {"type": "identify", "traits": DOC_TRAITS},
        ],
    }
    status, _ = await post_json(http, f"{emulator.url}/v1/batch", batch)
    assert status == 200
    await flush(http, emulator)
    found = list(reversed(await events(http, emulator)))
    assert [(t["outcome"], t["reason"]) for t in found] == [
        ("filtered", "UNSUPPORTED_EVENT_TYPE"),
        ("filtered", "FILTERED_BY_INTEGRATIONS_OBJECT"),
        ("created", None),
        ("duplicate", "duplicate_message_id"),
        ("ingest_rejected", "no_user_anon_id"),
    ]
    async with http.get(f"{emulator.url}/_emulator/report") as resp:
        report = await resp.json()
    assert report["accepted"] == 5
    assert report["pending"] == 0
    assert sum(report["outcomes"].values()) == 5


async def test_mapping_rejection_is_a_400_that_segment_discards(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    await identify(http, emulator, "u2", {"name": "Cher", "email": "cher@example.com"})
    await flush(http, emulator)
    [trace] = await events(http, emulator)
    assert (trace["outcome"], trace["reason"]) == ("rejected", "name_incomplete")
    delivery = next(h for h in trace["hops"] if h["name"] == "delivery")
    assert delivery["detail"]["response"]["status"] == 400
    assert delivery["detail"]["classification"] == "discarded.400"
    assert trace["attempts"] == 1
    assert not any(h["name"] == "refersion" for h in trace["hops"])
    assert await affiliates(http, emulator) == []


async def test_events_can_be_filtered(emulator: Emulator, http: aiohttp.ClientSession) -> None:
    await identify(http, emulator, "a", {**DOC_TRAITS, "email": "a@example.com"})
    await identify(http, emulator, "b", {"name": "Solo", "email": "b@example.com"})
    await flush(http, emulator)
    assert [t["userId"] for t in await events(http, emulator, outcome="created")] == ["a"]
    assert [t["userId"] for t in await events(http, emulator, userId="b")] == ["b"]
    assert [t["userId"] for t in await events(http, emulator, email="b@example.com")] == ["b"]
    async with http.get(f"{emulator.url}/_emulator/events", params={"outcome": "nope"}) as resp:
        assert resp.status == 400
        assert "outcome" in (await resp.json())["message"]


async def test_reset_clears_journal_and_affiliates(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    await identify(http, emulator, "u", DOC_TRAITS)
    await flush(http, emulator)
    status, _ = await post_json(http, f"{emulator.url}/_emulator/reset", {})
    assert status == 200
    assert await events(http, emulator) == []
    assert await affiliates(http, emulator) == []
    # Dedupe memory is reset too: the same messageId is delivered again.
    await identify(http, emulator, "u", DOC_TRAITS, messageId="m")
    await flush(http, emulator)
    assert (await events(http, emulator))[0]["outcome"] == "created"


class Receiver:
    """A stand-in partner endpoint that records what Segment sends and answers as told."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses = statuses
        self.requests: list[tuple[dict[str, str], Any]] = []

    async def handle(self, request: web.Request) -> web.Response:
        self.requests.append((dict(request.headers), await request.json()))
        status = self.statuses.pop(0) if self.statuses else 200
        return web.json_response({"message": f"answered {status}"}, status=status)


@pytest.fixture
async def receiver_url() -> AsyncIterator[tuple[Receiver, str]]:
    receiver = Receiver([])
    app = web.Application()
    app.router.add_post("/hook", receiver.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    yield receiver, f"http://{host}:{port}/hook"
    await runner.cleanup()


async def test_delivery_to_an_external_receiver_has_segments_headers(
    receiver_url: tuple[Receiver, str], http: aiohttp.ClientSession
) -> None:
    receiver, url = receiver_url
    config = fast_config(destination_url=url, api_key="pub_1.sec_2")
    async with Emulator(config) as emu:
        await identify(http, emu, "u", DOC_TRAITS)
        await flush(http, emu)
        [trace] = await events(http, emu)
    [(headers, body)] = receiver.requests
    assert headers["Authorization"] == "Basic " + base64.b64encode(b"pub_1.sec_2:").decode()
    assert headers["User-Agent"] == "Segment.io/1.0"
    assert headers["Content-Type"] == "application/json"
    assert body["userId"] == "u"
    assert body["type"] == "identify"
    assert trace["outcome"] == "delivered"
    assert "sec_2" not in json.dumps(trace)


@pytest.mark.parametrize(
    ("statuses", "outcome", "attempts"),
    [
        ([500, 503, 200], "delivered", 3),
        ([429, 200], "delivered", 2),
        ([404], "discarded", 1),
        ([403], "discarded", 1),
        ([500] * 100, "expired", None),
    ],
)
async def test_segment_retries_5xx_and_429_and_discards_4xx(
    receiver_url: tuple[Receiver, str],
    http: aiohttp.ClientSession,
    statuses: list[int],
    outcome: str,
    attempts: int | None,
) -> None:
    receiver, url = receiver_url
    receiver.statuses = list(statuses)
    config = fast_config(destination_url=url, retry_budget=0.3)
    async with Emulator(config) as emu:
        await identify(http, emu, "u", DOC_TRAITS)
        await flush(http, emu)
        [trace] = await events(http, emu)
    assert trace["outcome"] == outcome
    if attempts is not None:
        assert trace["attempts"] == attempts == len(receiver.requests)
    else:
        assert trace["attempts"] >= 3
        assert trace["hops"][-1]["name"] == "expired"


async def test_unreachable_destination_is_retried_with_connection_errors(
    http: aiohttp.ClientSession,
) -> None:
    config = fast_config(destination_url="http://127.0.0.1:9/destination", retry_budget=0.2)
    async with Emulator(config) as emu:
        await identify(http, emu, "u", DOC_TRAITS)
        await flush(http, emu)
        [trace] = await events(http, emu)
    assert trace["outcome"] == "expired"
    labels = {h["detail"].get("classification") for h in trace["hops"] if h["name"] == "delivery"}
    assert labels == {"awaiting-retry.ECONNREFUSED"}


async def test_wrong_api_key_setting_is_a_401_and_discarded(http: aiohttp.ClientSession) -> None:
    async with Emulator(fast_config(api_key="no-dot-here")) as emu:
        await identify(http, emu, "u", DOC_TRAITS)
        await flush(http, emu)
        [trace] = await events(http, emu)
    assert (trace["outcome"], trace["reason"]) == ("unauthorized", "invalid_api_key")
    assert "no-dot-here" not in json.dumps(trace)


async def test_key_refersion_does_not_know_is_unauthorized(http: aiohttp.ClientSession) -> None:
    async with Emulator(fast_config(api_key="pub_x.sec_wrong")) as emu:
        await identify(http, emu, "u", DOC_TRAITS)
        await flush(http, emu)
        [trace] = await events(http, emu)
    assert trace["outcome"] == "unauthorized"
    refersion = next(h for h in trace["hops"] if h["name"] == "refersion")
    assert refersion["detail"]["response"]["status"] == 401
    assert "sec_wrong" not in json.dumps(trace)


async def test_write_key_option_drops_other_keys(http: aiohttp.ClientSession) -> None:
    async with Emulator(fast_config(write_key="right")) as emu:
        status, _ = await post_json(
            http,
            f"{emu.url}/v1/identify",
            {"writeKey": "wrong", "userId": "u", "traits": DOC_TRAITS},
        )
        assert status == 200  # Segment accepts and drops silently
        [trace] = await events(http, emu)
    assert (trace["outcome"], trace["reason"]) == ("ingest_rejected", "project_not_found")


async def test_direct_post_to_destination_is_journaled_with_its_outcome(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    key = emulator.runtime.config.effective_api_key
    auth = {"Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode()}
    message = {"type": "identify", "userId": "d", "messageId": "direct-1", "traits": DOC_TRAITS}
    async with http.post(f"{emulator.url}/destination", json=message, headers=auth) as resp:
        assert resp.status == 200
        assert (await resp.json())["outcome"] == "created"
    async with http.post(
        f"{emulator.url}/destination", json={**message, "type": "track"}, headers=auth
    ) as resp:
        assert resp.status == 501
        assert (await resp.json())["message"] == "Unsupported event type"
    traces = await events(http, emulator)
    assert [t["entry"] for t in traces] == ["destination", "destination"]
    assert [t["outcome"] for t in traces] == ["rejected", "created"]


async def test_a_delivered_message_without_message_id_gets_one_and_a_single_trace(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    message = {"type": "identify", "userId": "nomid", "traits": DOC_TRAITS}
    status, body = await post_json(http, f"{emulator.url}/_emulator/deliver", message)
    assert status == 200
    [trace] = body["events"]
    assert trace["outcome"] == "created"
    assert trace["messageId"].startswith("emulator-")
    assert len(await events(http, emulator)) == 1


async def test_empty_array_context_and_integrations_are_none_given_through_the_tracking_api(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    await identify(http, emulator, "arrays", DOC_TRAITS, context=[], integrations=[])
    await flush(http, emulator)
    [event] = await events(http, emulator)
    assert event["outcome"] == "created"
    [affiliate] = await affiliates(http, emulator)
    assert affiliate["unique_merchant_id"] == "arrays"


@pytest.mark.parametrize("api_key", ["", "   "])
async def test_an_empty_api_key_setting_is_discarded_as_invalid_settings_and_never_sent(
    receiver_url: tuple[Receiver, str], http: aiohttp.ClientSession, api_key: str
) -> None:
    receiver, url = receiver_url
    async with Emulator(fast_config(destination_url=url, api_key=api_key)) as emu:
        await identify(http, emu, "u", DOC_TRAITS)
        await flush(http, emu)
        [trace] = await events(http, emu)
    assert receiver.requests == []
    assert (trace["outcome"], trace["reason"]) == ("discarded", "INVALID_SETTINGS")
    assert trace["attempts"] == 0
    [delivery] = [hop for hop in trace["hops"] if hop["name"] == "delivery"]
    assert delivery["ok"] is False
    assert delivery["detail"]["classification"] == "discarded.INVALID_SETTINGS"
