"""Fixture files and payload files: what ``send`` and the test suite push through the pipeline.

A fixture is one JSON object: ``description``, ``source``, ``entry`` (``tracking-api`` or
``delivery``), optional destination ``settings``, optional ``assumptions`` (assumption id →
variant, docs/assumptions.md: the fixture holds under those variants, whatever the run's
``--assume`` says), optional ``batch_fields`` (batch-level
``context``/``integrations``/``sentAt`` of a Tracking API body), ``events``, and ``expect``.
A payload file is anything a person pastes, detected in this order: a fixture
(``{"events": [...]}``); a Tracking API body (``{"batch": [...]}``); a ``/_emulator/deliver``
body (``{"messages": [...]}``); a copy of Segment's Event Delivery view or raw HTTP text
(:mod:`emulator.cases.delivery_view`); one message or a list of messages; JSON lines. A JSON string
holding any of these is unwrapped. A message without ``type`` but with ``traits`` is the body
of ``POST /v1/identify`` and is read as an identify. Pure: parsing and judging, no I/O.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from emulator.assumptions import AssumptionChoices, UnknownAssumption
from emulator.cases.delivery_view import read_delivery_view, read_http_text
from emulator.errors import InputError
from emulator.journal.traces import OUTCOMES

__all__ = ["ENTRIES", "FORMATS", "Case", "Expectation", "judge", "parse_cases"]

ENTRIES: tuple[str, ...] = ("tracking-api", "delivery")
# What a file was read as, for the person checking that the detector understood it.
FORMATS: Mapping[str, str] = {
    "fixture": "a fixture",
    "batch": "a Tracking API body",
    "deliver-body": "a /_emulator/deliver body",
    "event-delivery": "Segment's Event Delivery view (Request to Destination)",
    "event-delivery-sent": "Segment's Event Delivery view (You Sent)",
    "http": "raw HTTP text of the request to the destination",
    "identify-call": "the body of POST /v1/identify (no type)",
    "message": "one Segment message",
    "messages": "a list of Segment messages",
    "json-lines": "JSON lines",
}
_SETTINGS_KEYS = frozenset({"status", "send_welcome", "offer", "api_key"})
_BATCH_FIELDS = frozenset({"context", "integrations", "sentAt"})
# Keys that make an object recognisable as a Segment message even without a type.
_MESSAGE_KEYS = frozenset({"userId", "anonymousId", "traits", "messageId", "event"})


@dataclass(frozen=True, slots=True)
class Expectation:
    """What a fixture expects; ``None`` fields are not checked."""

    outcomes: tuple[str, ...] | None = None
    reasons: tuple[str | None, ...] | None = None
    affiliates: tuple[Mapping[str, Any], ...] | None = None
    violations: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Case:
    """One run of the pipeline: events entering one way, with settings and expectations."""

    name: str
    entry: str
    events: tuple[dict[str, Any], ...]
    description: str = ""
    source: str = ""
    settings: Mapping[str, Any] = field(default_factory=dict)
    # Assumption variants the fixture pins; they win over the run's own choices.
    assumptions: Mapping[str, str] = field(default_factory=dict)
    expect: Expectation | None = None
    # A Tracking API body given as-is keeps its batch-level context and integrations.
    tracking_body: Mapping[str, Any] | None = None
    # A key of FORMATS; and what Segment recorded as the destination's answer, if given.
    format: str = "fixture"
    recorded: Mapping[str, Any] | None = None


def parse_cases(name: str, data: bytes) -> list[Case]:
    """Parse one file's bytes; raise :class:`InputError` naming ``name`` and the problem."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise InputError(f"{name}: not UTF-8 text but UTF-16 (byte-order mark); save it as UTF-8")
    if b"\x00" in data:
        raise InputError(f"{name}: binary file; expected JSON")
    try:
        # utf-8-sig: editors on Windows start UTF-8 files with a byte-order mark.
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{name}: not UTF-8 text (byte {exc.start})") from None
    if not text.strip():
        raise InputError(f"{name}: empty; expected a Segment message, a batch or a fixture")
    http = read_http_text(text)
    if http is not None:
        return [_case(name, http, "http")]
    try:
        payload = json.loads(text)
    except RecursionError:
        raise InputError(f"{name}: JSON nests too deeply") from None
    except ValueError as exc:
        return [_case(name, _json_lines(name, text, exc), "json-lines")]
    if isinstance(payload, str):
        payload = _embedded_json(name, payload)
    return [_case(name, payload, None)]


def _embedded_json(name: str, text: str) -> Any:
    """The value of a JSON string that itself holds JSON (a payload copied as a string)."""
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        raise InputError(
            f"{name}: a JSON string, not a message; expected a Segment message, a batch, "
            "a fixture or a copy of the Event Delivery view"
        ) from None


