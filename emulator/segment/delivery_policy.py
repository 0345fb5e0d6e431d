"""How Segment classifies a delivery attempt and schedules the next one.

Sourced (docs/sources.md, "Segment delivery"): 200/202 succeed; 400, 401, 403, 404 and other
4xx but 429 are discarded; 429, 5xx, timeouts and connection errors are retried with
randomized exponential backoff for up to four hours, after which the event expires. Assumed
(docs/assumptions.md): the schedule itself (``retry-backoff``), whether ``Retry-After`` is
honoured (``retry-after``) and the answer timeout (``delivery-timeout``).
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from enum import StrEnum

from emulator.assumptions import AssumptionChoices

__all__ = [
    "AttemptVerdict",
    "Classification",
    "RetryPolicy",
    "classify",
    "delivery_timeout",
    "parse_retry_after",
    "retry_policy",
]

# RFC 9110 allows whole seconds only; fractions are accepted because test servers send them.
_SECONDS = re.compile(r"[0-9]+(?:\.[0-9]+)?")


class AttemptVerdict(StrEnum):
    DELIVERED = "delivered"
    DISCARDED = "discarded"
    RETRY = "retry"


@dataclass(frozen=True, slots=True)
class Classification:
    """``label`` is what Segment's Event Delivery view would show for the attempt."""

    verdict: AttemptVerdict
    label: str


def classify(status: int | None, error: str | None = None) -> Classification:
    """Classify one attempt by its HTTP status, or by ``error`` (e.g. ``ETIMEDOUT``) if none."""
    if status is None:
        return Classification(AttemptVerdict.RETRY, f"awaiting-retry.{error or 'INTERNAL'}")
    if status in (200, 202):
        return Classification(AttemptVerdict.DELIVERED, "delivered")
    if status == 429:
        return Classification(AttemptVerdict.RETRY, "awaiting-retry.429")
    if status == 501:
        # Partners answer 501 for types they do not implement; Segment's error table lists
        # that as UNSUPPORTED_EVENT_TYPE, a discard, so it is not retried for four hours.
        return Classification(AttemptVerdict.DISCARDED, "discarded.UNSUPPORTED_EVENT_TYPE")
    if status >= 500:
        return Classification(AttemptVerdict.RETRY, "awaiting-retry.5xx")
    if 300 <= status < 400:
        return Classification(AttemptVerdict.RETRY, f"awaiting-retry.{status}")
    if 200 <= status < 300:
        # Only 200 and 202 are documented as success; another 2xx is taken as delivered.
        return Classification(AttemptVerdict.DELIVERED, "delivered")
    return Classification(AttemptVerdict.DISCARDED, f"discarded.{status}")


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryPolicy:
    """Randomized exponential backoff within a total budget measured from the first attempt."""

    initial: float = 1.0
    factor: float = 2.0
    maximum: float = 600.0
    budget: float = 4 * 3600.0
    jitter: float = 0.5
    # Assumption retry-after; retry-backoff=six-retries sets max_retries.
    honour_retry_after: bool = True
    max_retries: int | None = None

    def backoff(
        self, attempt: int, rng: random.Random, *, retry_after: float | None = None
    ) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based).

        ``Retry-After`` wins when it asks for longer than the computed backoff.
        """
        base = min(self.maximum, self.initial * self.factor ** (attempt - 1))
        delay = base * (1 - self.jitter * rng.random()) if self.jitter else base
        if retry_after is not None and self.honour_retry_after:
            delay = max(delay, min(retry_after, self.maximum))
        return delay

    def expired(self, first_attempt_at: float, next_attempt_at: float) -> bool:
        """Whether an attempt at ``next_attempt_at`` would fall outside the budget.

        The event expires when its next attempt would pass the budget, rather than after one
        more attempt past it: "retries for up to four hours" (docs/sources.md#segment-delivery).
        """
        return next_attempt_at - first_attempt_at > self.budget

    def exhausted(self, attempts: int) -> bool:
        """Whether ``attempts`` attempts used up the retries a bounded schedule allows."""
        return self.max_retries is not None and attempts > self.max_retries


def retry_policy(
    choices: AssumptionChoices, *, initial: float, maximum: float, budget: float
) -> RetryPolicy:
    """The schedule the ``retry-backoff`` and ``retry-after`` variants describe.

    ``six-retries`` doubles from budget/64 so the six retries fit in the budget (225 s … 2 h
    for four hours), without jitter.
    """
    honour = choices.variant("retry-after") == "honoured"
    if choices.variant("retry-backoff") == "six-retries":
        return RetryPolicy(
            initial=budget / 64,
            maximum=budget,
            budget=budget,
            jitter=0.0,
            honour_retry_after=honour,
            max_retries=6,
        )
    return RetryPolicy(initial=initial, maximum=maximum, budget=budget, honour_retry_after=honour)


def delivery_timeout(choices: AssumptionChoices, configured: float) -> float:
    """Seconds Segment waits for an answer: the chosen ``delivery-timeout`` variant when one
    was chosen, else the configured value (5 s unless a test shortens it)."""
    if not choices.is_chosen("delivery-timeout"):
        return configured
    return float(choices.variant("delivery-timeout").removesuffix("s"))


def parse_retry_after(value: str | None, *, now: float) -> float | None:
    """Seconds a ``Retry-After`` header asks for: seconds or an HTTP date (RFC 9110).

    ``None`` when absent or unreadable, so the computed backoff applies; a date in the past
    is 0 seconds.
    """
    if value is None:
        return None
    text = value.strip()
    if _SECONDS.fullmatch(text):
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - now)
