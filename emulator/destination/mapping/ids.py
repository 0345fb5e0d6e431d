"""Identifiers: userId (else anonymousId) becomes Refersion's unique_merchant_id."""

from __future__ import annotations

from emulator.destination.mapping.findings import Problem, WarningLog
from emulator.destination.mapping.model import LineageEntry
from emulator.destination.mapping.values import is_absent, json_type, number_to_string, quote

__all__ = ["read_id", "resolve_merchant_id"]


def read_id(message: dict[str, object], key: str, findings: WarningLog) -> str | None:
    """The identifier at top-level ``key`` as sent; numbers become their decimal text.

    Identifiers are not stripped: they must match what the customer's database holds.
    """
    value = message.get(key)
    if is_absent(value):
        return None
    if isinstance(value, str):
        return value
    text = number_to_string(value)
    if text is not None:
        findings.warn(
            "value_coerced",
            f"{key} is a number; it is sent as the string {quote(text)}.",
            f"/{key}",
        )
        return text
    findings.warn(
        "value_ignored",
        f"{key} must be a string or a number, not {json_type(value)}; it is ignored.",
        f"/{key}",
    )
    return None


def resolve_merchant_id(message: dict[str, object], findings: WarningLog) -> LineageEntry | Problem:
    """``unique_merchant_id``: how a later ``delete`` for the same userId finds the affiliate."""
    user_id = read_id(message, "userId", findings)
    if user_id is not None:
        return LineageEntry("/userId", "unique_merchant_id", "userId → unique_merchant_id", user_id)
    anonymous_id = read_id(message, "anonymousId", findings)
    if anonymous_id is not None:
        return LineageEntry(
            "/anonymousId",
            "unique_merchant_id",
            "anonymousId → unique_merchant_id (no usable userId)",
            anonymous_id,
        )
    return Problem(
        "missing_user_id",
        "identify has neither a usable userId nor an anonymousId, so unique_merchant_id "
        "(how a later delete finds the affiliate) cannot be set.",
        "add userId (or anonymousId)",
        "/userId",
    )
