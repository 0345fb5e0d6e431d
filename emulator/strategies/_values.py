"""Building blocks: words, names, emails, ids, JSON values, countries and timestamps.

Strategies are built once, here: building them inside a draw costs Hypothesis a validation
pass per example and made generation four times slower.
"""

from __future__ import annotations

import functools
import string
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta, timezone

import pycountry
from hypothesis import strategies as st

from emulator.countries import REFERSION_COUNTRIES
from emulator.strategies._event import known

__all__ = [
    "ALNUM",
    "COUNTRY_SPELLINGS",
    "DROPPED_COUNTRIES",
    "LOWER",
    "NAME_KEYS",
    "RESERVED_TRAITS",
    "TIMESTAMP_FORMS",
    "WORD_CHARS",
    "ascii_words",
    "email_addresses",
    "ids",
    "json_scalars",
    "json_values",
    "name_words",
    "timestamps",
]

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


# No whitespace, controls or lone surrogates: a "word" survives str.split() and strip() whole
# and encodes as UTF-8 (a fixture file must be writable).
WORD_CHARS = st.characters(exclude_categories=("Z", "Cc", "Cs"))
_REAL_NAMES = (
    "Peter", "Gibbons", "José", "Zoë", "Nguyễn", "Ólafsdóttir", "李", "小明", "Müller",
    "O'Brien", "Anne-Marie", "Łukasz", "Søren", "Αλέξανδρος", "Дмитрий", "محمد", "<b>Bob</b>",
)  # fmt: skip
ALNUM = string.ascii_letters + string.digits
LOWER = string.ascii_lowercase + string.digits
_words = st.text(WORD_CHARS, min_size=1, max_size=12)
name_words = st.sampled_from(_REAL_NAMES) | _words
ascii_words = st.text(ALNUM, min_size=1, max_size=10)
ids = st.text(WORD_CHARS, min_size=1, max_size=24) | st.uuids().map(str)
RESERVED_TRAITS = frozenset(
    {"email", "name", "firstName", "lastName", "first_name", "last_name", "address", "phone",
     "company"}
)  # fmt: skip
NAME_KEYS = ("name", "firstName", "lastName", "first_name", "last_name")


def _email(local: str, tag: str, upper: bool, domain: str, tld: str) -> str:
    address = f"{local}{tag}@{domain}.{tld}"
    return address.upper() if upper else address


email_addresses = st.builds(
    _email,
    st.text(LOWER, min_size=1, max_size=12) | st.sampled_from(("josé", "zoë", "用户")),
    st.just("")
    | st.builds("{}{}".format, st.sampled_from(".+_-"), st.text(LOWER, min_size=1, max_size=8)),
    st.integers(0, 9).map(lambda n: n == 9),
    st.text(LOWER, min_size=1, max_size=12),
    st.sampled_from(("com", "org", "io", "net", "de", "co.uk")),
)
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(10**6), 10**6)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(WORD_CHARS, max_size=16)
)
json_values = (
    json_scalars
    | st.lists(json_scalars, max_size=3)
    | st.dictionaries(ascii_words, json_scalars, max_size=3)
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
DROPPED_COUNTRIES = (("Atlantis", "unknown_country"), ("Afghanistan", "unsupported_country"))

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
    return _timestamps(known(tuple(forms), TIMESTAMP_FORMS, "forms"))


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
