"""Invalid identifies: each breaks exactly one rule, with the stage and code that catch it."""

from __future__ import annotations

import functools
import string
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from emulator.contract_checks.contract_set import default_contracts
from emulator.segment.ingest import IngestLimits
from emulator.strategies._engage import engage_message, syncs
from emulator.strategies._event import GeneratedEvent, known
from emulator.strategies._identify import plain_identifies
from emulator.strategies._values import NAME_KEYS, WORD_CHARS, ascii_words, json_scalars, name_words

__all__ = ["INGEST_TYPE_RULES", "INVALID_RULES", "invalid_engage_events", "invalid_identify_events"]

_JSON_TYPE_VALUES: Mapping[str, st.SearchStrategy[Any]] = {
    "string": st.text(WORD_CHARS, max_size=8),
    "number": st.integers(-1000, 1000) | st.floats(-1e6, 1e6, allow_nan=False),
    "integer": st.integers(-1000, 1000),
    "boolean": st.booleans(),
    "object": st.dictionaries(ascii_words, json_scalars, max_size=2),
    "array": st.lists(json_scalars, max_size=2),
}
# Segment's ingest code for a field of segment/message whose type the contract forbids. null
# is left out: the Tracking API reads a null field as an absent one.
INGEST_TYPE_RULES: Mapping[str, str] = {
    "type": "invalid_type",
    "userId": "id_not_string",
    "anonymousId": "id_not_string",
    "messageId": "message_id_invalid",
    "context": "context_not_object",
    "integrations": "integrations_not_object",
    "traits": "traits_not_object",
    "timestamp": "timestamp_invalid",
    "sentAt": "timestamp_invalid",
    "originalTimestamp": "timestamp_invalid",
}
_BAD_EMAILS = (
    "peter",
    "peter@",
    "@example.com",
    "peter@@example.com",
    "peter@example",
    "peter gibbons@example.com",
    "peter@exa mple.com",
)
_NOT_AN_ADDRESS = st.text(
    st.characters(exclude_categories=("Z", "Cc", "Cs"), exclude_characters="@"),
    min_size=1,
    max_size=12,
)

_Change = Callable[[st.DrawFn, dict[str, Any]], None]


@dataclass(frozen=True, slots=True)
class _Rule:
    """One way to break a valid identify; ``code`` is the reason, or the warning when the
    destination repairs the message (``stage == "refersion"``)."""

    stage: str
    code: str
    change: _Change


@functools.cache
def _values_of_types(types: tuple[str, ...]) -> st.SearchStrategy[Any]:
    return st.one_of(*(_JSON_TYPE_VALUES[name] for name in types))


_NON_STRING = ("number", "boolean", "object", "array")


def _set_wrong_type(name: str, wrong: tuple[str, ...]) -> _Change:
    values = _values_of_types(wrong)

    def change(draw: st.DrawFn, message: dict[str, Any]) -> None:
        message[name] = draw(values)
        if name == "originalTimestamp":
            # The Tracking API reads timestamp first; only without it is originalTimestamp used.
            message.pop("timestamp", None)

    return change


def _set_too_long(name: str, limit: int) -> _Change:
    values = st.text(string.ascii_letters, min_size=limit + 1, max_size=limit + 20)

    def change(draw: st.DrawFn, message: dict[str, Any]) -> None:
        message[name] = draw(values)

    return change


def _contract_rules() -> dict[str, _Rule]:
    """Wrong types and over-long strings for the fields the segment/message contract types."""
    properties = default_contracts().schema("segment/message")["properties"]
    rules: dict[str, _Rule] = {}
    for name, reason in INGEST_TYPE_RULES.items():
        declared = properties[name]["type"]
        allowed = {declared} if isinstance(declared, str) else set(declared)
        if "number" in allowed:
            allowed.add("integer")
        wrong = tuple(sorted(set(_JSON_TYPE_VALUES) - allowed))
        rules[f"wrong_type:{name}"] = _Rule("ingest", reason, _set_wrong_type(name, wrong))
        if "maxLength" in properties[name]:
            limit = int(properties[name]["maxLength"])
            rules[f"too_long:{name}"] = _Rule("ingest", reason, _set_too_long(name, limit))
    return rules


def _drop_names(traits: dict[str, Any]) -> None:
    for key in NAME_KEYS:
        traits.pop(key, None)


def _drop_email(_draw: st.DrawFn, message: dict[str, Any]) -> None:
    del message["traits"]["email"]


_bad_emails = st.sampled_from(_BAD_EMAILS) | _NOT_AN_ADDRESS


def _bad_email(draw: st.DrawFn, message: dict[str, Any]) -> None:
    message["traits"]["email"] = draw(_bad_emails)


def _email_not_string(draw: st.DrawFn, message: dict[str, Any]) -> None:
    message["traits"]["email"] = draw(_values_of_types(_NON_STRING))


def _lone_name(key: str) -> _Change:
    def change(draw: st.DrawFn, message: dict[str, Any]) -> None:
        _drop_names(message["traits"])
        message["traits"][key] = draw(name_words)

    return change


