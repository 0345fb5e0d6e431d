"""Engage audience syncs: identifies with context.personas and a boolean audience trait."""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from emulator.strategies._event import GeneratedEvent
from emulator.strategies._identify import plain_identifies
from emulator.strategies._values import ALNUM, LOWER, RESERVED_TRAITS, timestamps

__all__ = ["engage_events", "engage_message", "syncs"]


def _audience_key(head: str, parts: list[str]) -> str:
    return "_".join((head, *parts))


_audience_keys = st.builds(
    _audience_key,
    st.text(string.ascii_lowercase, min_size=2, max_size=10),
    st.lists(st.text(LOWER, min_size=1, max_size=8), max_size=4),
).filter(lambda key: key not in RESERVED_TRAITS)


@dataclass(frozen=True, slots=True)
class _Sync:
    """The Engage envelope around a person."""

    audience: str
    member: bool
    computation_id: str
    space_id: str
    message_id: str
    original_timestamp: str


syncs = st.builds(
    _Sync,
    audience=_audience_keys,
    # Members entering (true): an exit (false) is acknowledged and skipped by the destination,
    # never an affiliate, so it is not a valid creating identify.
    member=st.just(True),
    computation_id=st.text(ALNUM, min_size=22, max_size=22).map("aud_{}".format),
    space_id=st.text(ALNUM, min_size=22, max_size=22).map("spa_{}".format),
    message_id=st.text(ALNUM, min_size=27, max_size=27).map("personas_{}".format),
    original_timestamp=timestamps(forms=("iso-nanos-z",)),
)


def engage_message(identify: Mapping[str, Any], sync: _Sync) -> dict[str, Any]:
    """``identify``'s person as Engage syncs them: personas context, the audience trait."""
    return {
        "type": "identify",
        "userId": identify.get("userId") or identify["anonymousId"],
        "messageId": sync.message_id,
        "originalTimestamp": sync.original_timestamp,
        "sentAt": None,
        "context": {
            "integrations": {"personas": False},
            "library": {"name": "unknown", "version": "unknown"},
            "personas": {
                "computation_class": "audience",
                "computation_id": sync.computation_id,
                "computation_key": sync.audience,
                "namespace": sync.space_id,
                "space_id": sync.space_id,
            },
        },
        "integrations": {"All": False, "Refersion": True, "Warehouses": {"all": False}},
        "traits": {**identify["traits"], sync.audience: sync.member},
    }


def _engage(base: GeneratedEvent, sync: _Sync) -> GeneratedEvent:
    convention = base.variant.removeprefix("identify/")
    return GeneratedEvent(
        engage_message(base.message, sync),
        f"engage/{convention}",
        fields=base.fields,
        warnings=base.warnings,
    )


def engage_events() -> st.SearchStrategy[GeneratedEvent]:
    """Engage audience syncs: ``context.personas`` and a snake_cased boolean audience trait.

    Real syncs often carry no names; these carry them (as ID Sync or trait enrichment would
    add them), so they are valid; :func:`~emulator.strategies.invalid_engage_events` draws
    the nameless ones.
    """
    return _engage_valid


_engage_valid = st.builds(_engage, plain_identifies, syncs)
