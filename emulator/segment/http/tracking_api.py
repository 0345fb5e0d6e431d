"""Segment's HTTP Tracking API: ``POST /v1/<type>``, ``/v1/batch`` and ``/v1/import``.

Besides the long paths: the one-letter paths of the browser and mobile libraries, the browser
library's error metrics (``/v1/m``), the project settings it loads at start, and CORS on all of
``/v1/*`` (and nowhere else) so that pages of any origin can send events.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from aiohttp import web

from emulator.journal.durability import JournalWriteError
from emulator.secrets_mask import mask_fields
from emulator.segment.cors import answers_browsers, preflight, response_headers
from emulator.segment.http.host import SEGMENT_HOST, SegmentHost
from emulator.segment.ingest import (
    BATCH_ENDPOINTS,
    INGEST_REASONS,
    SHORT_PATHS,
    TRACKING_TYPES,
    IngestLimits,
    TrackingRequestError,
    enrich,
    parse_tracking_request,
)
from emulator.segment.invalid_unicode import replacement_notes, replaces
from emulator.segment.project_settings import project_settings, write_key_problem
from emulator.web.errors import BodyError, Handler, json_response, read_body, read_json_object

__all__ = ["cors_middleware", "routes"]

routes = web.RouteTableDef()

_LIMITS = IngestLimits()
# Browsers' sendBeacon posts JSON as text/plain; a missing type is what curl -d sends.
_JSON_TYPES = frozenset({"application/json", "text/plain", "application/octet-stream", ""})
# A source's write key is a credential: the journal keeps items as sent, but never it in full.
_SECRET_FIELDS = frozenset({"writeKey"})
TRACE_IDS_HEADER = "X-Emulator-Trace-Ids"


@web.middleware
async def cors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every answer under ``/v1/`` carries the CORS headers, errors included.

    Outermost, so that refusals and errors are readable by the page too: the browser library
    drops an event on a 4xx but retries one it could not read.
    """
    response = await handler(request)
    if answers_browsers(request.path) and not response.prepared:
        response.headers.update(response_headers(request.headers.get("Origin")))
    return response


@routes.route("OPTIONS", r"/v1/{path:.*}")
async def tracking_preflight(request: web.Request) -> web.Response:
    answer = preflight(
        request.headers.get("Origin"),
        request.headers.get("Access-Control-Request-Method"),
        request.headers.get("Access-Control-Request-Headers"),
        extra_headers=request.app[SEGMENT_HOST].config.cors_extra_headers,
    )
    if answer.refusal is not None:
        raise BodyError(403, "preflight_refused", answer.refusal)
    return web.Response(status=204, headers=answer.headers)


@routes.get("/v1/projects/{writeKey}/settings")
async def project_settings_endpoint(request: web.Request) -> web.Response:
    write_key = request.match_info["writeKey"]
    problem = write_key_problem(write_key)
    if problem is not None:
        raise BodyError(400, "invalid_write_key", problem)
    expected = request.app[SEGMENT_HOST].config.write_key
    if expected is not None and write_key != expected:
        raise BodyError(
            404,
            "unknown_write_key",
            "no source has this write key; use the one the emulator was started with "
            "(serve --write-key)",
        )
    return json_response(project_settings(write_key, host=request.host, protocol=request.scheme))


@routes.post("/v1/m")
async def library_metrics(request: web.Request) -> web.Response:
    """The browser library's own error counters: read, checked as JSON, and let go."""
    raw = await read_body(request, limit=_LIMITS.message_bytes, too_large_status=400)
    read_json_object(raw, replace_invalid_unicode=_replaces(request.app[SEGMENT_HOST]))
    return json_response({"success": True})


@routes.post(r"/v1/{endpoint}")
async def tracking_endpoint(request: web.Request) -> web.Response:
    name = request.match_info["endpoint"]
    endpoint = SHORT_PATHS.get(name, name)
    if endpoint not in TRACKING_TYPES and endpoint not in BATCH_ENDPOINTS:
        raise BodyError(404, "not_found", f"/v1/{name} is not a Tracking API endpoint")
    if request.content_type not in _JSON_TYPES:
        raise BodyError(
            415,
            "invalid_content_type",
            f"Content-Type {request.content_type!r} is not JSON; send application/json",
        )
    runtime = request.app[SEGMENT_HOST]
    is_batch = endpoint in BATCH_ENDPOINTS
    limit = _LIMITS.batch_bytes if is_batch else _LIMITS.message_bytes
    # Segment answers oversize bodies with 400, not 413 (docs/sources.md#tracking-api).
    raw = await read_body(request, limit=limit, too_large_status=400)
    try:
        parsed = parse_tracking_request(
            endpoint,
            raw,
            authorization=request.headers.get("Authorization"),
            limits=_LIMITS,
            replace_invalid_unicode=_replaces(runtime),
        )
    except TrackingRequestError as exc:
        raise BodyError(400, exc.code, exc.message) from None
    await runtime.pipeline.admit()
    received_at = datetime.fromtimestamp(runtime.clock.now(), UTC)
    events = enrich(
        parsed,
        received_at=received_at,
        source_id=runtime.config.source_id,
        new_message_id=lambda: str(uuid.uuid4()),
    )
    expected_key = runtime.config.write_key
    key_refused = expected_key is not None and parsed.write_key != expected_key
    trace_ids = []
    traces = []
    to_deliver = []
    for index, event in enumerate(events):
        # Notes of the invalid-unicode assumption, when strings of this event were replaced.
        replaced = replacement_notes(parsed.replaced_in(index))
        shown_raw = mask_fields(event.raw, _SECRET_FIELDS)
        message = event.message if event.message is not None else shown_raw
        trace = runtime.journal.new_trace("tracking-api", message)
        trace_ids.append(trace.id)
        traces.append(trace)
        reason = "project_not_found" if key_refused else event.reason
        if reason is not None or event.message is None:
            reason = reason or "bad_request"
            trace.outcome = "ingest_rejected"
            trace.reason = reason
            detail = event.detail or INGEST_REASONS.get(reason, reason)
            trace.add_hop(
                "ingest", f"dropped at ingest: {reason} ({detail})", ok=False, detail=replaced
            )
            runtime.journal.changed(trace)
            continue
        trace.add_hop(
            "ingest",
            f"accepted by POST {request.path}",
            ok=True,
            detail={"raw": shown_raw, **replaced},
            violations=runtime.contracts.validate("segment/message", shown_raw),
        )
        if runtime.suppress(trace):
            continue
        if runtime.accept(trace, enqueue=False):
            to_deliver.append(trace)
    try:
        # Acknowledge only what is durable: with a journal file, 200 means "on disk", and
        # 503 means none of it was kept (none of it will be delivered).
        await runtime.keep(traces, to_deliver)
    except JournalWriteError as exc:
        raise BodyError(503, "journal_unavailable", f"events not stored; retry ({exc})") from None
    return json_response({"success": True}, headers={TRACE_IDS_HEADER: ",".join(trace_ids)})


def _replaces(runtime: SegmentHost) -> bool:
    """Whether invalid Unicode is replaced by U+FFFD (the ``invalid-unicode`` variant in force)."""
    return replaces(runtime.config.assumptions)
