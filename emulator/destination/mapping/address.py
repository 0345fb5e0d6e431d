"""traits.address → Refersion's address1, city, state, zip and country."""

from __future__ import annotations

from emulator.countries import normalise_country
from emulator.destination.mapping.findings import WarningLog
from emulator.destination.mapping.model import LineageEntry
from emulator.destination.mapping.values import is_absent, json_type, number_to_string, quote

__all__ = ["map_address"]

_PLAIN_FIELDS = (("street", "address1"), ("city", "city"), ("state", "state"))


def map_address(value: object, findings: WarningLog) -> list[LineageEntry]:
    """The address entries to send; anything unusable is dropped with a warning."""
    if value is None:
        return []
    if not isinstance(value, dict):
        findings.warn(
            "address_not_object",
            f"traits.address must be an object, not {json_type(value)}; it is ignored.",
            "/traits/address",
        )
        return []
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
    if country is not None:
        entries.append(country)
    return entries


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
    if camel is not None:
        rule = "postalCode|postal_code → zip"
        if snake is not None and snake != camel:
            findings.warn(
                "conflicting_traits",
                f"traits.address.postalCode {quote(camel)} and traits.address.postal_code "
                f"{quote(snake)} differ; postalCode is sent as zip.",
                "/traits/address/postal_code",
            )
            rule += " (camelCase wins over postal_code)"
        return LineageEntry("/traits/address/postalCode", "zip", rule, camel)
    if snake is not None:
        return LineageEntry(
            "/traits/address/postal_code", "zip", "postalCode|postal_code → zip", snake
        )
    return None


def _country(address: dict[str, object], findings: WarningLog) -> LineageEntry | None:
    text = _field_text(address, "country", findings)
    if text is None:
        return None
    pointer = "/traits/address/country"
    result = normalise_country(text)
    if result.code is not None:
        return LineageEntry(pointer, "country", f"country normalised: {result.rule}", result.code)
    if result.iso_code is not None:
        findings.warn(
            "unsupported_country",
            f"traits.address.country {quote(text)} is {result.iso_code}, which is not on "
            "Refersion's list of 90 accepted countries; it is dropped.",
            pointer,
        )
    else:
        findings.warn(
            "unknown_country",
            f"traits.address.country {quote(text)} names no known country; it is dropped.",
            pointer,
        )
    return None
