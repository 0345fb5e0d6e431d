"""The HTTP Tracking API's ingest step: parse a request body, check it, enrich each message.

Pure functions over bytes and plain data. What Segment answers ``400`` to (invalid JSON,
oversize) raises :class:`TrackingRequestError`; everything else is accepted with ``200`` and
each message either becomes an enriched message or carries a reason code: Segment's own from
its Delivery Overview "Failed on ingest" table where one fits, else the emulator's, as
docs/reason-codes.md lists (docs/sources.md#segment-message-fields, #tracking-api and
#segment-delivery).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from emulator.assumptions import AssumptionChoices, AssumptionNote
from emulator.errors import InputError
from emulator.json_limits import (
    SEGMENT_BATCH_BYTES,
    SEGMENT_MESSAGE_BYTES,
    JsonLimitExceeded,
    JsonLimits,
    check_json_limits,
    loads_replacing_invalid_unicode,
)
from emulator.segment.invalid_unicode import fields_of_item
from emulator.segment.timestamps import format_timestamp, parse_timestamp

__all__ = [
    "BATCH_ENDPOINTS",
    "INGEST_REASONS",
    "SHORT_PATHS",
    "TRACKING_TYPES",
    "IngestLimits",
    "IngestedEvent",
    "TrackingRequest",
    "TrackingRequestError",
    "enrich",
    "parse_tracking_request",
    "write_key_from_basic_auth",
]

TRACKING_TYPES: tuple[str, ...] = ("identify", "track", "page", "screen", "group", "alias")
BATCH_ENDPOINTS: tuple[str, ...] = ("batch", "import")
# The one-letter paths Segment's browser and mobile libraries post to, each the same endpoint
# as its long name: analytics-next sends a call to /v1/<first letter of its type>, its
# batching strategy and the mobile libraries send batches to /v1/b.
SHORT_PATHS: Mapping[str, str] = {kind[0]: kind for kind in (*TRACKING_TYPES, "batch")}

INGEST_REASONS: Mapping[str, str] = {
    # Segment's codes, from its Delivery Overview discard table (docs/reason-codes.md).
    "no_user_anon_id": "neither userId nor anonymousId is set",
    "id_not_string": "userId or anonymousId is an empty string or not a string",
    "traits_not_object": "traits is not an object",
    "event_not_defined": "a track call has no event name",
    "event_not_string": "a track call's event name is not a string",
    "properties_not_object": "properties is not an object",
    "name_not_string": "a page or screen name is an empty string or not a string",
    "category_not_string": "a page or screen category is an empty string or not a string",
    "empty_batch": "the batch holds no events",
    "missing_type": "a batch item has no type",
    "invalid_type": "a batch item's type is not one the Tracking API takes",
    "bad_request": "a batch item is not a JSON object",
    "project_not_found": "the write key is not the one this emulator was started with",
    # The emulator's own: Segment publishes no code for these cases.
    "message_id_invalid": "messageId is not a string of at most 100 characters",
    "context_not_object": "context is not an object",
    "integrations_not_object": "integrations is not an object",
    "timestamp_invalid": "timestamp, sentAt or originalTimestamp is not an ISO 8601 date",
    "journal_unavailable": "the journal file could not be written; the request was answered "
    "503 and nothing of it was kept",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class IngestLimits:
    """Segment's documented request limits (docs/sources.md#tracking-api)."""

    message_bytes: int = SEGMENT_MESSAGE_BYTES
    batch_bytes: int = SEGMENT_BATCH_BYTES
    batch_events: int = 2500
    # The emulator's own, set where a body within the sizes above cannot reach them.
    json_limits: JsonLimits = field(default_factory=JsonLimits)


