"""Which messages Segment sends to the Refersion destination, and which it filters."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["DESTINATION_NAME", "FILTER_REASONS", "SUPPORTED_TYPES", "Deduplicator", "route"]

# The key of this destination in the integrations object; keys are case-sensitive.
DESTINATION_NAME = "Refersion"
SUPPORTED_TYPES: tuple[str, ...] = ("identify", "delete")

# Segment's codes from its Delivery Overview "Filtered at Destination" table.
FILTER_REASONS: Mapping[str, str] = {
    "UNSUPPORTED_EVENT_TYPE": "Refersion takes only identify and delete",
    "FILTERED_BY_INTEGRATIONS_OBJECT": "the integrations object turns Refersion off",
}
_REFERSION_OFF = "integrations.Refersion is false"
_ALL_OFF = "integrations.All is false and integrations.Refersion is not true"


@dataclass(frozen=True, slots=True)
class RoutingDecision:
    """``reason`` is ``None`` when the message goes to the destination; ``detail`` says why."""

    reason: str | None
    detail: str | None = None

    @property
    def deliver(self) -> bool:
        return self.reason is None


def route(message: Mapping[str, Any]) -> RoutingDecision:
    """Apply the destination's supported types and the ``integrations`` object.

    Real deletes carry ``integrations: null`` or ``[]``; anything but an object means "no
    switches", so the default ``All: true`` applies.
    """
    if message.get("type") not in SUPPORTED_TYPES:
        return RoutingDecision("UNSUPPORTED_EVENT_TYPE", f"type {message.get('type')!r}")
    integrations = message.get("integrations")
    if not isinstance(integrations, dict):
        return RoutingDecision(None)
    if DESTINATION_NAME in integrations:
        # A destination's value may be an options object, which means "on".
        enabled = integrations[DESTINATION_NAME] is not False
        if enabled:
            return RoutingDecision(None)
        return RoutingDecision("FILTERED_BY_INTEGRATIONS_OBJECT", _REFERSION_OFF)
    if integrations.get("All") is False:
        return RoutingDecision("FILTERED_BY_INTEGRATIONS_OBJECT", _ALL_OFF)
    return RoutingDecision(None)


class Deduplicator:
    """Drops a ``messageId`` seen within the window (24 h by default; see
    docs/sources.md#segment-message-fields).

    With ``cap`` it remembers at most that many ids, forgetting the oldest first: Segment's
    own dedupe is best-effort ("about 99 %"), and a long run must not grow without bound.
    """

    def __init__(self, *, window: float, cap: int | None = None) -> None:
        self._window = window
        self._cap = cap
        self._seen: OrderedDict[str, float] = OrderedDict()

    def seen(self, message_id: str, *, now: float) -> bool:
        """Record ``message_id`` at ``now``; say whether it was already seen in the window."""
        self._expire(now)
        if message_id in self._seen:
            return True
        self._seen[message_id] = now
        if self._cap is not None and len(self._seen) > self._cap:
            self._seen.popitem(last=False)
        return False

    def forget(self, message_id: str) -> None:
        self._seen.pop(message_id, None)

    def clear(self) -> None:
        self._seen.clear()

    def __len__(self) -> int:
        return len(self._seen)

    def _expire(self, now: float) -> None:
        while self._seen:
            oldest_id, first_seen = next(iter(self._seen.items()))
            if now - first_seen < self._window:
                break
            del self._seen[oldest_id]
