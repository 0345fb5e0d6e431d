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

import functools
import string
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, TypeVar

import pycountry
from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import seed as fixed_seed
from hypothesis import strategies as st

from .contracts import default_contracts
from .countries import REFERSION_COUNTRIES
from .segment.ingest import IngestLimits

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

STAGES: tuple[str, ...] = ("refersion", "destination", "ingest")
"""Where an event ends: sent on to Refersion, turned away by the destination (400), or dropped
by Segment's Tracking API before any delivery."""

NAME_CONVENTIONS: tuple[str, ...] = ("name", "camel", "snake", "mixed")
"""``name`` (split at the first whitespace), ``firstName``/``lastName``,
``first_name``/``last_name``, and ``firstName`` with ``last_name`` (a ``mixed_trait_case``
warning)."""

TIMESTAMP_FORMS: tuple[str, ...] = (
    "iso-millis-z",
    "iso-micros-offset",
    "iso-nanos-z",
    "iso-seconds-offset",
    "iso-naive",
    "go",
)
"""Segment's ``…T…158Z``, analytics-python's ``+00:00`` with microseconds, Engage's
nanoseconds, other offsets, no zone at all, and Go's ``time.Time.String()`` of real deletes."""


@dataclass(frozen=True, slots=True)
class GeneratedEvent:
    """A generated Segment message and what the Refersion destination must make of it.

    ``stage`` is one of :data:`STAGES`. For ``refersion``, ``fields`` are the values the
    Refersion request must carry (for an identify also what ``affiliate/get`` must return;
    the generated ``password`` and the settings-driven ``status``/``send_welcome``/``offer``
    are not included); any optional affiliate field not listed must stay unset. For
    ``destination`` and ``ingest``, ``reason`` is the code it must be turned away with
    (:data:`emulator.mapping.REJECTION_REASONS`, or Segment's ingest and request codes).
    ``warnings`` are codes the destination must report. ``variant`` names what was drawn,
    e.g. ``identify/camel`` or ``invalid/missing_email``.
    """

    message: dict[str, Any]
    variant: str
    stage: str = "refersion"
    reason: str | None = None
    fields: Mapping[str, str] = field(default_factory=dict)
    warnings: frozenset[str] = frozenset()


def _known(chosen: tuple[str, ...], known: tuple[str, ...], what: str) -> tuple[str, ...]:
    unknown = sorted(set(chosen) - set(known))
    if unknown or not chosen:
        raise ValueError(
            f"{what} must be a non-empty selection of {', '.join(known)}; got {unknown or 'none'}"
        )
    return chosen


# -- building blocks ----------------------------------------------------------------------
# Strategies are built once, here: building them inside a draw costs Hypothesis a validation
# pass per example and made generation four times slower.

# No whitespace, controls or lone surrogates: a "word" survives str.split() and strip() whole
# and encodes as UTF-8 (a fixture file must be writable).
_WORD_CHARS = st.characters(exclude_categories=("Z", "Cc", "Cs"))
_REAL_NAMES = (
    "Peter", "Gibbons", "José", "Zoë", "Nguyễn", "Ólafsdóttir", "李", "小明", "Müller",
    "O'Brien", "Anne-Marie", "Łukasz", "Søren", "Αλέξανδρος", "Дмитрий", "محمد", "<b>Bob</b>",
)  # fmt: skip
_ALNUM = string.ascii_letters + string.digits
_LOWER = string.ascii_lowercase + string.digits
_words = st.text(_WORD_CHARS, min_size=1, max_size=12)
_name_words = st.sampled_from(_REAL_NAMES) | _words
_ascii_words = st.text(_ALNUM, min_size=1, max_size=10)
_ids = st.text(_WORD_CHARS, min_size=1, max_size=24) | st.uuids().map(str)
_RESERVED_TRAITS = frozenset(
    {"email", "name", "firstName", "lastName", "first_name", "last_name", "address", "phone",
     "company"}
)  # fmt: skip
_NAME_KEYS = ("name", "firstName", "lastName", "first_name", "last_name")


def _email(local: str, tag: str, upper: bool, domain: str, tld: str) -> str:
    address = f"{local}{tag}@{domain}.{tld}"
    return address.upper() if upper else address


_emails = st.builds(
    _email,
    st.text(_LOWER, min_size=1, max_size=12) | st.sampled_from(("josé", "zoë", "用户")),
    st.just("")
    | st.builds("{}{}".format, st.sampled_from(".+_-"), st.text(_LOWER, min_size=1, max_size=8)),
    st.integers(0, 9).map(lambda n: n == 9),
    st.text(_LOWER, min_size=1, max_size=12),
    st.sampled_from(("com", "org", "io", "net", "de", "co.uk")),
)
_json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(10**6), 10**6)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(_WORD_CHARS, max_size=16)
)
_json_values = (
    _json_scalars
    | st.lists(_json_scalars, max_size=3)
    | st.dictionaries(_ascii_words, _json_scalars, max_size=3)
)


