"""Read-only summaries the inspector shows: contract checks per contract, and the outcomes."""

from __future__ import annotations

from aiohttp import web

from emulator.journal.traces import FINAL_OUTCOMES, OUTCOMES
from emulator.server.keys import RUNTIME
from emulator.web.errors import json_response

__all__ = ["routes"]

routes = web.RouteTableDef()


@routes.get("/_emulator/contracts")
async def contracts(request: web.Request) -> web.Response:
    """Per contract: checks run, passed, failed, and violations found, since start or reset."""
    runtime = request.app[RUNTIME]
    rows = runtime.contract_tally.summary(runtime.contracts.names)
    return json_response(
        {
            "contracts": rows,
            "checked": sum(row["checked"] for row in rows),
            "failed": sum(row["failed"] for row in rows),
        }
    )


@routes.get("/_emulator/outcomes")
async def outcomes(_request: web.Request) -> web.Response:
    """Every outcome a trace can have, what it means, and whether it is final."""
    items = [
        {"outcome": name, "description": text, "final": name in FINAL_OUTCOMES}
        for name, text in OUTCOMES.items()
    ]
    return json_response({"outcomes": items})
