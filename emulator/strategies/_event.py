"""What a generated event is: the message, and what the destination must make of it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["STAGES", "GeneratedEvent", "known"]

STAGES: tuple[str, ...] = ("refersion", "destination", "ingest")
"""Where an event ends: sent on to Refersion, turned away by the destination (400), or dropped
by Segment's Tracking API before any delivery."""


@dataclass(frozen=True, slots=True)
class GeneratedEvent:
    """A generated Segment message and what the Refersion destination must make of it.

    ``stage`` is one of :data:`STAGES`. For ``refersion``, ``fields`` are the values the
    Refersion request must carry (for an identify also what ``affiliate/get`` must return;
    the generated ``password`` and the emulator-chosen ``status``/``send_welcome``/``offer``
    are not included); any optional affiliate field not listed must stay unset. For
    ``destination`` and ``ingest``, ``reason`` is the code it must be turned away with
    (:data:`emulator.destination.mapping.REJECTION_REASONS`, or Segment's ingest and request codes).
    ``warnings`` are codes the destination must report. ``variant`` names what was drawn,
    e.g. ``identify/camel`` or ``invalid/missing_email``.
    """

    message: dict[str, Any]
    variant: str
    stage: str = "refersion"
    reason: str | None = None
    fields: Mapping[str, str] = field(default_factory=dict)
    warnings: frozenset[str] = frozenset()


def known(chosen: tuple[str, ...], choices: tuple[str, ...], what: str) -> tuple[str, ...]:
    """``chosen`` when it is a non-empty selection of ``choices``; else ``ValueError``."""
    unknown = sorted(set(chosen) - set(choices))
    if unknown or not chosen:
        raise ValueError(
            f"{what} must be a non-empty selection of {', '.join(choices)}; got {unknown or 'none'}"
        )
    return chosen
