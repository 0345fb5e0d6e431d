"""What a mapping run finds along the way: warnings as they occur, and the problem that rejects."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

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
    """Warnings of one mapping run, in the order the rules raised them."""

    warnings: list[MappingWarning] = field(default_factory=list)

    def warn(self, code: str, message: str, pointer: str | None) -> None:
        self.warnings.append(MappingWarning(code, message, pointer))

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
        )
