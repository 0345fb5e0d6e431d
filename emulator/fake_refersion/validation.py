"""Refersion v2 request validation for affiliate/new and affiliate/edit, in the documented wording.

Sources: docs/sources.md ("Refersion API v2"). Where Refersion documents a sentence it is used
verbatim, grammar included ("X is not a allowed value for field Y", "Value exceed the char
limit"). Choices where the documentation is silent:

* a field that is absent, ``null`` or a blank string counts as missing (400) when required;
  ``null`` on an optional field of *new* counts as absent;
* the wording for a bad email format is unpublished; "The email you have entered is not
  valid." echoes the documented taken-email sentence;
* a value of the wrong JSON type fails with "X is not a allowed value for field Y", X being
  the value as JSON (strings are shown bare, as in the documented sentence);
* no length limits are published; every text field but the password (which has its own
  documented 72-character rule) is limited to :data:`CHAR_LIMIT` characters, or not at all
  (assumption ``text-limit``: the callers pass ``limit=None``);
* the password rules count code points; digits and letters are ASCII ones and a symbol is any
  other character (as in contracts/refersion/affiliate-new.request.json); "same as the
  e-mail" ignores case and surrounding spaces;
* ``paypal_email`` gets the text rules only (v2 documents no address check for it);
* fields Refersion does not document for an endpoint are ignored.
"""

from __future__ import annotations

import functools
import json
import re
import string
from collections.abc import Callable, Mapping
from typing import Any

from email_validator import EmailNotValidError, validate_email

from emulator.countries import REFERSION_COUNTRIES
from emulator.fake_refersion.fields import (
    AFFILIATE_FIELDS,
    EDIT_FIELDS,
    NEW_OPTIONAL_FIELDS,
    NEW_REQUIRED_FIELDS,
)
from emulator.fake_refersion.reply import Reply, error_reply, errors_reply

__all__ = [
    "CHANGE_STATUSES",
    "CHAR_LIMIT",
    "CHAR_LIMIT_EXCEEDED",
    "EDIT_FIELDS",
    "EMAIL_INVALID",
    "EMAIL_TAKEN",
    "MAX_PASSWORD_LENGTH",
    "MIN_PASSWORD_LENGTH",
    "NEW_OPTIONAL_FIELDS",
    "NEW_REQUIRED_FIELDS",
    "NEW_STATUSES",
    "REPEATED_CHARACTER",
    "SAME_AS_EMAIL",
    "SEND_WELCOME_VALUES",
    "TOO_SIMPLE",
    "check_edit",
    "check_new_affiliate",
    "email_errors",
    "first_missing",
    "id_errors",
    "is_blank",
    "missing_field",
    "not_allowed",
    "parse_int",
    "password_errors",
    "text_errors",
]

CHAR_LIMIT = 255
MIN_PASSWORD_LENGTH = 9
MAX_PASSWORD_LENGTH = 72
NEW_STATUSES = ("ACTIVE", "PENDING")
CHANGE_STATUSES = ("ACTIVE", "DENIED", "DISABLED")
SEND_WELCOME_VALUES = ("TRUE", "FALSE")

# Edit may clear these with null; names, email and offer must stay set.
_EDIT_NULLABLE = frozenset(f.name for f in AFFILIATE_FIELDS if f.edit is not None and f.nullable)
_CHOICES: Mapping[str, frozenset[str]] = {
    "country": REFERSION_COUNTRIES,
    "send_welcome": frozenset(SEND_WELCOME_VALUES),
}

EMAIL_TAKEN = "The email you have entered is taken by another Affiliate."
EMAIL_INVALID = "The email you have entered is not valid."
CHAR_LIMIT_EXCEEDED = "Value exceed the char limit"
# The three fixed password messages (the two length messages carry numbers).
TOO_SIMPLE = (
    "The password should have at least 1 number, 1 uppercase letter, 1 lowercase letter "
    "and 1 symbol."
)
SAME_AS_EMAIL = "The password can't be the same as the e-mail"
REPEATED_CHARACTER = (
    "The password can't have the same character repeated more than 3 times in a row"
)
_ASCII_ALPHANUMERIC = frozenset(string.ascii_letters + string.digits)
_REPEATED_FOUR_TIMES = re.compile(r"(.)\1{3}", re.DOTALL)
_SHOWN_VALUE_MAX = 100


