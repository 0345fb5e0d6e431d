"""What a person copies out of Segment's Event Delivery view, unwrapped into messages.

For each delivery error Segment shows three sample payloads: "You Sent" (what reached the
Tracking API), "Request to Destination" (the message as delivered) and "Response from
Destination" (the partner's raw answer). Its docs name the panes but not a JSON layout, and
people paste them in many ways, so the detector is tolerant rather than exact:

- an object without ``type`` whose keys, lower-cased with everything but letters removed, include
  ``requesttodestination``/``request``, ``yousent``/``sent`` or
  ``responsefromdestination``/``response``;
- a pane's value is the message itself, an HTTP record holding it under ``body``, ``json``,
  ``data`` or ``payload`` (a JSON string is parsed), a list of messages, or raw HTTP text;
- raw HTTP text (``POST /path HTTP/1.1``, headers, blank line, JSON body), optionally followed by
  the response (``HTTP/1.1 400 …``, headers, blank line, body).

The request to the destination wins over "You Sent"; the response is kept for comparison only.
Headers are never kept: they carry the customer's API key. Pure: no I/O.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from emulator.errors import InputError

__all__ = ["DeliveryView", "read_delivery_view", "read_http_text"]

_REQUEST_KEYS = frozenset({"requesttodestination", "request", "destinationrequest"})
_SENT_KEYS = frozenset({"yousent", "sent"})
_RESPONSE_KEYS = frozenset({"responsefromdestination", "response", "destinationresponse"})
_BODY_KEYS = ("body", "json", "data", "payload")
_STATUS_KEYS = ("status", "statusCode", "status_code")
# Keys only a Segment message has at its top level; an HTTP record has none of them.
_MESSAGE_KEYS = frozenset({"type", "userId", "anonymousId", "traits", "messageId"})
_REQUEST_LINE = re.compile(r"\A\s*(?:POST|PUT|PATCH)\s+\S+(?:\s+HTTP/[\d.]+)?[ \t]*\r?\n")
_STATUS_LINE = re.compile(r"HTTP/[\d.]+[ \t]+(\d{3})[^\n]*\n")
_BLANK_LINE = re.compile(r"\r?\n[ \t]*\r?\n")
_MAX_DEPTH = 4


@dataclass(frozen=True, slots=True)
class DeliveryView:
    """Messages recovered from a copy of the Event Delivery view.

    ``pane`` says where they came from; ``entry`` is ``delivery`` for the request to the
    destination and ``tracking-api`` for "You Sent". ``response`` is ``{"status", "body"}`` as
    Segment recorded it, or ``None``.
    """

    pane: str
    entry: str
    messages: tuple[dict[str, Any], ...]
    tracking_body: dict[str, Any] | None = None
    response: dict[str, Any] | None = None


def read_delivery_view(name: str, payload: Any) -> DeliveryView | None:
    """The messages of an Event Delivery copy; ``None`` when ``payload`` is not one."""
    if not isinstance(payload, dict) or "type" in payload:
        return None
    panes = {_normalise(key): value for key, value in payload.items() if isinstance(key, str)}
    request = next((panes[k] for k in _REQUEST_KEYS if k in panes), None)
    sent = next((panes[k] for k in _SENT_KEYS if k in panes), None)
    response_value = next((panes[k] for k in _RESPONSE_KEYS if k in panes), None)
    if request is None and sent is None and response_value is None:
        return None
    response = _response(response_value) if response_value is not None else None
    if request is not None:
        messages = _messages(request, 0)
        if messages:
            return DeliveryView("Request to Destination", "delivery", messages, response=response)
    if sent is not None:
        body = _body(sent, 0)
        if isinstance(body, dict) and isinstance(body.get("batch"), list):
            messages = tuple(item for item in body["batch"] if isinstance(item, dict))
            if messages:
                return DeliveryView("You Sent", "tracking-api", messages, body, response)
        messages = _messages(sent, 0)
        if messages:
            return DeliveryView("You Sent", "tracking-api", messages, response=response)
    found = ", ".join(repr(key) for key in payload)
    raise InputError(
        f"{name}: looks like a copy of Segment's Event Delivery view (keys {found}) but holds "
        "no Segment message; copy the Request to Destination (or You Sent) payload too"
    )


def read_http_text(text: str) -> dict[str, Any] | None:
    """A raw HTTP request (and optional response) as an Event Delivery-like object, or None."""
    if not _REQUEST_LINE.match(text):
        return None
    request_body, rest = _http_body(text)
    view: dict[str, Any] = {"Request to Destination": request_body}
    status = _STATUS_LINE.search(rest)
    if status is not None:
        response_body, _ = _http_body(rest[status.start() :])
        view["Response from Destination"] = {"status": int(status[1]), "body": response_body}
    return view


def _http_body(text: str) -> tuple[Any, str]:
    """The JSON body after the headers of the HTTP message at the start of ``text``, and the rest.

    A body that is not JSON is returned as text up to the end.
    """
    blank = _BLANK_LINE.search(text)
    if blank is None:
        return None, ""
    start = blank.end()
    stripped = text[start:].lstrip()
    offset = len(text) - len(stripped)
    try:
        value, end = json.JSONDecoder().raw_decode(text, offset)
    except ValueError:
        return stripped.strip() or None, ""
    except RecursionError:
        return None, ""
    return value, text[end:]


def _messages(value: Any, depth: int) -> tuple[dict[str, Any], ...]:
    body = _body(value, depth)
    if isinstance(body, dict):
        return (body,) if _MESSAGE_KEYS & body.keys() else ()
    if isinstance(body, list) and body and all(isinstance(item, dict) for item in body):
        return tuple(body)
    return ()


def _body(value: Any, depth: int) -> Any:
    """The payload inside an HTTP record, a JSON string or raw HTTP text; else ``value``."""
    if depth > _MAX_DEPTH:
        return None
    if isinstance(value, str):
        http = read_http_text(value)
        if http is not None:
            return http["Request to Destination"]
        try:
            parsed = json.loads(value)
        except (ValueError, RecursionError):
            return None
        return _body(parsed, depth + 1)
    if isinstance(value, dict) and not _MESSAGE_KEYS & value.keys():
        key = next((k for k in _BODY_KEYS if k in value), None)
        if key is not None:
            return _body(value[key], depth + 1)
    return value


def _response(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        status_line = _STATUS_LINE.match(value.lstrip())
        if status_line is not None:
            body, _ = _http_body(value.lstrip())
            return {"status": int(status_line[1]), "body": body}
        value = _json_or_text(value)
    if isinstance(value, Mapping):
        code = next((value[k] for k in _STATUS_KEYS if k in value), None)
        key = next((k for k in _BODY_KEYS if k in value), None)
        if code is not None or key is not None:
            body = _json_or_text(value[key]) if key is not None else None
            status = code if isinstance(code, int) and not isinstance(code, bool) else None
            return {"status": status, "body": body}
    return {"status": None, "body": value}


def _json_or_text(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except (ValueError, RecursionError):
        return value


def _normalise(key: str) -> str:
    return re.sub(r"[^a-z]", "", key.lower())
