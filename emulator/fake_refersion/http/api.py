"""The fake Refersion REST API v2 over HTTP: ``POST /refersion/v2/<endpoint>``."""

from __future__ import annotations

import json
from typing import Protocol

from aiohttp import web

from emulator.assumptions import NOTES_HEADER
from emulator.config import EmulatorConfig
from emulator.fake_refersion import FakeRefersion
from emulator.fake_refersion.request import credentials_match
from emulator.json_limits import strict_dumps
from emulator.web.errors import BodyError, check_limits, json_response, read_body

__all__ = ["BASE_PATH", "REFERSION_HOST", "RefersionHost", "routes"]


class RefersionHost(Protocol):
    """The fake account and the settings naming its keys (the server's runtime provides them)."""

    @property
    def config(self) -> EmulatorConfig: ...

    @property
    def refersion(self) -> FakeRefersion: ...


REFERSION_HOST = web.AppKey("refersion_host", RefersionHost)

BASE_PATH = "/refersion/v2"
_BODY_LIMIT = 1024 * 1024

routes = web.RouteTableDef()


@routes.post(BASE_PATH + r"/{endpoint:.+}")
async def refersion_endpoint(request: web.Request) -> web.Response:
    runtime = request.app[REFERSION_HOST]
    endpoint = request.match_info["endpoint"]
    body = await read_body(request, limit=_BODY_LIMIT)
    # Refersion checks the endpoint, then the keys, then the body; the limits keep that order.
    known = endpoint.strip("/") in FakeRefersion.ENDPOINTS
    if known and credentials_match(request.headers, runtime.config.credentials):
        _check_structure(body)
    reply = runtime.refersion.handle(endpoint, request.headers, body)
    headers = dict(reply.headers)
    if reply.notes:
        headers[NOTES_HEADER] = strict_dumps([note.to_dict() for note in reply.notes])
    return json_response(reply.body, status=reply.status, headers=headers)


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
