"""Valid identifies: one person spelled in each naming convention, with what it must create."""

from __future__ import annotations

import functools
import string
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from emulator.countries import REFERSION_COUNTRIES
from emulator.strategies._event import GeneratedEvent, known
from emulator.strategies._values import (
    COUNTRY_SPELLINGS,
    DROPPED_COUNTRIES,
    RESERVED_TRAITS,
    ascii_words,
    email_addresses,
    ids,
    json_values,
    name_words,
    timestamps,
)

__all__ = ["NAME_CONVENTIONS", "identify_events", "plain_identifies", "same_person_events"]

NAME_CONVENTIONS: tuple[str, ...] = ("name", "camel", "snake", "mixed")
"""``name`` (split at the first whitespace), ``firstName``/``lastName``,
``first_name``/``last_name``, and ``firstName`` with ``last_name`` (a ``mixed_trait_case``
warning)."""


@dataclass(frozen=True, slots=True)
class _Address:
    """An address with its postal code under ``zip`` until a convention spells the key."""

    traits: dict[str, Any]
    fields: dict[str, str]
    warnings: frozenset[str]


@st.composite
def _draw_address(draw: st.DrawFn) -> _Address:
    traits: dict[str, Any] = {}
    fields: dict[str, str] = {}
    warnings: set[str] = set()
    parts: dict[str, Any] = draw(_address_parts)
    for key, target in (("street", "address1"), ("city", "city"), ("state", "state")):
        if parts[key] is not None:
            traits[key] = fields[target] = parts[key]
    if parts["zip"] is not None:
        traits["zip"] = parts["zip"]
        fields["zip"] = str(parts["zip"])
        if isinstance(parts["zip"], int):
            warnings.add("value_coerced")
    if parts["country"] is not None:
        spelling, code = parts["country"]
        traits["country"] = spelling
        if code in REFERSION_COUNTRIES:
            fields["country"] = code
        else:
            warnings.add(code)
    return _Address(traits, fields, frozenset(warnings))


# Each part is None when absent: None first, so a failure shrinks to the parts it needs
# (optional keys of fixed_dictionaries shrink away less reliably).
_address_parts = st.fixed_dictionaries(
    {
        "street": st.none() | st.lists(name_words, min_size=1, max_size=3).map(" ".join),
        "city": st.none() | st.lists(name_words, min_size=1, max_size=2).map(" ".join),
        "state": st.none() | st.lists(name_words, min_size=1, max_size=2).map(" ".join),
        "zip": st.none()
        | st.text(string.digits, min_size=5, max_size=5)
        | st.sampled_from(("SW1A 1AA", "H0H 0H0", "100-0001", "75008"))
        | st.integers(501, 99999),
        # Mostly accepted spellings; now and then one the destination must drop.
        "country": st.none()
        | st.sampled_from(COUNTRY_SPELLINGS)
        | st.sampled_from(DROPPED_COUNTRIES),
    }
)
_addresses = _draw_address()
_envelopes = st.fixed_dictionaries(
    {},
    optional={
        "timestamp": timestamps(),
        "sentAt": timestamps(forms=("iso-micros-offset", "iso-millis-z")),
        "context": st.fixed_dictionaries(
            {},
            optional={
                "library": st.sampled_from(
                    (
                        {"name": "analytics-python", "version": "2.3.4"},
                        {"name": "analytics-node", "version": "2.1.0"},
                    )
                ),
                "ip": st.just("203.0.113.7"),
                "locale": st.sampled_from(("en-US", "fr-FR", "ja-JP")),
                "traits": st.just({"plan": "premium"}),
            },
        ),
        # Every shape here still routes to Refersion.
        "integrations": st.sampled_from(
            ({}, {"All": True}, {"Refersion": True}, {"All": False, "Refersion": True})
        ),
    },
)
_phones = st.builds(
    "+{} {}-{}".format, st.integers(1, 99), st.integers(100, 999), st.integers(1000, 9999)
) | st.integers(10**6, 10**10)
_companies = name_words | st.fixed_dictionaries(
    {"name": name_words}, optional={"plan": ascii_words, "id": ascii_words}
)
_custom_traits = st.dictionaries(
    st.sampled_from(("plan", "logins", "createdAt", "age", "title", "website", "industry"))
    | ascii_words.filter(lambda key: key not in RESERVED_TRAITS),
    json_values,
    max_size=3,
)
_ID_KEYS = (("userId",), ("anonymousId",), ("userId", "anonymousId"))


@dataclass(frozen=True, slots=True)
class _Person:
    """One person's traits before they are spelled in a naming convention."""

    first: str
    last: str
    email: str
    ids: dict[str, str]
    message_id: str
    address: _Address | None
    zip_key_camel: bool
    phone: str | int | None
    company: str | dict[str, Any] | None
    extras: dict[str, Any]
    envelope: dict[str, Any]


