"""identify → ``POST affiliate/new``: the rules of docs/sources.md and docs/assumptions.md."""

from __future__ import annotations

from emulator.destination.mapping.address import map_address
from emulator.destination.mapping.contact import map_company, map_phone, resolve_email
from emulator.destination.mapping.findings import Problem, WarningLog
from emulator.destination.mapping.ids import resolve_merchant_id
from emulator.destination.mapping.model import (
    GENERATED_MARK,
    LineageEntry,
    MappingResult,
    MappingSettings,
    Operation,
)
from emulator.destination.mapping.names import resolve_names
from emulator.destination.mapping.password import PASSWORD_LENGTH, derive_password
from emulator.destination.mapping.values import is_absent, json_type

__all__ = ["map_identify"]

_PASSWORD_RULE = (
    f"hmac-sha256(password_salt, unique_merchant_id + email) → {PASSWORD_LENGTH} chars "
    "cycling upper/lower/digit/symbol"
)


def map_identify(message: dict[str, object], *, settings: MappingSettings) -> MappingResult:
    """Every rule runs, so a rejection still carries all warnings and the lineage found.

    When several required fields are wrong, the rejection names the first of email, name,
    user id, country (the last only under ``unknown-country=reject``).
    """
    findings = WarningLog(choices=settings.assumptions)
    traits_value = message.get("traits")
    if traits_value is not None and not isinstance(traits_value, dict):
        return findings.reject(
            Problem(
                "traits_not_object",
                f"traits must be an object, not {json_type(traits_value)}.",
                "send traits as a JSON object",
                "/traits",
            )
        )
    traits: dict[str, object] = traits_value if traits_value is not None else {}
    email = resolve_email(message, traits, findings)
    names = resolve_names(traits, findings)
    merchant_id = resolve_merchant_id(message, findings)
    address = traits.get("address")
    located = map_address(address, findings)
    extras = [
        entry
        for entry in (map_phone(traits, findings), map_company(traits, findings))
        if entry is not None
    ]
    _warn_mixed_case(traits, address, findings)

    parts = (email, names, merchant_id, located)
    if any(isinstance(part, Problem) for part in parts):
        problem = next(part for part in parts if isinstance(part, Problem))
        resolved = [
            entry for part in (names, email, merchant_id, located) for entry in _resolved(part)
        ]
        return findings.reject(problem, [*resolved, *extras])
    assert not isinstance(email, Problem)
    assert not isinstance(names, Problem)
    assert not isinstance(merchant_id, Problem)
    assert not isinstance(located, Problem)

    findings.assume(
        "affiliate-status",
        f"status {settings.status} sent for the new affiliate",
        "ACTIVE" if settings.status == "PENDING" else "PENDING",
    )
    with_password = findings.variant("password") == "generated"
    if with_password:
        findings.assume(
            "password", "a generated password is sent", "not-sent: Refersion would answer 400"
        )
        generated = [LineageEntry("generated", "password", _PASSWORD_RULE, GENERATED_MARK)]
    else:
        findings.assume(
            "password",
            "no password sent; Refersion answers 400 (password missing)",
            "generated would send one",
        )
        generated = []
    lineage = (
        *names,
        email,
        *generated,
        *_settings_entries(settings),
        *_resolved(merchant_id),
        *located,
        *extras,
    )
    body = {entry.target: entry.value for entry in lineage}
    if with_password:
        body["password"] = derive_password(
            salt=settings.password_salt,
            unique_merchant_id=merchant_id.value if merchant_id is not None else "",
            email=email.value,
        )
    return Operation(
        "affiliate/new", body, tuple(findings.warnings), lineage, tuple(findings.notes)
    )


def _resolved(
    part: LineageEntry | tuple[LineageEntry, ...] | list[LineageEntry] | Problem | None,
) -> tuple[LineageEntry, ...]:
    if part is None or isinstance(part, Problem):
        return ()
    if isinstance(part, LineageEntry):
        return (part,)
    return tuple(part)


# The destination's one Segment setting is its API key; these are the emulator's choices
# about new affiliates, which no trait carries and no source documents (assumptions).
_CHOSEN = "emulator's choice for new affiliates (an assumption, not a Segment setting) → {}"


def _settings_entries(settings: MappingSettings) -> list[LineageEntry]:
    entries = [
        LineageEntry("settings:status", "status", _CHOSEN.format("status"), settings.status),
        LineageEntry(
            "settings:send_welcome",
            "send_welcome",
            _CHOSEN.format("send_welcome"),
            settings.send_welcome,
        ),
    ]
    if settings.offer:
        entries.append(
            LineageEntry("settings:offer", "offer", _CHOSEN.format("offer"), settings.offer)
        )
    return entries


def _warn_mixed_case(traits: dict[str, object], address: object, findings: WarningLog) -> None:
    """One warning when both conventions appear, unless a conflict already said so."""
    if findings.has("conflicting_traits"):
        return
    address_keys: dict[str, object] = address if isinstance(address, dict) else {}
    camel = [f"traits.{key}" for key in ("firstName", "lastName") if not is_absent(traits.get(key))]
    snake = [
        f"traits.{key}" for key in ("first_name", "last_name") if not is_absent(traits.get(key))
    ]
    if not is_absent(address_keys.get("postalCode")):
        camel.append("traits.address.postalCode")
    if not is_absent(address_keys.get("postal_code")):
        snake.append("traits.address.postal_code")
    if camel and snake:
        findings.warn(
            "mixed_trait_case",
            f"traits mix camelCase ({', '.join(camel)}) and snake_case ({', '.join(snake)}); "
            "Refersion asks for one convention.",
            None,
        )
