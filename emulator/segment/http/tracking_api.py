"""Segment's HTTP Tracking API: ``POST /v1/<type>``, ``/v1/batch`` and ``/v1/import``."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from aiohttp import web

from emulator.journal.durability import JournalWriteError
from emulator.secrets_mask import mask_fields
from emulator.segment.http.host import SEGMENT_HOST
from emulator.segment.ingest import (
    BATCH_ENDPOINTS,
    INGEST_REASONS,
    TRACKING_TYPES,
    IngestLimits,
    TrackingRequestError,
    enrich,
    parse_tracking_request,
)
from emulator.web.errors import BodyError, read_body

__all__ = ["routes"]

routes = web.RouteTableDef()

_LIMITS = IngestLimits()
# Browsers' sendBeacon posts JSON as text/plain; a missing type is what curl -d sends.
_JSON_TYPES = frozenset({"application/json", "text/plain", "application/octet-stream", ""})
# A source's write key is a credential: the journal keeps items as sent, but never it in full.
_SECRET_FIELDS = frozenset({"writeKey"})
TRACE_IDS_HEADER = "X-Emulator-Trace-Ids"


@routes.post(r"/v1/{endpoint}")
async def tracking_endpoint(request: web.Request) -> web.Response:
    endpoint = request.match_info["endpoint"]
    if endpoint not in TRACKING_TYPES and endpoint not in BATCH_ENDPOINTS:
        raise BodyError(404, "not_found", f"/v1/{endpoint} is not a Tracking API endpoint")
    if request.content_type not in _JSON_TYPES:
        raise BodyError(
            415,
            "invalid_content_type",
            f"Content-Type {request.content_type!r} is not JSON; send application/json",
        )
    runtime = request.app[SEGMENT_HOST]
    is_batch = endpoint in BATCH_ENDPOINTS
    limit = _LIMITS.batch_bytes if is_batch else _LIMITS.message_bytes
    # Segment answers oversize bodies with 400, not 413 (segment-semantics.md §5.3).
    raw = await read_body(request, limit=limit, too_large_status=400)
    try:
        parsed = parse_tracking_request(
            endpoint, raw, authorization=request.headers.get("Authorization"), limits=_LIMITS
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
    for event in events:
        shown_raw = mask_fields(event.raw, _SECRET_FIELDS)
        message = event.message if event.message is not None else shown_raw
        trace = runtime.journal.new_trace("tracking-api", message)
        trace_ids.append(trace.id)
        traces.append(trace)
        reason = "invalid_write_key" if key_refused else event.reason
        if reason is not None or event.message is None:
            reason = reason or "message_not_object"
            trace.outcome = "ingest_rejected"
            trace.reason = reason
            detail = event.detail or INGEST_REASONS.get(reason, reason)
            trace.add_hop("ingest", f"dropped at ingest: {reason} ({detail})", ok=False)
            runtime.journal.changed(trace)
            continue
        trace.add_hop(
            "ingest",
            f"accepted by POST /v1/{endpoint}",
            ok=True,
            detail={"raw": shown_raw},
            violations=runtime.contracts.validate("segment/message", shown_raw),
        )
        if runtime.suppress(trace):
            continue
        runtime.accept(trace)
    try:
        # Acknowledge only what is durable: with a journal file, 200 means "on disk".
        await runtime.persist(traces)
    except JournalWriteError as exc:
        raise BodyError(503, "journal_unavailable", f"events not stored; retry ({exc})") from None
    return web.json_response({"success": True}, headers={TRACE_IDS_HEADER: ",".join(trace_ids)})
