"""Which variant of each assumption one run uses: an immutable value, validated on creation."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from emulator.assumptions.registry import ASSUMPTIONS
from emulator.errors import ConfigError

__all__ = ["AssumptionChoices", "UnknownAssumption", "parse_assume"]


class UnknownAssumption(ConfigError):
    """An assumption id or variant that the registry does not hold.

    ``field`` names the input (``assumptions`` for an unknown id, ``assumptions.<id>`` for an
    unknown variant), so HTTP adapters can answer 400 naming it.
    """

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field


def _check(assumption_id: str, variant: str) -> None:
    entry = ASSUMPTIONS.get(assumption_id)
    if entry is None:
        raise UnknownAssumption(
            f"unknown assumption {assumption_id!r}; known: {', '.join(ASSUMPTIONS)}",
            field="assumptions",
        )
    if variant not in entry.variant_names:
        raise UnknownAssumption(
            f"assumption {assumption_id!r} has no variant {variant!r}; "
            f"variants: {', '.join(entry.variant_names)}",
            field=f"assumptions.{assumption_id}",
        )


@dataclass(frozen=True, slots=True)
class AssumptionChoices:
    """Variants chosen explicitly; every other assumption takes its registry default."""

    chosen: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self) -> None:
        for assumption_id, variant in self.chosen.items():
            # Values come from JSON bodies and fixtures too, typed or not.
            if not isinstance(variant, str):
                raise UnknownAssumption(
                    f"the variant of assumption {assumption_id!r} must be a string naming a "
                    f"variant, not {type(variant).__name__}",
                    field=f"assumptions.{assumption_id}",
                )
            _check(assumption_id, variant)
        # Frozen and hashable-by-identity alike: nobody may change a choice after the check.
        object.__setattr__(self, "chosen", MappingProxyType(dict(self.chosen)))

    @classmethod
    def of(cls, pairs: Mapping[str, str] | Iterable[tuple[str, str]] = ()) -> AssumptionChoices:
        return cls(dict(pairs))

    def variant(self, assumption_id: str) -> str:
        """The variant in force for ``assumption_id`` (``KeyError`` for an unknown id)."""
        chosen = self.chosen.get(assumption_id)
        return chosen if chosen is not None else ASSUMPTIONS[assumption_id].default

    def is_chosen(self, assumption_id: str) -> bool:
        return assumption_id in self.chosen

    def with_choices(self, pairs: Mapping[str, str]) -> AssumptionChoices:
        """These choices, overridden by ``pairs``."""
        return AssumptionChoices({**self.chosen, **pairs})

    def to_dict(self) -> dict[str, str]:
        """Every assumption with the variant in force."""
        return {assumption_id: self.variant(assumption_id) for assumption_id in ASSUMPTIONS}

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self.chosen.items())

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, AssumptionChoices):
            return NotImplemented
        return dict(self.chosen) == dict(other.chosen)

    def __hash__(self) -> int:
        return hash(frozenset(self.chosen.items()))


def parse_assume(text: str) -> tuple[str, str]:
    """``ID=VARIANT`` (the ``--assume`` syntax) → ``(id, variant)``, both checked."""
    assumption_id, sep, variant = text.partition("=")
    assumption_id, variant = assumption_id.strip(), variant.strip()
    if not sep or not assumption_id or not variant:
        raise UnknownAssumption(
            f"expected ID=VARIANT, got {text!r} (list them with 'refersion-emulator assumptions')",
            field="assumptions",
        )
    _check(assumption_id, variant)
    return assumption_id, variant
