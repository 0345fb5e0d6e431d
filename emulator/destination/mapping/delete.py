"""delete → ``POST affiliate/delete``: find the affiliate by userId, with the email as fallback."""

from __future__ import annotations

from emulator.destination.mapping.contact import email_syntax_error
from emulator.destination.mapping.findings import Problem, WarningLog
from emulator.destination.mapping.ids import read_id
from emulator.destination.mapping.model import (
    LineageEntry,
    MappingResult,
    MappingSettings,
    Operation,
)
from emulator.destination.mapping.values import is_absent, json_type, quote

__all__ = ["map_delete"]


def map_delete(message: dict[str, object], *, settings: MappingSettings) -> MappingResult:
    """``{"unique_merchant_id": userId}``, plus ``email`` whenever the message carries one.

    Regulations are keyed by userId only; the email (top-level in Refersion's doc example) is
    passed along so the fake can still find an affiliate created without a userId. Nothing
    else is read: ``context``/``integrations`` may be null or ``[]`` and ``originalTimestamp``
    may be Go-formatted in real deletes. How the affiliate is then found is the fake
    Refersion's ``delete-lookup`` assumption.
    """
    findings = WarningLog(choices=settings.assumptions)
    lineage: list[LineageEntry] = []
    user_id = read_id(message, "userId", findings)
    if user_id is not None:
        lineage.append(
            LineageEntry("/userId", "unique_merchant_id", "userId → unique_merchant_id", user_id)
        )
    email = _lookup_email(message, findings)
    if email is not None:
        lineage.append(email)
    if not lineage:
        return findings.reject(
            Problem(
                "missing_user_id",
                "delete has neither a userId nor an email, so no affiliate can be found to remove.",
                "add userId (the one the identify sent)",
                "/userId",
            )
        )
    body = {entry.target: entry.value for entry in lineage}
    return Operation(
        "affiliate/delete", body, tuple(findings.warnings), tuple(lineage), tuple(findings.notes)
    )


def _lookup_email(message: dict[str, object], findings: WarningLog) -> LineageEntry | None:
    """The first usable of traits.email and the top-level email; others are ignored with a warning.

    Only valid addresses are passed on: the fake looks affiliates up by exact email, and the
    request contract requires the email format.
    """
    traits = message.get("traits")
    traits_email: object = None
    if isinstance(traits, dict):
        traits_email = traits.get("email")
    elif traits is not None:
        findings.warn(
            "value_ignored",
            f"traits must be an object, not {json_type(traits)}; ignored.",
            "/traits",
        )
    candidates = (("/traits/email", traits_email), ("/email", message.get("email")))
    for pointer, value in candidates:
        if is_absent(value):
            continue
        label = pointer[1:].replace("/", ".")
        if not isinstance(value, str):
            findings.warn(
                "value_ignored",
                f"{label} must be a string, not {json_type(value)}; ignored.",
                pointer,
            )
            continue
        email = value.strip()
        error = email_syntax_error(email)
        if error is None:
            return LineageEntry(pointer, "email", "email → email (lookup fallback)", email)
        findings.warn(
            "value_ignored",
            f"{label} {quote(email)} is not a valid email address ({error}); ignored.",
            pointer,
        )
    return None
