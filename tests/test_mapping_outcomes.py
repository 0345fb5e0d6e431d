"""The mapping layer's rejections and warnings: every documented code, with its field pointer."""

from __future__ import annotations

from typing import Any

import pytest

from emulator.destination.mapping import (
    REJECTION_REASONS,
    WARNING_CODES,
    MappingSettings,
    Operation,
    Rejection,
    map_message,
)

SETTINGS = MappingSettings(password_salt="test-salt")
PETER = {"email": "peter@example.com", "name": "Peter Gibbons"}


def identify(traits: Any = None, **top: Any) -> dict[str, Any]:
    return {
        "type": "identify",
        "userId": "u-1",
        "traits": PETER if traits is None else traits,
        **top,
    }


REJECTIONS = [
    # Each row: the message, the reason code, the JSON Pointer the rejection names.
    (None, "not_an_object", ""),
    ([{"type": "identify"}], "not_an_object", ""),
    ("identify", "not_an_object", ""),
    (3, "not_an_object", ""),
    (True, "not_an_object", ""),
    ({}, "unsupported_type", "/type"),
    ({"type": "track", "event": "Signed Up"}, "unsupported_type", "/type"),
    ({"type": "Identify"}, "unsupported_type", "/type"),
    ({"type": ["identify"]}, "unsupported_type", "/type"),
    (identify([PETER]), "traits_not_object", "/traits"),
    (identify("peter@example.com"), "traits_not_object", "/traits"),
    (identify({"name": "Peter Gibbons"}), "missing_email", "/traits/email"),
    (identify({"name": "Peter Gibbons", "email": "   "}), "missing_email", "/traits/email"),
    ({"type": "identify", "userId": "u-1"}, "missing_email", "/traits/email"),
    (identify({"name": "Peter Gibbons", "email": 42}), "email_not_string", "/traits/email"),
    (identify({"name": "Peter Gibbons"}, email=["a@example.com"]), "email_not_string", "/email"),
    (identify({"name": "Peter Gibbons", "email": "peter"}), "invalid_email", "/traits/email"),
    (identify({"name": "Peter Gibbons", "email": "a@b@example.com"}), "invalid_email",
     "/traits/email"),
    (identify({"name": "Peter Gibbons", "email": "peter @example.com"}), "invalid_email",
     "/traits/email"),
    (identify({"name": "Peter Gibbons", "email": "\ud800@example.com"}), "invalid_email",
     "/traits/email"),
    (identify({"name": "Peter Gibbons"}, email="nope"), "invalid_email", "/email"),
    (identify({"email": "peter@example.com"}), "missing_name", "/traits/name"),
    (identify({"email": "peter@example.com", "name": " "}), "missing_name", "/traits/name"),
    (identify({**PETER, "firstName": 7}), "name_not_string", "/traits/firstName"),
    (identify({**PETER, "last_name": ["Gibbons"]}), "name_not_string", "/traits/last_name"),
    (identify({"email": "peter@example.com", "name": {"first": "Peter"}}), "name_not_string",
     "/traits/name"),
    (identify({"email": "peter@example.com", "name": "Peter"}), "name_incomplete",
     "/traits/name"),
    (identify({"email": "peter@example.com", "firstName": "Peter"}), "name_incomplete",
     "/traits/lastName"),
    (identify({"email": "peter@example.com", "first_name": "Peter"}), "name_incomplete",
     "/traits/last_name"),
    (identify({"email": "peter@example.com", "lastName": "Gibbons"}), "name_incomplete",
     "/traits/firstName"),
    (identify({"email": "peter@example.com", "firstName": "Peter", "name": "Peter"}),
     "name_incomplete", "/traits/lastName"),
    ({"type": "identify", "traits": PETER}, "missing_user_id", "/userId"),
    ({"type": "identify", "traits": PETER, "userId": " ", "anonymousId": None},
     "missing_user_id", "/userId"),
    ({"type": "identify", "traits": PETER, "userId": True}, "missing_user_id", "/userId"),
    ({"type": "delete"}, "missing_user_id", "/userId"),
    ({"type": "delete", "userId": None, "email": 5, "context": None}, "missing_user_id",
     "/userId"),
    ({"type": "delete", "anonymousId": "anon-1"}, "missing_user_id", "/userId"),
    ({"type": "delete", "email": "not-an-email"}, "missing_user_id", "/userId"),
]  # fmt: skip


