"""Engage syncs end to end over loopback: control API → pipeline → destination → fake Refersion."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from emulator.segment.engage.simulator import EngageSimulator
from emulator.server.emulator import Emulator

KEY = "order_completed_last_30days"
ADA = {
    "userId": "u-ada",
    "email": "ada@example.com",
    "traits": {"first_name": "Ada", "last_name": "Lovelace"},
}
BOB = {"userId": "u-bob", "email": "bob@example.com", "traits": {"name": "Bob Stone"}}
NO_NAME = {"userId": "u-cy", "email": "cy@example.com"}


async def post(http: aiohttp.ClientSession, url: str, payload: Any) -> tuple[int, Any]:
    async with http.post(url, json=payload) as resp:
        return resp.status, await resp.json()


async def affiliates(http: aiohttp.ClientSession, emu: Emulator) -> list[dict[str, Any]]:
    async with http.get(f"{emu.url}/_emulator/affiliates") as resp:
        return list((await resp.json())["affiliates"])


async def define(http: aiohttp.ClientSession, emu: Emulator, **definition: Any) -> str:
    body = {"name": "Order Completed Last 30 Days", **definition}
    status, answer = await post(http, f"{emu.url}/_emulator/engage/audiences", body)
    assert status == 201, answer
    return str(answer["audience"]["key"])


async def sync(
    http: aiohttp.ClientSession, emu: Emulator, members: list[dict[str, Any]]
) -> dict[str, Any]:
    url = f"{emu.url}/_emulator/engage/audiences/{KEY}/sync"
    status, answer = await post(http, url, {"members": members})
    assert status == 200, answer
    return dict(answer)


def outcomes(answer: dict[str, Any]) -> list[tuple[str, str, str | None]]:
    return [(e["userId"], e["outcome"], e["reason"]) for e in answer["events"]]


async def test_an_audience_syncs_to_refersion_members_then_changes(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    key = await define(http, emulator, includeTraits=["first_name", "last_name", "name"])
    assert key == KEY
    first = await sync(http, emulator, [ADA, BOB])
    assert first["sync"]["kind"] == "initial"
    assert outcomes(first) == [("u-ada", "created", None), ("u-bob", "created", None)]
    assert [e["hops"][0]["name"] for e in first["events"]] == ["engage", "engage"]
    assert all(e["violations"] == [] for e in first["events"])
    found = await affiliates(http, emulator)
    assert sorted((a["email"], a["unique_merchant_id"]) for a in found) == [
        ("ada@example.com", "u-ada"),
        ("bob@example.com", "u-bob"),
    ]

    # Bob leaves: one identify with the key false, which creates and deletes nothing.
    second = await sync(http, emulator, [ADA])
    assert second["sync"]["kind"] == "incremental"
    assert outcomes(second) == [("u-bob", "skipped", "audience_exited")]
    assert second["events"][0]["message"]["traits"][KEY] is False
    assert len(await affiliates(http, emulator)) == 2

    # Bob comes back: Refersion already has him, so the affiliate is not duplicated.
    third = await sync(http, emulator, [ADA, BOB])
    assert outcomes(third) == [("u-bob", "already_exists", "email_taken")]
    assert len(await affiliates(http, emulator)) == 2


async def test_members_without_email_or_name_are_rejected_with_the_audience_fix(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    await define(http, emulator)  # no Include traits: Engage sends only key and identifiers
    answer = await sync(http, emulator, [ADA, {"userId": "u-anon"}])
    assert outcomes(answer) == [
        ("u-ada", "rejected", "missing_name"),
        ("u-anon", "rejected", "missing_email"),
    ]
    mapping_hops = [
        hop for event in answer["events"] for hop in event["hops"] if hop["name"] == "mapping"
    ]
    assert "add first_name and last_name" in mapping_hops[0]["detail"]["fix"]
    assert "Include traits" in mapping_hops[0]["detail"]["fix"]
    assert "identifier (ID sync)" in mapping_hops[1]["detail"]["fix"]
    answer_hop = answer["events"][0]["hops"][-1]
    assert answer_hop["detail"]["status"] == 400
    assert KEY in answer_hop["detail"]["body"]["fix"]
    assert await affiliates(http, emulator) == []


async def test_a_profile_with_two_emails_becomes_two_refersion_affiliates(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    await define(http, emulator, includeTraits=["first_name", "last_name"])
    two = {**ADA, "email": None, "emails": ["ada@example.com", "ada@work.example.com"]}
    answer = await sync(http, emulator, [two])
    assert [e["outcome"] for e in answer["events"]] == ["created", "created"]
    emails = sorted(a["email"] for a in await affiliates(http, emulator))
    assert emails == ["ada@example.com", "ada@work.example.com"]


async def test_the_python_api_syncs_a_computed_trait(emulator: Emulator) -> None:
    engage = EngageSimulator(emulator.runtime)
    trait = engage.define(
        {"name": "Lifetime Value", "computationClass": "trait", "includeTraits": ["name"]}
    )
    member = {**BOB, "value": 120.5}
    run = await engage.sync(trait.key, [member])
    assert run.outcomes() == ["created"]
    assert run.traces[0].message["traits"]["lifetime_value"] == 120.5
    unchanged = await engage.sync(trait.key, [member])
    assert unchanged.outcomes() == []


@pytest.mark.parametrize(
    ("path", "payload", "status", "words"),
    [
        ("audiences", {"name": ""}, 400, "name is required"),
        ("audiences", {"name": "VIP", "includeTraits": "email"}, 400, "includeTraits"),
        ("audiences", [1], 400, "JSON object"),
        ("audiences", {"name": "Order Completed Last 30 Days"}, 409, "exists"),
        (f"audiences/{KEY}/sync", {"members": "u-1"}, 400, "array of profiles"),
        (f"audiences/{KEY}/sync", {"members": [{"email": "a@b.c"}]}, 400, "members[0]"),
        (f"audiences/{KEY}/sync", {"members": [], "when": 1}, 400, "unknown field when"),
        (f"audiences/{KEY}/sync", {"members": [], "at": "yesterday"}, 400, "ISO 8601"),
        (f"audiences/{KEY}/sync", {"members": [], "at": "0001-01-01T00:00+01:00"}, 400, "ISO"),
        (f"audiences/{KEY}/sync", {"members": [], "at": "9999-12-31T12:00:00Z"}, 400, "9999"),
        (f"audiences/{KEY}/sync", {"users": []}, 400, "members"),
        ("audiences/nope/sync", [], 404, "no Engage audience"),
    ],
)
async def test_bad_engage_requests_get_a_clear_4xx(
    emulator: Emulator,
    http: aiohttp.ClientSession,
    path: str,
    payload: Any,
    status: int,
    words: str,
) -> None:
    await define(http, emulator)
    got, answer = await post(http, f"{emulator.url}/_emulator/engage/{path}", payload)
    assert got == status
    assert words in answer["message"]
    assert answer["code"]


async def test_audiences_are_listed_and_cleared_by_reset(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    await define(http, emulator, key="vip")
    async with http.get(f"{emulator.url}/_emulator/engage/audiences") as resp:
        listed = await resp.json()
    assert [a["key"] for a in listed["audiences"]] == ["vip"]
    assert listed["spaceId"].startswith("spa_")
    await post(http, f"{emulator.url}/_emulator/reset", {})
    async with http.get(f"{emulator.url}/_emulator/engage/audiences") as resp:
        assert (await resp.json())["audiences"] == []
