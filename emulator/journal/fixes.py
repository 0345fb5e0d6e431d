"""One-line fixes for every warning code and outcome reason, for the person reading a trace.

Rejections of the mapping carry their own fix (it names the field); warnings, Segment-side
drops and Refersion's answers are looked up here by code. Pure data.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

__all__ = ["ASSUMPTION_WARNING_FIXES", "REASON_FIXES", "WARNING_FIXES", "fix_for_reason"]

WARNING_FIXES: Mapping[str, str] = MappingProxyType(
    {
        "mixed_trait_case": (
            "use one convention: firstName/lastName/postalCode or first_name/last_name/postal_code"
        ),
        "conflicting_traits": "send one spelling of the trait, not camelCase and snake_case "
        "with different values",
        "address_not_object": (
            "send traits.address as an object: {street, city, state, postalCode, country}"
        ),
        "address_field_invalid": "send each address field as a string",
        "unknown_country": "send a two-letter country code such as US, GB or DE",
        "unsupported_country": (
            "Refersion does not take this country: leave address.country out, or use one of "
            "its 90 codes"
        ),
        "email_from_top_level": "put the email in traits.email",
        "top_level_email_ignored": "drop the top-level email, or make it equal traits.email",
        "traits_email_ignored": "drop traits.email, or make it equal the top-level email",
        "value_coerced": 'send the value as a string ("94103", not 94103)',
        "company_not_string": 'send traits.company as a string or as {"name": "…"}',
        "phone_not_string": "send traits.phone as a string",
        "value_ignored": (
            "send userId/anonymousId as non-empty strings, and a delete's email as a valid address"
        ),
    }
)

# Assumption notes marked as warnings, by assumption id (docs/assumptions.md).
ASSUMPTION_WARNING_FIXES: Mapping[str, str] = MappingProxyType(
    {
        "delete-lookup": "check the delete's userId; run with --assume delete-lookup=… to see "
        "every variant (refersion-emulator assumptions)",
        "invalid-unicode": "fix the client: it sent a lone surrogate or bytes that are not "
        'UTF-8 (a JavaScript string can hold "\\uD800"); --assume invalid-unicode=refuse '
        "answers such a request 400",
    }
)

# Reasons a trace ends without an affiliate that are not mapping rejections (those carry
# their own fix): Segment-side drops, the API key, and Refersion's answers.
REASON_FIXES: Mapping[str, str] = MappingProxyType(
    {
        # Tracking API ingest (Segment's reason codes, then the emulator's own).
        "no_user_anon_id": "add userId (or anonymousId)",
        "id_not_string": "send userId and anonymousId as non-empty strings",
        "traits_not_object": "send traits as a JSON object",
        "event_not_defined": "give the track call an event name",
        "event_not_string": "send the track call's event name as a string",
        "properties_not_object": "send properties as a JSON object",
        "name_not_string": "send the page or screen name as a non-empty string",
        "category_not_string": "send the page or screen category as a non-empty string",
        "empty_batch": "put at least one message in batch",
        "bad_request": "make every batch item a JSON object",
        "missing_type": 'set type to "identify" (Refersion takes identify and delete)',
        "invalid_type": 'set type to "identify" (Refersion takes identify and delete)',
        "project_not_found": "send the write key the emulator was started with (--write-key)",
        "message_id_invalid": "send messageId as a string of at most 100 characters",
        "context_not_object": "send context as a JSON object",
        "integrations_not_object": "send integrations as a JSON object",
        "timestamp_invalid": "send timestamp and sentAt as ISO 8601 dates",
        "journal_unavailable": "free space for the journal file, then send the request again",
        # Routing and dedupe.
        "UNSUPPORTED_EVENT_TYPE": "Refersion takes only identify and delete; send an identify call",
        "FILTERED_BY_INTEGRATIONS_OBJECT": (
            'set integrations.Refersion to true (or drop "Refersion": false and "All": false)'
        ),
        "regulation_not_forwarded": (
            "nothing to fix: run with --assume regulation-forwarding=forward to see the delete"
        ),
        "duplicate_message_id": "give every event its own messageId (Segment drops repeats)",
        # The destination's API key and Refersion's answers.
        "INVALID_SETTINGS": "set the destination's API key setting (publickey.secretkey)",
        "invalid_api_key": "set the destination API key as publickey.secretkey",
        "refersion_401": "check the Refersion public and secret key in the destination API key",
        "refersion_400": "see Refersion's error above: a required field is missing",
        "refersion_404": "see Refersion's error above",
        "refersion_422": "see Refersion's errors above: a value breaks one of its rules",
        "refersion_429": "nothing: Refersion is rate limiting and Segment retries",
        "refersion_unavailable": "nothing: Refersion is unreachable and Segment retries",
    }
)

_RETRIED_PREFIX = "refersion_5"


def fix_for_reason(reason: str | None) -> str | None:
    """The fix for an outcome ``reason``; ``None`` when there is nothing to fix."""
    if reason is None:
        return None
    if reason.startswith(_RETRIED_PREFIX):
        return "nothing: Refersion answered a server error and Segment retries"
    return REASON_FIXES.get(reason)
