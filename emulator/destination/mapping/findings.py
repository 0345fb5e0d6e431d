"""What a mapping run finds along the way: warnings as they occur, and the problem that rejects."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from emulator.assumptions import AssumptionChoices, AssumptionNote
from emulator.destination.mapping.codes import REJECTION_STATUS
from emulator.destination.mapping.model import LineageEntry, MappingWarning, Rejection

__all__ = ["Problem", "WarningLog"]


@dataclass(frozen=True, slots=True)
class Problem:
    """A reason to reject, found by one rule before the whole message has been looked at."""

    reason: str
    message: str
    fix: str
    field: str | None


@dataclass(slots=True)
class WarningLog:
    """Warnings of one mapping run, in the order the rules raised them, and the assumptions
    the rules relied on (with the variants ``choices`` puts in force)."""

    choices: AssumptionChoices = field(default_factory=AssumptionChoices)
    warnings: list[MappingWarning] = field(default_factory=list)
    notes: list[AssumptionNote] = field(default_factory=list)

    def warn(self, code: str, message: str, pointer: str | None) -> None:
        self.warnings.append(MappingWarning(code, message, pointer))

    def variant(self, assumption_id: str) -> str:
        return self.choices.variant(assumption_id)

    def assume(self, assumption_id: str, note: str, alternative: str | None = None) -> None:
        """Record that a rule relied on ``assumption_id`` and what its variant did."""
        self.notes.append(
            AssumptionNote(assumption_id, self.variant(assumption_id), note, alternative)
        )

    def has(self, code: str) -> bool:
        return any(warning.code == code for warning in self.warnings)

    def reject(self, problem: Problem, lineage: Iterable[LineageEntry] = ()) -> Rejection:
        return Rejection(
            reason=problem.reason,
            message=problem.message,
            fix=problem.fix,
            field=problem.field,
            status=REJECTION_STATUS.get(problem.reason, 400),
            warnings=tuple(self.warnings),
            lineage=tuple(lineage),
            assumptions=tuple(self.notes),
        )
