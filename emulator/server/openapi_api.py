"""``GET /_emulator/openapi.json``: the OpenAPI document, pointing at this emulator."""

from __future__ import annotations

from aiohttp import web

from .. import __version__
from ..openapi import bundled_document
from .http_errors import json_response
from .keys import RUNTIME

__all__ = ["routes"]

routes = web.RouteTableDef()


@routes.get("/_emulator/openapi.json")
async def openapi_document(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    return json_response(bundled_document(server_url=runtime.base_url, version=__version__))
