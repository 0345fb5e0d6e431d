"""The Engage simulator's control API under ``/_emulator/engage``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from aiohttp import web

from emulator.segment.engage.input import EngageInputError
from emulator.segment.engage.simulator import EngageSimulator
from emulator.segment.engage.space import ComputationExists, UnknownComputation
from emulator.segment.http.host import SEGMENT_HOST
from emulator.segment.timestamps import parse_timestamp
from emulator.web.errors import BodyError, json_response, parse_json_body, read_body

__all__ = ["routes"]

routes = web.RouteTableDef()

_BODY_LIMIT = 4 * 1024 * 1024


@routes.post("/_emulator/engage/audiences")
async def define(request: web.Request) -> web.Response:
    """Define an audience (or, with ``computationClass: trait``, a computed trait)."""
    definition = parse_json_body(await read_body(request, limit=64 * 1024))
    simulator = EngageSimulator(request.app[SEGMENT_HOST])
    with _as_http_errors():
        computation = simulator.define(definition)
    return json_response({"audience": computation.to_dict()}, status=201)


@routes.get("/_emulator/engage/audiences")
async def list_audiences(request: web.Request) -> web.Response:
    engage = request.app[SEGMENT_HOST].engage
    items = [computation.to_dict() for computation in engage]
    return json_response({"spaceId": engage.space_id, "audiences": items})


@routes.post("/_emulator/engage/audiences/{key}/sync")
async def sync(request: web.Request) -> web.Response:
    """Sync one membership snapshot: ``{"members": [...], "at": ISO time}`` or a bare list."""
    runtime = request.app[SEGMENT_HOST]
    payload = parse_json_body(await read_body(request, limit=_BODY_LIMIT))
    members, at = _snapshot(payload)
    simulator = EngageSimulator(runtime)
    key = request.match_info["key"]
    wait = request.query.get("wait", "true") not in ("0", "false")
    with _as_http_errors():
        if wait:
            run = await simulator.sync(key, members, at=at)
        else:
            run = await simulator.send(key, members, at=at)
    return json_response(run.to_dict(), status=200 if wait else 202)


def _snapshot(payload: Any) -> tuple[Any, Any]:
    if isinstance(payload, list):
        return payload, None
    if not isinstance(payload, dict) or "members" not in payload:
        raise BodyError(
            400, "invalid_engage_input", 'body must be {"members": [...]} or an array of members'
        )
    unknown = sorted(set(payload) - {"members", "at"})
    if unknown:
        raise BodyError(
            400, "invalid_engage_input", f"unknown field {unknown[0]}; allowed: at, members"
        )
    at = payload.get("at")
    if at is None:
        return payload["members"], None
    moment = parse_timestamp(at)
    if moment is None:
        raise BodyError(
            400,
            "invalid_engage_input",
            f"at {at!r} is not an ISO 8601 time (the simulated time of the sync)",
        )
    return payload["members"], moment


@contextmanager
def _as_http_errors() -> Iterator[None]:
    """Turn the simulator's errors into the control API's JSON 4xx."""
    try:
        yield
    except EngageInputError as exc:
        raise BodyError(400, "invalid_engage_input", exc.message) from None
    except UnknownComputation as exc:
        raise BodyError(404, "unknown_audience", str(exc)) from None
    except ComputationExists as exc:
        raise BodyError(409, "audience_exists", str(exc)) from None