def _json_lines(name: str, text: str, first_error: ValueError) -> list[Any]:
    lines = [line for line in text.splitlines() if line.strip()]
    if len(lines) < 2:
        raise InputError(f"{name}: not valid JSON ({first_error})")
    items = []
    for number, line in enumerate(lines, start=1):
        try:
            items.append(json.loads(line))
        except ValueError as exc:
            raise InputError(f"{name}: line {number} is not valid JSON ({exc})") from None
    return items


def _case(name: str, payload: Any, detected: str | None) -> Case:
    if isinstance(payload, dict) and "events" in payload:
        return _fixture(name, payload)
    if isinstance(payload, dict) and "batch" in payload:
        events = _events(name, payload["batch"], "batch")
        return Case(
            name=name, entry="tracking-api", events=events, tracking_body=payload, format="batch"
        )
    if isinstance(payload, dict) and isinstance(payload.get("messages"), list):
        events = _events(name, payload["messages"], "messages")
        return Case(name=name, entry="delivery", events=events, format="deliver-body")
    view = read_delivery_view(name, payload)
    if view is not None:
        return Case(
            name=name,
            entry=view.entry,
            events=tuple(_typed(name, m, f"{view.pane} is ") for m in view.messages),
            tracking_body=view.tracking_body,
            format=detected
            or ("event-delivery" if view.entry == "delivery" else "event-delivery-sent"),
            recorded=view.response,
        )
    items = payload if isinstance(payload, list) else [payload]
    events = tuple(
        _typed(name, item, _position(index, detected) if isinstance(payload, list) else "")
        for index, item in enumerate(_events(name, items, "payload"))
    )
    if detected is None:
        untyped = isinstance(payload, dict) and "type" not in payload
        detected = "identify-call" if untyped else "messages" if len(events) > 1 else "message"
    return Case(name=name, entry=_guess_entry(events), events=events, format=detected)


def _position(index: int, detected: str | None) -> str:
    return f"line {index + 1} is " if detected == "json-lines" else f"payload[{index}] is "


def _typed(name: str, item: dict[str, Any], where: str) -> dict[str, Any]:
    """``item`` as a message: an untyped object with traits is a ``/v1/identify`` body."""
    if "type" in item:
        return item
    if "traits" in item:
        return {"type": "identify", **item}
    if _MESSAGE_KEYS & item.keys():
        return item
    keys = ", ".join(repr(key) for key in list(item)[:6]) or "none"
    raise InputError(
        f"{name}: {where}not a Segment message (no type; keys {keys}); expected a message, "
        'a Tracking API body {"batch": [...]}, a fixture {"events": [...]}, JSON lines, or a '
        "copy of the Event Delivery view"
    )


def _fixture(name: str, payload: Mapping[str, Any]) -> Case:
    events = _events(name, payload["events"], "events")
    entry = payload.get("entry", _guess_entry(events))
    if entry not in ENTRIES:
        raise InputError(f"{name}: entry {entry!r} must be one of {', '.join(ENTRIES)}")
    settings = payload.get("settings") or {}
    if not isinstance(settings, dict) or not set(settings) <= _SETTINGS_KEYS:
        allowed = ", ".join(sorted(_SETTINGS_KEYS))
        raise InputError(f"{name}: settings must be an object with keys among {allowed}")
    expect = payload.get("expect")
    return Case(
        name=name,
        entry=entry,
        events=events,
        description=str(payload.get("description", "")),
        source=str(payload.get("source", "")),
        settings=settings,
        assumptions=_assumptions(name, payload.get("assumptions")),
        expect=_expectation(name, expect, len(events)) if expect is not None else None,
        tracking_body=_batch_fields(name, payload.get("batch_fields"), entry, events),
    )


def _assumptions(name: str, pinned: Any) -> dict[str, str]:
    if pinned is None:
        return {}
    if not isinstance(pinned, dict):
        raise InputError(f"{name}: assumptions must be an object of assumption id → variant")
    try:
        AssumptionChoices.of(pinned)
    except UnknownAssumption as exc:
        raise InputError(f"{name}: {exc}") from None
    return dict(pinned)


def _batch_fields(
    name: str, fields: Any, entry: str, events: tuple[dict[str, Any], ...]
) -> dict[str, Any] | None:
    if fields is None:
        return None
    allowed = ", ".join(sorted(_BATCH_FIELDS))
    if not isinstance(fields, dict) or not set(fields) <= _BATCH_FIELDS:
        raise InputError(f"{name}: batch_fields must be an object with keys among {allowed}")
    if entry != "tracking-api":
        raise InputError(f"{name}: batch_fields needs entry tracking-api, not {entry}")
    return {**fields, "batch": list(events)}


