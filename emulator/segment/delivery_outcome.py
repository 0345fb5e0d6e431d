"""How one delivery attempt ends, from what came back: the pure half of an attempt.

The delivery pipeline (``segment/http/delivery_pipeline``) makes the HTTP exchange and hands
what it got here; :func:`settle` says whether the event is delivered, discarded or to be
retried, and with which outcome and reason the trace ends.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from emulator.journal.traces import OUTCOMES
from emulator.segment.delivery_policy import AttemptVerdict, Classification, classify

__all__ = ["Exchange", "Settlement", "settle"]


@dataclass(frozen=True, slots=True)
class Exchange:
    """What one POST to the destination came back with.

    ``error`` names a failed exchange (``ETIMEDOUT``, ``ECONNREFUSED``, ``ECONNRESET``, ...);
    ``retry_after`` is the answer's ``Retry-After`` in seconds, when it had a readable one.
    """

    status: int | None
    error: str | None = None
    body: Any = None
    retry_after: float | None = None


@dataclass(frozen=True, slots=True)
class Settlement:
    """The attempt's classification and how the trace ends: ``outcome`` is ``None`` when the
    event is to be retried."""

    classification: Classification
    outcome: str | None = None
    reason: str | None = None

    @property
    def delivered(self) -> bool:
        return self.classification.verdict is AttemptVerdict.DELIVERED


def settle(exchange: Exchange) -> Settlement:
    """Classify the attempt; for a final one, the outcome and reason its trace ends with.

    This emulator's own destination reports the mapping outcome in its answer (``outcome``,
    ``reason``); only known final outcomes are trusted, otherwise the trace ends
    ``delivered`` or ``discarded`` with the classification as its reason.
    """
    # A status line followed by a broken body is a failed exchange, not an answer.
    verdict = classify(None if exchange.error else exchange.status, exchange.error)
    if verdict.verdict is AttemptVerdict.RETRY:
        return Settlement(verdict)
    body = exchange.body
    reported = body.get("outcome") if isinstance(body, dict) else None
    reason = body.get("reason") if isinstance(body, dict) else None
    delivered = verdict.verdict is AttemptVerdict.DELIVERED
    if isinstance(reported, str) and reported in OUTCOMES and reported != "retrying":
        outcome = reported
    else:
        outcome = "delivered" if delivered else "discarded"
    if not isinstance(reason, str):
        reason = None if delivered else verdict.label
    return Settlement(verdict, outcome, reason)