def missing_field(name: str) -> str:
    return f"Missing required field {name}"


def not_allowed(value: object, name: str) -> str:
    """Refersion's sentence for a value outside what field ``name`` accepts."""
    return f"{_show(value)} is not a allowed value for field {name}"


def _show(value: object) -> str:
    if isinstance(value, str) and value:
        shown = value
    else:
        try:
            shown = json.dumps(value, ensure_ascii=False)
        except RecursionError:
            shown = "[...]" if isinstance(value, list) else "{...}"
    if len(shown) > _SHOWN_VALUE_MAX:
        return shown[: _SHOWN_VALUE_MAX - 1] + "…"
    return shown


def is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def first_missing(body: Mapping[str, Any], names: tuple[str, ...]) -> str | None:
    """The first of ``names`` that is absent, null or blank in ``body``."""
    return next((name for name in names if is_blank(body.get(name))), None)


def id_errors(name: str, value: object) -> list[str]:
    """Errors of a numeric id, which may also be sent as a string of digits."""
    if isinstance(value, str) and len(value) > CHAR_LIMIT:
        return [CHAR_LIMIT_EXCEEDED]
    return [] if parse_int(value) is not None else [not_allowed(value, name)]


def parse_int(value: object) -> int | None:
    """An integer given as a JSON number or a string of ASCII digits; else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= CHAR_LIMIT:
        return int(value)
    return None


def text_errors(
    name: str,
    value: object,
    choices: frozenset[str] | None = None,
    *,
    limit: int | None = CHAR_LIMIT,
) -> list[str]:
    """Errors of one text field: its type, the char limit, then its allowed values."""
    if not isinstance(value, str):
        return [not_allowed(value, name)]
    if limit is not None and len(value) > limit:
        return [CHAR_LIMIT_EXCEEDED]
    if choices is not None and value not in choices:
        return [not_allowed(value, name)]
    return []


def email_errors(name: str, value: object, *, limit: int | None = CHAR_LIMIT) -> list[str]:
    """Errors of an email field: text rules, then the address syntax (no DNS lookups)."""
    errors = text_errors(name, value, limit=limit)
    if errors:
        return errors
    return [] if _email_is_valid(str(value)) else [EMAIL_INVALID]


# The judge's own email rule: it shares no code (and no cache) with the mapping it judges, so
# a wrong verdict there is not agreed here. Syntax only: Refersion does not look up domains.
@functools.lru_cache(maxsize=4096)
def _email_is_valid(email: str) -> bool:
    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError:
        return False
    return True


def password_errors(password: str, email: object) -> list[str]:
    """Every documented password rule ``password`` breaks, in Refersion's order."""
    errors: list[str] = []
    length = len(password)
    if length > MAX_PASSWORD_LENGTH:
        errors.append(
            f"The password should not be longer than {MAX_PASSWORD_LENGTH} characters. "
            f"Current password length is {length} characters"
        )
    if length < MIN_PASSWORD_LENGTH:
        errors.append(
            f"The password should be at least {MIN_PASSWORD_LENGTH} characters long. "
            f"Current password length is {length} characters"
        )
    has_digit = any(c in string.digits for c in password)
    has_upper = any(c in string.ascii_uppercase for c in password)
    has_lower = any(c in string.ascii_lowercase for c in password)
    has_symbol = any(c not in _ASCII_ALPHANUMERIC for c in password)
    if not (has_digit and has_upper and has_lower and has_symbol):
        errors.append(TOO_SIMPLE)
    if isinstance(email, str) and password.strip().casefold() == email.strip().casefold():
        errors.append(SAME_AS_EMAIL)
    if _REPEATED_FOUR_TIMES.search(password):
        errors.append(REPEATED_CHARACTER)
    return errors


