"""The destination's answer to Segment, decided from the mapping and Refersion's reply.

Pure: the HTTP receiver calls these with plain data (docs/sources.md, "Answers to Segment").
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from emulator.destination.mapping import Operation, Rejection

__all__ = [
    "EMAIL_TAKEN",
    "NOT_FOUND",
    "DestinationAnswer",
    "answer_for_audience_exit",
    "answer_for_key_error",
    "answer_for_refersion",
    "answer_for_rejection",
]

EMAIL_TAKEN = "The email you have entered is taken by another Affiliate."
NOT_FOUND = "Affiliate not found."


@dataclass(frozen=True, slots=True)
class DestinationAnswer:
    """HTTP status and JSON body for Segment; ``outcome`` is ``None`` while Segment should retry."""

    status: int
    body: dict[str, Any]
    outcome: str | None
    reason: str | None = None
    # Refersion's Retry-After, passed on so Segment waits as long as Refersion asked.
    retry_after: str | None = None


def answer_for_key_error(message: str) -> DestinationAnswer:
    body = {"message": message, "outcome": "unauthorized", "reason": "invalid_api_key"}
    return DestinationAnswer(401, body, "unauthorized", "invalid_api_key")


def answer_for_audience_exit(key: str) -> DestinationAnswer:
    """An Engage audience exit under ``audience-exit=skip``: nothing is sent to Refersion.

    Deleting the affiliate would be wrong: leaving an audience is not a deletion request.
    """
    message = (
        f"Audience exit ({key}: false) skipped (assumption audience-exit=skip): no affiliate "
        "is created or removed"
    )
    body = {"message": message, "outcome": "skipped", "reason": "audience_exited"}
    return DestinationAnswer(200, body, "skipped", "audience_exited")


def answer_for_rejection(rejection: Rejection) -> DestinationAnswer:
    outcome = "rejected"
    body: dict[str, Any] = {
        "message": rejection.message,
        "outcome": outcome,
        "reason": rejection.reason,
        "fix": rejection.fix,
        "warnings": [w.to_dict() for w in rejection.warnings],
    }
    return DestinationAnswer(rejection.status, body, outcome, rejection.reason)


def answer_for_refersion(
    operation: Operation,
    status: int | None,
    body: Any,
    error: str | None,
    *,
    retry_after: str | None = None,
    duplicate_email: str = "acknowledge",
) -> DestinationAnswer:
    """Turn Refersion's reply (or the transport ``error``) into the answer Segment reads.

    A ``retry_after`` from Refersion goes along with the 429 or 503 that asks Segment to retry.
    """
    answer = _answer_for_refersion(operation, status, body, error, duplicate_email)
    if retry_after is not None and answer.outcome is None and status in (429, 503):
        return dataclasses.replace(answer, retry_after=retry_after)
    return answer


def _answer_for_refersion(
    operation: Operation, status: int | None, body: Any, error: str | None, duplicate_email: str
) -> DestinationAnswer:
    warnings = [w.to_dict() for w in operation.warnings]
    errors = _error_messages(body)
    if status is None or (200 <= status < 300 and not isinstance(body, dict)):
        problem = error or "a body that is not a JSON object"
        return _answer(
            503,
            f"Refersion unavailable ({problem}); retry",
            None,
            "refersion_unavailable",
            warnings,
        )
    if 200 <= status < 300:
        if operation.kind == "create":
            return _answer(200, "Affiliate created", "created", None, warnings, affiliate=body)
        return _answer(200, "Affiliate deleted", "deleted", None, warnings)
    if status == 422 and operation.kind == "create" and EMAIL_TAKEN in errors:
        # Assumption duplicate-email: acknowledged (default), or discarded as a failure.
        if duplicate_email == "acknowledge":
            return _answer(200, EMAIL_TAKEN, "already_exists", "email_taken", warnings)
        return _answer(400, EMAIL_TAKEN, "refersion_rejected", "email_taken", warnings)
    if status == 422 and operation.kind == "delete" and NOT_FOUND in errors:
        return _answer(200, "No affiliate to delete", "not_found", "affiliate_not_found", warnings)
    detail = "; ".join(errors) or f"HTTP {status}"
    if status == 401:
        return _answer(
            401,
            f"Refersion refused the API key: {detail}",
            "unauthorized",
            "refersion_401",
            warnings,
        )
    if status == 429:
        return _answer(
            429, f"Refersion rate limit: {detail}; retry", None, "refersion_429", warnings
        )
    if status >= 500:
        return _answer(
            503, f"Refersion error {status}: {detail}; retry", None, f"refersion_{status}", warnings
        )
    return _answer(
        400,
        f"Refersion rejected the request ({status}): {detail}",
        "refersion_rejected",
        f"refersion_{status}",
        warnings,
    )


def _answer(
    status: int,
    message: str,
    outcome: str | None,
    reason: str | None,
    warnings: list[dict[str, Any]],
    *,
    affiliate: Any = None,
) -> DestinationAnswer:
    body: dict[str, Any] = {"message": message, "outcome": outcome or "retry"}
    if reason is not None:
        body["reason"] = reason
    if warnings:
        body["warnings"] = warnings
    if isinstance(affiliate, dict):
        body["affiliate"] = affiliate
    return DestinationAnswer(status, body, outcome, reason)


def _error_messages(body: Any) -> list[str]:
    if not isinstance(body, dict):
        return []
    found = body.get("errors", body.get("error"))
    if isinstance(found, str):
        return [found]
    if isinstance(found, list):
        return [str(item) for item in found]
    return []
