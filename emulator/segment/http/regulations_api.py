"""A subset of Segment's Public API "Deletion and Suppression": ``/regulations``.

The real base URL is ``https://api.segmentapis.com``; the paths here are the real ones
(``POST /regulations``, ``GET /regulations/{regulateId}``), with the Public API's envelopes:
``{"data": ...}`` on success and ``{"errors": [{"type", "message", "field", "status"}]}`` on
failure. No token is checked.
"""

from __future__ import annotations

import time

from aiohttp import web

from emulator.assumptions import AssumptionNote
from emulator.segment.http.host import SEGMENT_HOST, SegmentHost
from emulator.segment.regulations.book import (
    Regulation,
    RegulationRequest,
    RegulationRequestError,
    delete_message,
    parse_regulation_request,
)
from emulator.segment.routing import DESTINATION_NAME
from emulator.web.errors import json_response, parse_json_body, read_body

__all__ = ["WORKSPACE_ID", "create_regulation", "public_api_error", "regulate", "routes"]

routes = web.RouteTableDef()

WORKSPACE_ID = "emulator-workspace"
_DESTINATION = (DESTINATION_NAME, "emulator-refersion-destination")
# "Up to 5,000 IDs or 4 MB per call" (docs/sources.md#segment-deletes).
_BODY_LIMIT = 4 * 1024 * 1024


def public_api_error(
    status: int, kind: str, message: str, *, field: str | None = None
) -> web.Response:
    """The Public API's ``RequestErrorEnvelope``."""
    error: dict[str, object] = {"type": kind, "message": message, "status": status}
    if field is not None:
        error["field"] = field
    return json_response({"errors": [error]}, status=status)


async def regulate(runtime: SegmentHost, request: RegulationRequest) -> Regulation:
    """Create the regulation and queue its deletes (the Python API of ``POST /regulations``)."""
    regulation = create_regulation(runtime, request)
    await runtime.accept_all(regulation.deliveries)
    return regulation


def create_regulation(runtime: SegmentHost, request: RegulationRequest) -> Regulation:
    """Create the regulation: change suppression at once, journal one delete per subject.

    Suppression comes first, so no identify sent after the request slips in between. The
    deletes are not queued yet (see :func:`regulate`): the regulation is ``INITIALIZED``.
    """
    now = runtime.clock.now()
    regulation = runtime.regulations.create(request, now=now)
    kind = request.kind
    if kind.suppression == "add":
        runtime.suppressions.suppress(request.subject_ids, regulation_id=regulation.id)
    elif kind.suppression == "remove":
        runtime.suppressions.unsuppress(request.subject_ids)
    if not kind.forwards:
        return regulation
    variant = runtime.config.assumptions.variant("regulation-forwarding")
    regulation.forwarded = variant == "forward"
    for job, user_id in enumerate(request.subject_ids, start=1):
        message = delete_message(
            regulation_id=regulation.id,
            job=job,
            user_id=user_id,
            source_id=runtime.config.source_id,
            created_at=regulation.created_at,
            now=now,
            monotonic=time.monotonic(),
        )
        trace = runtime.journal.new_trace("regulation", message)
        detail = {"regulationId": regulation.id, "regulationType": request.regulation_type}
        if not regulation.forwarded:
            note = AssumptionNote(
                "regulation-forwarding",
                variant,
                "the delete is not forwarded to Refersion",
                "forward would send it to the destination",
            )
            trace.add_hop(
                "regulation",
                f"{request.regulation_type} regulation {regulation.id}: not forwarded",
                ok=False,
                detail={**detail, "assumptions": [note.to_dict()]},
            )
            trace.outcome = "filtered"
            trace.reason = "regulation_not_forwarded"
            runtime.journal.changed(trace)
            continue
        note = AssumptionNote(
            "regulation-forwarding",
            variant,
            "the delete is forwarded to Refersion",
            "not-forwarded: Segment's list of destinations that receive deletion requests "
            "does not name Refersion; nothing would reach it",
        )
        trace.add_hop(
            "regulation",
            f"{request.regulation_type} regulation {regulation.id} forwards a delete",
            ok=True,
            detail={**detail, "assumptions": [note.to_dict()]},
        )
        regulation.deliveries.append(trace)
    return regulation


@routes.post("/regulations")
async def post_regulation(request: web.Request) -> web.Response:
    runtime = request.app[SEGMENT_HOST]
    body = parse_json_body(await read_body(request, limit=_BODY_LIMIT))
    try:
        regulation_request = parse_regulation_request(body)
    except RegulationRequestError as exc:
        return public_api_error(400, "validation", exc.message, field=exc.field)
    regulation = await regulate(runtime, regulation_request)
    return json_response({"data": {"regulateId": regulation.id}})


@routes.get("/regulations")
async def list_regulations(request: web.Request) -> web.Response:
    runtime = request.app[SEGMENT_HOST]
    items = [_shown(runtime, regulation) for regulation in runtime.regulations]
    return json_response({"data": {"regulations": items}})


@routes.get("/regulations/{regulateId}")
async def get_regulation(request: web.Request) -> web.Response:
    runtime = request.app[SEGMENT_HOST]
    regulate_id = request.match_info["regulateId"]
    regulation = runtime.regulations.get(regulate_id)
    if regulation is None:
        return public_api_error(
            404, "not-found", f"no regulation with id {regulate_id!r}", field="regulateId"
        )
    return json_response({"data": {"regulation": _shown(runtime, regulation)}})


def _shown(runtime: SegmentHost, regulation: Regulation) -> dict[str, object]:
    return regulation.to_dict(
        workspace_id=WORKSPACE_ID, source_id=runtime.config.source_id, destination=_DESTINATION
    )