def _events(name: str, items: Any, where: str) -> tuple[dict[str, Any], ...]:
    if not isinstance(items, list) or not items:
        raise InputError(f"{name}: {where} must be a non-empty array of messages")
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise InputError(f"{name}: {where}[{index}] is not a JSON object")
    return tuple(items)


def _guess_entry(events: Sequence[Mapping[str, Any]]) -> str:
    # Deletes come from regulations, never from the Tracking API; an enriched message
    # (it has receivedAt) was copied from Segment's delivery view.
    if all(e.get("type") == "delete" or "receivedAt" in e for e in events):
        return "delivery"
    return "tracking-api"


def _expectation(name: str, expect: Any, count: int) -> Expectation:
    if not isinstance(expect, dict):
        raise InputError(f"{name}: expect must be an object")
    outcomes = expect.get("outcomes")
    if outcomes is not None:
        if not isinstance(outcomes, list) or len(outcomes) != count:
            raise InputError(f"{name}: expect.outcomes must list one outcome per event ({count})")
        unknown = [o for o in outcomes if o not in OUTCOMES]
        if unknown:
            raise InputError(f"{name}: expect.outcomes has unknown outcomes {unknown}")
    reasons = expect.get("reasons")
    if reasons is not None and (not isinstance(reasons, list) or len(reasons) != count):
        raise InputError(f"{name}: expect.reasons must list one reason (or null) per event")
    affiliates = expect.get("affiliates")
    if affiliates is not None and not (
        isinstance(affiliates, list) and all(isinstance(a, dict) for a in affiliates)
    ):
        raise InputError(f"{name}: expect.affiliates must be an array of objects")
    violations = expect.get("violations", [])
    if not isinstance(violations, list) or not all(isinstance(v, str) for v in violations):
        raise InputError(f"{name}: expect.violations must be an array of contract names")
    return Expectation(
        outcomes=tuple(outcomes) if outcomes is not None else None,
        reasons=tuple(reasons) if reasons is not None else None,
        affiliates=tuple(affiliates) if affiliates is not None else None,
        violations=tuple(violations),
    )


def judge(
    case: Case, events: Sequence[Mapping[str, Any]], affiliates: Sequence[Mapping[str, Any]]
) -> list[str]:
    """Differences between what happened and what ``case`` expects; empty means it passed.

    ``events`` are journal traces as dicts, in the order the case's events were sent.
    Without expectations an event passes when it reached Refersion with no violation.
    """
    failures: list[str] = []
    expect = case.expect
    if len(events) != len(case.events):
        failures.append(f"sent {len(case.events)} events but the journal shows {len(events)}")
    if expect is None:
        ok_outcomes = {"created", "already_exists", "deleted", "not_found", "delivered", "skipped"}
        for index, event in enumerate(events):
            if event["outcome"] not in ok_outcomes:
                failures.append(
                    f"event {index + 1}: outcome {event['outcome']} ({event.get('reason')}); "
                    "expected it to be delivered"
                )
    else:
        failures.extend(_check_outcomes(expect, events))
        if expect.affiliates is not None:
            failures.extend(_check_affiliates(expect.affiliates, affiliates))
    expected_contracts = set(expect.violations) if expect else set()
    for index, event in enumerate(events):
        for violation in event.get("violations", []):
            if violation["contract"] not in expected_contracts:
                failures.append(
                    f"event {index + 1}: unexpected violation of {violation['contract']} at "
                    f"{violation['pointer'] or '/'}: {violation['message']}"
                )
    seen = {v["contract"] for e in events for v in e.get("violations", [])}
    for contract in sorted(expected_contracts - seen):
        failures.append(f"expected a violation of {contract}, none happened")
    return failures


def _check_outcomes(expect: Expectation, events: Sequence[Mapping[str, Any]]) -> list[str]:
    failures = []
    for index, event in enumerate(events[: len(expect.outcomes or expect.reasons or ())]):
        outcome, reason = event["outcome"], event.get("reason")
        if expect.outcomes is not None and outcome != expect.outcomes[index]:
            failures.append(
                f"event {index + 1}: outcome {outcome} (reason {reason}), "
                f"expected {expect.outcomes[index]}"
            )
        if expect.reasons is not None and reason != expect.reasons[index]:
            failures.append(f"event {index + 1}: reason {reason}, expected {expect.reasons[index]}")
    return failures


def _check_affiliates(
    expected: Sequence[Mapping[str, Any]], actual: Sequence[Mapping[str, Any]]
) -> list[str]:
    if len(expected) != len(actual):
        return [f"{len(actual)} affiliates in the fake Refersion account, expected {len(expected)}"]
    failures = []
    for index, (want, have) in enumerate(zip(expected, actual, strict=True)):
        for key, value in want.items():
            if have.get(key) != value:
                failures.append(
                    f"affiliate {index + 1}: {key} is {have.get(key)!r}, expected {value!r}"
                )
    return failures
