"""How one delivery attempt settles, from what came back (the pure half of an attempt)."""

from __future__ import annotations

from typing import Any

import pytest

from emulator.segment.delivery_outcome import Exchange, settle

__all__: list[str] = []


@pytest.mark.parametrize(
    ("exchange", "label", "outcome", "reason"),
    [
        # The emulator's own destination reports the mapping outcome and its reason.
        (Exchange(200, body={"outcome": "created"}), "delivered", "created", None),
        (
            Exchange(400, body={"outcome": "rejected", "reason": "invalid_email"}),
            "discarded.400",
            "rejected",
            "invalid_email",
        ),
        # Another destination's answer says nothing the emulator knows: delivered or discarded.
        (Exchange(200, body={"ok": True}), "delivered", "delivered", None),
        (Exchange(202, body="accepted"), "delivered", "delivered", None),
        (Exchange(404, body=None), "discarded.404", "discarded", "discarded.404"),
        (
            Exchange(501),
            "discarded.UNSUPPORTED_EVENT_TYPE",
            "discarded",
            "discarded.UNSUPPORTED_EVENT_TYPE",
        ),
        # Only final outcomes are trusted: "retrying" or an unknown word is not one.
        (Exchange(200, body={"outcome": "retrying"}), "delivered", "delivered", None),
        (Exchange(200, body={"outcome": "exploded"}), "delivered", "delivered", None),
    ],
)
def test_a_final_attempt_ends_the_trace_with_the_reported_or_classified_outcome(
    exchange: Exchange, label: str, outcome: str, reason: Any
) -> None:
    settled = settle(exchange)
    assert (settled.classification.label, settled.outcome, settled.reason) == (
        label,
        outcome,
        reason,
    )


@pytest.mark.parametrize(
    ("exchange", "label"),
    [
        (Exchange(500, body={"outcome": "created"}), "awaiting-retry.5xx"),
        (Exchange(429), "awaiting-retry.429"),
        (Exchange(None, "ETIMEDOUT"), "awaiting-retry.ETIMEDOUT"),
        # A status line followed by a broken body is a failed exchange, not an answer.
        (Exchange(200, "ECONNRESET"), "awaiting-retry.ECONNRESET"),
    ],
)
def test_a_retried_attempt_has_no_outcome_yet(exchange: Exchange, label: str) -> None:
    settled = settle(exchange)
    assert (settled.classification.label, settled.outcome, settled.delivered) == (
        label,
        None,
        False,
    )
