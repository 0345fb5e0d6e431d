"""The fake Refersion REST API v2 over HTTP: ``POST /refersion/v2/<endpoint>``."""

from __future__ import annotations

from aiohttp import web

from .http_errors import BodyError, read_body
from .keys import RUNTIME

__all__ = ["BASE_PATH", "routes"]

BASE_PATH = "/refersion/v2"
_BODY_LIMIT = 1024 * 1024

routes = web.RouteTableDef()


@routes.post(BASE_PATH + r"/{endpoint:.+}")
async def refersion_endpoint(request: web.Request) -> web.Response:
    fake = request.app[RUNTIME].refersion
    body = await read_body(request, limit=_BODY_LIMIT)
    reply = fake.handle(request.match_info["endpoint"], request.headers, body)
    return web.json_response(reply.body, status=reply.status, headers=dict(reply.headers))


@routes.route("*", BASE_PATH + r"/{endpoint:.+}")
async def refersion_wrong_method(_request: web.Request) -> web.Response:
    raise BodyError(405, "method_not_allowed", "Refersion API v2 endpoints take POST only")
