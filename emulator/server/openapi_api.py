"""``GET /_emulator/openapi.json``: the OpenAPI document, pointing at this emulator."""

from __future__ import annotations

from aiohttp import web

from emulator.contract_checks.openapi import bundled_document
from emulator.server.keys import RUNTIME
from emulator.version import __version__
from emulator.web.errors import json_response

__all__ = ["routes"]

routes = web.RouteTableDef()


@routes.get("/_emulator/openapi.json")
async def openapi_document(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    return json_response(bundled_document(server_url=runtime.base_url, version=__version__))
