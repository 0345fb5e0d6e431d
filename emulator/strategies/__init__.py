"""Hypothesis strategies for Segment events bound for the Refersion destination (public API).

Use them in your own tests::

    from hypothesis import given
    from emulator.strategies import identifies, invalid_identify_events

    @given(identifies())
    def test_my_receiver_accepts_every_valid_identify(message): ...

    @given(invalid_identify_events())
    def test_my_receiver_turns_bad_ones_away(event):
        assert my_receiver(event.message).reason == event.reason

The ``*_events`` strategies draw a :class:`GeneratedEvent`: the message together with what the
destination must make of it (the Refersion fields it must send, or the stage and the code it
must be turned away with). ``identifies()``, ``deletes()`` and friends draw the message alone.
Every value is JSON-serialisable, so events can be written to files and replayed.
"""

from __future__ import annotations

from emulator.strategies._delete import (
    delete_events,
    identify_and_delete_events,
    invalid_delete_events,
)
from emulator.strategies._engage import engage_events
from emulator.strategies._event import STAGES, GeneratedEvent
from emulator.strategies._identify import NAME_CONVENTIONS, identify_events, same_person_events
from emulator.strategies._invalid import (
    INGEST_TYPE_RULES,
    INVALID_RULES,
    invalid_engage_events,
    invalid_identify_events,
)
from emulator.strategies._messages import deletes, engage_identifies, identifies, invalid_identifies
from emulator.strategies._sample import sample
from emulator.strategies._values import COUNTRY_SPELLINGS, TIMESTAMP_FORMS, timestamps

__all__ = [
    "COUNTRY_SPELLINGS",
    "INGEST_TYPE_RULES",
    "INVALID_RULES",
    "NAME_CONVENTIONS",
    "STAGES",
    "TIMESTAMP_FORMS",
    "GeneratedEvent",
    "delete_events",
    "deletes",
    "engage_events",
    "engage_identifies",
    "identifies",
    "identify_and_delete_events",
    "identify_events",
    "invalid_delete_events",
    "invalid_engage_events",
    "invalid_identifies",
    "invalid_identify_events",
    "same_person_events",
    "sample",
    "timestamps",
]
