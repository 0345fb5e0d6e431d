"""JSON limits: depth, string length and fields per object, refused with a 4xx naming the limit."""

from __future__ import annotations

import base64
import io
import json
from typing import Any

import aiohttp
import pytest
from hypothesis import given
from hypothesis import strategies as st

from emulator.json_limits import (
    SEGMENT_BATCH_BYTES,
    JsonLimitExceeded,
    JsonLimits,
    check_json_limits,
)
from emulator.segment.ingest import TrackingRequestError, parse_tracking_request
from emulator.server.emulator import Emulator

LIMITS = JsonLimits()


def nested(depth: int) -> Any:
    """An object ``depth`` levels deep (the outermost object is level 1)."""
    value: Any = {}
    for _ in range(depth - 1):
        value = {"a": value}
    return value


# -- the pure checker ------------------------------------------------------------------------


def test_width_and_string_limits_cannot_be_reached_within_segments_batch_size() -> None:
    # The smallest object member is 4 bytes plus a comma; the smallest string is 2 quotes.
    assert LIMITS.max_object_fields * 5 > SEGMENT_BATCH_BYTES
    assert LIMITS.max_string_length + 2 > SEGMENT_BATCH_BYTES
    # Far above any real message (a 2,500-event batch nests five levels deep).
    assert LIMITS.max_depth >= 500


@pytest.mark.parametrize(
    ("value", "code", "pointer", "limit_name"),
    [
        (nested(513), "too_deep", "/a" * 512, "max_depth"),
        ({"traits": {"bio": "x" * 512_001}}, "string_too_long", "/traits/bio", "max_string_length"),
        ({"k" * 512_001: 1}, "string_too_long", "/" + "k" * 512_001, "max_string_length"),
        (
            {"traits": {f"f{i}": i for i in range(128_001)}},
            "too_many_fields",
            "/traits",
            "fields",
        ),
        ([[[["x" * 600_000]]]], "string_too_long", "/0/0/0/0", "max_string_length"),
    ],
)
def test_each_limit_names_itself_and_where(
    value: Any, code: str, pointer: str, limit_name: str
) -> None:
    with pytest.raises(JsonLimitExceeded) as caught:
        check_json_limits(value)
    assert caught.value.code == code
    assert caught.value.pointer == pointer
    assert limit_name in str(caught.value)


@pytest.mark.parametrize(
    "value",
    [
        nested(512),
        {"s": "x" * 512_000},
        {f"f{i}": i for i in range(128_000)},
        [{"type": "identify"}] * 2500,
        None,
        12,
    ],
)
def test_values_at_the_limits_pass(value: Any) -> None:
    check_json_limits(value)


def test_a_document_deeper_than_python_recursion_is_measured() -> None:
    value: Any = []
    for _ in range(100_000):
        value = [value]
    with pytest.raises(JsonLimitExceeded, match="deeper than 512 levels"):
        check_json_limits(value)


def test_long_pointers_are_shortened_in_the_message() -> None:
    with pytest.raises(JsonLimitExceeded) as caught:
        check_json_limits({"k" * 500: "x" * 600_000})
    assert len(str(caught.value)) < 300
    assert "…" in str(caught.value)


@given(
    st.recursive(
        st.text(max_size=5),
        lambda inner: st.lists(inner) | st.dictionaries(st.text(max_size=3), inner),
        max_leaves=20,
    )
)
def test_small_documents_always_pass(value: Any) -> None:
    check_json_limits(value)


def test_custom_limits_apply() -> None:
    with pytest.raises(JsonLimitExceeded, match="limit is 2 fields"):
        check_json_limits({"a": 1, "b": 2, "c": 3}, JsonLimits(max_object_fields=2))


def test_ingest_applies_them_after_segments_own_checks() -> None:
    deep = json.dumps({"writeKey": "k", "userId": "u", "traits": nested(600)}).encode()
    with pytest.raises(TrackingRequestError) as caught:
        parse_tracking_request("identify", deep)
    assert caught.value.code == "too_deep"
    too_many = json.dumps({"writeKey": "k", "batch": [{"type": "track"}] * 2501}).encode()
    with pytest.raises(TrackingRequestError) as refused:
        parse_tracking_request("batch", too_many)
    assert refused.value.code == "batch_too_large"


# -- over HTTP, on every surface -------------------------------------------------------------

FIELDS = {"writeKey": "wk", "userId": "u", "type": "identify"}
OVER_LIMIT: list[tuple[str, dict[str, Any], str]] = [
    ("depth", {**FIELDS, "traits": nested(600)}, "too_deep"),
    ("string", {**FIELDS, "traits": {"bio": "x" * 600_000}}, "string_too_long"),
    ("fields", {**FIELDS, "traits": {f"f{i}": 0 for i in range(130_000)}}, "too_many_fields"),
]


def auth_headers(emu: Emulator, path: str) -> dict[str, str]:
    config = emu.runtime.config
    if path.startswith("/refersion/"):
        return {
            "Refersion-Public-Key": config.credentials.public_key,
            "Refersion-Secret-Key": config.credentials.secret_key,
        }
    if path == "/destination":
        basic = base64.b64encode(f"{config.effective_api_key}:".encode()).decode()
        return {"Authorization": f"Basic {basic}"}
    return {}


