"""Contact traits: the affiliate's email (required), phone and company (optional)."""

from __future__ import annotations

import functools

from email_validator import EmailNotValidError, validate_email

from emulator.destination.mapping.findings import Problem, WarningLog
from emulator.destination.mapping.model import LineageEntry
from emulator.destination.mapping.values import (
    is_absent,
    json_type,
    number_to_string,
    quote,
    stripped_text,
)

__all__ = ["email_syntax_error", "map_company", "map_phone", "resolve_email"]


def resolve_email(
    message: dict[str, object], traits: dict[str, object], findings: WarningLog
) -> LineageEntry | Problem:
    """``traits.email``; the top-level ``email`` of Refersion's doc example only when absent.

    traits.email wins when both exist (assumption ``email-source``): it is where every Segment
    library puts the email, while a top-level email appears only in Developer Center test events.
    """
    traits_email = traits.get("email")
    top_email = message.get("email")
    top_first = findings.variant("email-source") == "top-level-first"
    both = isinstance(traits_email, str) and isinstance(top_email, str)
    if both and top_first and stripped_text(top_email) not in (None, stripped_text(traits_email)):
        email = str(top_email).strip()
        findings.warn(
            "traits_email_ignored",
            f"traits.email {quote(str(traits_email).strip())} differs from the top-level email "
            f"{quote(email)}; the top-level email is sent.",
            "/traits/email",
        )
        findings.assume(
            "email-source",
            f"the top-level email {quote(email)} sent, not traits.email",
            "traits-first would send traits.email",
        )
        entry = LineageEntry("/email", "email", "top-level email → email (wins)", email)
    elif not is_absent(traits_email):
        if not isinstance(traits_email, str):
            return _not_string("traits.email", traits_email, "/traits/email")
        email = traits_email.strip()
        top_text = stripped_text(top_email)
        if not is_absent(top_email) and top_text != email:
            shown = quote(top_text) if top_text is not None else f"({json_type(top_email)})"
            findings.warn(
                "top_level_email_ignored",
                f"The top-level email {shown} differs from traits.email {quote(email)}; "
                "traits.email is sent.",
                "/email",
            )
            findings.assume(
                "email-source",
                f"traits.email {quote(email)} sent, not the top-level email",
                "top-level-first would send the top-level email",
            )
        entry = LineageEntry("/traits/email", "email", "traits.email → email", email)
    elif not is_absent(top_email):
        if not isinstance(top_email, str):
            return _not_string("email", top_email, "/email")
        email = top_email.strip()
        findings.warn(
            "email_from_top_level",
            f"traits.email is absent; the top-level email {quote(email)} is sent.",
            "/email",
        )
        entry = LineageEntry("/email", "email", "top-level email → email (no traits.email)", email)
    else:
        return Problem(
            "missing_email",
            "traits.email is missing, and Refersion needs an email to create an affiliate.",
            "add traits.email",
            "/traits/email",
        )
    error = email_syntax_error(email)
    if error is not None:
        label = "traits.email" if entry.source == "/traits/email" else "email"
        return Problem(
            "invalid_email",
            f"{label} {quote(email)} is not a valid email address: {error}.",
            f"send a valid address such as name@example.com in {label}",
            entry.source,
        )
    return entry


# Syntax only, no DNS. Remembered per address because the check costs as much as the rest of
# the mapping; the cache is the mapping's own: the fake Refersion and the contracts judge
# emails with their own code, so a wrong verdict here is not silently agreed there.
@functools.lru_cache(maxsize=4096)
def email_syntax_error(email: str) -> str | None:
    """Why ``email`` is not a syntactically valid address, or ``None`` when it is."""
    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError as error:
        return str(error).rstrip(".")
    return None


def map_phone(traits: dict[str, object], findings: WarningLog) -> LineageEntry | None:
    value = traits.get("phone")
    if is_absent(value):
        return None
    if isinstance(value, str):
        return LineageEntry("/traits/phone", "phone", "phone → phone", value.strip())
    text = number_to_string(value)
    if text is not None:
        findings.warn(
            "value_coerced",
            f"traits.phone is a number; it is sent as the string {quote(text)}.",
            "/traits/phone",
        )
        return LineageEntry("/traits/phone", "phone", "phone (number, as text) → phone", text)
    findings.warn(
        "phone_not_string",
        f"traits.phone must be a string, not {json_type(value)}; it is dropped.",
        "/traits/phone",
    )
    return None


def map_company(traits: dict[str, object], findings: WarningLog) -> LineageEntry | None:
    """``company`` as a string, or the ``name`` of Segment's reserved company object."""
    value = traits.get("company")
    if is_absent(value):
        return None
    if isinstance(value, str):
        return LineageEntry("/traits/company", "company", "company → company", value.strip())
    if not isinstance(value, dict):
        findings.warn(
            "company_not_string",
            f"traits.company must be a string or an object with a name, not {json_type(value)}; "
            "it is dropped.",
            "/traits/company",
        )
        return None
    name = value.get("name")
    # A company object without a name (only id, plan, …) is ordinary Segment data.
    if is_absent(name):
        return None
    if isinstance(name, str):
        return LineageEntry(
            "/traits/company/name", "company", "company.name → company", name.strip()
        )
    findings.warn(
        "company_not_string",
        f"traits.company.name must be a string, not {json_type(name)}; it is dropped.",
        "/traits/company/name",
    )
    return None


def _not_string(label: str, value: object, pointer: str) -> Problem:
    return Problem(
        "email_not_string",
        f"{label} must be a string, not {json_type(value)}.",
        f"send {label} as a string",
        pointer,
    )
