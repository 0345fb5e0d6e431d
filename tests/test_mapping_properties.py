"""Properties of the mapping layer over generated input: never raises, passwords always valid."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

from email_validator import validate_email
from hypothesis import given, settings
from hypothesis import strategies as st

from emulator.destination.mapping import (
    REJECTION_REASONS,
    MappingSettings,
    Operation,
    Rejection,
    derive_password,
    map_message,
)
from emulator.strategies import GeneratedEvent, engage_events, identify_events
from tests.support import examples

REPEATED_4_TIMES = re.compile(r"(.)\1{3}", re.DOTALL)
SYMBOL = re.compile(r"[^A-Za-z0-9]")


def password_problems(password: str, email: str) -> list[str]:
    """Refersion's v2 password rules (docs/sources.md#refersion-api-v2), checked independently."""
    checks = {
        "9 to 72 characters": 9 <= len(password) <= 72,
        "an uppercase letter": re.search("[A-Z]", password) is not None,
        "a lowercase letter": re.search("[a-z]", password) is not None,
        "a digit": re.search("[0-9]", password) is not None,
        "a symbol": SYMBOL.search(password) is not None,
        "no character 4 times in a row": REPEATED_4_TIMES.search(password) is None,
        "not the email": password.lower() != email.lower(),
    }
    return [rule for rule, holds in checks.items() if not holds]


# Lone surrogates are valid in JSON text ("\ud800") and must not crash anything.
text = st.text(st.characters() | st.characters(categories=["Cs"]), max_size=30)
json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | text
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(text, children, max_size=4),
    max_leaves=12,
)
plausible_email = st.emails() | text | json_values
plausible_name = st.sampled_from(["Peter", "Gibbons", "Peter Gibbons", " ", ""]) | json_values
addresses = json_values | st.fixed_dictionaries(
    {},
    optional={
        key: json_values | st.sampled_from(["USA", "UK", "Atlantis", "94103", "Afghanistan"])
        for key in ("street", "city", "state", "postalCode", "postal_code", "country")
    },
)
traits = json_values | st.fixed_dictionaries(
    {},
    optional={
        "email": plausible_email,
        "name": plausible_name,
        "firstName": plausible_name,
        "lastName": plausible_name,
        "first_name": plausible_name,
        "last_name": plausible_name,
        "address": addresses,
        "phone": json_values,
        "company": json_values | st.fixed_dictionaries({}, optional={"name": json_values}),
    },
)
messages = json_values | st.fixed_dictionaries(
    {"type": st.sampled_from(["identify", "delete"]) | json_values},
    optional={
        "userId": text | json_values,
        "anonymousId": text | json_values,
        "email": plausible_email,
        "traits": traits,
        "context": json_values,
        "integrations": json_values,
        "originalTimestamp": json_values,
    },
)


def resolve_pointer(document: Any, pointer: str) -> Any:
    for token in pointer.split("/")[1:]:
        document = document[token.replace("~1", "/").replace("~0", "~")]
    return document


@settings(max_examples=examples(200))
@given(message=messages, salt=text)
def test_map_message_never_raises_and_results_are_coherent(message: Any, salt: str) -> None:
    original = copy.deepcopy(message)
    mapping_settings = MappingSettings(password_salt=salt)
    result = map_message(message, settings=mapping_settings)
    # The list compares NaN by identity (deepcopy keeps float objects), so NaN equals itself.
    assert [message] == [original]  # the input is never modified
    assert result == map_message(message, settings=mapping_settings)  # deterministic
    journaled = json.dumps(result.to_dict(), allow_nan=False)
    for entry in result.lineage:
        if entry.source.startswith("/"):
            resolve_pointer(message, entry.source)  # every source points into the message
    if isinstance(result, Rejection):
        assert result.reason in REJECTION_REASONS
        assert result.status == (501 if result.reason == "unsupported_type" else 400)
        return
    assert isinstance(result, Operation)
    assert all(isinstance(value, str) for value in result.body.values())
    if result.endpoint == "affiliate/delete":
        assert result.body.keys() <= {"unique_merchant_id", "email"}
        if "email" in result.body:
            validate_email(result.body["email"], check_deliverability=False)
        return
    assert result.endpoint == "affiliate/new"
    required = {"first_name", "last_name", "email", "password", "status", "unique_merchant_id"}
    assert required <= result.body.keys()
    assert all(result.body[key].strip() for key in required)
    assert result.body["password"] not in journaled
    assert password_problems(result.body["password"], result.body["email"]) == []


@settings(max_examples=examples(200))
@given(event=identify_events() | engage_events())
def test_well_formed_identify_maps_to_exactly_the_fields_it_carries(
    event: GeneratedEvent,
) -> None:
    result = map_message(event.message, settings=MappingSettings(password_salt="salt"))
    assert isinstance(result, Operation), result
    body = result.body
    decided_by_settings = {"password", "status", "send_welcome"}
    assert {k: v for k, v in body.items() if k not in decided_by_settings} == dict(event.fields)
    assert event.warnings <= {warning.code for warning in result.warnings}
    assert password_problems(body["password"], body["email"]) == []
    assert all(isinstance(value, str) and value.strip() for value in body.values())
    assert [entry.target for entry in result.lineage] == list(body)
    for entry in result.lineage:
        if entry.source.startswith("/"):
            resolve_pointer(event.message, entry.source)


@settings(max_examples=examples(200))
@given(salt=text, unique_merchant_id=text, email=st.emails() | text)
def test_derived_password_satisfies_refersion_rules(
    salt: str, unique_merchant_id: str, email: str
) -> None:
    password = derive_password(salt=salt, unique_merchant_id=unique_merchant_id, email=email)
    assert len(password) == 16
    assert password_problems(password, email) == []


def test_password_checker_catches_each_broken_rule() -> None:
    assert password_problems("Aa1!Aa1!", "x@example.com") == ["9 to 72 characters"]
    assert password_problems("aaaa1!bcdeF", "x@example.com") == ["no character 4 times in a row"]
    assert password_problems("abcdefgh1!", "x@example.com") == ["an uppercase letter"]
    assert password_problems("A1!b@example.com", "a1!B@example.com") == ["not the email"]