WORDS = {"too_deep": "deeper", "string_too_long": "string", "too_many_fields": "fields"}
SURFACES = [
    "/v1/batch",
    "/destination",
    "/_emulator/deliver",
    "/refersion/v2/affiliate/new",
    "/refersion/v2/affiliate/delete",
]
# Each surface's own size cap comes first where a limit needs a bigger body to reach: the
# Tracking API's is Segment's 500 KB, the receiver's 512 KB, the fake Refersion's 1 MB.
CAPS = {"/v1/batch": 500 * 1024, "/destination": 512 * 1024, "/refersion/": 1024 * 1024}
CASES = [
    pytest.param(path, payload, code, id=f"{path}-{label}")
    for path in SURFACES
    for label, payload, code in OVER_LIMIT
    if len(json.dumps(payload)) < next((cap for p, cap in CAPS.items() if path.startswith(p)), 4e6)
]


@pytest.mark.parametrize(("path", "payload", "code"), CASES)
async def test_every_json_surface_refuses_with_a_4xx_naming_the_limit(
    emulator: Emulator, http: aiohttp.ClientSession, path: str, payload: dict[str, Any], code: str
) -> None:
    body = {"writeKey": "wk", "batch": [payload]} if path == "/v1/batch" else payload
    raw = io.BytesIO(json.dumps(body).encode())
    headers = {**auth_headers(emulator, path), "Content-Type": "application/json"}
    async with http.post(emulator.url + path, data=raw, headers=headers) as resp:
        assert resp.status == 400
        assert resp.content_type == "application/json"
        answer = await resp.json()
    text = answer.get("message") or answer.get("error")
    assert WORDS[code] in text
    assert "(max_" in text
    if path.startswith(("/v1/", "/_emulator/")):
        assert answer["code"] == code
    if path == "/destination":
        assert answer["reason"] == code
    assert len(emulator.runtime.journal) == 0, "a refused body must not be journaled"
    assert emulator.runtime.store.count() == 0


async def test_refersion_checks_keys_before_limits(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    async with http.post(
        f"{emulator.url}/refersion/v2/affiliate/new", json={"a": nested(80)}
    ) as resp:
        assert resp.status == 401
        assert await resp.json() == {"error": "Invalid API credentials (error 2)."}


# -- never refusing what Segment accepts ---------------------------------------------------


async def _accepted_and_delivered(
    emulator: Emulator, http: aiohttp.ClientSession, payload: dict[str, Any]
) -> dict[str, Any]:
    raw = json.dumps(payload, separators=(",", ":")).encode()
    assert len(raw) < 32 * 1024, "within Segment's documented message size"
    async with http.post(
        f"{emulator.url}/v1/identify", data=raw, headers={"Content-Type": "application/json"}
    ) as resp:
        assert (resp.status, await resp.json()) == (200, {"success": True})
    async with http.post(f"{emulator.url}/_emulator/flush", json={}) as resp:
        assert resp.status == 200
    async with http.get(f"{emulator.url}/_emulator/events", params={"full": "1"}) as resp:
        [event] = (await resp.json())["events"]
    return dict(event)


async def test_fifteen_hundred_short_traits_in_14_kb_pass_end_to_end(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    traits: dict[str, Any] = {f"t{i}": i % 10 for i in range(1_500)}
    traits.update(name="Wide Traits", email="wide@example.com")
    payload = {"writeKey": "wk", "userId": "wide", "traits": traits}
    assert len(json.dumps(payload, separators=(",", ":"))) < 14 * 1024
    event = await _accepted_and_delivered(emulator, http, payload)
    assert event["outcome"] == "created", event
    assert emulator.runtime.store.count() == 1


async def test_context_nested_a_hundred_deep_passes_end_to_end(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    payload = {
        "writeKey": "wk",
        "userId": "deep",
        "traits": {"name": "Deep Context", "email": "deep@example.com"},
        "context": nested(100),
    }
    event = await _accepted_and_delivered(emulator, http, payload)
    assert event["outcome"] == "created", event
    assert emulator.runtime.store.count() == 1


@pytest.mark.parametrize(
    ("label", "bomb", "code"),
    [
        ("deep", "[" * 300_000 + "]" * 300_000, "invalid_json"),
        ("depth-within-parser", json.dumps({"a": nested(800)}), "too_deep"),
        ("wide", json.dumps({f"k{i}": 0 for i in range(200_000)}), "too_many_fields"),
        ("long", json.dumps({"s": "x" * 3_000_000}), "string_too_long"),
    ],
)
async def test_a_real_bomb_is_still_refused(
    emulator: Emulator, http: aiohttp.ClientSession, label: str, bomb: str, code: str
) -> None:
    async with http.post(
        f"{emulator.url}/_emulator/deliver",
        data=io.BytesIO(bomb.encode()),
        headers={"Content-Type": "application/json"},
    ) as resp:
        assert resp.status == 400, label
        assert (await resp.json())["code"] == code
    assert len(emulator.runtime.journal) == 0
