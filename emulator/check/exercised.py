"""What a check run exercised: outcomes, reason codes, Refersion statuses, fields seen."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from emulator.check.driver import Delivered

__all__ = ["Exercised", "field_paths"]

_NAMED_TRAITS = frozenset(
    {"email", "name", "firstName", "lastName", "first_name", "last_name", "address", "phone",
     "company"}
)  # fmt: skip
_NESTED = ("context", "integrations")


@dataclass(slots=True)
class Exercised:
    """Counters over every event sent (shrinking runs included)."""

    events: int = 0
    variants: Counter[str] = field(default_factory=Counter)
    outcomes: Counter[str] = field(default_factory=Counter)
    reasons: Counter[str] = field(default_factory=Counter)
    warnings: Counter[str] = field(default_factory=Counter)
    refersion_statuses: Counter[str] = field(default_factory=Counter)
    segment_fields: Counter[str] = field(default_factory=Counter)
    refersion_fields: Counter[str] = field(default_factory=Counter)

    def record(self, delivered: Delivered, variant: str) -> None:
        self.events += 1
        self.variants[variant] += 1
        self.outcomes[delivered.outcome] += 1
        if delivered.reason is not None:
            self.reasons[delivered.reason] += 1
        self.warnings.update(delivered.warnings or ())
        for call in delivered.refersion_calls or ():
            self.refersion_statuses[f"{call.endpoint} {call.status or 'no answer'}"] += 1
        self.segment_fields.update(field_paths(delivered.message))
        if delivered.request_body is not None:
            self.refersion_fields.update(delivered.request_body.keys())

    def merge(self, other: Exercised) -> None:
        self.events += other.events
        for name in _COUNTERS:
            getattr(self, name).update(getattr(other, name))

    def to_dict(self) -> dict[str, Any]:
        counted: dict[str, Any] = {"events": self.events}
        for name in _COUNTERS:
            counted[name] = dict(sorted(getattr(self, name).items()))
        return counted


_COUNTERS = (
    "variants",
    "outcomes",
    "reasons",
    "warnings",
    "refersion_statuses",
    "segment_fields",
    "refersion_fields",
)


def field_paths(message: Mapping[str, Any]) -> Iterable[str]:
    """The fields a message carries, as ``traits.address.postalCode``-style paths.

    Custom traits count as ``traits.<custom>``: what matters is that some were sent, not
    their random names.
    """
    for key, value in message.items():
        if key == "traits":
            yield from _trait_paths(value)
        elif key in _NESTED and isinstance(value, dict):
            yield from (f"{key}.{inner}" for inner in value) if value else (f"{key} {{}}",)
        elif key in _NESTED:
            yield f"{key} {_shape(value)}"
        else:
            yield key


def _trait_paths(traits: Any) -> Iterable[str]:
    if not isinstance(traits, dict):
        yield f"traits {_shape(traits)}"
        return
    for key, value in traits.items():
        if key not in _NAMED_TRAITS:
            yield "traits.<custom>"
        elif key == "address" and isinstance(value, dict):
            yield from (f"traits.address.{inner}" for inner in value)
        else:
            yield f"traits.{key}"


def _shape(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, list):
        return "[]" if not value else "array"
    return type(value).__name__