def check_new_affiliate(
    body: Mapping[str, Any],
    *,
    require_status: bool,
    email_taken: Callable[[str], bool],
    limit: int | None = CHAR_LIMIT,
) -> Reply | None:
    """The error reply for an affiliate/new body, or None when it is valid.

    400 names the first missing required field; otherwise every 422 message is collected.
    ``email_taken`` says whether a (syntactically valid) email already belongs to an affiliate.
    """
    required = NEW_REQUIRED_FIELDS if require_status else NEW_REQUIRED_FIELDS[:-1]
    missing = first_missing(body, required)
    if missing is not None:
        return error_reply(400, missing_field(missing))
    errors = text_errors("first_name", body["first_name"], limit=limit)
    errors += text_errors("last_name", body["last_name"], limit=limit)
    email = body["email"]
    email_problems = email_errors("email", email, limit=limit)
    if not email_problems and email_taken(email):
        email_problems.append(EMAIL_TAKEN)
    errors += email_problems
    password = body["password"]
    if isinstance(password, str):
        errors += password_errors(password, email)
    else:
        errors.append(not_allowed(password, "password"))
    if body.get("status") is not None:
        errors += text_errors("status", body["status"], frozenset(NEW_STATUSES), limit=limit)
    for name in NEW_OPTIONAL_FIELDS:
        value = body.get(name)
        if value is not None:
            errors += _optional_field_errors(name, value, limit)
    return errors_reply(errors) if errors else None


def check_edit(
    body: Mapping[str, Any],
    *,
    email_owner: Callable[[str], int | None],
    limit: int | None = CHAR_LIMIT,
) -> Reply | None:
    """The error reply for an affiliate/edit body, or None when every item is valid.

    ``email_owner`` gives the numeric id of the affiliate that has an email, if any; an item
    may keep its own email. Unknown ids are not an error here (they are "not changed").
    """
    items = body.get("affiliates")
    if not isinstance(items, list):
        return error_reply(400, missing_field("affiliates"))
    if any(isinstance(item, dict) and item.get("id") is None for item in items):
        return error_reply(400, missing_field("id"))
    errors: list[str] = []
    for item in items:
        if not isinstance(item, dict):
            errors.append(not_allowed(item, "affiliates"))
            continue
        errors += id_errors("id", item["id"])
        affiliate_id = parse_int(item["id"])
        errors += _edit_item_errors(item, affiliate_id, email_owner, limit)
    return errors_reply(errors) if errors else None


def _edit_item_errors(
    item: Mapping[str, Any],
    affiliate_id: int | None,
    email_owner: Callable[[str], int | None],
    limit: int | None,
) -> list[str]:
    errors: list[str] = []
    for name in EDIT_FIELDS:
        if name not in item:
            continue
        value = item[name]
        if value is None:
            if name not in _EDIT_NULLABLE:
                errors.append(not_allowed(value, name))
            continue
        if name in ("first_name", "last_name") and is_blank(value):
            errors.append(not_allowed(value, name))
            continue
        field_errors = _optional_field_errors(name, value, limit)
        if name == "email" and not field_errors:
            owner = email_owner(value)
            if owner is not None and owner != affiliate_id:
                field_errors.append(EMAIL_TAKEN)
        errors += field_errors
    return errors


def _optional_field_errors(name: str, value: object, limit: int | None) -> list[str]:
    if name == "offer":
        # Documented as a string on new and a number on edit; both are accepted on both.
        if isinstance(value, int) and not isinstance(value, bool):
            return []
        return text_errors(name, value, limit=limit)
    if name == "email":
        return email_errors(name, value, limit=limit)
    return text_errors(name, value, _CHOICES.get(name), limit=limit)
