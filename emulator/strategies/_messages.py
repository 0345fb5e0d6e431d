"""The messages alone, for tests that need no expectations."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from emulator.strategies._delete import delete_events
from emulator.strategies._engage import engage_events
from emulator.strategies._event import GeneratedEvent
from emulator.strategies._identify import identify_events
from emulator.strategies._invalid import invalid_identify_events

__all__ = ["deletes", "engage_identifies", "identifies", "invalid_identifies"]


def identifies(**options: Any) -> st.SearchStrategy[dict[str, Any]]:
    """The messages of :func:`identify_events` (same options)."""
    return identify_events(**options).map(_message)


def engage_identifies() -> st.SearchStrategy[dict[str, Any]]:
    """The messages of :func:`engage_events`."""
    return engage_events().map(_message)


def deletes(**options: Any) -> st.SearchStrategy[dict[str, Any]]:
    """The messages of :func:`delete_events` (same options)."""
    return delete_events(**options).map(_message)


def invalid_identifies(**options: Any) -> st.SearchStrategy[dict[str, Any]]:
    """The messages of :func:`invalid_identify_events` (same options)."""
    return invalid_identify_events(**options).map(_message)


def _message(event: GeneratedEvent) -> dict[str, Any]:
    return event.message
