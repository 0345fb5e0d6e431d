"""``/_emulator/assumptions``: which variant of each registry assumption is in force, switchable.

GET lists every assumption with its variants and the one in force. PUT ``{"assumptions":
{"id": "variant", ...}}`` makes those the run's explicit choices (an id left out goes back to
its default) from the next event on; events already journaled keep the notes they were made
under.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from aiohttp import web

from emulator.assumptions import ASSUMPTIONS, AssumptionChoices, UnknownAssumption
from emulator.server.keys import RUNTIME
from emulator.server.runtime import Runtime
from emulator.web.errors import json_response, read_body, read_json_object

__all__ = ["routes"]

routes = web.RouteTableDef()

_BODY_LIMIT = 64 * 1024


@routes.get("/_emulator/assumptions")
async def get_assumptions(request: web.Request) -> web.Response:
    return json_response(_shown(request.app[RUNTIME]))


@routes.put("/_emulator/assumptions")
async def put_assumptions(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    body = read_json_object(await read_body(request, limit=_BODY_LIMIT))
    chosen = body.get("assumptions")
    unknown = sorted(set(body) - {"assumptions"})
    if unknown:
        return _refused(
            f'unknown field {unknown[0]!r}; the body is {{"assumptions": {{…}}}}', unknown[0]
        )
    if not isinstance(chosen, dict):
        return _refused(
            "assumptions must be an object of assumption id → variant name", "assumptions"
        )
    try:
        choices = AssumptionChoices.of(chosen)
    except UnknownAssumption as exc:
        return _refused(str(exc), exc.field)
    config = dataclasses.replace(runtime.config, assumptions=choices)
    # The mapping in use (built-in or plugged in) stays; only the variants change.
    runtime.reconfigure(config, mapping=runtime.mapping)
    return json_response(_shown(runtime))


def _refused(message: str, field: str) -> web.Response:
    body = {"code": "invalid_assumption", "message": message, "field": field}
    return json_response(body, status=400)


def _shown(runtime: Runtime) -> dict[str, Any]:
    choices = runtime.config.assumptions
    return {
        "assumptions": [
            {
                **entry.to_dict(),
                "inForce": choices.variant(entry.id),
                "chosen": choices.is_chosen(entry.id),
            }
            for entry in ASSUMPTIONS.values()
        ]
    }
