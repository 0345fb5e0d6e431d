"""The transport-free answer of the fake Refersion API, and its error-body builders."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from emulator.assumptions import AssumptionNote

__all__ = ["Reply", "error_reply", "errors_reply"]

_NO_HEADERS: Mapping[str, str] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Reply:
    """An HTTP status, a JSON-serialisable body and any extra headers for the adapter to send."""

    status: int
    body: Any
    headers: Mapping[str, str] = field(default_factory=lambda: _NO_HEADERS)
    # The registry assumptions the answer relied on; the HTTP adapter sends them in the
    # X-Emulator-Assumptions header. Not part of what Refersion answers, so not compared.
    notes: tuple[AssumptionNote, ...] = field(default=(), compare=False)


def error_reply(status: int, message: str) -> Reply:
    """Refersion's single-message envelope, ``{"error": "..."}`` (used for 400, 401 and 404)."""
    return Reply(status, {"error": message})


def errors_reply(messages: Sequence[str]) -> Reply:
    """Refersion's validation envelope, 422 ``{"errors": [...]}``, without repeated messages.

    Several fields can fail with the same documented sentence ("Value exceed the char limit"),
    which names no field; repeating it says nothing more.
    """
    return Reply(422, {"errors": list(dict.fromkeys(messages))})