@functools.cache
def _people(with_address: bool | None) -> st.SearchStrategy[_Person]:
    addresses = {None: st.none() | _addresses, True: _addresses, False: st.none()}[with_address]
    return st.builds(
        _Person,
        first=name_words,
        last=st.lists(name_words, min_size=1, max_size=2).map(" ".join),
        email=email_addresses,
        ids=st.sampled_from(_ID_KEYS).flatmap(
            lambda keys: st.fixed_dictionaries(dict.fromkeys(keys, ids))
        ),
        message_id=st.uuids().map(str),
        address=addresses,
        zip_key_camel=st.booleans(),
        phone=st.none() | _phones,
        company=st.none() | _companies,
        extras=_custom_traits,
        envelope=_envelopes,
    )


def _spell(
    person: _Person, convention: str, *, name_separator: str = " ", tag: str = ""
) -> GeneratedEvent:
    """``person`` as one identify whose names follow ``convention``; ``tag`` ends its messageId."""
    names: dict[str, str]
    if convention == "name":
        names = {"name": f"{person.first}{name_separator}{person.last}"}
    elif convention == "camel":
        names = {"firstName": person.first, "lastName": person.last}
    elif convention == "snake":
        names = {"first_name": person.first, "last_name": person.last}
    else:
        names = {"firstName": person.first, "last_name": person.last}
    traits: dict[str, Any] = {**person.extras, **names, "email": person.email}
    fields: dict[str, str] = {
        "first_name": person.first,
        "last_name": person.last,
        "email": person.email,
        "unique_merchant_id": person.ids.get("userId") or person.ids["anonymousId"],
    }
    warnings: set[str] = {"mixed_trait_case"} if convention == "mixed" else set()
    if person.address is not None:
        address = dict(person.address.traits)
        if "zip" in address:
            camel = {"camel": True, "snake": False}.get(convention, person.zip_key_camel)
            address["postalCode" if camel else "postal_code"] = address.pop("zip")
        traits["address"] = address
        fields.update(person.address.fields)
        warnings.update(person.address.warnings)
    if person.phone is not None:
        traits["phone"] = person.phone
        fields["phone"] = str(person.phone)
        if isinstance(person.phone, int):
            warnings.add("value_coerced")
    if person.company is not None:
        traits["company"] = person.company
        name = person.company if isinstance(person.company, str) else person.company["name"]
        fields["company"] = name
    message = {
        **person.envelope,
        "type": "identify",
        **person.ids,
        "messageId": person.message_id + tag,
        "traits": traits,
    }
    return GeneratedEvent(
        message, f"identify/{convention}", fields=fields, warnings=frozenset(warnings)
    )


# Whitespace runs a name may be split at, NBSP and the ideographic space included.
_SEPARATORS = (" ", "  ", "\t", "\u00a0", " \u3000")


@functools.cache
def _identify_events(
    conventions: tuple[str, ...], with_address: bool | None
) -> st.SearchStrategy[GeneratedEvent]:
    return st.builds(
        _spell,
        _people(with_address),
        st.sampled_from(conventions),
        name_separator=st.sampled_from(_SEPARATORS),
    )


def identify_events(
    *, conventions: Iterable[str] = NAME_CONVENTIONS, with_address: bool | None = None
) -> st.SearchStrategy[GeneratedEvent]:
    """Valid identifies: each creates an affiliate with exactly ``GeneratedEvent.fields``.

    Names in every convention of ``conventions`` (unicode, HTML, multi-word last names,
    unusual whitespace in ``name``), with or without an address (``with_address``), countries
    in every accepted spelling (and, rarely, one the destination drops with a warning), zips
    and phones as strings or numbers, ``company`` as a string or an object, extra custom
    traits, context and integrations switches that still route to Refersion, every
    timestamp form.
    """
    return _identify_events(
        known(tuple(conventions), NAME_CONVENTIONS, "conventions"), with_address
    )


def same_person_events() -> st.SearchStrategy[
    tuple[GeneratedEvent, GeneratedEvent, GeneratedEvent]
]:
    """One person spelled as ``name``, ``camel`` and ``snake``: all must map to one request.

    The three messages differ in names and messageId only.
    """
    return _same_person


def _spellings(person: _Person) -> tuple[GeneratedEvent, GeneratedEvent, GeneratedEvent]:
    name, camel, snake = (_spell(person, c, tag=f"-{c}") for c in ("name", "camel", "snake"))
    return name, camel, snake


_same_person = _people(None).map(_spellings)


plain_identifies = _identify_events(("name", "camel", "snake"), None)
