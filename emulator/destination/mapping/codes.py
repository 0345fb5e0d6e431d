"""The mapping's vocabulary: every warning code and rejection reason, with what it means."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

__all__ = ["REJECTION_REASONS", "REJECTION_STATUS", "WARNING_CODES"]

WARNING_CODES: Mapping[str, str] = MappingProxyType(
    {
        "mixed_trait_case": (
            "Traits mix camelCase (firstName, lastName, address.postalCode) and snake_case "
            "(first_name, last_name, address.postal_code) spellings that agree; Refersion asks "
            "for one convention."
        ),
        "conflicting_traits": (
            "A camelCase and a snake_case spelling of the same trait disagree; the camelCase "
            "value is sent."
        ),
        "address_not_object": "traits.address is not an object; it is ignored.",
        "address_field_invalid": (
            "An address field is neither a string nor a number; it is dropped."
        ),
        "unknown_country": "address.country names no known country; it is dropped.",
        "unsupported_country": (
            "address.country is a real country missing from Refersion's list of 90 accepted "
            "codes; it is dropped."
        ),
        "email_from_top_level": (
            "traits.email is absent; the top-level email (as in Refersion's doc example) is used."
        ),
        "top_level_email_ignored": (
            "A top-level email differs from traits.email; traits.email is used."
        ),
        "traits_email_ignored": (
            "traits.email differs from a top-level email; the top-level email is used (only "
            "under email-source=top-level-first)."
        ),
        "value_coerced": "A number was sent as its decimal string (e.g. a zip sent as 94103).",
        "company_not_string": (
            "traits.company is neither a string nor an object with a string name; it is dropped."
        ),
        "phone_not_string": "traits.phone is neither a string nor a number; it is dropped.",
        "value_ignored": (
            "An identifier or lookup value is unusable (wrong type, or a delete's email that is "
            "not a valid address) and is ignored; the next fallback, such as anonymousId or the "
            "email, is used."
        ),
    }
)

REJECTION_REASONS: Mapping[str, str] = MappingProxyType(
    {
        "not_an_object": "The message is not a JSON object.",
        "unsupported_type": (
            "The message type is neither identify nor delete; Refersion handles no other type "
            "(HTTP 501, message 'Unsupported event type')."
        ),
        "traits_not_object": "identify traits is present but not an object.",
        "missing_email": "identify carries no traits.email (nor a top-level email).",
        "email_not_string": "The email to send is not a string.",
        "invalid_email": "The email to send is not a syntactically valid address.",
        "missing_name": "identify carries neither name nor firstName/lastName (or snake_case).",
        "name_not_string": "name, firstName, lastName, first_name or last_name is not a string.",
        "name_incomplete": (
            "Only a first or only a last name can be derived: a one-word name with no last "
            "name, or a first name without a last name (or the reverse)."
        ),
        "unknown_country": (
            "address.country names no known country (only under unknown-country=reject)."
        ),
        "unsupported_country": (
            "address.country is not on Refersion's list (only under unknown-country=reject)."
        ),
        "missing_user_id": (
            "identify has no usable userId or anonymousId; delete has neither a userId nor an "
            "email to find the affiliate by."
        ),
    }
)

# Segment discards a 400 and a 501 alike; 501 tells it the call type itself is unsupported.
REJECTION_STATUS: Mapping[str, int] = MappingProxyType(
    {reason: 501 if reason == "unsupported_type" else 400 for reason in REJECTION_REASONS}
)
