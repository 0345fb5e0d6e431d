"""``POST /destination``: the Refersion destination Segment delivers to (receiver + mapping)."""

from __future__ import annotations

import dataclasses
from typing import Any, Protocol

from aiohttp import web

from emulator.assumptions import AssumptionNote
from emulator.config import EmulatorConfig
from emulator.contract_checks.contract_set import ContractSet
from emulator.destination.answer import (
    DestinationAnswer,
    answer_for_audience_exit,
    answer_for_key_error,
    answer_for_refersion,
    answer_for_rejection,
)
from emulator.destination.http.refersion_client import REFERSION_SESSION, call_refersion
from emulator.destination.mapping import Mapping, MappingSettings, Operation, parse_basic_auth
from emulator.destination.mapping.engage import audience_exit
from emulator.errors import InvalidApiKey
from emulator.journal.traces import Journal, Trace
from emulator.web.errors import json_response, read_body, read_json_object

__all__ = ["DESTINATION_HOST", "DestinationHost", "routes"]


class _Deliveries(Protocol):
    # The Segment side's delivery in progress: its traces by messageId.
    in_flight: dict[str, Trace]


class DestinationHost(Protocol):
    """What the receiver needs from the running emulator (the server's runtime provides it)."""

    @property
    def config(self) -> EmulatorConfig: ...

    @property
    def contracts(self) -> ContractSet: ...

    @property
    def journal(self) -> Journal: ...

    @property
    def mapping(self) -> Mapping: ...

    @property
    def mapping_settings(self) -> MappingSettings: ...

    @property
    def pipeline(self) -> _Deliveries: ...

    @property
    def refersion_url(self) -> str: ...


DESTINATION_HOST = web.AppKey("destination_host", DestinationHost)

routes = web.RouteTableDef()

# Segment's own per-message limit is 32 KB; a destination gets no more than that plus
# enrichment, so 512 KB leaves room for irregular payloads and still refuses floods.
_BODY_LIMIT = 512 * 1024


@routes.post("/destination")
async def destination(request: web.Request) -> web.Response:
    runtime = request.app[DESTINATION_HOST]
    raw = await read_body(request, limit=_BODY_LIMIT)
    message = read_json_object(raw, what="body (one Segment message)")
    trace = _trace_for(request, message)
    kind = message.get("type")
    violations = []
    if kind in ("identify", "delete"):
        violations = runtime.contracts.validate(f"segment/{kind}", message)
    trace.add_hop(
        "receive",
        f"destination received {kind if isinstance(kind, str) else 'a message'}",
        ok=True,
        violations=violations,
    )
    answer = await _decide(request, trace, message)
    trace.add_hop(
        "answer",
        f"{answer.status} to Segment: {answer.body.get('message')}",
        ok=answer.status < 300,
        detail={"status": answer.status, "body": answer.body},
        violations=runtime.contracts.validate("destination/response", answer.body),
    )
    if trace.entry == "destination":
        # Nobody on the Segment side will classify this trace: the answer is its outcome.
        trace.outcome = answer.outcome or "retrying"
        trace.reason = answer.reason
    runtime.journal.changed(trace)
    headers = {"Retry-After": answer.retry_after} if answer.retry_after is not None else None
    return json_response(answer.body, status=answer.status, headers=headers)


async def _decide(request: web.Request, trace: Trace, message: dict[str, Any]) -> DestinationAnswer:
    runtime = request.app[DESTINATION_HOST]
    try:
        key = parse_basic_auth(request.headers.get("Authorization"))
    except InvalidApiKey as exc:
        trace.add_hop("auth", str(exc), ok=False)
        return answer_for_key_error(str(exc))
    exited = audience_exit(message)
    if exited is not None:
        variant = runtime.config.assumptions_in_force.variant("audience-exit")
        if variant == "skip":
            note = AssumptionNote(
                "audience-exit",
                variant,
                f"audience exit ({exited}: false) acknowledged, nothing sent to Refersion",
                "identify would map it as an ordinary identify, which may create an affiliate",
            )
            trace.add_hop(
                "mapping",
                f"skipped: {exited} is false (Engage audience exit)",
                ok=True,
                detail={"assumptions": [note.to_dict()]},
            )
            return answer_for_audience_exit(exited)
    result = runtime.mapping(message, settings=runtime.mapping_settings)
    if exited is not None:
        note = AssumptionNote(
            "audience-exit",
            "identify",
            f"audience exit ({exited}: false) mapped as an ordinary identify",
            "skip would send nothing to Refersion",
        )
        result = dataclasses.replace(result, assumptions=(note, *result.assumptions))
    if not isinstance(result, Operation):
        trace.add_hop(
            "mapping",
            f"rejected: {result.reason} — {result.message}",
            ok=False,
            detail=result.to_dict(),
        )
        return answer_for_rejection(result)
    mapped = trace.add_hop(
        "mapping",
        f"{message.get('type')} → POST /{result.endpoint}",
        ok=True,
        detail=result.to_dict(),
    )
    call = await call_refersion(
        request.app[REFERSION_SESSION],
        base_url=runtime.refersion_url,
        operation=result,
        key=key,
        timeout=runtime.config.refersion_timeout,
        contracts=runtime.contracts,
    )
    refersion_hop = trace.add_hop(
        "refersion",
        f"POST /{result.endpoint} → {call.status or call.error}",
        ok=call.status is not None and call.status < 300,
        # The request body the mapping hop shows: one object, journaled once.
        detail=call.journal_detail(mapped.detail["body"], key),
        violations=call.violations,
    )
    duplicate_email = runtime.config.assumptions_in_force.variant("duplicate-email")
    answer = answer_for_refersion(
        result,
        call.status,
        call.body,
        call.error,
        retry_after=call.retry_after,
        duplicate_email=duplicate_email,
    )
    if answer.reason == "email_taken":
        shown = "200, already_exists" if answer.status == 200 else "400, discarded"
        other = "discard: 400, Segment discards it" if answer.status == 200 else "acknowledge: 200"
        note = AssumptionNote(
            "duplicate-email", duplicate_email, f"email taken: answered {shown}", other
        )
        refersion_hop.detail.setdefault("assumptions", []).append(note.to_dict())
    return answer


def _trace_for(request: web.Request, message: dict[str, Any]) -> Trace:
    runtime = request.app[DESTINATION_HOST]
    message_id = message.get("messageId")
    if isinstance(message_id, str) and message_id in runtime.pipeline.in_flight:
        return runtime.pipeline.in_flight[message_id]
    return runtime.journal.new_trace("destination", message)