def _country_spellings() -> tuple[tuple[str, str], ...]:
    """Every accepted country in the spellings people type: ``us``, ``USA``, ``United States``."""
    spellings: list[tuple[str, str]] = [("UK", "GB"), ("United States of America", "US")]
    accepted = (c for c in pycountry.countries if c.alpha_2 in REFERSION_COUNTRIES)
    for country in sorted(accepted, key=lambda c: str(c.alpha_2)):
        code = str(country.alpha_2)
        names = {code, code.lower(), str(country.alpha_3), str(country.name)}
        names.update(str(getattr(country, key, code)) for key in ("common_name", "official_name"))
        spellings.extend((name, code) for name in sorted(names))
    return tuple(spellings)


COUNTRY_SPELLINGS: tuple[tuple[str, str], ...] = _country_spellings()
"""``(spelling, code)`` for each of Refersion's 90 countries
(:data:`emulator.countries.REFERSION_COUNTRIES`, the contract's enum) in every spelling the
mapping accepts: ``us``, ``US``, ``USA``, ``United States``, official names, ``UK``."""

# (spelling, the warning the destination gives when it drops the country)
_DROPPED_COUNTRIES = (("Atlantis", "unknown_country"), ("Afghanistan", "unsupported_country"))

# UTC offset in minutes → the abbreviation Go prints after it.
_GO_ZONES: Mapping[int, str] = {0: "UTC", 60: "CET", -300: "EST", 330: "IST", 540: "JST"}
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def _moment(microseconds: int, offset_minutes: int) -> datetime:
    moment = _EPOCH + timedelta(microseconds=microseconds)
    return moment.astimezone(timezone(timedelta(minutes=offset_minutes)))


# One integer per instant: st.datetimes() draws every field and costs three times as much.
_moments = st.builds(
    _moment, st.integers(0, 36 * 365 * 86_400 * 10**6), st.sampled_from(sorted(_GO_ZONES))
)


@functools.cache
def _timestamps(forms: tuple[str, ...]) -> st.SearchStrategy[str]:
    return st.builds(_render_timestamp, st.sampled_from(forms), _moments, st.integers(0, 999))


def timestamps(*, forms: Iterable[str] = TIMESTAMP_FORMS) -> st.SearchStrategy[str]:
    """Timestamps in each of :data:`TIMESTAMP_FORMS`, all parseable by Segment's rules."""
    return _timestamps(_known(tuple(forms), TIMESTAMP_FORMS, "forms"))


def _render_timestamp(form: str, moment: datetime, nanos: int) -> str:
    utc = moment.astimezone(UTC)
    if form == "iso-millis-z":
        return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"
    if form == "iso-micros-offset":
        return moment.isoformat(timespec="microseconds")
    if form == "iso-nanos-z":
        return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond:06d}{nanos:03d}Z"
    if form == "iso-seconds-offset":
        return moment.isoformat(timespec="seconds")
    if form == "iso-naive":
        return utc.replace(tzinfo=None).isoformat(timespec="microseconds")
    # Go's time.Time.String(): zone offset, zone abbreviation, monotonic clock reading.
    minutes = int((moment.utcoffset() or timedelta()).total_seconds()) // 60
    fraction = f"{moment.microsecond:06d}{nanos:03d}"
    monotonic = f"m=+{nanos * 73.5:.9f}"
    return moment.strftime(f"%Y-%m-%d %H:%M:%S.{fraction} %z {_GO_ZONES[minutes]} {monotonic}")


