"""Reconciliation: every accepted event in exactly one bucket, so nothing goes missing unseen.

``accepted = delivered + filtered + discarded + expired + pending``. Each journal outcome
belongs to one bucket (:data:`OUTCOME_BUCKETS`); an outcome that belongs to none shows up as
``unclassified`` and as a non-zero ``remainder``, which is what a test or a CI job checks.

Where Segment's Delivery Overview has no exact counterpart the emulator decides:

* ``duplicate`` is *filtered* (Segment drops it before delivery, as it does an event the
  integrations object switches off);
* ``ingest_rejected`` is *discarded* (Segment answered 200 and then dropped it: "failed on
  ingest"), as are the destination's refusals (``rejected``, ``refersion_rejected``,
  ``unauthorized``) and any other 4xx (``discarded``);
* ``already_exists``, ``not_found`` and ``skipped`` (an Engage audience exit) are
  *delivered*: the destination answered 200;
* ``suppressed`` is *filtered*: a regulation dropped it at the API, before any delivery.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["BUCKETS", "OUTCOME_BUCKETS", "Reconciliation", "reconcile", "reconcile_events"]

BUCKETS = ("delivered", "filtered", "discarded", "expired", "pending")

OUTCOME_BUCKETS: Mapping[str, str] = {
    "created": "delivered",
    "already_exists": "delivered",
    "deleted": "delivered",
    "not_found": "delivered",
    "skipped": "delivered",
    "delivered": "delivered",
    "filtered": "filtered",
    "duplicate": "filtered",
    "suppressed": "filtered",
    "rejected": "discarded",
    "refersion_rejected": "discarded",
    "unauthorized": "discarded",
    "discarded": "discarded",
    "ingest_rejected": "discarded",
    "expired": "expired",
    "pending": "pending",
    "retrying": "pending",
}


@dataclass(frozen=True, slots=True)
class Reconciliation:
    """Bucket totals, and within each bucket the count per ``outcome`` or ``outcome: reason``."""

    accepted: int
    totals: Mapping[str, int]
    reasons: Mapping[str, Mapping[str, int]]
    unclassified: Mapping[str, int]

    @property
    def remainder(self) -> int:
        """Accepted events in no bucket; 0 when every event is accounted for."""
        return self.accepted - sum(self.totals.values())

    def equation(self) -> str:
        """``"5 accepted = 3 delivered + 1 filtered + 1 discarded + 0 expired + 0 pending"``."""
        parts = " + ".join(f"{self.totals[b]} {b}" for b in BUCKETS)
        text = f"{self.accepted} accepted = {parts}"
        if self.remainder:
            text += f" + {self.remainder} unaccounted for"
        return text

    def to_dict(self) -> dict[str, Any]:
        return {
            "accepted": self.accepted,
            **{bucket: self.totals[bucket] for bucket in BUCKETS},
            "remainder": self.remainder,
            "reconciled": self.remainder == 0,
            "equation": self.equation(),
            "reasons": {bucket: dict(self.reasons[bucket]) for bucket in BUCKETS},
            "unclassified": dict(self.unclassified),
        }


def reconcile(tallies: Mapping[tuple[str, str | None], int]) -> Reconciliation:
    """Sort ``(outcome, reason) → count`` into the buckets."""
    totals = dict.fromkeys(BUCKETS, 0)
    reasons: dict[str, Counter[str]] = {bucket: Counter() for bucket in BUCKETS}
    unclassified: Counter[str] = Counter()
    accepted = 0
    for (outcome, reason), count in sorted(tallies.items(), key=lambda item: str(item[0])):
        accepted += count
        bucket = OUTCOME_BUCKETS.get(outcome)
        if bucket is None:
            unclassified[outcome] += count
            continue
        totals[bucket] += count
        reasons[bucket][outcome if reason is None else f"{outcome}: {reason}"] += count
    return Reconciliation(accepted, totals, reasons, unclassified)


def reconcile_events(events: Iterable[Mapping[str, Any]]) -> Reconciliation:
    """Reconcile trace dictionaries (as the journal API and ``send --json`` print them)."""
    tallies: Counter[tuple[str, str | None]] = Counter()
    for event in events:
        reason = event.get("reason")
        tallies[(str(event.get("outcome")), reason if isinstance(reason, str) else None)] += 1
    return reconcile(tallies)
