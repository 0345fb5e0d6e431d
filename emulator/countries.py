"""Country normalisation to the two-letter codes Refersion's REST API v2 accepts.

Refersion v2 validates ``country`` against a fixed list of 90 ISO 3166-1 alpha-2 codes
(docs/sources.md#refersion-api-v2). Segment traits carry whatever the customer typed
("USA", "United States", "us", "UK"), so the mapping layer normalises with pycountry and
then checks the result against Refersion's list.
"""

from __future__ import annotations

from dataclasses import dataclass

import pycountry

__all__ = ["REFERSION_COUNTRIES", "CountryResult", "normalise_country"]

_REFERSION_CODES = """
    US AE AR AS AT AU BA BD BE BG BR CA CH CL CN CO CR CZ DE DK DZ EE ES FI FM FO FR GB GH GR
    GU HK HN HR HU ID IE IL IM IN IS IT JM JP KR KW LT LU LV MA MH MK MP MT MX MY NG NL NO NZ OM
    PE PH PK PL PR PT PW QA RO RS RU SA SE SG SI SK SV TH TN TR TW TZ UA UY VG VI VN WS ZA"""
REFERSION_COUNTRIES: frozenset[str] = frozenset(_REFERSION_CODES.split())

# Names people type that ISO 3166 (and so pycountry) does not know. "UK" is an exceptionally
# reserved code, and Refersion's own v1 list used it, so customers still send it.
_ALIASES: dict[str, str] = {
    "UK": "GB",
    "GREAT BRITAIN": "GB",
    "ENGLAND": "GB",
    "SCOTLAND": "GB",
    "WALES": "GB",
    "NORTHERN IRELAND": "GB",
    "AMERICA": "US",
    "UNITED STATES OF AMERICA": "US",
    "U.S.": "US",
    "U.S.A.": "US",
    "SOUTH KOREA": "KR",
    "KOREA": "KR",
    "RUSSIA": "RU",
    "VIETNAM": "VN",
    "TAIWAN": "TW",
}


@dataclass(frozen=True, slots=True)
class CountryResult:
    """What became of a country value: ``code`` is set only when Refersion accepts it."""

    code: str | None
    iso_code: str | None
    rule: str


def normalise_country(value: str) -> CountryResult:
    """Return Refersion's two-letter code for ``value``, or say why there is none.

    ``iso_code`` is the ISO alpha-2 code when the value names a real country, even when
    Refersion's list does not include it; ``rule`` describes the step that decided.
    """
    text = " ".join(value.split())
    if not text:
        return CountryResult(None, None, "empty country")
    upper = text.upper()
    if upper in _ALIASES:
        iso = _ALIASES[upper]
        rule = f"alias {text!r} → {iso}"
    else:
        try:
            country = pycountry.countries.lookup(text)
        except LookupError:
            return CountryResult(None, None, f"{text!r} is not a country pycountry knows")
        iso = str(country.alpha_2)
        rule = "ISO code" if upper == iso else f"ISO 3166 lookup {text!r} → {iso}"
    if iso not in REFERSION_COUNTRIES:
        return CountryResult(None, iso, f"{iso} is not on Refersion's list of 90 countries")
    return CountryResult(iso, iso, rule)
