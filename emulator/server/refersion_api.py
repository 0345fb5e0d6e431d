"""The fake Refersion REST API v2 over HTTP: ``POST /refersion/v2/<endpoint>``."""

from __future__ import annotations

import json

from aiohttp import web

from ..assumptions import NOTES_HEADER
from ..refersion import FakeRefersion
from ..refersion.request import credentials_match
from .http_errors import BodyError, check_limits, read_body
from .keys import RUNTIME

__all__ = ["BASE_PATH", "routes"]

BASE_PATH = "/refersion/v2"
_BODY_LIMIT = 1024 * 1024

routes = web.RouteTableDef()


@routes.post(BASE_PATH + r"/{endpoint:.+}")
async def refersion_endpoint(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    endpoint = request.match_info["endpoint"]
    body = await read_body(request, limit=_BODY_LIMIT)
    # Refersion checks the endpoint, then the keys, then the body; the limits keep that order.
    known = endpoint.strip("/") in FakeRefersion.ENDPOINTS
    if known and credentials_match(request.headers, runtime.config.credentials):
        _check_structure(body)
    reply = runtime.refersion.handle(endpoint, request.headers, body)
    headers = dict(reply.headers)
    if reply.notes:
        headers[NOTES_HEADER] = json.dumps([note.to_dict() for note in reply.notes])
    return web.json_response(reply.body, status=reply.status, headers=headers)


@routes.route("*", BASE_PATH + r"/{endpoint:.+}")
async def refersion_wrong_method(_request: web.Request) -> web.Response:
    raise BodyError(405, "method_not_allowed", "Refersion API v2 endpoints take POST only")


def _check_structure(body: bytes) -> None:
    """Apply the JSON limits; a body that does not parse is left to the fake to word."""
    try:
        value = json.loads(body)
    except (ValueError, RecursionError):
        return
    check_limits(value)
