"""What a trace records when a step relied on an assumption."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["NOTES_HEADER", "AssumptionNote"]

# The fake Refersion tells the destination's client which assumptions its answer relied on in
# this response header (JSON, ASCII); a real Refersion never sends it.
NOTES_HEADER = "X-Emulator-Assumptions"


@dataclass(frozen=True, slots=True)
class AssumptionNote:
    """``id`` took ``variant``; ``note`` says what that did to this event.

    ``alternative`` says, where it is cheap to know, what another variant would have done
    ("passed through, Refersion would answer 422"). ``warning`` marks a note a user must read
    (a delete that removed an affiliate of another userId).
    """

    id: str
    variant: str
    note: str
    alternative: str | None = None
    warning: bool = False

    def to_dict(self) -> dict[str, Any]:
        shown: dict[str, Any] = {"id": self.id, "variant": self.variant, "note": self.note}
        if self.alternative is not None:
            shown["alternative"] = self.alternative
        if self.warning:
            shown["warning"] = True
        return shown

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AssumptionNote:
        return cls(
            id=str(data["id"]),
            variant=str(data["variant"]),
            note=str(data["note"]),
            alternative=data.get("alternative"),
            warning=bool(data.get("warning", False)),
        )

    def line(self) -> str:
        """One line for people: ``country-spelling=normalise: … (else: …)``."""
        text = f"{self.id}={self.variant}: {self.note}"
        if self.alternative:
            text += f"; otherwise {self.alternative}"
        return ("WARNING " if self.warning else "") + text
