"""Segment's HTTP Tracking API: ``POST /v1/<type>``, ``/v1/batch`` and ``/v1/import``.

Besides the long paths: the one-letter paths of the browser and mobile libraries, the browser
library's error metrics (``/v1/m``), the project settings it loads at start, and CORS on all of
``/v1/*`` (and nowhere else) so that pages of any origin can send events.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from aiohttp import web

from emulator.assumptions import AssumptionChoices, AssumptionNote
from emulator.journal.durability import JournalWriteError
from emulator.journal.traces import Trace
from emulator.segment.cors import answers_browsers, preflight, response_headers
from emulator.segment.http.host import SEGMENT_HOST, SegmentHost
from emulator.segment.ingest import (
    BATCH_ENDPOINTS,
    SHORT_PATHS,
    TRACKING_TYPES,
    IngestLimits,
    TrackingRequestError,
    enrich,
    parse_tracking_request,
)
from emulator.segment.intake import ingest_events
from emulator.segment.invalid_unicode import replaces
from emulator.segment.project_settings import project_settings, write_key_problem
from emulator.web.errors import BodyError, Handler, json_response, read_body, read_json_object

__all__ = ["cors_middleware", "routes"]

routes = web.RouteTableDef()

_LIMITS = IngestLimits()
# Browsers' sendBeacon posts JSON as text/plain; a missing type is what curl -d sends.
_JSON_TYPES = frozenset({"application/json", "text/plain", "application/octet-stream", ""})
TRACE_IDS_HEADER = "X-Emulator-Trace-Ids"


@web.middleware
async def cors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every answer under ``/v1/`` carries the CORS headers, errors included.

    Outermost, so that refusals and errors are readable by the page too: the browser library
    drops an event on a 4xx but retries one it could not read.
    """
    response = await handler(request)
    if answers_browsers(request.path) and not response.prepared:
        choices = request.app[SEGMENT_HOST].config.assumptions_in_force
        response.headers.update(response_headers(request.headers.get("Origin"), choices))
    return response


@routes.route("OPTIONS", r"/v1/{path:.*}")
async def tracking_preflight(request: web.Request) -> web.Response:
    answer = preflight(
        request.headers.get("Origin"),
        request.headers.get("Access-Control-Request-Method"),
        request.headers.get("Access-Control-Request-Headers"),
        choices=request.app[SEGMENT_HOST].config.assumptions_in_force,
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
        # The one-letter type paths are the browser library's own (/v1/b is shared with the
        # mobile libraries, so there the event's context.library.name decides).
        browser_path=name in SHORT_PATHS and name != "b",
        choices=runtime.config.assumptions_in_force,
    )
    cors_notes = _cors_notes(request.headers.get("Origin"), runtime.config.assumptions_in_force)
    expected_key = runtime.config.write_key
    key_refused = expected_key is not None and parsed.write_key != expected_key
    to_deliver: list[Trace] = []

    def take(trace: Trace) -> None:
        # A suppressed user's events stop at the API: never deduped, routed or delivered.
        # The rest are queued once stored (runtime.keep below).
        if not runtime.suppress(trace) and runtime.accept(trace, enqueue=False):
            to_deliver.append(trace)

    traces = ingest_events(
        events,
        received_by=f"POST {request.path}",
        key_refused=key_refused,
        journal=runtime.journal,
        contracts=runtime.contracts,
        take=take,
        notes=cors_notes,
        replaced_fields=parsed.replaced_in,
    )
    try:
        # Acknowledge only what is durable: with a journal file, 200 means "on disk", and
        # 503 means none of it was kept (none of it will be delivered).
        await runtime.keep(traces, to_deliver)
    except JournalWriteError as exc:
        raise BodyError(503, "journal_unavailable", f"events not stored; retry ({exc})") from None
    return json_response(
        {"success": True}, headers={TRACE_IDS_HEADER: ",".join(t.id for t in traces)}
    )


def _cors_notes(origin: str | None, choices: AssumptionChoices) -> list[AssumptionNote]:
    """What a page's event relied on: how the answer's CORS headers named its origin."""
    if origin is None or "Access-Control-Allow-Origin" not in response_headers(origin, choices):
        return []
    variant = choices.variant("cors-origin")
    if variant == "wildcard":
        return [
            AssumptionNote(
                "cors-origin",
                variant,
                f"answered {origin} with Access-Control-Allow-Origin: *",
                "echo-with-credentials: credentialed requests would be readable too",
            )
        ]
    return [
        AssumptionNote(
            "cors-origin",
            variant,
            f"answered {origin} with its own origin and credentials allowed",
            "wildcard: '*', a credentialed request (a JSON Blob beacon) would be blocked",
        )
    ]


def _replaces(runtime: SegmentHost) -> bool:
    """Whether invalid Unicode is replaced by U+FFFD (the ``invalid-unicode`` variant in force)."""
    return replaces(runtime.config.assumptions_in_force)
