"""``/_emulator/faults``: list, add and clear the fault rules in force."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from emulator.faults.http.keys import FAULT_INJECTOR
from emulator.faults.rules import MAX_RULES, FaultRuleError
from emulator.faults.specs import rules_from_json
from emulator.web.errors import BodyError, json_response, parse_json_body, read_body

__all__ = ["routes"]

routes = web.RouteTableDef()

_BODY_LIMIT = 256 * 1024


@routes.get("/_emulator/faults")
async def list_faults(request: web.Request) -> web.Response:
    injector = request.app[FAULT_INJECTOR]
    return json_response({"seed": injector.seed, "rules": injector.listing()})


@routes.post("/_emulator/faults")
async def add_faults(request: web.Request) -> web.Response:
    """Add one rule, a list, or ``{"rules": [...]}``; all are added or none is.

    A body that is not JSON is read as compact rules, one per line, so that
    ``curl -d 'refersion=503x2'`` works as written.
    """
    injector = request.app[FAULT_INJECTOR]
    raw = await read_body(request, limit=_BODY_LIMIT)
    text = raw.decode("utf-8", "replace").strip()
    if text[:1] in ("", "{", "[", '"'):
        payload: Any = parse_json_body(raw)
    else:
        payload = [line.strip() for line in text.splitlines() if line.strip()]
    try:
        rules = rules_from_json(payload)
        if len(injector) + len(rules) > MAX_RULES:
            raise FaultRuleError(f"rules: at most {MAX_RULES} in force; clear some first")
        taken = {rule.id for rule in injector.rules()}
        for rule in rules:
            if rule.id is not None and rule.id in taken:
                raise FaultRuleError(f"id: a rule with id {rule.id!r} is already in force")
            taken.add(rule.id)
        added = [injector.add(rule) for rule in rules]
    except FaultRuleError as exc:
        raise BodyError(400, "invalid_fault", str(exc)) from None
    return json_response({"rules": [rule.to_dict() for rule in added]}, status=201)


@routes.delete("/_emulator/faults")
async def clear_faults(request: web.Request) -> web.Response:
    injector = request.app[FAULT_INJECTOR]
    cleared = len(injector)
    injector.clear()
    return json_response({"cleared": cleared})


@routes.delete("/_emulator/faults/{rule_id}")
async def remove_fault(request: web.Request) -> web.Response:
    rule_id = request.match_info["rule_id"]
    if not request.app[FAULT_INJECTOR].remove(rule_id):
        raise BodyError(404, "not_found", f"no fault rule with id {rule_id!r}")
    return json_response({"removed": rule_id})