# -- identify ------------------------------------------------------------------------------


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
        "street": st.none() | st.lists(_name_words, min_size=1, max_size=3).map(" ".join),
        "city": st.none() | st.lists(_name_words, min_size=1, max_size=2).map(" ".join),
        "state": st.none() | st.lists(_name_words, min_size=1, max_size=2).map(" ".join),
        "zip": st.none()
        | st.text(string.digits, min_size=5, max_size=5)
        | st.sampled_from(("SW1A 1AA", "H0H 0H0", "100-0001", "75008"))
        | st.integers(501, 99999),
        # Mostly accepted spellings; now and then one the destination must drop.
        "country": st.none()
        | st.sampled_from(COUNTRY_SPELLINGS)
        | st.sampled_from(_DROPPED_COUNTRIES),
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
_companies = _name_words | st.fixed_dictionaries(
    {"name": _name_words}, optional={"plan": _ascii_words, "id": _ascii_words}
)
_custom_traits = st.dictionaries(
    st.sampled_from(("plan", "logins", "createdAt", "age", "title", "website", "industry"))
    | _ascii_words.filter(lambda key: key not in _RESERVED_TRAITS),
    _json_values,
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
        first=_name_words,
        last=st.lists(_name_words, min_size=1, max_size=2).map(" ".join),
        email=_emails,
        ids=st.sampled_from(_ID_KEYS).flatmap(
            lambda keys: st.fixed_dictionaries(dict.fromkeys(keys, _ids))
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
        _known(tuple(conventions), NAME_CONVENTIONS, "conventions"), with_address
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


def _audience_key(head: str, parts: list[str]) -> str:
    return "_".join((head, *parts))


_audience_keys = st.builds(
    _audience_key,
    st.text(string.ascii_lowercase, min_size=2, max_size=10),
    st.lists(st.text(_LOWER, min_size=1, max_size=8), max_size=4),
).filter(lambda key: key not in _RESERVED_TRAITS)


@dataclass(frozen=True, slots=True)
class _Sync:
    """The Engage envelope around a person."""

    audience: str
    member: bool
    computation_id: str
    space_id: str
    message_id: str
    original_timestamp: str


_syncs = st.builds(
    _Sync,
    audience=_audience_keys,
    member=st.booleans(),
    computation_id=st.text(_ALNUM, min_size=22, max_size=22).map("aud_{}".format),
    space_id=st.text(_ALNUM, min_size=22, max_size=22).map("spa_{}".format),
    message_id=st.text(_ALNUM, min_size=27, max_size=27).map("personas_{}".format),
    original_timestamp=timestamps(forms=("iso-nanos-z",)),
)


def _engage_message(identify: Mapping[str, Any], sync: _Sync) -> dict[str, Any]:
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
        _engage_message(base.message, sync),
        f"engage/{convention}",
        fields=base.fields,
        warnings=base.warnings,
    )


_plain_identifies = _identify_events(("name", "camel", "snake"), None)


def engage_events() -> st.SearchStrategy[GeneratedEvent]:
    """Engage audience syncs: ``context.personas`` and a snake_cased boolean audience trait.

    Real syncs often carry no names; these carry them (as ID Sync or trait enrichment would
    add them), so they are valid. :func:`invalid_engage_events` draws the nameless ones.
    """
    return _engage_valid


def invalid_engage_events() -> st.SearchStrategy[GeneratedEvent]:
    """Engage syncs without any name trait: the destination rejects them with ``missing_name``."""
    return invalid_identify_events(rules=("engage_without_names",))


_engage_valid = st.builds(_engage, _plain_identifies, _syncs)


# -- delete --------------------------------------------------------------------------------

# How real deletes carry context and integrations: not at all, null, [] or {}.
_SHAPES: Mapping[str, Any] = {"absent": None, "null": None, "[]": [], "{}": {}}
_delete_envelopes = st.fixed_dictionaries(
    {
        "messageId": st.uuids().map("delete-{}".format),
        "context": st.sampled_from(tuple(_SHAPES)),
        "integrations": st.sampled_from(tuple(_SHAPES)),
    },
    optional={
        "projectId": _ascii_words,
        "receivedAt": timestamps(forms=("iso-millis-z",)),
        "sentAt": timestamps(forms=("iso-millis-z",)),
        "timestamp": timestamps(forms=("iso-millis-z",)),
        "originalTimestamp": timestamps(),
    },
)


def _delete(envelope: dict[str, Any], user_id: str | None, email: str | None) -> GeneratedEvent:
    message: dict[str, Any] = {"type": "delete", "channel": "server"}
    for key, value in envelope.items():
        if key not in ("context", "integrations"):
            message[key] = value
        elif value != "absent":
            message[key] = _SHAPES[value]
    if user_id is None:
        return GeneratedEvent(
            message, "invalid/delete_without_user", "destination", "missing_user_id"
        )
    message["userId"] = user_id
    fields = {"unique_merchant_id": user_id}
    if email is not None:
        message["email"] = fields["email"] = email
    return GeneratedEvent(message, f"delete/context={envelope['context']}", fields=fields)


def delete_events(
    *,
    user_ids: st.SearchStrategy[str] | None = None,
    emails: st.SearchStrategy[str | None] | None = None,
) -> st.SearchStrategy[GeneratedEvent]:
    """Deletes in the irregular shapes real regulations have.

    ``context`` and ``integrations`` absent, ``null``, ``[]`` or ``{}``; ``originalTimestamp``
    in every form, Go's included; a top-level ``email`` as in Refersion's own example.
    ``user_ids``/``emails`` fix whose delete it is (``emails`` may draw ``None``: no email).
    """
    return st.builds(
        _delete,
        _delete_envelopes,
        user_ids if user_ids is not None else _ids,
        emails if emails is not None else st.none() | _emails,
    )


def _delete_after(
    identify: GeneratedEvent, envelope: dict[str, Any], with_email: bool
) -> tuple[GeneratedEvent, GeneratedEvent]:
    email = identify.fields["email"] if with_email else None
    return identify, _delete(envelope, identify.fields["unique_merchant_id"], email)


def identify_and_delete_events() -> st.SearchStrategy[tuple[GeneratedEvent, GeneratedEvent]]:
    """A valid identify and a delete (irregular shape) of the affiliate it creates.

    The delete's userId is the identify's ``unique_merchant_id``; it carries the email only
    sometimes, as Refersion's example does.
    """
    return _identify_and_delete


_identify_and_delete = st.builds(
    _delete_after, _identify_events(NAME_CONVENTIONS, None), _delete_envelopes, st.booleans()
)


def invalid_delete_events() -> st.SearchStrategy[GeneratedEvent]:
    """Deletes with neither a userId nor an email: ``missing_user_id``, nothing to find."""
    return st.builds(_delete, _delete_envelopes, st.none(), st.none())


# -- invalid identifies --------------------------------------------------------------------

_JSON_TYPE_VALUES: Mapping[str, st.SearchStrategy[Any]] = {
    "string": st.text(_WORD_CHARS, max_size=8),
    "number": st.integers(-1000, 1000) | st.floats(-1e6, 1e6, allow_nan=False),
    "integer": st.integers(-1000, 1000),
    "boolean": st.booleans(),
    "object": st.dictionaries(_ascii_words, _json_scalars, max_size=2),
    "array": st.lists(_json_scalars, max_size=2),
}
# Segment's ingest code for a field of segment/message whose type the contract forbids. null
# is left out: the Tracking API reads a null field as an absent one.
INGEST_TYPE_RULES: Mapping[str, str] = {
    "type": "type_not_valid",
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
    for key in _NAME_KEYS:
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
        message["traits"][key] = draw(_name_words)

    return change


_name_key_choice = st.integers(0, len(_NAME_KEYS) - 1)


def _name_not_string(draw: st.DrawFn, message: dict[str, Any]) -> None:
    traits = message["traits"]
    present = [key for key in _NAME_KEYS if key in traits]
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
    engage = _engage_message(message, draw(_syncs))
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
        # Engage syncs usually carry no names (segment-semantics.md §6).
        "engage_without_names": _Rule("destination", "missing_name", _nameless_engage),
        "address_not_object": _Rule("refersion", "address_not_object", _address_not_object),
        **_contract_rules(),
        "no_ids": _Rule("ingest", "no_user_anon_id", _no_ids),
        "oversize": _Rule("ingest", "message_too_large", _oversize),
    }


INVALID_RULES: tuple[str, ...] = tuple(_rules())
"""Every rule :func:`invalid_identify_events` can break, one per event.

Destination rules (a 400 with a :data:`~emulator.mapping.REJECTION_REASONS` code, or a warning
for a non-object address); ``wrong_type:<field>`` and ``too_long:<field>`` derived from the
``segment/message`` contract (Segment's ingest drops them, :data:`INGEST_TYPE_RULES`);
``no_ids`` and ``oversize`` (over Segment's 32 KB per message).
"""
_ADDRESS_FIELDS = frozenset({"address1", "city", "state", "zip", "country"})


@st.composite
def _draw_invalid(draw: st.DrawFn, names: st.SearchStrategy[str]) -> GeneratedEvent:
    # The rule first: drawn after a large base it would mostly be the first one.
    name = draw(names)
    base = draw(_plain_identifies)
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
    chosen = _known(tuple(rules) if rules is not None else INVALID_RULES, INVALID_RULES, "rules")
    return _invalid_identifies(chosen)


@functools.cache
def _invalid_identifies(rules: tuple[str, ...]) -> st.SearchStrategy[GeneratedEvent]:
    return _draw_invalid(st.sampled_from(rules))


# -- messages only ---------------------------------------------------------------------------


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


_T = TypeVar("_T")


def sample(strategy: st.SearchStrategy[_T], *, count: int, seed: int | None = None) -> list[_T]:
    """Draw ``count`` values, outside any test; the same ``seed`` gives the same values.

    Values come from Hypothesis' generation phase only (no database, no shrinking), so they
    range from the simplest to elaborate ones, as a test run would see them.
    """
    if count < 1:
        raise ValueError(f"count must be at least 1, got {count}")
    drawn: list[_T] = []
    config = settings(
        settings.get_profile("default"),
        max_examples=count,
        database=None,
        phases=(Phase.generate,),
        deadline=None,
        derandomize=False,
        suppress_health_check=list(HealthCheck),
        verbosity=Verbosity.quiet,
    )

    @config
    @given(value=strategy)
    def collect(value: _T) -> None:
        drawn.append(value)

    if seed is not None:
        collect = fixed_seed(seed)(collect)
    collect()
    return drawn[:count]
