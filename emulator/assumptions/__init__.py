"""The assumption registry: what the emulator decides where no public source says.

    ASSUMPTIONS         id → Assumption (statement, default, variants, why, what would settle it)
    AssumptionChoices   the variants one run uses (defaults unless chosen); a config value
    AssumptionNote      what a trace records when a step relied on an assumption
    parse_assume        ``ID=VARIANT`` → (id, variant), as ``--assume`` takes it

Pure data: imports only :mod:`emulator.errors`, so the mapping, the fake Refersion and the
Segment side can all read it without sharing any other code.
"""

from __future__ import annotations

from emulator.assumptions.choices import AssumptionChoices, UnknownAssumption, parse_assume
from emulator.assumptions.notes import NOTES_HEADER, AssumptionNote
from emulator.assumptions.registry import ASSUMPTIONS, Assumption, Variant, assumption

__all__ = [
    "ASSUMPTIONS",
    "NOTES_HEADER",
    "Assumption",
    "AssumptionChoices",
    "AssumptionNote",
    "UnknownAssumption",
    "Variant",
    "assumption",
    "parse_assume",
]