class TrackingRequestError(InputError):
    """Raised for a request the Tracking API answers with ``400 {"code", "message"}``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class TrackingRequest:
    """A parsed Tracking API request: the raw items and the batch-level fields."""

    endpoint: str
    write_key: str | None
    items: tuple[Any, ...]
    sent_at: Any = None
    context: Any = None
    integrations: Any = None
    # JSON pointers (in the body) of the strings and keys whose invalid Unicode became U+FFFD.
    replaced: tuple[str, ...] = ()

    def replaced_in(self, index: int) -> tuple[str, ...]:
        """The replaced fields that reach item ``index``: its own and the batch-level ones."""
        if self.endpoint not in BATCH_ENDPOINTS:
            return self.replaced
        return fields_of_item(self.replaced, "/batch", index)


@dataclass(frozen=True, slots=True)
class IngestedEvent:
    """One item of a request after ingest: an enriched message, or a reason it was dropped."""

    raw: Any
    message: dict[str, Any] | None
    reason: str | None = None
    detail: str | None = None
    # What ingest assumed for this message (the channel of a browser library's event).
    assumptions: tuple[AssumptionNote, ...] = ()


def write_key_from_basic_auth(header: str | None) -> str | None:
    """The write key from ``Authorization: Basic base64("<writeKey>:")``, if that is what it is."""
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    # The colon is optional for backward compatibility (docs/sources.md#tracking-api).
    return decoded.split(":", 1)[0] or None


def parse_tracking_request(
    endpoint: str,
    body: bytes,
    *,
    authorization: str | None = None,
    limits: IngestLimits = IngestLimits(),
    replace_invalid_unicode: bool = False,
) -> TrackingRequest:
    """Parse the body of ``POST /v1/<endpoint>``; raise :class:`TrackingRequestError` for a 400.

    A string that is not valid Unicode is refused (``invalid_unicode``) or, with
    ``replace_invalid_unicode``, replaced by U+FFFD as Go reads it (the ``invalid-unicode``
    assumption); :attr:`TrackingRequest.replaced` then says where.
    """
    is_batch = endpoint in BATCH_ENDPOINTS
    if endpoint not in TRACKING_TYPES and not is_batch:
        raise TrackingRequestError("not_found", f"/v1/{endpoint} is not a Tracking API endpoint")
    limit = limits.batch_bytes if is_batch else limits.message_bytes
    if len(body) > limit:
        raise TrackingRequestError(
            "request_too_large",
            f"body is {len(body)} bytes; /v1/{endpoint} accepts at most {limit} bytes",
        )
    if not body.strip():
        raise TrackingRequestError("bad_request", "body is empty; expected a JSON object")
    payload, replaced = _load_json(body, replacing=replace_invalid_unicode)
    if not isinstance(payload, dict):
        raise TrackingRequestError(
            "bad_request", f"body is a JSON {_json_type(payload)}; expected a JSON object"
        )
    write_key = payload.get("writeKey")
    if not isinstance(write_key, str) or not write_key:
        write_key = write_key_from_basic_auth(authorization)
    if write_key is None:
        raise TrackingRequestError(
            "unknown_source",
            "no write key: send it as the body field writeKey or as the Basic-auth username",
        )
    if not is_batch:
        _check_structure(payload, limits)
        message = {**payload, "type": endpoint}
        return TrackingRequest(endpoint, write_key, (message,), replaced=replaced)
    items = payload.get("batch")
    if not isinstance(items, list):
        raise TrackingRequestError(
            "bad_request", f"batch is {_json_type(items)}; expected an array of messages"
        )
    if len(items) > limits.batch_events:
        raise TrackingRequestError(
            "batch_too_large",
            f"batch has {len(items)} events; the Tracking API accepts at most "
            f"{limits.batch_events}",
        )
    for index, item in enumerate(items):
        # surrogatepass: a lone surrogate is refused below, naming where it is.
        compact = json.dumps(item, separators=(",", ":"), ensure_ascii=False)
        size = len(compact.encode("utf-8", "surrogatepass"))
        if size > limits.message_bytes:
            raise TrackingRequestError(
                "message_too_large",
                f"batch[{index}] is {size} bytes; each message may be at most "
                f"{limits.message_bytes} bytes",
            )
    _check_structure(payload, limits)
    return TrackingRequest(
        endpoint,
        write_key,
        tuple(items),
        sent_at=payload.get("sentAt"),
        context=payload.get("context"),
        integrations=payload.get("integrations"),
        replaced=replaced,
    )


def enrich(
    request: TrackingRequest,
    *,
    received_at: datetime,
    source_id: str,
    new_message_id: Callable[[], str],
    browser_path: bool = False,
    choices: AssumptionChoices | None = None,
) -> list[IngestedEvent]:
    """Check and enrich every item as Segment documents its servers doing.

    docs/sources.md#tracking-api.
    """
    if not request.items:
        return [IngestedEvent(raw=None, message=None, reason="empty_batch")]
    channel = _ChannelRule(browser_path, choices or AssumptionChoices())
    return [
        _enrich_one(item, request, received_at, source_id, new_message_id, channel)
        for item in request.items
    ]


# What the browser library (@segment/analytics-next) names itself in context.library.name.
_BROWSER_LIBRARY = "analytics.js"


@dataclass(frozen=True, slots=True)
class _ChannelRule:
    """Segment stamps ``channel`` when a message carries none: "server" for server libraries;
    for the browser library's events, the assumption ``browser-channel`` decides."""

    browser_path: bool
    choices: AssumptionChoices

    def stamp(self, message: dict[str, Any]) -> AssumptionNote | None:
        if "channel" in message:
            return None
        context = message.get("context")
        library = context.get("library") if isinstance(context, dict) else None
        named = library.get("name") if isinstance(library, dict) else None
        if not self.browser_path and named != _BROWSER_LIBRARY:
            message["channel"] = "server"
            return None
        variant = self.choices.variant("browser-channel")
        message["channel"] = variant
        others = ", ".join(
            f'{name}: "{name}"' for name in ("client", "browser", "server") if name != variant
        )
        return AssumptionNote(
            "browser-channel", variant, f'channel "{variant}" stamped on a browser event', others
        )


