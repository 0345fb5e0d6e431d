"""Engage plan files for ``refersion-emulator engage``: one computation and its snapshots.

    {"description": "...",
     "audience": {"name": "Order Completed Last 30 Days", "includeTraits": ["first_name"]},
     "syncs": [{"members": [...]}, {"members": [...], "at": "2026-01-01T10:00:00Z"}]}

A sync may also be a bare array of members. Pure: bytes in, a plan or an InputError out.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from emulator.errors import InputError
from emulator.segment.timestamps import parse_timestamp

__all__ = ["ACCEPTED_OUTCOMES", "EngagePlan", "SyncStep", "judge_events", "parse_plan"]

# What a healthy Engage sync ends as at Refersion; anything else is worth a failing exit.
ACCEPTED_OUTCOMES = frozenset({"created", "already_exists", "skipped", "delivered"})
_PLAN_FIELDS = frozenset({"description", "source", "audience", "syncs"})


@dataclass(frozen=True, slots=True)
class SyncStep:
    """One snapshot to sync, at an optional simulated time."""

    members: Any
    at: datetime | None = None


@dataclass(frozen=True, slots=True)
class EngagePlan:
    name: str
    definition: Mapping[str, Any]
    syncs: tuple[SyncStep, ...]
    description: str = ""


def parse_plan(name: str, data: bytes) -> EngagePlan:
    """Parse a plan file's bytes; raise :class:`InputError` naming ``name`` and the problem."""
    try:
        payload = json.loads(data)
    except RecursionError:
        raise InputError(f"{name}: JSON nests too deeply") from None
    except ValueError as exc:
        raise InputError(f"{name}: not valid JSON ({exc})") from None
    if not isinstance(payload, dict):
        raise InputError(f"{name}: expected a JSON object with audience and syncs")
    unknown = sorted(set(payload) - _PLAN_FIELDS)
    if unknown:
        allowed = ", ".join(sorted(_PLAN_FIELDS))
        raise InputError(f"{name}: unknown field {unknown[0]}; allowed: {allowed}")
    definition = payload.get("audience")
    if not isinstance(definition, dict):
        raise InputError(f'{name}: audience must be an object, e.g. {{"name": "VIP Users"}}')
    syncs = payload.get("syncs")
    if not isinstance(syncs, list) or not syncs:
        raise InputError(f"{name}: syncs must be a non-empty array of member snapshots")
    return EngagePlan(
        name=name,
        definition=definition,
        syncs=tuple(_step(name, index, item) for index, item in enumerate(syncs)),
        description=str(payload.get("description", "")),
    )


def _step(name: str, index: int, item: Any) -> SyncStep:
    if isinstance(item, list):
        return SyncStep(item)
    if not isinstance(item, dict) or "members" not in item or set(item) - {"members", "at"}:
        raise InputError(f'{name}: syncs[{index}] must be {{"members": [...], "at"?: time}}')
    at = item.get("at")
    if at is None:
        return SyncStep(item["members"])
    moment = parse_timestamp(at)
    if moment is None:
        raise InputError(f"{name}: syncs[{index}].at {at!r} is not an ISO 8601 time")
    return SyncStep(item["members"], moment)


def judge_events(events: Sequence[Mapping[str, Any]]) -> list[str]:
    """Why the identifies of a run are not all healthy (trace dicts); empty when they are."""
    failures = []
    for event in events:
        outcome = event.get("outcome")
        who = event.get("userId") or event.get("email") or event.get("messageId")
        if outcome not in ACCEPTED_OUTCOMES:
            failures.append(f"{who}: {outcome} ({event.get('reason')})")
        for violation in event.get("violations", []):
            failures.append(f"{who}: violates {violation['contract']} at {violation['pointer']}")
    return failures
