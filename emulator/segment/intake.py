"""What the Segment side does with each event it took in: journal, refuse, suppress, accept.

The Tracking API's HTTP handler parses a request (``segment/ingest``) and hands the events
here; so do the emulator's other entries (regulations, Engage, ``/_emulator/deliver``) for
:func:`accept`. Plain functions over journal traces: no HTTP, no queue. What is accepted is
returned (or reported ``True``) for the caller to queue for delivery.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from emulator.assumptions import AssumptionChoices, AssumptionNote
from emulator.contract_checks.contract_set import ContractSet
from emulator.journal.traces import Journal, Trace
from emulator.secrets_mask import mask_fields
from emulator.segment.ingest import INGEST_REASONS, IngestedEvent
from emulator.segment.invalid_unicode import replacement_notes
from emulator.segment.regulations.suppression import SuppressionList
from emulator.segment.routing import FILTER_REASONS, Deduplicator, duplicate_gets_through, route

__all__ = ["REDELIVERY", "Repeats", "accept", "ingest_events", "redelivery", "suppress"]

REDELIVERY = "redelivery"
"""The entry of a trace that delivers an earlier trace's message again."""

# A source's write key is a credential: the journal keeps items as sent, but never it in full.
_SECRET_FIELDS = frozenset({"writeKey"})


def ingest_events(
    events: Iterable[IngestedEvent],
    *,
    received_by: str,
    key_refused: bool,
    journal: Journal,
    contracts: ContractSet,
    take: Callable[[Trace], None],
    notes: Sequence[AssumptionNote] = (),
    replaced_fields: Callable[[int], Sequence[str]] = lambda _index: (),
) -> list[Trace]:
    """Journal each event of one Tracking API request, in order, and ``take`` those ingest
    accepts (the caller suppresses, dedupes and routes them). Returns every trace made.

    ``received_by`` names the request in the ingest hop (``POST /v1/batch``); ``notes`` are
    the assumptions the whole request relied on (how its CORS answer was made), listed on
    each accepted event's ingest hop beside the event's own. ``replaced_fields(i)`` names the
    fields of event ``i`` whose invalid Unicode was read as U+FFFD (``invalid-unicode``).
    """
    traces = []
    for index, event in enumerate(events):
        replaced = replacement_notes(replaced_fields(index))
        shown_raw = mask_fields(event.raw, _SECRET_FIELDS)
        message = event.message if event.message is not None else shown_raw
        trace = journal.new_trace("tracking-api", message)
        traces.append(trace)
        reason = "project_not_found" if key_refused else event.reason
        if reason is not None or event.message is None:
            reason = reason or "bad_request"
            trace.outcome = "ingest_rejected"
            trace.reason = reason
            detail = event.detail or INGEST_REASONS.get(reason, reason)
            trace.add_hop(
                "ingest", f"dropped at ingest: {reason} ({detail})", ok=False, detail=replaced
            )
            journal.changed(trace)
            continue
        accepted: dict[str, Any] = {"raw": shown_raw, **replaced}
        relied_on = [*event.assumptions, *notes]
        if relied_on:
            earlier = accepted.get("assumptions", [])
            accepted["assumptions"] = [*earlier, *(note.to_dict() for note in relied_on)]
        trace.add_hop(
            "ingest",
            f"accepted by {received_by}",
            ok=True,
            detail=accepted,
            violations=contracts.validate("segment/message", shown_raw),
        )
        take(trace)
    return traces


def suppress(trace: Trace, *, suppressions: SuppressionList, journal: Journal) -> bool:
    """Drop a Tracking-API message whose userId a regulation suppresses; say if it did."""
    regulation_id = suppressions.blocking(trace.message)
    if regulation_id is None:
        return False
    trace.outcome = "suppressed"
    trace.reason = "user_suppressed"
    trace.add_hop(
        "suppression",
        f"userId suppressed by regulation {regulation_id}; dropped at the API",
        ok=False,
        detail={"regulationId": regulation_id},
    )
    journal.changed(trace)
    return True


@dataclass(frozen=True, slots=True)
class Repeats:
    """How dedupe treats a repeated messageId: the ``dedupe-rate`` variant in force, and the
    seeded draw that lets about 1 % through under ``about-99-percent``."""

    choices: AssumptionChoices
    rng: random.Random

    def gets_through(self, trace: Trace, message_id: str, journal: Journal) -> bool:
        """Note the dedupe hop; end the trace as a duplicate unless the repeat gets through."""
        variant = self.choices.variant("dedupe-rate")
        through = duplicate_gets_through(self.choices, self.rng)
        if through:
            note = AssumptionNote(
                "dedupe-rate",
                variant,
                "this repeat escaped dedupe (about 1 % do) and is delivered again",
                "all: it would be dropped as a duplicate",
            )
            summary = f"messageId {message_id} already seen; missed by dedupe, delivered"
        else:
            note = AssumptionNote(
                "dedupe-rate",
                variant,
                "the repeat is dropped",
                "about-99-percent: about 1 % of repeats would be delivered again",
            )
            summary = f"messageId {message_id} already seen; dropped"
            trace.outcome = "duplicate"
            trace.reason = "duplicate_message_id"
        trace.add_hop("dedupe", summary, ok=through, detail={"assumptions": [note.to_dict()]})
        if not through:
            journal.changed(trace)
        return through


def accept(
    trace: Trace,
    *,
    now: float,
    dedupe: bool = True,
    deduper: Deduplicator,
    repeats: Repeats,
    contracts: ContractSet,
    journal: Journal,
    destination_url: Callable[[], str],
) -> bool:
    """Dedupe, route and contract-check a message Segment has accepted.

    ``True`` when it is to be delivered (its routing hop is added); otherwise the trace ends
    here as a duplicate or filtered. ``dedupe`` false skips the dedupe step (Segment dedupes
    at ingest; a delivery or redelivery sends what it is given). ``destination_url`` is
    asked only for a delivery.
    """
    message = trace.message
    message_id = trace.message_id
    if (
        dedupe
        and message_id is not None
        and deduper.seen(message_id, now=now)
        and not repeats.gets_through(trace, message_id, journal)
    ):
        return False
    decision = route(message)
    if not decision.deliver:
        reason = decision.reason or "filtered"
        trace.outcome = "filtered"
        trace.reason = reason
        why = FILTER_REASONS.get(reason, reason)
        if decision.detail:
            why += f" ({decision.detail})"
        trace.add_hop("routing", f"filtered: {reason}: {why}", ok=False)
        journal.changed(trace)
        return False
    contract = f"segment/{message['type']}"
    trace.add_hop(
        "routing",
        f"to Refersion at {destination_url()}",
        ok=True,
        detail={"contract": contract},
        violations=contracts.validate(contract, message),
    )
    return True


def redelivery(original: Trace, why: str, *, journal: Journal) -> Trace:
    """A new trace delivering ``original``'s message again (same messageId): Segment
    delivers at least once, so a destination can get the same event twice
    (docs/reason-codes.md). The caller accepts it without dedupe."""
    trace = journal.new_trace(REDELIVERY, original.message)
    trace.add_hop(
        "redeliver",
        f"delivered again ({why}): a copy of {original.id}, same messageId; Segment "
        "delivers at least once",
        ok=True,
        detail={"original": original.id},
    )
    return trace
