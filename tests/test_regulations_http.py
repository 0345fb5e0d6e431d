"""Regulations over loopback HTTP: deletes forwarded to Refersion, suppression, statuses, errors."""

from __future__ import annotations

import asyncio
import io
import re
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from emulator.segment.http.regulations_api import create_regulation
from emulator.segment.regulations.book import parse_regulation_request
from emulator.segment.timestamps import parse_timestamp
from emulator.server.emulator import Emulator
from tests.support import fast_config

PETER = {"name": "Peter Gibbons", "email": "peter@example.com"}


async def post(http: aiohttp.ClientSession, url: str, payload: Any) -> tuple[int, Any]:
    async with http.post(url, json=payload) as resp:
        return resp.status, await resp.json()


async def get(http: aiohttp.ClientSession, url: str) -> tuple[int, Any]:
    async with http.get(url) as resp:
        return resp.status, await resp.json()


async def identify(http: aiohttp.ClientSession, emu: Emulator, user_id: str) -> None:
    body = {"writeKey": "wk", "userId": user_id, "traits": PETER}
    assert await post(http, f"{emu.url}/v1/identify", body) == (200, {"success": True})


async def flush(http: aiohttp.ClientSession, emu: Emulator) -> None:
    status, body = await post(http, f"{emu.url}/_emulator/flush", {})
    assert (status, body["idle"]) == (200, True)


async def regulate(
    http: aiohttp.ClientSession, emu: Emulator, regulation_type: str, *ids: str
) -> str:
    body = {"regulationType": regulation_type, "subjectType": "USER_ID", "subjectIds": list(ids)}
    status, answer = await post(http, f"{emu.url}/regulations", body)
    assert status == 200, answer
    return str(answer["data"]["regulateId"])


async def regulation(http: aiohttp.ClientSession, emu: Emulator, reg_id: str) -> dict[str, Any]:
    status, answer = await get(http, f"{emu.url}/regulations/{reg_id}")
    assert status == 200
    return dict(answer["data"]["regulation"])


async def last_outcome(http: aiohttp.ClientSession, emu: Emulator, user_id: str) -> Any:
    _, answer = await get(http, f"{emu.url}/_emulator/events?userId={user_id}&limit=1&full=1")
    return answer["events"][0]


async def affiliate_count(http: aiohttp.ClientSession, emu: Emulator) -> int:
    _, answer = await get(http, f"{emu.url}/_emulator/affiliates")
    return int(answer["count"])


async def test_a_regulation_removes_the_affiliate_and_suppresses_later_identifies(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    await identify(http, emulator, "u-1")
    await flush(http, emulator)
    assert await affiliate_count(http, emulator) == 1

    reg_id = await regulate(http, emulator, "SUPPRESS_WITH_DELETE", "u-1")
    await flush(http, emulator)
    shown = await regulation(http, emulator, reg_id)
    assert shown["overallStatus"] == "FINISHED"
    [stream] = shown["streamStatus"]
    assert stream["id"] == emulator.config.source_id
    [destination] = stream["destinationStatus"]
    assert (destination["name"], destination["status"], destination["errString"]) == (
        "Refersion",
        "FINISHED",
        "",
    )
    assert parse_timestamp(shown["finishedAt"]) is not None
    assert await affiliate_count(http, emulator) == 0

    delete = await last_outcome(http, emulator, "u-1")
    assert delete["type"] == "delete"
    assert (delete["outcome"], delete["entry"]) == ("deleted", "regulation")
    message = delete["message"]
    assert message["channel"] == "server"
    assert message["context"] is message["integrations"] is None
    source = emulator.config.source_id
    assert message["messageId"] == f"delete-{reg_id}::job-1-{source}"
    go_time = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)? \+0000 UTC m=\+[\d.]+"
    assert re.fullmatch(go_time, message["originalTimestamp"])
    assert delete["violations"] == []

    await identify(http, emulator, "u-1")
    await flush(http, emulator)
    suppressed = await last_outcome(http, emulator, "u-1")
    assert (suppressed["outcome"], suppressed["reason"]) == ("suppressed", "user_suppressed")
    assert [hop["name"] for hop in suppressed["hops"]] == ["ingest", "suppression"]
    assert await affiliate_count(http, emulator) == 0

    await regulate(http, emulator, "UNSUPPRESS", "u-1")
    await identify(http, emulator, "u-1")
    await flush(http, emulator)
    assert (await last_outcome(http, emulator, "u-1"))["outcome"] == "created"


