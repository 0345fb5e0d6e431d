"""The built-in mapping: one Segment message in, one Refersion operation or a rejection out."""

from __future__ import annotations

from typing import Any

from emulator.destination.mapping.delete import map_delete
from emulator.destination.mapping.engage import with_engage_fix
from emulator.destination.mapping.identify import map_identify
from emulator.destination.mapping.model import MappingResult, MappingSettings, Rejection
from emulator.destination.mapping.values import json_type, quote

__all__ = ["map_message"]


def map_message(message: Any, *, settings: MappingSettings) -> MappingResult:
    """Map any JSON value; never raises, every problem is a :class:`Rejection`.

    Pure: no I/O, and the same message and settings always give the same result.
    """
    if not isinstance(message, dict):
        return Rejection(
            reason="not_an_object",
            message=f"The message must be a JSON object, not {json_type(message)}.",
            fix="send one Segment message as a JSON object",
            field="",
        )
    kind = message.get("type")
    if kind == "identify":
        return with_engage_fix(message, map_identify(message, settings=settings))
    if kind == "delete":
        return map_delete(message, settings=settings)
    return Rejection(
        reason="unsupported_type",
        message="Unsupported event type",
        fix=(
            "send only identify and delete calls to Refersion "
            f"(this message's type is {_describe_type(kind)})"
        ),
        field="/type",
        status=501,
    )


def _describe_type(kind: object) -> str:
    if isinstance(kind, str):
        return quote(kind)
    return "missing" if kind is None else json_type(kind)