_name_key_choice = st.integers(0, len(NAME_KEYS) - 1)


def _name_not_string(draw: st.DrawFn, message: dict[str, Any]) -> None:
    traits = message["traits"]
    present = [key for key in NAME_KEYS if key in traits]
    traits[present[draw(_name_key_choice) % len(present)]] = draw(_values_of_types(_NON_STRING))


def _no_name(_draw: st.DrawFn, message: dict[str, Any]) -> None:
    _drop_names(message["traits"])


def _address_not_object(draw: st.DrawFn, message: dict[str, Any]) -> None:
    message["traits"]["address"] = draw(_values_of_types(("array", "boolean", "number", "string")))


def _no_ids(_draw: st.DrawFn, message: dict[str, Any]) -> None:
    message.pop("userId", None)
    message.pop("anonymousId", None)


# Cheap to draw: the size is drawn, not 32 KB of text.
_oversizes = st.integers(IngestLimits().message_bytes + 1, IngestLimits().message_bytes + 4096)


def _nameless_engage(draw: st.DrawFn, message: dict[str, Any]) -> None:
    engage = engage_message(message, draw(syncs))
    _drop_names(engage["traits"])
    message.clear()
    message.update(engage)


def _oversize(draw: st.DrawFn, message: dict[str, Any]) -> None:
    message["traits"]["notes"] = "x" * draw(_oversizes)


@functools.cache
def _rules() -> Mapping[str, _Rule]:
    return {
        "missing_email": _Rule("destination", "missing_email", _drop_email),
        "invalid_email": _Rule("destination", "invalid_email", _bad_email),
        "email_not_string": _Rule("destination", "email_not_string", _email_not_string),
        "one_word_name": _Rule("destination", "name_incomplete", _lone_name("name")),
        "first_name_only": _Rule("destination", "name_incomplete", _lone_name("firstName")),
        "last_name_only": _Rule("destination", "name_incomplete", _lone_name("last_name")),
        "name_not_string": _Rule("destination", "name_not_string", _name_not_string),
        "missing_name": _Rule("destination", "missing_name", _no_name),
        # Engage syncs usually carry no names (docs/sources.md#engage).
        "engage_without_names": _Rule("destination", "missing_name", _nameless_engage),
        "address_not_object": _Rule("refersion", "address_not_object", _address_not_object),
        **_contract_rules(),
        "no_ids": _Rule("ingest", "no_user_anon_id", _no_ids),
        "oversize": _Rule("ingest", "message_too_large", _oversize),
    }


INVALID_RULES: tuple[str, ...] = tuple(_rules())
"""Every rule :func:`invalid_identify_events` can break, one per event.

Destination rules (a 400 with a
:data:`~emulator.destination.mapping.REJECTION_REASONS` code, or a warning
for a non-object address); ``wrong_type:<field>`` and ``too_long:<field>`` derived from the
``segment/message`` contract (Segment's ingest drops them, :data:`INGEST_TYPE_RULES`);
``no_ids`` and ``oversize`` (over Segment's 32 KB per message).
"""
_ADDRESS_FIELDS = frozenset({"address1", "city", "state", "zip", "country"})


@st.composite
def _draw_invalid(draw: st.DrawFn, names: st.SearchStrategy[str]) -> GeneratedEvent:
    # The rule first: drawn after a large base it would mostly be the first one.
    name = draw(names)
    base = draw(plain_identifies)
    rule = _rules()[name]
    message = {**base.message, "traits": dict(base.message["traits"])}
    rule.change(draw, message)
    variant = f"invalid/{name}"
    if rule.stage == "refersion":
        fields = {k: v for k, v in base.fields.items() if k not in _ADDRESS_FIELDS}
        return GeneratedEvent(message, variant, fields=fields, warnings=frozenset({rule.code}))
    return GeneratedEvent(message, variant, rule.stage, rule.code)


def invalid_identify_events(
    *, rules: Iterable[str] | None = None
) -> st.SearchStrategy[GeneratedEvent]:
    """Identifies that each break exactly one rule of :data:`INVALID_RULES` (or of ``rules``).

    ``GeneratedEvent.stage`` says who must turn it away and ``reason`` with which code; a
    non-object address is the one rule the destination repairs (``stage == "refersion"``,
    the ``address_not_object`` warning, no address fields).
    """
    chosen = known(tuple(rules) if rules is not None else INVALID_RULES, INVALID_RULES, "rules")
    return _invalid_identifies(chosen)


@functools.cache
def _invalid_identifies(rules: tuple[str, ...]) -> st.SearchStrategy[GeneratedEvent]:
    return _draw_invalid(st.sampled_from(rules))


def invalid_engage_events() -> st.SearchStrategy[GeneratedEvent]:
    """Engage syncs without any name trait: the destination rejects them with ``missing_name``."""
    return invalid_identify_events(rules=("engage_without_names",))
