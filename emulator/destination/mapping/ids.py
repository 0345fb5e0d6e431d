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


def resolve_merchant_id(
    message: dict[str, object], findings: WarningLog
) -> LineageEntry | Problem | None:
    """``unique_merchant_id``: how a later ``delete`` for the same userId finds the affiliate.

    ``None`` under ``merchant-id=not-sent``.
    """
    variant = findings.variant("merchant-id")
    user_id = read_id(message, "userId", findings)
    if variant == "not-sent":
        alternative = (
            f"user-id-or-anonymous-id would send userId {quote(user_id)}"
            if user_id is not None
            else None
        )
        findings.assume("merchant-id", "unique_merchant_id not sent", alternative)
        return None
    if user_id is not None:
        findings.assume(
            "merchant-id",
            f"unique_merchant_id is userId {quote(user_id)}",
            "not-sent would leave deletes only the email to find the affiliate by",
        )
        return LineageEntry("/userId", "unique_merchant_id", "userId → unique_merchant_id", user_id)
    anonymous_id = read_id(message, "anonymousId", findings) if variant != "user-id-only" else None
    if anonymous_id is not None:
        findings.assume(
            "merchant-id",
            f"unique_merchant_id is anonymousId {quote(anonymous_id)} (no userId)",
            "user-id-only would reject this identify",
        )
        return LineageEntry(
            "/anonymousId",
            "unique_merchant_id",
            "anonymousId → unique_merchant_id (no usable userId)",
            anonymous_id,
        )
    if variant == "user-id-only":
        findings.assume("merchant-id", "no userId: rejected", "anonymousId would be used if sent")
        return Problem(
            "missing_user_id",
            "identify has no usable userId, so unique_merchant_id (how a later delete finds "
            "the affiliate) cannot be set.",
            "add userId",
            "/userId",
        )
    return Problem(
        "missing_user_id",
        "identify has neither a usable userId nor an anonymousId, so unique_merchant_id "
        "(how a later delete finds the affiliate) cannot be set.",
        "add userId (or anonymousId)",
        "/userId",
    )