def _enrich_one(
    item: Any,
    request: TrackingRequest,
    received_at: datetime,
    source_id: str,
    new_message_id: Callable[[], str],
    channel: _ChannelRule,
) -> IngestedEvent:
    if not isinstance(item, dict):
        return IngestedEvent(item, None, "bad_request", f"item is {_json_type(item)}")
    problem = _check(item)
    if problem is not None:
        return IngestedEvent(item, None, *problem)
    message = {k: v for k, v in item.items() if k != "writeKey"}
    for key, batch_value in (("context", request.context), ("integrations", request.integrations)):
        if isinstance(batch_value, dict):
            own = message.get(key)
            message[key] = {**batch_value, **(own if isinstance(own, dict) else {})}

    sent_raw = item.get("sentAt", request.sent_at)
    sent_at = parse_timestamp(sent_raw) if sent_raw is not None else None
    if sent_raw is not None and sent_at is None:
        return IngestedEvent(item, None, "timestamp_invalid", f"sentAt {sent_raw!r}")
    client_raw = item.get("timestamp", item.get("originalTimestamp"))
    original = parse_timestamp(client_raw) if client_raw is not None else None
    if client_raw is not None and original is None:
        return IngestedEvent(item, None, "timestamp_invalid", f"timestamp {client_raw!r}")
    if original is None:
        original = sent_at or received_at
    # Clock-skew correction: the device's skew is sentAt - receivedAt, applied back.
    try:
        timestamp = received_at - (sent_at - original) if sent_at is not None else original
    except OverflowError:
        detail = f"timestamp {client_raw!r} is too far from sentAt {sent_raw!r} to correct"
        return IngestedEvent(item, None, "timestamp_invalid", detail)

    message["receivedAt"] = format_timestamp(received_at)
    message["originalTimestamp"] = format_timestamp(original)
    message["timestamp"] = format_timestamp(timestamp)
    if sent_at is not None:
        message["sentAt"] = format_timestamp(sent_at)
    if not message.get("messageId"):
        message["messageId"] = new_message_id()
    note = channel.stamp(message)
    message["projectId"] = source_id
    message["version"] = 2
    for key in ("userId", "anonymousId"):
        if message.get(key) is None:
            message.pop(key, None)
    return IngestedEvent(item, message, assumptions=(note,) if note is not None else ())


