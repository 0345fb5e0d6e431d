"""JSON limits: depth, string length and fields per object, refused with a 4xx naming the limit."""

from __future__ import annotations

import base64
import json
from typing import Any

import aiohttp
import pytest
from hypothesis import given
from hypothesis import strategies as st

from emulator.json_limits import JsonLimitExceeded, JsonLimits, check_json_limits
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


def test_defaults_are_generous_for_segment_traffic() -> None:
    assert LIMITS.max_depth == 64
    assert LIMITS.max_string_length == 32 * 1024
    assert LIMITS.max_object_fields == 1000


@pytest.mark.parametrize(
    ("value", "code", "pointer", "limit_name"),
    [
        (nested(65), "too_deep", "/a" * 64, "max_depth"),
        ({"traits": {"bio": "x" * 32_769}}, "string_too_long", "/traits/bio", "max_string_length"),
        ({"k" * 32_769: 1}, "string_too_long", "/" + "k" * 32_769, "max_string_length"),
        ({"traits": {f"f{i}": i for i in range(1001)}}, "too_many_fields", "/traits", "fields"),
        ([[[["x" * 40_000]]]], "string_too_long", "/0/0/0/0", "max_string_length"),
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
        nested(64),
        {"s": "x" * 32_768},
        {f"f{i}": i for i in range(1000)},
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
    with pytest.raises(JsonLimitExceeded, match="deeper than 64 levels"):
        check_json_limits(value)


def test_long_pointers_are_shortened_in_the_message() -> None:
    with pytest.raises(JsonLimitExceeded) as caught:
        check_json_limits({"k" * 500: "x" * 40_000})
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
    deep = json.dumps({"writeKey": "k", "userId": "u", "traits": nested(70)}).encode()
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
    ("depth", {**FIELDS, "traits": nested(64)}, "too_deep"),
    ("string", {**FIELDS, "traits": {"bio": "x" * 40_000}}, "string_too_long"),
    ("fields", {**FIELDS, "traits": {f"f{i}": 0 for i in range(1001)}}, "too_many_fields"),
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
CASES = [
    pytest.param(path, payload, code, id=f"{path}-{label}")
    for path in SURFACES
    for label, payload, code in OVER_LIMIT
    # A Tracking API message is at most 32 KB, so Segment's own size limit comes first.
    if not (path == "/v1/batch" and label == "string")
]


@pytest.mark.parametrize(("path", "payload", "code"), CASES)
async def test_every_json_surface_refuses_with_a_4xx_naming_the_limit(
    emulator: Emulator, http: aiohttp.ClientSession, path: str, payload: dict[str, Any], code: str
) -> None:
    body = {"writeKey": "wk", "batch": [payload]} if path == "/v1/batch" else payload
    async with http.post(
        emulator.url + path, json=body, headers=auth_headers(emulator, path)
    ) as resp:
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
