"""How often each contract held and broke since the emulator started or was last reset."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from emulator.contract_checks.contract_set import Violation

__all__ = ["ContractCount", "ContractTally"]


@dataclass(slots=True)
class ContractCount:
    """The checks of one contract: how many ran, how many found a violation, how many in all."""

    checked: int = 0
    failed: int = 0
    violations: int = 0

    @property
    def passed(self) -> int:
        return self.checked - self.failed

    def to_dict(self) -> dict[str, Any]:
        return {
            "checked": self.checked,
            "passed": self.passed,
            "failed": self.failed,
            "violations": self.violations,
        }


class ContractTally:
    """Counts per contract.

    Its :meth:`record` is a :data:`~emulator.contract_checks.contract_set.ContractObserver`.
    """

    def __init__(self) -> None:
        self._counts: dict[str, ContractCount] = {}

    def record(self, contract: str, violations: list[Violation]) -> None:
        count = self._counts.setdefault(contract, ContractCount())
        count.checked += 1
        if violations:
            count.failed += 1
            count.violations += len(violations)

    def get(self, contract: str) -> ContractCount:
        return self._counts.get(contract, ContractCount())

    def summary(self, names: Iterable[str]) -> list[dict[str, Any]]:
        """One row per contract in ``names`` (in that order), unchecked ones with zeros."""
        return [{"contract": name, **self.get(name).to_dict()} for name in names]

    def clear(self) -> None:
        self._counts.clear()