@pytest.mark.parametrize(("message", "reason", "field"), REJECTIONS)
def test_rejections(message: Any, reason: str, field: str) -> None:
    result = map_message(message, settings=SETTINGS)
    assert isinstance(result, Rejection), result
    assert (result.reason, result.field) == (reason, field)
    assert result.status == (501 if reason == "unsupported_type" else 400)
    assert result.fix
    assert "\n" not in result.fix
    assert "\n" not in result.message
    if reason == "unsupported_type":
        assert result.message == "Unsupported event type"
    elif field:
        assert field.rsplit("/", 1)[-1] in result.message  # the sentence names the field


# Reasons only an assumption variant gives; tests/test_assumption_variants.py exercises them.
VARIANT_ONLY = {"unknown_country", "unsupported_country"}
VARIANT_ONLY_WARNINGS = {"traits_email_ignored"}


def test_every_rejection_reason_is_documented_and_exercised() -> None:
    assert {reason for _, reason, _ in REJECTIONS} == set(REJECTION_REASONS) - VARIANT_ONLY


def test_rejection_names_the_first_problem_and_keeps_every_warning() -> None:
    message = identify({"name": "Peter", "address": "somewhere"}, userId=None)
    result = map_message(message, settings=SETTINGS)
    assert isinstance(result, Rejection)
    assert result.reason == "missing_email"
    assert [warning.code for warning in result.warnings] == ["address_not_object"]


def test_rejection_carries_the_lineage_found() -> None:
    message = identify({"name": "Peter", "email": "peter@example.com"})
    result = map_message(message, settings=SETTINGS)
    assert isinstance(result, Rejection)
    assert result.reason == "name_incomplete"
    assert [(entry.target, entry.value) for entry in result.lineage] == [
        ("email", "peter@example.com"),
        ("unique_merchant_id", "u-1"),
    ]
    assert result.to_dict()["lineage"][0]["source"] == "/traits/email"


WARNINGS = [
    # Each row: the message, the warning codes in order, the field of the first warning.
    (identify({"email": "p@example.com", "firstName": "Peter", "last_name": "Gibbons"}),
     ["mixed_trait_case"], None),
    (identify({"email": "p@example.com", "firstName": "Peter", "lastName": "Gibbons",
               "address": {"postal_code": "94103"}}),
     ["mixed_trait_case"], None),
    (identify({"email": "p@example.com", "firstName": "Peter", "first_name": "Peter",
               "lastName": "Gibbons"}),
     ["mixed_trait_case"], None),
    (identify({"email": "p@example.com", "firstName": "Peter", "first_name": "Pete",
               "lastName": "Gibbons", "last_name": "Gibbons"}),
     ["conflicting_traits"], "/traits/first_name"),
    (identify({**PETER, "address": {"postalCode": "94103", "postal_code": "10001"}}),
     ["conflicting_traits"], "/traits/address/postal_code"),
    (identify({**PETER, "address": ["6th St"]}), ["address_not_object"], "/traits/address"),
    (identify({**PETER, "address": {"city": {"name": "SF"}}}), ["address_field_invalid"],
     "/traits/address/city"),
    (identify({**PETER, "address": {"postal_code": float("inf")}}), ["address_field_invalid"],
     "/traits/address/postal_code"),
    (identify({**PETER, "address": {"country": "Atlantis"}}), ["unknown_country"],
     "/traits/address/country"),
    (identify({**PETER, "address": {"country": "Afghanistan"}}), ["unsupported_country"],
     "/traits/address/country"),
    (identify({"name": "Peter Gibbons"}, email="peter@example.com"), ["email_from_top_level"],
     "/email"),
    (identify(PETER, email="test@example.org"), ["top_level_email_ignored"], "/email"),
    (identify(PETER, email=12), ["top_level_email_ignored"], "/email"),
    (identify({**PETER, "address": {"postalCode": 94103}}), ["value_coerced"],
     "/traits/address/postalCode"),
    (identify({**PETER, "phone": 5550100}), ["value_coerced"], "/traits/phone"),
    (identify(PETER, userId=42), ["value_coerced"], "/userId"),
    (identify({**PETER, "company": ["Initech"]}), ["company_not_string"], "/traits/company"),
    (identify({**PETER, "company": {"name": 3}}), ["company_not_string"],
     "/traits/company/name"),
    (identify({**PETER, "phone": {"home": "555"}}), ["phone_not_string"], "/traits/phone"),
    (identify(PETER, userId=[1], anonymousId="anon-1"), ["value_ignored"], "/userId"),
    ({"type": "delete", "userId": "u-1", "email": {"x": 1}}, ["value_ignored"], "/email"),
    ({"type": "delete", "userId": "u-1", "traits": []}, ["value_ignored"], "/traits"),
    ({"type": "delete", "userId": "u-1", "email": "peter at example"}, ["value_ignored"], "/email"),
    (identify({"email": "p@example.com", "firstName": "Peter", "first_name": "Pete",
               "lastName": "Gibbons", "address": {"postalCode": 94103, "country": "Narnia"}}),
     ["conflicting_traits", "value_coerced", "unknown_country"], "/traits/first_name"),
]  # fmt: skip


