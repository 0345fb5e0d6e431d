"""Engage traffic at the destination: audience exits, and fixes that point at the audience.

An Engage identify carries ``context.personas`` and, unless the audience's "Include traits"
adds more, only the audience key and the identifiers (docs/sources.md#engage).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from emulator.destination.mapping.model import MappingResult, Rejection

__all__ = ["audience_exit", "personas", "with_engage_fix"]

_MISSING_EMAIL_FIX = (
    "this identify comes from Engage {what} {key}: send the email identifier to Refersion in "
    "the audience's identifier (ID sync) settings, or add email to its Include traits"
)
_MISSING_NAME_FIX = (
    "this identify comes from Engage {what} {key}, which sends only its key and identifiers "
    "unless told otherwise: add first_name and last_name (or name) to the Include traits of "
    "its Refersion destination"
)
_ENGAGE_FIXES = {
    "missing_email": _MISSING_EMAIL_FIX,
    "missing_name": _MISSING_NAME_FIX,
    "name_incomplete": _MISSING_NAME_FIX,
}


def personas(message: Any) -> dict[str, Any] | None:
    """``context.personas`` when ``message`` came from Engage, else ``None``."""
    context = message.get("context") if isinstance(message, dict) else None
    found = context.get("personas") if isinstance(context, dict) else None
    return found if isinstance(found, dict) else None


def audience_exit(message: Any) -> str | None:
    """The audience key when ``message`` tells that the user left an Engage audience.

    Engage sends ``<key>: false`` on exit; Journeys v1 examples send the string ``"false"``,
    so both count.
    """
    found = personas(message)
    if found is None or found.get("computation_class") != "audience":
        return None
    key = found.get("computation_key")
    traits = message.get("traits")
    if not isinstance(key, str) or not isinstance(traits, dict):
        return None
    return key if traits.get(key) in (False, "false") else None


def with_engage_fix(message: Any, result: MappingResult) -> MappingResult:
    """``result`` with a fix naming the audience when an Engage identify lacks email or name.

    The customer fixes that in the audience's settings in Engage, not in their own code.
    """
    found = personas(message)
    if found is None or not isinstance(result, Rejection) or result.reason not in _ENGAGE_FIXES:
        return result
    what = {"audience": "audience", "trait": "computed trait"}.get(
        str(found.get("computation_class")), "computation"
    )
    key = found.get("computation_key")
    shown = repr(key) if isinstance(key, str) else "(no computation_key)"
    fix = _ENGAGE_FIXES[result.reason].format(what=what, key=shown)
    return dataclasses.replace(result, fix=fix)
