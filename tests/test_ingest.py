"""The Tracking API ingest step: Segment's 400s, reason codes, enrichment and clock-skew."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from emulator.segment.ingest import (
    IngestLimits,
    TrackingRequest,
    TrackingRequestError,
    enrich,
    parse_tracking_request,
    write_key_from_basic_auth,
)
from emulator.segment.timestamps import format_timestamp, parse_timestamp

RECEIVED = datetime(2026, 11, 29, 12, 0, 0, 500000, tzinfo=UTC)


def body(payload: Any) -> bytes:
    return json.dumps(payload).encode()


def ingest_one(item: dict[str, Any], **batch: Any) -> Any:
    request = TrackingRequest("batch", "wk", (item,), **batch)
    [event] = enrich(request, received_at=RECEIVED, source_id="src", new_message_id=lambda: "m-1")
    return event


def test_single_endpoint_sets_the_type_from_the_path() -> None:
    parsed = parse_tracking_request("identify", body({"writeKey": "k", "userId": "u"}))
    assert parsed.items == ({"writeKey": "k", "userId": "u", "type": "identify"},)
    assert parsed.write_key == "k"


def test_write_key_from_basic_auth_when_not_in_body() -> None:
    header = "Basic " + base64.b64encode(b"abc123:").decode()
    parsed = parse_tracking_request("track", body({"userId": "u"}), authorization=header)
    assert parsed.write_key == "abc123"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("Basic " + base64.b64encode(b"abc123:").decode(), "abc123"),
        ("Basic " + base64.b64encode(b"abc123").decode(), "abc123"),
        ("Basic not-base64!!", None),
        ("Bearer token", None),
        (None, None),
    ],
)
def test_write_key_from_basic_auth(header: str | None, expected: str | None) -> None:
    assert write_key_from_basic_auth(header) == expected


@pytest.mark.parametrize(
    ("endpoint", "raw", "code"),
    [
        ("batch", b"{not json", "bad_request"),
        ("batch", b"", "bad_request"),
        ("batch", b"\xff\xfe{}", "bad_request"),
        ("batch", b"[1, 2]", "bad_request"),
        ("batch", b'{"writeKey": "k", "batch": {}}', "bad_request"),
        ("batch", b'{"batch": []}', "unknown_source"),
        ("identify", b"[" * 100_000 + b"]" * 100_000, "request_too_large"),
        ("nope", b"{}", "not_found"),
    ],
)
def test_requests_segment_answers_with_400(endpoint: str, raw: bytes, code: str) -> None:
    with pytest.raises(TrackingRequestError) as caught:
        parse_tracking_request(endpoint, raw)
    assert caught.value.code == code
    assert caught.value.message


def test_deep_nesting_within_the_size_limit_is_a_clear_400() -> None:
    raw = b'{"writeKey": "k", "batch": ' + b"[" * 20_000 + b"]" * 20_000 + b"}"
    with pytest.raises(TrackingRequestError) as caught:
        parse_tracking_request("batch", raw)
    assert caught.value.code == "bad_request"


def test_size_limits_are_segments() -> None:
    single = body({"writeKey": "k", "userId": "u", "traits": {"x": "a" * 33_000}})
    with pytest.raises(TrackingRequestError, match="32768"):
        parse_tracking_request("identify", single)
    too_many = body({"writeKey": "k", "batch": [{"type": "track"}] * 2501})
    with pytest.raises(TrackingRequestError, match="2500") as caught:
        parse_tracking_request("batch", too_many)
    assert caught.value.code == "batch_too_large"
    big_item = body({"writeKey": "k", "batch": [{}, {"type": "identify", "x": "a" * 33_000}]})
    with pytest.raises(TrackingRequestError, match=r"batch\[1\]"):
        parse_tracking_request("batch", big_item)
    small = IngestLimits(batch_bytes=100)
    with pytest.raises(TrackingRequestError, match="at most 100 bytes"):
        parse_tracking_request(
            "batch", body({"writeKey": "k", "batch": [{"a": "b" * 100}]}), limits=small
        )


@pytest.mark.parametrize(
    ("item", "reason"),
    [
        ({"type": "identify"}, "no_user_anon_id"),
        ({"type": "identify", "userId": None, "anonymousId": None}, "no_user_anon_id"),
        ({"type": "identify", "userId": ""}, "id_not_string"),
        ({"type": "identify", "userId": 42}, "id_not_string"),
        ({"type": "identify", "anonymousId": ["a"]}, "id_not_string"),
        ({"type": "identify", "userId": "u", "traits": "x"}, "traits_not_object"),
        ({"type": "track", "userId": "u"}, "event_not_defined"),
        ({"type": "track", "userId": "u", "event": ""}, "event_not_defined"),
        (
            {"type": "track", "userId": "u", "event": "E", "properties": [1]},
            "properties_not_object",
        ),
        ({"type": "page", "userId": "u", "name": 5}, "name_not_string"),
        ({"type": "fly", "userId": "u"}, "invalid_type"),
        ({"type": 7, "userId": "u"}, "invalid_type"),
        ({"userId": "u"}, "missing_type"),
        ({"type": None, "userId": "u"}, "missing_type"),
        ({"type": "track", "userId": "u", "event": 5}, "event_not_string"),
        ({"type": "track", "userId": "u", "event": None}, "event_not_defined"),
        ({"type": "page", "userId": "u", "name": ""}, "name_not_string"),
        ({"type": "screen", "userId": "u", "category": ["c"]}, "category_not_string"),
        ({"type": "page", "userId": "u", "category": ""}, "category_not_string"),
        ({"type": "identify", "userId": "u", "messageId": "x" * 101}, "message_id_invalid"),
        ({"type": "identify", "userId": "u", "context": "c"}, "context_not_object"),
        ({"type": "identify", "userId": "u", "integrations": [True]}, "integrations_not_object"),
        ({"type": "identify", "userId": "u", "timestamp": "yesterday"}, "timestamp_invalid"),
        # Dates a Python datetime cannot hold once in UTC, or once corrected for clock skew.
        (
            {"type": "identify", "userId": "u", "sentAt": "0001-01-01T00:00+01:00"},
            "timestamp_invalid",
        ),
        (
            {
                "type": "identify",
                "userId": "u",
                "sentAt": "9999-12-31T00:00:00Z",
                "timestamp": "0001-01-01T00:00:00Z",
            },
            "timestamp_invalid",
        ),
    ],
)
def test_ingest_reason_codes(item: dict[str, Any], reason: str) -> None:
    event = ingest_one(item)
    assert event.message is None
    assert event.reason == reason


def test_non_object_item_and_empty_batch_are_reasons_not_400s() -> None:
    request = TrackingRequest("batch", "wk", ("text",))
    [event] = enrich(request, received_at=RECEIVED, source_id="s", new_message_id=lambda: "m")
    assert event.reason == "bad_request"
    [empty] = enrich(
        TrackingRequest("batch", "wk", ()),
        received_at=RECEIVED,
        source_id="s",
        new_message_id=lambda: "m",
    )
    assert empty.reason == "empty_batch"


def test_enrichment_matches_segments_server_side_fields() -> None:
    event = ingest_one(
        {"type": "identify", "userId": "u", "anonymousId": None, "writeKey": "secret"},
    )
    message = event.message
    assert message["messageId"] == "m-1"
    assert message["receivedAt"] == "2026-11-29T12:00:00.500Z"
    assert message["projectId"] == "src"
    assert message["version"] == 2
    assert message["channel"] == "server"
    assert "writeKey" not in message
    assert "anonymousId" not in message  # null ids are not delivered


def test_clock_skew_correction_uses_batch_level_sent_at() -> None:
    # The device clock is 10 s ahead: sentAt 12:00:10.5 arrives at 12:00:00.5.
    event = ingest_one(
        {"type": "identify", "userId": "u", "timestamp": "2026-11-29T12:00:05.500+00:00"},
        sent_at="2026-11-29T12:00:10.500Z",
    )
    assert event.message["originalTimestamp"] == "2026-11-29T12:00:05.500Z"
    assert event.message["sentAt"] == "2026-11-29T12:00:10.500Z"
    assert event.message["timestamp"] == "2026-11-29T11:59:55.500Z"


def test_without_sent_at_the_timestamp_is_the_client_one_and_default_is_receipt() -> None:
    with_ts = ingest_one({"type": "identify", "userId": "u", "timestamp": "2020-01-01T00:00:00Z"})
    assert with_ts.message["timestamp"] == "2020-01-01T00:00:00.000Z"
    without = ingest_one({"type": "identify", "userId": "u"})
    assert without.message["timestamp"] == without.message["receivedAt"]


def test_batch_context_and_integrations_merge_into_items_item_wins() -> None:
    event = ingest_one(
        {"type": "identify", "userId": "u", "context": {"ip": "1.1.1.1"}, "integrations": {"X": 1}},
        context={"ip": "8.8.8.8", "locale": "en-US"},
        integrations={"Refersion": False, "X": 0},
    )
    assert event.message["context"] == {"ip": "1.1.1.1", "locale": "en-US"}
    assert event.message["integrations"] == {"Refersion": False, "X": 1}


def test_existing_message_id_is_kept() -> None:
    event = ingest_one({"type": "identify", "userId": "u", "messageId": "mine"})
    assert event.message["messageId"] == "mine"


@pytest.mark.parametrize(
    ("raw", "formatted"),
    [
        ("2020-05-09 23:54:49.209808489 +0000 UTC m=+70366.298768264", "2020-05-09T23:54:49.209Z"),
        ("2019-06-21T16:33:26.060Z", "2019-06-21T16:33:26.060Z"),
        ("2026-11-29T20:29:24.770905+00:00", "2026-11-29T20:29:24.770Z"),
        ("2019-02-19T21:58:54.387-02:00", "2019-02-19T23:58:54.387Z"),
        ("2015-02-23T22:28:55", "2015-02-23T22:28:55.000Z"),
        ("0001-01-01T00:00:00Z", "0001-01-01T00:00:00.000Z"),
    ],
)
def test_timestamps_parse_iso_and_go_style(raw: str, formatted: str) -> None:
    parsed = parse_timestamp(raw)
    assert parsed is not None
    assert format_timestamp(parsed) == formatted


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "yesterday",
        12,
        None,
        "2020-13-45T00:00:00Z",
        "x" * 100,
        "2020-13-01 00:00:00 +0000",
        "9999-12-31T23:59:59-01:00",
    ],
)
def test_unparsable_timestamps(raw: object) -> None:
    assert parse_timestamp(raw) is None


@pytest.mark.parametrize("key", ["context", "integrations"])
def test_an_empty_array_means_none_given(key: str) -> None:
    event = ingest_one({"type": "identify", "userId": "u", key: []})
    assert event.reason is None
    assert event.message is not None
    merged = ingest_one({"type": "identify", "userId": "u", key: []}, **{key: {"X": True}})
    assert merged.message is not None
    assert merged.message[key] == {"X": True}
