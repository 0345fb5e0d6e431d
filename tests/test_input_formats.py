"""Every input format send and replay accept, detected from the bytes, and the error for none."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from emulator.cases.payloads import parse_cases
from emulator.errors import InputError
from tests.support import cli, write

# What analytics-python puts in a batch (client shape) and what Segment delivers (enriched).
CLIENT = {
    "type": "identify",
    "userId": "u-1",
    "anonymousId": None,
    "timestamp": "2026-11-29T20:29:24.270+00:00",
    "context": {"library": {"name": "analytics-python", "version": "2.3.4"}},
    "integrations": {},
    "traits": {"name": "Peter Gibbons", "email": "peter@example.com"},
}
DELIVERED = {
    "type": "identify",
    "userId": "u-1",
    "channel": "server",
    "messageId": "api-1",
    "projectId": "P0OJ3CTID1",
    "originalTimestamp": "2024-05-03T19:42:50.066Z",
    "receivedAt": "2024-05-03T19:42:50.162Z",
    "sentAt": "2024-05-03T19:42:50.070Z",
    "timestamp": "2024-05-03T19:42:50.158Z",
    "version": 2,
    "traits": {"name": "Cher", "email": "cher@example.com"},
}
RESPONSE = {"status": 400, "body": {"message": "Missing last name"}}


def parse(payload: Any) -> Any:
    data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    [case] = parse_cases("pasted.json", data)
    return case


HTTP_TEXT = (
    "POST /segment/webhook HTTP/1.1\n"
    "Authorization: Basic cHViLnNlYzo=\n"
    "Content-Type: application/json\n"
    "User-Agent: Segment.io/1.0\n"
    "\n" + json.dumps(DELIVERED, indent=2) + "\n\n"
    "HTTP/1.1 400 Bad Request\n"
    "Content-Type: application/json\n"
    "\n"
    '{"message": "Missing last name"}\n'
)


@pytest.mark.parametrize(
    ("payload", "fmt", "entry"),
    [
        pytest.param(CLIENT, "message", "tracking-api", id="client-library message"),
        pytest.param(DELIVERED, "message", "delivery", id="delivered (enriched) message"),
        pytest.param([CLIENT, {**CLIENT, "userId": "u-2"}], "messages", "tracking-api", id="list"),
        pytest.param(
            {"batch": [CLIENT], "sentAt": "2026-11-29T20:29:24Z"}, "batch", "tracking-api"
        ),
        pytest.param({"messages": [DELIVERED]}, "deliver-body", "delivery", id="deliver body"),
        pytest.param(
            {"events": [CLIENT], "description": "d", "expect": {"outcomes": ["created"]}},
            "fixture",
            "tracking-api",
        ),
        pytest.param(
            {"Request to Destination": DELIVERED, "Response from Destination": RESPONSE},
            "event-delivery",
            "delivery",
            id="event delivery: panes as objects",
        ),
        pytest.param(
            {
                "request_to_destination": {
                    "url": "https://www.refersion.com/segment",
                    "method": "POST",
                    "headers": {"Authorization": "Basic cHViLnNlYzo="},
                    "body": json.dumps(DELIVERED),
                },
                "responseFromDestination": {"statusCode": 400, "body": '{"message": "x"}'},
            },
            "event-delivery",
            "delivery",
            id="event delivery: HTTP records with a JSON-string body",
        ),
        pytest.param(
            {"Request to Destination": HTTP_TEXT}, "event-delivery", "delivery", id="pane as HTTP"
        ),
        pytest.param(
            {"You Sent": {"batch": [CLIENT], "context": {"ip": "1.2.3.4"}}},
            "event-delivery-sent",
            "tracking-api",
            id="event delivery: You Sent only",
        ),
        pytest.param(HTTP_TEXT.encode(), "http", "delivery", id="raw HTTP text"),
        pytest.param(
            json.dumps(json.dumps(DELIVERED)).encode(), "message", "delivery", id="string"
        ),
    ],
)
def test_each_format_is_detected(payload: Any, fmt: str, entry: str) -> None:
    case = parse(payload)
    assert (case.format, case.entry) == (fmt, entry)
    assert all(isinstance(event, dict) and "type" in event for event in case.events)


def test_json_lines_are_one_message_per_line() -> None:
    text = "\n".join(json.dumps({**CLIENT, "userId": f"u-{i}"}) for i in range(3)) + "\n"
    case = parse(text.encode())
    assert case.format == "json-lines"
    assert [event["userId"] for event in case.events] == ["u-0", "u-1", "u-2"]


def test_an_event_delivery_copy_keeps_the_delivered_message_and_the_recorded_response() -> None:
    case = parse(HTTP_TEXT.encode())
    [message] = case.events
    assert message == DELIVERED
    assert case.recorded == {"status": 400, "body": {"message": "Missing last name"}}
    assert "Authorization" not in json.dumps(message)  # headers (the API key) are not kept


def test_the_request_pane_wins_over_you_sent() -> None:
    case = parse({"You Sent": CLIENT, "Request to Destination": DELIVERED})
    assert case.events == (DELIVERED,)
    assert case.entry == "delivery"


def test_you_sent_as_a_batch_keeps_its_batch_level_context() -> None:
    case = parse({"You Sent": {"batch": [CLIENT], "context": {"ip": "1.2.3.4"}}})
    assert case.tracking_body is not None
    assert case.tracking_body["context"] == {"ip": "1.2.3.4"}


def test_a_v1_identify_body_without_type_is_read_as_an_identify() -> None:
    body = {"userId": "u-1", "traits": {"name": "Peter Gibbons", "email": "p@example.com"}}
    case = parse(body)
    assert case.format == "identify-call"
    assert case.events[0]["type"] == "identify"
    assert case.entry == "tracking-api"


def test_a_fixture_with_batch_fields_enters_as_one_tracking_api_body() -> None:
    fields = {"context": {"ip": "8.8.8.8"}, "integrations": {"All": False}}
    case = parse({"events": [CLIENT], "entry": "tracking-api", "batch_fields": fields})
    assert case.tracking_body == {**fields, "batch": [CLIENT]}


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"hello": "world"}, "not a Segment message (no type; keys 'hello')"),
        ([{"a": 1}], "payload[0] is not a Segment message"),
        ({"Response from Destination": RESPONSE}, "holds no Segment message"),
        ({"Request to Destination": {"url": "x", "body": "<html>"}}, "holds no Segment message"),
        ("just text", "a JSON string, not a message"),
        ({"events": [CLIENT], "entry": "delivery", "batch_fields": {}}, "needs entry tracking-api"),
        ({"events": [CLIENT], "batch_fields": {"writeKey": "k"}}, "batch_fields must be"),
    ],
)
def test_a_file_that_is_none_of_them_is_a_clear_error(payload: Any, message: str) -> None:
    with pytest.raises(InputError) as caught:
        parse(payload)
    assert str(caught.value).startswith("pasted.json: ")
    assert message in str(caught.value)


def test_send_runs_an_event_delivery_copy_and_compares_the_recorded_answer(tmp_path: Path) -> None:
    code, out, err = cli("send", write(tmp_path, "ticket-4711.txt", HTTP_TEXT))
    assert (code, err) == (1, "")
    assert "read as raw HTTP text of the request to the destination" in out
    assert "sent as delivered to the destination" in out
    assert "rejection name_incomplete" in out
    assert "Segment recorded (Response from Destination): 400" in out
    assert "the emulator answered 400 too" in out


def test_send_reports_a_file_that_is_none_of_them_in_one_line(tmp_path: Path) -> None:
    code, out, err = cli("send", write(tmp_path, "notes.json", {"customer": "Acme"}))
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert "notes.json: not a Segment message" in err