@pytest.mark.parametrize(("message", "codes", "field"), WARNINGS)
def test_warnings(message: dict[str, Any], codes: list[str], field: str | None) -> None:
    result = map_message(message, settings=SETTINGS)
    assert isinstance(result, Operation), result
    assert [warning.code for warning in result.warnings] == codes
    assert result.warnings[0].field == field
    assert all(warning.message for warning in result.warnings)


def test_every_warning_code_is_documented_and_exercised() -> None:
    exercised = {code for _, codes, _ in WARNINGS for code in codes}
    assert exercised == set(WARNING_CODES) - VARIANT_ONLY_WARNINGS


@pytest.mark.parametrize(
    "traits",
    [
        PETER,
        {"email": "p@example.com", "firstName": "Peter", "lastName": "Gibbons",
         "address": {"postalCode": "94103", "country": "USA"}},
        {"email": "p@example.com", "first_name": "Peter", "last_name": "Gibbons",
         "address": {"postal_code": "94103", "country": "gb"}, "phone": "555",
         "company": {"name": "Initech"}},
    ],
)  # fmt: skip
def test_consistent_messages_have_no_warnings(traits: dict[str, Any]) -> None:
    result = map_message(identify(traits), settings=SETTINGS)
    assert isinstance(result, Operation)
    assert result.warnings == ()


@pytest.mark.parametrize(
    "message",
    [
        {"type": "delete", "userId": "u-1", "context": None, "integrations": None},
        {"type": "delete", "userId": "u-1", "context": [], "integrations": []},
        {"type": "delete", "userId": "u-1", "context": {}, "integrations": {}},
        {"type": "delete", "userId": "u-1", "originalTimestamp": "not a time at all"},
    ],
)
def test_irregular_real_deletes_map_cleanly(message: dict[str, Any]) -> None:
    result = map_message(message, settings=SETTINGS)
    assert isinstance(result, Operation)
    assert (result.body, result.warnings) == ({"unique_merchant_id": "u-1"}, ())


@pytest.mark.parametrize(
    ("message", "fix"),
    [
        (identify({"name": "Peter Gibbons"}), "add traits.email"),
        (identify({"email": "peter@example.com", "name": "Peter"}),
         "send lastName or a two-word name"),
        (identify({"email": "peter@example.com", "first_name": "Peter"}),
         "send last_name or a two-word name"),
        (identify({"email": "peter@example.com", "lastName": "Gibbons"}),
         "send firstName or a two-word name"),
        ({"type": "page"},
         "send only identify and delete calls to Refersion (this message's type is 'page')"),
    ],
)  # fmt: skip
def test_fix_says_what_to_send(message: dict[str, Any], fix: str) -> None:
    result = map_message(message, settings=SETTINGS)
    assert isinstance(result, Rejection)
    assert result.fix == fix
