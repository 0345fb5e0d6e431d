"""What went wrong inside the emulator itself, for health to report as ``degraded``.

The journal writer and the delivery workers never stop on an unexpected error: they note it
on the trace that caused it, carry on, and record an incident here. ``/_emulator/health``
answers ``"status": "degraded"`` once any is recorded, with the newest few, so a run that
hit an emulator bug does not pass for a healthy one. A reset does not clear them: they are
about this process, not about the events of one test.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass
from typing import Any

__all__ = ["Incident", "Incidents"]

_KEPT = 20


@dataclass(frozen=True, slots=True)
class Incident:
    """One unexpected failure: which part, what happened, to which trace, and when."""

    part: str
    message: str
    trace_id: str | None
    at: float

    def to_dict(self) -> dict[str, Any]:
        return {"part": self.part, "message": self.message, "traceId": self.trace_id}


class Incidents:
    """The newest incidents and how many there were in all."""

    def __init__(self) -> None:
        self._recent: deque[Incident] = deque(maxlen=_KEPT)
        self.total = 0

    def record(self, part: str, message: str, *, trace_id: str | None = None) -> None:
        self._recent.append(Incident(part, message[:500], trace_id, time.time()))
        self.total += 1

    @property
    def status(self) -> str:
        return "degraded" if self.total else "ok"

    def recent(self) -> list[Incident]:
        return list(self._recent)
