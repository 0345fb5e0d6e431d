"""The control and inspection API under ``/_emulator``."""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

from aiohttp import web

from emulator.journal.durability import JournalWriteError
from emulator.journal.reconcile import reconcile
from emulator.journal.traces import OUTCOMES, Trace
from emulator.segment.invalid_unicode import fields_of_item, replacement_notes, replaces
from emulator.server.keys import RUNTIME
from emulator.version import __version__
from emulator.web.errors import (
    BodyError,
    json_response,
    parse_json_body,
    parse_json_body_replacing,
    read_body,
)

__all__ = ["routes"]

routes = web.RouteTableDef()

_STARTED = time.monotonic()
_DELIVER_LIMIT = 4 * 1024 * 1024
_SECONDS = re.compile(r"[0-9]{1,3}(?:\.[0-9]{1,6})?")


@routes.get("/_emulator/health")
async def health(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    return json_response(
        {
            "status": runtime.incidents.status,
            "incidents": [incident.to_dict() for incident in runtime.incidents.recent()],
            "incidentCount": runtime.incidents.total,
            "version": __version__,
            "uptimeSeconds": round(time.monotonic() - _STARTED, 3),
            "events": len(runtime.journal),
            "pending": runtime.pipeline.outstanding,
            "affiliates": runtime.store.count(),
            "destinationUrl": runtime.destination_url,
            "refersionUrl": runtime.refersion_url,
            "droppedFromJournal": runtime.journal.dropped,
            "journalFile": runtime.config.journal_path,
            "faultRules": len(runtime.faults),
        }
    )


@routes.get("/_emulator/events")
async def list_events(request: web.Request) -> web.Response:
    query = request.query
    outcome = query.get("outcome")
    if outcome is not None and outcome not in OUTCOMES:
        known = ", ".join(OUTCOMES)
        raise BodyError(400, "invalid_query", f"outcome={outcome!r} is not one of: {known}")
    limit = _int_param(query.get("limit"), name="limit", default=100, maximum=10_000)
    traces = request.app[RUNTIME].journal.query(
        event_type=query.get("type"),
        outcome=outcome,
        user_id=query.get("userId"),
        message_id=query.get("messageId"),
        email=query.get("email"),
        limit=limit,
    )
    full = query.get("full") in ("1", "true")
    items = [t.to_dict() if full else t.summary_dict() for t in traces]
    return json_response({"events": items, "count": len(items)})


@routes.get("/_emulator/events/{trace_id}")
async def get_event(request: web.Request) -> web.Response:
    trace_id = request.match_info["trace_id"]
    runtime = request.app[RUNTIME]
    trace = runtime.journal.get(trace_id)
    if trace is None and runtime.durable is not None:
        # Beyond the in-memory cap: the journal file still has it.
        trace = await runtime.durable.fetch(trace_id)
    if trace is None:
        raise BodyError(404, "not_found", f"no event with id {trace_id!r} in the journal")
    return json_response(trace.to_dict())


@routes.get("/_emulator/affiliates")
async def affiliates(request: web.Request) -> web.Response:
    items = [a.to_public_dict() for a in request.app[RUNTIME].store.all()]
    return json_response({"affiliates": items, "count": len(items)})


@routes.get("/_emulator/report")
async def report(request: web.Request) -> web.Response:
    """Reconciliation: accepted = delivered + filtered + discarded + expired + pending."""
    runtime = request.app[RUNTIME]
    journal = runtime.journal
    tallies = journal.tallies()
    outcomes: dict[str, int] = {}
    for (outcome, _reason), count in tallies.items():
        outcomes[outcome] = outcomes.get(outcome, 0) + count
    return json_response(
        {
            **reconcile(tallies).to_dict(),
            "outcomes": dict(sorted(outcomes.items())),
            "droppedFromJournal": journal.dropped,
            "journal": {
                "inMemory": len(journal),
                "cap": journal.cap,
                "file": runtime.config.journal_path,
                # With a file nothing is lost: traces past the cap are on disk only.
                "dropped": journal.dropped,
            },
        }
    )


@routes.post("/_emulator/reset")
async def reset(request: web.Request) -> web.Response:
    request.app[RUNTIME].reset()
    return json_response({"reset": True})


@routes.post("/_emulator/flush")
async def flush(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    timeout = _float_param(request.query.get("timeout"), name="timeout", default=10.0)
    idle = await runtime.pipeline.wait_idle(timeout)
    return json_response({"idle": idle, "pending": runtime.pipeline.outstanding})


@routes.post("/_emulator/deliver")
async def deliver(request: web.Request) -> web.Response:
    """Deliver raw messages as Segment's delivery does (deletes, customer payloads): what it
    is given, with no ingest dedupe, so the same messageId twice is delivered twice."""
    runtime = request.app[RUNTIME]
    raw = await read_body(request, limit=_DELIVER_LIMIT)
    # What Segment's delivery hands over went through its Tracking API: the same variant of
    # invalid-unicode applies.
    if replaces(runtime.config.assumptions):
        payload, replaced = parse_json_body_replacing(raw)
    else:
        payload, replaced = parse_json_body(raw), ()
    traces: list[Trace] = []
    to_deliver: list[Trace] = []
    for message, fields in _messages(payload, replaced):
        summary = "entered as a delivered message via /_emulator/deliver"
        if not isinstance(message.get("messageId"), str) or not message["messageId"]:
            # Segment assigns a messageId at ingest, so every delivered message has one; the
            # destination relies on it to join this trace.
            message = {**message, "messageId": f"emulator-{uuid.uuid4()}"}
            summary += f" (messageId {message['messageId']} assigned)"
        trace = runtime.journal.new_trace("delivery", message)
        traces.append(trace)
        trace.add_hop("deliver", summary, ok=True, detail=replacement_notes(fields))
        if runtime.accept(trace, dedupe=False, enqueue=False):
            to_deliver.append(trace)
    return await _delivered(request, traces, to_deliver)


# Segment never delivers what its ingest dropped or a regulation suppressed.
_NEVER_DELIVERED = frozenset({"ingest_rejected", "suppressed"})


@routes.post("/_emulator/events/{trace_id}/redeliver")
async def redeliver(request: web.Request) -> web.Response:
    """Deliver an earlier event's message again, same messageId: Segment delivers at least
    once, so a destination must absorb the same event twice."""
    runtime = request.app[RUNTIME]
    trace_id = request.match_info["trace_id"]
    original = runtime.journal.get(trace_id)
    if original is None:
        raise BodyError(404, "not_found", f"no event with id {trace_id!r} in the journal")
    if original.outcome in _NEVER_DELIVERED:
        raise BodyError(
            409,
            "not_deliverable",
            f"event {trace_id} was {original.outcome}; Segment never delivers it",
        )
    trace = runtime.redeliver(original, "POST /_emulator/events/{id}/redeliver", enqueue=False)
    # Routed for delivery unless filtered: queued once stored.
    return await _delivered(request, [trace], [trace] if trace.outcome == "pending" else [])


async def _delivered(
    request: web.Request, traces: list[Trace], to_deliver: list[Trace]
) -> web.Response:
    """Store ``traces`` and queue ``to_deliver`` (or keep none: 503), wait for them unless
    ``?wait=false``, and answer with them."""
    runtime = request.app[RUNTIME]
    try:
        await runtime.keep(traces, to_deliver)
    except JournalWriteError as exc:
        raise BodyError(503, "journal_unavailable", f"messages not stored; retry ({exc})") from None
    wait = request.query.get("wait", "true") not in ("0", "false")
    if wait:
        timeout = runtime.config.delivery_timeout + runtime.config.refersion_timeout + 1
        await runtime.pipeline.wait_settled(traces, timeout)
    return json_response({"events": [t.to_dict() for t in traces]}, status=200 if wait else 202)


def _messages(
    payload: Any, replaced: tuple[str, ...]
) -> list[tuple[dict[str, Any], tuple[str, ...]]]:
    """Each message of the body, with the fields of it whose invalid Unicode was replaced."""
    array: str | None = None
    if isinstance(payload, dict) and isinstance(payload.get("messages"), list):
        payload, array = payload["messages"], "/messages"
    elif isinstance(payload, list):
        array = ""
    items = payload if isinstance(payload, list) else [payload]
    if not items:
        raise BodyError(400, "empty_body", "no messages: send one message, a list, or {messages}")
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise BodyError(400, "not_an_object", f"messages[{index}] is not a JSON object")
    if array is None:
        return [(items[0], replaced)]
    return [(item, fields_of_item(replaced, array, index)) for index, item in enumerate(items)]


def _int_param(value: str | None, *, name: str, default: int, maximum: int) -> int:
    if value is None:
        return default
    # ASCII digits only: str.isdigit() also says yes to "²" and "①", which int() refuses,
    # and a number longer than the maximum is refused before int() has to read it.
    digits = value.isascii() and value.isdigit() and len(value) <= len(str(maximum))
    if not digits or not 1 <= int(value) <= maximum:
        raise BodyError(400, "invalid_query", f"{name}={_shown(value)} must be 1..{maximum}")
    return int(value)


def _float_param(value: str | None, *, name: str, default: float) -> float:
    if value is None:
        return default
    # Plain decimal seconds: float() would also take "٣", "1e3", " 5" and "nan".
    number = float(value) if _SECONDS.fullmatch(value) else -1.0
    if not 0 < number <= 300:
        raise BodyError(400, "invalid_query", f"{name}={_shown(value)} must be seconds in (0, 300]")
    return number


def _shown(value: str) -> str:
    return repr(value) if len(value) <= 40 else f"{value[:40]!r}… ({len(value)} characters)"
