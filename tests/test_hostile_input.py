"""Bad input on every HTTP surface: a clear 4xx JSON error, never a 5xx, nothing accepted lost."""

from __future__ import annotations

import gzip
import io
import json
from typing import Any

import aiohttp
import pytest

from emulator.server.emulator import Emulator

PEOPLE = {"name": "Peter Gibbons", "email": "peter@example.com"}

DEEP = b"[" * 50_000 + b"]" * 50_000
HOSTILE_BODIES: list[tuple[str, bytes]] = [
    ("invalid-json", b'{"type": "identify",'),
    ("empty", b""),
    ("whitespace", b"   \n"),
    ("invalid-utf8", b'{"userId": "\xff\xfe"}'),
    ("invalid-utf8-outside-a-string", b'{"userId": \xff"x"}'),
    ("json-array", b"[1, 2, 3]"),
    ("json-string", b'"hello"'),
    ("json-null", b"null"),
    ("deep-nesting", b'{"a": ' + DEEP[:20_000] + DEEP[-20_000:] + b"}"),
    ("nul-bytes", b"\x00\x00\x00"),
]


def refersion_headers(emu: Emulator) -> dict[str, str]:
    creds = emu.runtime.config.credentials
    return {"Refersion-Public-Key": creds.public_key, "Refersion-Secret-Key": creds.secret_key}


