"""Routing to Refersion, messageId dedupe, and Segment's classification of delivery attempts."""

from __future__ import annotations

import random
from typing import Any

import pytest

from emulator.segment.delivery_policy import AttemptVerdict, RetryPolicy, classify
from emulator.segment.routing import Deduplicator, route


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        ({"type": "identify"}, None),
        ({"type": "delete", "integrations": None}, None),
        ({"type": "delete", "integrations": []}, None),
        ({"type": "identify", "integrations": {}}, None),
        ({"type": "track"}, "UNSUPPORTED_EVENT_TYPE"),
        ({"type": "page"}, "UNSUPPORTED_EVENT_TYPE"),
        ({}, "UNSUPPORTED_EVENT_TYPE"),
        (
            {"type": "identify", "integrations": {"Refersion": False}},
            "FILTERED_BY_INTEGRATIONS_OBJECT",
        ),
        ({"type": "identify", "integrations": {"All": False}}, "FILTERED_BY_INTEGRATIONS_OBJECT"),
        ({"type": "identify", "integrations": {"All": False, "Refersion": True}}, None),
        ({"type": "identify", "integrations": {"All": False, "Refersion": {"opt": 1}}}, None),
        (
            {"type": "identify", "integrations": {"All": True, "Refersion": False}},
            "FILTERED_BY_INTEGRATIONS_OBJECT",
        ),
        # Keys are case-sensitive: "refersion" is another destination.
        (
            {"type": "identify", "integrations": {"All": False, "refersion": True}},
            "FILTERED_BY_INTEGRATIONS_OBJECT",
        ),
        ({"type": "identify", "integrations": {"refersion": False}}, None),
    ],
)
def test_route(message: dict[str, Any], reason: str | None) -> None:
    decision = route(message)
    assert decision.reason == reason
    assert decision.deliver is (reason is None)


def test_dedupe_within_window_only() -> None:
    dedupe = Deduplicator(window=10.0)
    assert dedupe.seen("a", now=0.0) is False
    assert dedupe.seen("a", now=9.9) is True
    assert dedupe.seen("b", now=9.9) is False
    assert dedupe.seen("a", now=10.0) is False  # the window has passed; seen anew
    assert len(dedupe) == 2


@pytest.mark.parametrize(
    ("status", "error", "verdict", "label"),
    [
        (200, None, AttemptVerdict.DELIVERED, "delivered"),
        (202, None, AttemptVerdict.DELIVERED, "delivered"),
        (400, None, AttemptVerdict.DISCARDED, "discarded.400"),
        (401, None, AttemptVerdict.DISCARDED, "discarded.401"),
        (403, None, AttemptVerdict.DISCARDED, "discarded.403"),
        (404, None, AttemptVerdict.DISCARDED, "discarded.404"),
        (410, None, AttemptVerdict.DISCARDED, "discarded.410"),
        (429, None, AttemptVerdict.RETRY, "awaiting-retry.429"),
        (500, None, AttemptVerdict.RETRY, "awaiting-retry.5xx"),
        (502, None, AttemptVerdict.RETRY, "awaiting-retry.5xx"),
        (503, None, AttemptVerdict.RETRY, "awaiting-retry.5xx"),
        (501, None, AttemptVerdict.DISCARDED, "discarded.UNSUPPORTED_EVENT_TYPE"),
        (307, None, AttemptVerdict.RETRY, "awaiting-retry.307"),
        (None, "ETIMEDOUT", AttemptVerdict.RETRY, "awaiting-retry.ETIMEDOUT"),
        (None, "ECONNREFUSED", AttemptVerdict.RETRY, "awaiting-retry.ECONNREFUSED"),
    ],
)
def test_classification(
    status: int | None, error: str | None, verdict: AttemptVerdict, label: str
) -> None:
    result = classify(status, error)
    assert (result.verdict, result.label) == (verdict, label)


def test_backoff_grows_exponentially_and_is_capped() -> None:
    policy = RetryPolicy(initial=1.0, factor=2.0, maximum=30.0, jitter=0.0)
    rng = random.Random(1)
    assert [policy.backoff(n, rng) for n in range(1, 8)] == [1, 2, 4, 8, 16, 30, 30]


def test_backoff_jitter_stays_within_its_band() -> None:
    policy = RetryPolicy(initial=4.0, jitter=0.5)
    rng = random.Random(3)
    delays = [policy.backoff(1, rng) for _ in range(200)]
    assert all(2.0 <= d <= 4.0 for d in delays)
    assert len(set(delays)) > 100  # randomized, so clients do not retry in lockstep


def test_retry_after_is_honoured_but_capped() -> None:
    policy = RetryPolicy(initial=1.0, maximum=60.0, jitter=0.0)
    rng = random.Random(0)
    assert policy.backoff(1, rng, retry_after=20) == 20
    assert policy.backoff(1, rng, retry_after=0) == 1
    assert policy.backoff(1, rng, retry_after=3600) == 60


def test_budget_expiry() -> None:
    policy = RetryPolicy(budget=4 * 3600)
    assert not policy.expired(0, 4 * 3600)
    assert policy.expired(0, 4 * 3600 + 1)


def test_both_integrations_filters_share_segments_code_and_say_which_switch() -> None:
    refersion_off = route({"type": "identify", "integrations": {"Refersion": False}})
    all_off = route({"type": "identify", "integrations": {"All": False}})
    assert refersion_off.reason == all_off.reason == "FILTERED_BY_INTEGRATIONS_OBJECT"
    assert refersion_off.detail == "integrations.Refersion is false"
    assert all_off.detail is not None
    assert "integrations.All is false" in all_off.detail