# (types the rule applies to, or None for all; field; expected Python type; reason code)
_FIELD_RULES: tuple[tuple[tuple[str, ...] | None, str, type, str], ...] = (
    (None, "context", dict, "context_not_object"),
    (None, "integrations", dict, "integrations_not_object"),
    (("identify", "group"), "traits", dict, "traits_not_object"),
    (("track", "page", "screen"), "properties", dict, "properties_not_object"),
    (("page", "screen"), "name", str, "name_not_string"),
    (("page", "screen"), "category", str, "category_not_string"),
)


# An empty array means "none given", as it does on delivery (Segment's delete example).
_EMPTY_ARRAY_IS_NONE = frozenset({"context", "integrations"})


def _check(item: dict[str, Any]) -> tuple[str, str] | None:
    kind = item.get("type")
    if kind is None:
        return "missing_type", f"no type; expected one of {', '.join(TRACKING_TYPES)}"
    if kind not in TRACKING_TYPES:
        return "invalid_type", f"type {kind!r}; expected one of {', '.join(TRACKING_TYPES)}"
    ids = [item.get("userId"), item.get("anonymousId")]
    if all(value is None for value in ids):
        return "no_user_anon_id", INGEST_REASONS["no_user_anon_id"]
    for key, value in zip(("userId", "anonymousId"), ids, strict=True):
        if value is not None and (not isinstance(value, str) or not value):
            return "id_not_string", f"{key} is {value!r}; expected a non-empty string"
    message_id = item.get("messageId")
    if message_id is not None and (not isinstance(message_id, str) or len(message_id) > 100):
        return "message_id_invalid", INGEST_REASONS["message_id_invalid"]
    for kinds, key, expected, reason in _FIELD_RULES:
        value = item.get(key)
        applies = kinds is None or kind in kinds
        if key in _EMPTY_ARRAY_IS_NONE and value == []:
            continue
        if applies and value is not None and not isinstance(value, expected):
            return reason, f"{key} is {_json_type(value)}"
        if applies and expected is str and value == "":
            return reason, f"{key} is an empty string"
    if kind == "track":
        event = item.get("event")
        if event is None or event == "":
            return "event_not_defined", INGEST_REASONS["event_not_defined"]
        if not isinstance(event, str):
            return "event_not_string", f"event is {_json_type(event)}"
    return None


def _check_structure(payload: dict[str, Any], limits: IngestLimits) -> None:
    # After Segment's own checks, so a request Segment refuses gets Segment's code.
    try:
        check_json_limits(payload, limits.json_limits)
    except JsonLimitExceeded as exc:
        raise TrackingRequestError(exc.code, str(exc)) from None


def _load_json(body: bytes, *, replacing: bool) -> tuple[Any, tuple[str, ...]]:
    try:
        if replacing:
            return loads_replacing_invalid_unicode(body)
        return json.loads(body), ()
    except UnicodeDecodeError as exc:
        reason = f"body is not valid UTF-8: {exc.reason}"
        raise TrackingRequestError("bad_request", reason) from None
    except RecursionError:
        raise TrackingRequestError("bad_request", "body nests too deeply to parse") from None
    except ValueError as exc:
        raise TrackingRequestError("bad_request", f"body is not valid JSON: {exc}") from None


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"