async def test_delete_only_deletes_without_suppressing(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    await identify(http, emulator, "u-1")
    await flush(http, emulator)
    await regulate(http, emulator, "DELETE_ONLY", "u-1", "never-seen")
    await flush(http, emulator)
    _, answer = await get(http, f"{emulator.url}/_emulator/events?type=delete")
    assert sorted(e["outcome"] for e in answer["events"]) == ["deleted", "not_found"]
    await identify(http, emulator, "u-1")
    await flush(http, emulator)
    assert (await last_outcome(http, emulator, "u-1"))["outcome"] == "created"


@pytest.mark.parametrize(
    "regulation_type",
    ["SUPPRESS_ONLY", "SUPPRESS_WITH_DELETE_INTERNAL", "DELETE_INTERNAL", "DELETE_ARCHIVE_ONLY"],
)
async def test_internal_regulations_forward_nothing(
    emulator: Emulator, http: aiohttp.ClientSession, regulation_type: str
) -> None:
    await identify(http, emulator, "u-1")
    await flush(http, emulator)
    reg_id = await regulate(http, emulator, regulation_type, "u-1")
    shown = await regulation(http, emulator, reg_id)
    assert (shown["overallStatus"], shown["streamStatus"]) == ("FINISHED", [])
    _, answer = await get(http, f"{emulator.url}/_emulator/events?type=delete")
    assert answer["events"] == []
    assert await affiliate_count(http, emulator) == 1
    await identify(http, emulator, "u-1")
    await flush(http, emulator)
    expected = "suppressed" if "SUPPRESS" in regulation_type else "already_exists"
    assert (await last_outcome(http, emulator, "u-1"))["outcome"] == expected


@pytest.fixture
async def held_destination() -> AsyncIterator[tuple[str, asyncio.Event, list[int]]]:
    """A destination that answers only once released, with the status at the end of a list."""
    release = asyncio.Event()
    answers = [200]

    async def handler(request: web.Request) -> web.Response:
        await release.wait()
        return web.json_response({"message": "ok"}, status=answers[-1])

    app = web.Application()
    app.router.add_post("/destination", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield f"http://127.0.0.1:{port}/destination", release, answers
    release.set()
    await runner.cleanup()


async def wait_for_status(
    http: aiohttp.ClientSession, emu: Emulator, reg_id: str, status: str
) -> dict[str, Any]:
    for _ in range(400):
        shown = await regulation(http, emu, reg_id)
        if shown["overallStatus"] == status:
            return shown
        await asyncio.sleep(0.005)
    raise AssertionError(f"regulation {reg_id} never reached {status}: {shown}")


@pytest.mark.parametrize(("answer", "final"), [(200, "FINISHED"), (400, "FAILED")])
async def test_statuses_move_initialized_running_then_finished_or_failed(
    http: aiohttp.ClientSession,
    held_destination: tuple[str, asyncio.Event, list[int]],
    answer: int,
    final: str,
) -> None:
    url, release, answers = held_destination
    answers.append(answer)
    async with Emulator(fast_config(destination_url=url)) as emu:
        request = parse_regulation_request(
            {"regulationType": "DELETE_ONLY", "subjectType": "USER_ID", "subjectIds": ["u-1"]}
        )
        created = create_regulation(emu.runtime, request)
        assert created.status()[0] == "INITIALIZED"
        await emu.runtime.accept_all(created.deliveries)
        running = await wait_for_status(http, emu, created.id, "RUNNING")
        assert running["streamStatus"][0]["destinationStatus"][0]["status"] == "RUNNING"
        assert running["finishedAt"] is None
        release.set()
        done = await wait_for_status(http, emu, created.id, final)
        destination = done["streamStatus"][0]["destinationStatus"][0]
        assert destination["status"] == final
        if final == "FAILED":
            assert "userId 'u-1': discarded" in destination["errString"]
        assert emu.app_errors == []


async def test_a_delete_that_expires_fails_the_regulation(http: aiohttp.ClientSession) -> None:
    config = fast_config(destination_url="http://127.0.0.1:9/destination", retry_budget=0.05)
    async with Emulator(config) as emu:
        reg_id = await regulate(http, emu, "SUPPRESS_WITH_DELETE", "u-1", "u-2")
        await flush(http, emu)
        shown = await regulation(http, emu, reg_id)
        assert shown["overallStatus"] == "FAILED"
        error = shown["streamStatus"][0]["destinationStatus"][0]["errString"]
        assert error.startswith("2 of 2 deletes failed: userId 'u-1': expired")


@pytest.mark.parametrize(
    ("payload", "field", "words"),
    [
        ({}, "regulationType", "regulationType must be one of"),
        (
            {"regulationType": "DELETE", "subjectType": "USER_ID", "subjectIds": ["u"]},
            "regulationType",
            "SUPPRESS_WITH_DELETE",
        ),
        ({"regulationType": "DELETE_ONLY", "subjectIds": ["u"]}, "subjectType", "USER_ID"),
        ({"regulationType": "DELETE_ONLY", "subjectType": "USER_ID"}, "subjectIds", "array"),
        (
            {"regulationType": "DELETE_ONLY", "subjectType": "USER_ID", "subjectIds": [1]},
            "subjectIds[0]",
            "non-empty string",
        ),
        (
            {
                "regulationType": "DELETE_ONLY",
                "subjectType": "USER_ID",
                "subjectIds": [str(i) for i in range(5001)],
            },
            "subjectIds",
            "at most 5000",
        ),
        (["DELETE_ONLY"], None, "JSON object"),
    ],
)
async def test_invalid_regulation_bodies_get_a_400_naming_the_field(
    emulator: Emulator, http: aiohttp.ClientSession, payload: Any, field: str | None, words: str
) -> None:
    status, answer = await post(http, f"{emulator.url}/regulations", payload)
    assert status == 400
    [error] = answer["errors"]
    assert (error["type"], error["status"], error.get("field")) == ("validation", 400, field)
    assert words in error["message"]
    assert len(emulator.runtime.regulations) == 0


@pytest.mark.parametrize(
    ("data", "status", "kind"),
    [
        (b"", 400, "empty_body"),
        (b"{nope", 400, "invalid_json"),
        (b'{"subjectIds": ["' + b"x" * (4 * 1024 * 1024) + b'"]}', 413, "request_too_large"),
    ],
)
async def test_unreadable_regulation_bodies_get_the_public_api_error_shape(
    emulator: Emulator, http: aiohttp.ClientSession, data: bytes, status: int, kind: str
) -> None:
    # A stream, as aiohttp warns against large raw bodies.
    async with http.post(f"{emulator.url}/regulations", data=io.BytesIO(data)) as resp:
        assert resp.status == status
        [error] = (await resp.json())["errors"]
    assert (error["type"], error["status"]) == (kind, status)


async def test_unknown_regulations_are_404_and_all_are_listed(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    status, answer = await get(http, f"{emulator.url}/regulations/nope")
    assert status == 404
    assert answer["errors"][0]["field"] == "regulateId"
    reg_id = await regulate(http, emulator, "SUPPRESS_ONLY", "u-1")
    _, listed = await get(http, f"{emulator.url}/regulations")
    assert [r["id"] for r in listed["data"]["regulations"]] == [reg_id]
    async with http.delete(f"{emulator.url}/regulations") as resp:
        assert resp.status == 405
        assert (await resp.json())["errors"][0]["type"] == "method_not_allowed"


async def test_reset_forgets_regulations_and_suppressions(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    reg_id = await regulate(http, emulator, "SUPPRESS_ONLY", "u-1")
    await post(http, f"{emulator.url}/_emulator/reset", {})
    status, _ = await get(http, f"{emulator.url}/regulations/{reg_id}")
    assert status == 404
    await identify(http, emulator, "u-1")
    await flush(http, emulator)
    assert (await last_outcome(http, emulator, "u-1"))["outcome"] == "created"