def destination_headers(emu: Emulator) -> dict[str, str]:
    import base64

    key = emu.runtime.config.effective_api_key
    return {"Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode()}


ENDPOINTS = [
    "/v1/identify",
    "/v1/batch",
    "/destination",
    "/refersion/v2/affiliate/new",
    "/refersion/v2/affiliate/get",
    "/_emulator/deliver",
]


async def seed_affiliate(emu: Emulator, http: aiohttp.ClientSession) -> None:
    payload = {"writeKey": "wk", "userId": "keeper", "traits": PEOPLE}
    async with http.post(f"{emu.url}/v1/identify", json=payload) as resp:
        assert resp.status == 200
    assert await emu.runtime.pipeline.wait_idle(5)
    assert emu.runtime.store.count() == 1


async def assert_clear_4xx(resp: aiohttp.ClientResponse, *, path: str) -> dict[str, Any]:
    assert 400 <= resp.status < 500, f"{path} answered {resp.status}"
    assert resp.content_type == "application/json"
    body = await resp.json()
    text = body.get("message") or body.get("error")
    assert isinstance(text, str), f"{path} error body names no problem: {body}"
    assert text
    return dict(body)


# Under invalid-unicode=replace (the default) Segment's entrances read invalid UTF-8 inside a
# string as U+FFFD and accept the message, as Go does: tests/test_invalid_unicode.py.
_REPLACED = {("invalid-utf8", "/_emulator/deliver")}


@pytest.mark.parametrize(
    ("path", "label", "raw"),
    [
        pytest.param(path, label, raw, id=f"{label}-{path}")
        for label, raw in HOSTILE_BODIES
        for path in ENDPOINTS
        if (label, path) not in _REPLACED
    ],
)
async def test_hostile_bodies_get_a_clear_4xx_and_lose_nothing(
    emulator: Emulator, http: aiohttp.ClientSession, path: str, label: str, raw: bytes
) -> None:
    await seed_affiliate(emulator, http)
    headers = {"Content-Type": "application/json"}
    if path.startswith("/refersion"):
        headers |= refersion_headers(emulator)
    if path == "/destination":
        headers |= destination_headers(emulator)
    async with http.post(emulator.url + path, data=raw, headers=headers) as resp:
        await assert_clear_4xx(resp, path=path)
    assert emulator.runtime.store.count() == 1
    assert any(t.user_id == "keeper" and t.outcome == "created" for t in emulator.runtime.journal)


@pytest.mark.parametrize(
    ("path", "limit"),
    [
        ("/v1/identify", 32 * 1024),
        ("/v1/batch", 500 * 1024),
        ("/destination", 512 * 1024),
        ("/refersion/v2/affiliate/new", 1024 * 1024),
        ("/_emulator/deliver", 4 * 1024 * 1024),
    ],
)
async def test_bodies_over_the_limit_are_refused(
    emulator: Emulator, http: aiohttp.ClientSession, path: str, limit: int
) -> None:
    raw = json.dumps({"writeKey": "wk", "userId": "u", "pad": "x" * limit}).encode()
    headers = refersion_headers(emulator) if path.startswith("/refersion") else {}
    async with http.post(emulator.url + path, data=io.BytesIO(raw), headers=headers) as resp:
        body = await assert_clear_4xx(resp, path=path)
    assert str(limit) in (body.get("message") or body.get("error") or "")


async def test_a_gzip_bomb_is_refused_without_inflating_it(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    bomb = gzip.compress(b'{"batch": [' + b" " * (50 * 1024 * 1024) + b"]}", compresslevel=9)
    assert len(bomb) < 100 * 1024
    headers = {"Content-Encoding": "gzip", "Content-Type": "application/json"}
    async with http.post(
        f"{emulator.url}/v1/batch", data=io.BytesIO(bomb), headers=headers
    ) as resp:
        body = await assert_clear_4xx(resp, path="/v1/batch")
    assert body["code"] == "request_too_large"


async def test_gzip_bodies_are_accepted(emulator: Emulator, http: aiohttp.ClientSession) -> None:
    payload = {"writeKey": "wk", "batch": [{"type": "identify", "userId": "g", "traits": PEOPLE}]}
    raw = gzip.compress(json.dumps(payload).encode())
    headers = {"Content-Encoding": "gzip", "Content-Type": "application/json"}
    async with http.post(f"{emulator.url}/v1/batch", data=raw, headers=headers) as resp:
        assert resp.status == 200
    assert await emulator.runtime.pipeline.wait_idle(5)
    assert emulator.runtime.store.count() == 1


async def test_corrupt_gzip_is_a_400(emulator: Emulator, http: aiohttp.ClientSession) -> None:
    headers = {"Content-Encoding": "gzip", "Content-Type": "application/json"}
    async with http.post(f"{emulator.url}/v1/batch", data=b"not gzip", headers=headers) as resp:
        await assert_clear_4xx(resp, path="/v1/batch")


async def test_wrong_content_type_on_the_tracking_api(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    form = {"writeKey": "wk", "userId": "u"}
    async with http.post(f"{emulator.url}/v1/identify", data=form) as resp:
        body = await assert_clear_4xx(resp, path="/v1/identify")
    assert body["code"] == "invalid_content_type"


WRONG_TYPES: list[Any] = [None, True, 0, -1.5, "", "x" * 10_000, [], [1], {}, {"a": {"b": []}}]


@pytest.mark.parametrize(
    "field",
    [
        "userId",
        "anonymousId",
        "traits",
        "context",
        "integrations",
        "messageId",
        "timestamp",
        "type",
    ],
)
@pytest.mark.parametrize("value", WRONG_TYPES, ids=[f"v{i}" for i in range(len(WRONG_TYPES))])
async def test_wrong_types_in_every_field_never_break_the_pipeline(
    emulator: Emulator, http: aiohttp.ClientSession, field: str, value: Any
) -> None:
    message = {"type": "identify", "userId": "u", "traits": {**PEOPLE, "email": "w@example.com"}}
    message[field] = value
    async with http.post(
        f"{emulator.url}/v1/batch", json={"writeKey": "wk", "batch": [message]}
    ) as resp:
        assert resp.status == 200  # Segment accepts; problems show per event in the journal
    delete = {"type": "delete", "userId": "u", "messageId": f"d-{field}", field: value}
    async with http.post(f"{emulator.url}/_emulator/deliver", json=delete) as resp:
        assert resp.status == 200
    async with http.post(
        f"{emulator.url}/destination", json=message, headers=destination_headers(emulator)
    ) as resp:
        assert resp.status < 500 or resp.status == 501 or resp.status == 503
        assert "message" in await resp.json()
    assert await emulator.runtime.pipeline.wait_idle(5)
    assert all(t.final for t in emulator.runtime.journal)


async def test_html_in_names_is_stored_as_text(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    traits = {
        "firstName": "<img src=x onerror=alert(1)>",
        "lastName": "<script>",
        "email": "x@example.com",
    }
    async with http.post(
        f"{emulator.url}/v1/identify", json={"writeKey": "k", "userId": "x", "traits": traits}
    ) as resp:
        assert resp.status == 200
    assert await emulator.runtime.pipeline.wait_idle(5)
    [affiliate] = emulator.runtime.store.all()
    assert affiliate.first_name == "<img src=x onerror=alert(1)>"


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/v1/identify", 405),
        ("POST", "/v1/nope", 404),
        ("GET", "/refersion/v2/affiliate/new", 405),
        ("POST", "/refersion/v2/affiliate/explode", 404),
        ("GET", "/nowhere", 404),
        ("DELETE", "/_emulator/events", 405),
        ("GET", "/_emulator/events/t999999", 404),
        ("GET", "/_emulator/events?limit=0", 400),
        ("POST", "/_emulator/flush?timeout=abc", 400),
    ],
)
async def test_unknown_routes_and_methods_are_json(
    emulator: Emulator, http: aiohttp.ClientSession, method: str, path: str, status: int
) -> None:
    headers = refersion_headers(emulator) if path.startswith("/refersion") else {}
    async with http.request(method, emulator.url + path, headers=headers, data=b"{}") as resp:
        assert resp.status == status
        body = await resp.json()
        assert body.get("message") or body.get("error")
