"""traits.address → Refersion's address1, city, state, zip and country."""

from __future__ import annotations

from emulator.countries import REFERSION_COUNTRIES, normalise_country
from emulator.destination.mapping.findings import Problem, WarningLog
from emulator.destination.mapping.model import LineageEntry
from emulator.destination.mapping.values import is_absent, json_type, number_to_string, quote

__all__ = ["map_address"]

_PLAIN_FIELDS = (("street", "address1"), ("city", "city"), ("state", "state"))


def map_address(value: object, findings: WarningLog) -> list[LineageEntry] | Problem:
    """The address entries to send; anything unusable is dropped with a warning.

    A country Refersion cannot take is a :class:`Problem` under ``unknown-country=reject``.
    """
    if value is None:
        return []
    if not isinstance(value, dict):
        return _not_an_object(value, findings)
    address: dict[str, object] = value
    entries = []
    for key, target in _PLAIN_FIELDS:
        text = _field_text(address, key, findings)
        if text is not None:
            entries.append(
                LineageEntry(f"/traits/address/{key}", target, f"{key} → {target}", text)
            )
    postal = _postal_code(address, findings)
    if postal is not None:
        entries.append(postal)
    country = _country(address, findings)
    if isinstance(country, Problem):
        return country
    if country is not None:
        entries.append(country)
    return entries


def _not_an_object(value: object, findings: WarningLog) -> list[LineageEntry] | Problem:
    """A string or array address: ignored, or read as the street (``address-shape``)."""
    shown = json_type(value)
    if findings.variant("address-shape") == "object-only":
        findings.warn(
            "address_not_object",
            f"traits.address must be an object, not {shown}; it is ignored.",
            "/traits/address",
        )
        if isinstance(value, (str, list)):
            findings.assume(
                "address-shape",
                f"traits.address ({shown}) ignored",
                "first-or-street would read it as the street or its first element",
            )
        return []
    if isinstance(value, str) and value.strip():
        findings.assume(
            "address-shape", "traits.address (string) sent as address1", "object-only ignores it"
        )
        return [
            LineageEntry(
                "/traits/address", "address1", "address (string) → address1", value.strip()
            )
        ]
    if isinstance(value, list) and value and isinstance(value[0], (str, dict)):
        findings.assume(
            "address-shape",
            "traits.address (array) read from its first element",
            "object-only ignores it",
        )
        return map_address(value[0], findings)
    findings.warn(
        "address_not_object",
        f"traits.address must be an object, a string or a non-empty array, not {shown}; "
        "it is ignored.",
        "/traits/address",
    )
    return []


def _field_text(address: dict[str, object], key: str, findings: WarningLog) -> str | None:
    value = address.get(key)
    if is_absent(value):
        return None
    if isinstance(value, str):
        return value.strip()
    pointer = f"/traits/address/{key}"
    text = number_to_string(value)
    if text is not None:
        findings.warn(
            "value_coerced",
            f"traits.address.{key} is a number; it is sent as the string {quote(text)}.",
            pointer,
        )
        return text
    findings.warn(
        "address_field_invalid",
        f"traits.address.{key} must be a string or a number, not {json_type(value)}; "
        "it is dropped.",
        pointer,
    )
    return None


def _postal_code(address: dict[str, object], findings: WarningLog) -> LineageEntry | None:
    camel = _field_text(address, "postalCode", findings)
    snake = _field_text(address, "postal_code", findings)
    snake_wins = findings.variant("trait-case") == "snake-case-wins"
    if camel is not None and snake is not None and snake != camel and snake_wins:
        findings.warn(
            "conflicting_traits",
            f"traits.address.postalCode {quote(camel)} and traits.address.postal_code "
            f"{quote(snake)} differ; postal_code is sent as zip.",
            "/traits/address/postalCode",
        )
        findings.assume(
            "trait-case", "address.postal_code wins over postalCode", "camelCase would win"
        )
        return LineageEntry(
            "/traits/address/postal_code",
            "zip",
            "postalCode|postal_code → zip (snake_case wins over postalCode)",
            snake,
        )
    if camel is not None:
        rule = "postalCode|postal_code → zip"
        if snake is not None and snake != camel:
            findings.warn(
                "conflicting_traits",
                f"traits.address.postalCode {quote(camel)} and traits.address.postal_code "
                f"{quote(snake)} differ; postalCode is sent as zip.",
                "/traits/address/postal_code",
            )
            findings.assume(
                "trait-case", "address.postalCode wins over postal_code", "snake_case would win"
            )
            rule += " (camelCase wins over postal_code)"
        return LineageEntry("/traits/address/postalCode", "zip", rule, camel)
    if snake is not None:
        return LineageEntry(
            "/traits/address/postal_code", "zip", "postalCode|postal_code → zip", snake
        )
    return None


def _country(address: dict[str, object], findings: WarningLog) -> LineageEntry | Problem | None:
    text = _field_text(address, "country", findings)
    if text is None:
        return None
    pointer = "/traits/address/country"
    result = normalise_country(text)
    listed = text in REFERSION_COUNTRIES
    if findings.variant("country-spelling") == "pass-through":
        if not listed:
            would = f"normalise would send {result.code}" if result.code else "normalise drops it"
            findings.assume(
                "country-spelling",
                f"country {quote(text)} passed through; Refersion answers 422 (not on its list)",
                would,
            )
        return LineageEntry(pointer, "country", "country passed through as sent", text)
    if result.code is not None:
        if result.code != text:
            findings.assume(
                "country-spelling",
                f"country {quote(text)} normalised to {result.code}",
                "passed through, Refersion would answer 422",
            )
        return LineageEntry(pointer, "country", f"country normalised: {result.rule}", result.code)
    if result.iso_code is not None:
        code = "unsupported_country"
        why = (
            f"traits.address.country {quote(text)} is {result.iso_code}, which is not on "
            "Refersion's list of 90 accepted countries"
        )
    else:
        code = "unknown_country"
        why = f"traits.address.country {quote(text)} names no known country"
    if findings.variant("unknown-country") == "reject":
        findings.assume(
            "unknown-country", f"country {quote(text)} rejects the identify", "drop would send it"
        )
        return Problem(code, f"{why}.", "send a country on Refersion's list, or none", pointer)
    findings.warn(code, f"{why}; it is dropped.", pointer)
    findings.assume(
        "unknown-country",
        f"country {quote(text)} dropped",
        "reject would refuse the identify (400), and Segment would discard it",
    )
    return None
