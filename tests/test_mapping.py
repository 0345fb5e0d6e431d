"""The mapping rules (docs/sources.md#mapping-rules): identify → affiliate/new, delete → removal."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from emulator.config import DestinationSettings
from emulator.destination.mapping import (
    Mapping,
    MappingSettings,
    Operation,
    Rejection,
    map_message,
)
from tests.support import doc_event

SETTINGS = MappingSettings(password_salt="test-salt")

# Segment's Refersion destination page, verbatim (docs/sources.md#refersion-destination-page).
REFERSION_DOC_IDENTIFY = doc_event("segment-docs/refersion-destination-identify.json")

# Segment's partner spec delete: null context, Go-formatted originalTimestamp.
PARTNER_SPEC_DELETE = doc_event("segment-docs/partner-delete-null-context.json", 1)

# Refersion's destination page delete: [] context/integrations, top-level email.
REFERSION_DOC_DELETE = doc_event("refersion-docs/delete-empty-array-context.json", 1)

PETER = {"email": "peter@example.com", "name": "Peter Gibbons"}


def identify(traits: Any = None, **top: Any) -> dict[str, Any]:
    """An identify for userId u-1 with ``traits`` (Peter's by default)."""
    return {
        "type": "identify",
        "userId": "u-1",
        "traits": PETER if traits is None else traits,
        **top,
    }


def operation(message: Any, settings: MappingSettings = SETTINGS) -> Operation:
    result = map_message(message, settings=settings)
    assert isinstance(result, Operation), result
    return result


def rejection(message: Any) -> Rejection:
    result = map_message(message, settings=SETTINGS)
    assert isinstance(result, Rejection), result
    return result


def warning_codes(result: Operation | Rejection) -> list[str]:
    return [warning.code for warning in result.warnings]


def test_refersion_doc_example_maps_to_affiliate_new() -> None:
    result = operation(REFERSION_DOC_IDENTIFY)
    assert result.endpoint == "affiliate/new"
    assert result.kind == "create"
    password = result.body.pop("password")
    assert result.body == {
        "first_name": "Peter",
        "last_name": "Gibbons",
        "email": "peter@example.com",
        "status": "PENDING",
        "send_welcome": "FALSE",
        "unique_merchant_id": "test-user-t0zpx",
        "address1": "6th St",
        "city": "San Francisco",
        "state": "CA",
        "zip": "94103",
        "country": "US",
    }
    assert isinstance(password, str)
    assert len(password) == 16


def test_refersion_doc_example_lineage() -> None:
    lineage = [
        (entry.source, entry.target, entry.value)
        for entry in operation(REFERSION_DOC_IDENTIFY).lineage
    ]
    assert lineage == [
        ("/traits/name", "first_name", "Peter"),
        ("/traits/name", "last_name", "Gibbons"),
        ("/traits/email", "email", "peter@example.com"),
        ("generated", "password", "<generated>"),
        ("settings:status", "status", "PENDING"),
        ("settings:send_welcome", "send_welcome", "FALSE"),
        ("/userId", "unique_merchant_id", "test-user-t0zpx"),
        ("/traits/address/street", "address1", "6th St"),
        ("/traits/address/city", "city", "San Francisco"),
        ("/traits/address/state", "state", "CA"),
        ("/traits/address/postalCode", "zip", "94103"),
        ("/traits/address/country", "country", "US"),
    ]


def test_lineage_rules_name_the_rule_applied() -> None:
    rules = {entry.target: entry.rule for entry in operation(REFERSION_DOC_IDENTIFY).lineage}
    assert "name split at first whitespace" in rules["first_name"]
    assert rules["zip"] == "postalCode|postal_code → zip"
    assert "'USA' → US" in rules["country"]
    assert rules["address1"] == "street → address1"


def test_refersion_doc_example_warns_that_top_level_email_is_ignored() -> None:
    result = operation(REFERSION_DOC_IDENTIFY)
    assert warning_codes(result) == ["top_level_email_ignored"]
    assert result.warnings[0].field == "/email"


def test_every_body_field_has_exactly_one_lineage_entry() -> None:
    message = identify(
        {**PETER, "phone": "555-0100", "company": {"name": "Initech"}, "address": {"postalCode": 1}}
    )
    result = operation(message, MappingSettings(offer="42", password_salt="s"))
    assert [entry.target for entry in result.lineage] == list(result.body)


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        # Names: the three spellings, whitespace, and how name fills an incomplete pair.
        (identify({"email": "p@example.com", "firstName": "Peter", "lastName": "Gibbons"}),
         {"first_name": "Peter", "last_name": "Gibbons"}),
        (identify({"email": "p@example.com", "first_name": "Peter", "last_name": "Gibbons"}),
         {"first_name": "Peter", "last_name": "Gibbons"}),
        (identify({"email": "p@example.com", "name": "  Peter \t Ron  Gibbons "}),
         {"first_name": "Peter", "last_name": "Ron  Gibbons"}),
        (identify({"email": "p@example.com", "name": "Peter\nGibbons"}),
         {"first_name": "Peter", "last_name": "Gibbons"}),
        (identify({"email": "p@example.com", "firstName": " Peter ", "lastName": "Gibbons\t"}),
         {"first_name": "Peter", "last_name": "Gibbons"}),
        (identify({"email": "p@example.com", "firstName": "Peter", "lastName": "Gibbons",
                   "name": "Someone Else"}),
         {"first_name": "Peter", "last_name": "Gibbons"}),
        (identify({"email": "p@example.com", "firstName": "Pete", "name": "Peter Gibbons"}),
         {"first_name": "Peter", "last_name": "Gibbons"}),
        (identify({"email": "p@example.com", "lastName": "Gibbons", "name": "Peter"}),
         {"first_name": "Peter", "last_name": "Gibbons"}),
        (identify({"email": "p@example.com", "firstName": "", "lastName": " ",
                   "name": "Peter Gibbons"}),
         {"first_name": "Peter", "last_name": "Gibbons"}),
        (identify({"email": "p@example.com", "firstName": None, "name": "Peter Gibbons"}),
         {"first_name": "Peter", "last_name": "Gibbons"}),
        # Email: stripped, original spelling kept; top-level only as a fallback.
        (identify({"email": "  Peter.G@Example.COM ", "name": "Peter Gibbons"}),
         {"email": "Peter.G@Example.COM"}),
        (identify({"name": "Peter Gibbons"}, email="top@example.org"),
         {"email": "top@example.org"}),
        (identify({"email": " ", "name": "Peter Gibbons"}, email="top@example.org"),
         {"email": "top@example.org"}),
        # unique_merchant_id: userId as sent, numbers as text, else anonymousId.
        ({**identify(), "userId": 42}, {"unique_merchant_id": "42"}),
        ({**identify(), "userId": " u 1 "}, {"unique_merchant_id": " u 1 "}),
        ({**identify(), "userId": None, "anonymousId": "anon-1"}, {"unique_merchant_id": "anon-1"}),
        ({**identify(), "userId": "", "anonymousId": "anon-1"}, {"unique_merchant_id": "anon-1"}),
        ({**identify(), "userId": {"id": 1}, "anonymousId": "anon-1"},
         {"unique_merchant_id": "anon-1"}),
        # Address.
        (identify({**PETER, "address": {"postal_code": "10001"}}), {"zip": "10001"}),
        (identify({**PETER, "address": {"postalCode": 94103}}), {"zip": "94103"}),
        (identify({**PETER, "address": {"postalCode": 94103.0}}), {"zip": "94103"}),
        (identify({**PETER, "address": {"street": 10, "city": " Austin "}}),
         {"address1": "10", "city": "Austin"}),
        (identify({**PETER, "address": {"country": "United States"}}), {"country": "US"}),
        (identify({**PETER, "address": {"country": "us"}}), {"country": "US"}),
        (identify({**PETER, "address": {"country": "UK"}}), {"country": "GB"}),
        (identify({**PETER, "address": {"country": "Germany"}}), {"country": "DE"}),
        # Phone and company pass through.
        (identify({**PETER, "phone": " +1 555 0100 "}), {"phone": "+1 555 0100"}),
        (identify({**PETER, "phone": 5550100}), {"phone": "5550100"}),
        (identify({**PETER, "company": "Initech"}), {"company": "Initech"}),
        (identify({**PETER, "company": {"name": "Initech", "plan": "gold"}}),
         {"company": "Initech"}),
    ],
)  # fmt: skip
def test_identify_field_rules(message: dict[str, Any], expected: dict[str, str]) -> None:
    body = operation(message).body
    assert {key: body.get(key) for key in expected} == expected


@pytest.mark.parametrize(
    ("traits", "absent"),
    [
        ({**PETER, "address": {"country": "Atlantis"}}, "country"),
        ({**PETER, "address": {"country": "Afghanistan"}}, "country"),
        ({**PETER, "address": "6th St, San Francisco"}, "address1"),
        ({**PETER, "address": {"city": ["San Francisco"]}}, "city"),
        ({**PETER, "address": {"state": True}}, "state"),
        ({**PETER, "address": {"postalCode": float("nan")}}, "zip"),
        ({**PETER, "address": {"street": "  "}}, "address1"),
        ({**PETER, "company": {"id": "c-1", "plan": "gold"}}, "company"),
        ({**PETER, "company": 7}, "company"),
        ({**PETER, "phone": {"home": "555"}}, "phone"),
        ({**PETER, "phone": False}, "phone"),
    ],
)
def test_unusable_optional_values_are_not_sent(traits: dict[str, Any], absent: str) -> None:
    assert absent not in operation(identify(traits)).body


def test_settings_supply_status_send_welcome_and_offer() -> None:
    settings = MappingSettings.from_destination(
        DestinationSettings(status="ACTIVE", send_welcome="TRUE", offer="1234", password_salt="s")
    )
    body = operation(identify(), settings).body
    assert (body["status"], body["send_welcome"], body["offer"]) == ("ACTIVE", "TRUE", "1234")
    assert "offer" not in operation(identify()).body


def test_settings_repr_hides_the_password_salt() -> None:
    assert "hidden-salt" not in repr(MappingSettings(password_salt="hidden-salt"))


SAME_PERSON = [
    {"email": "peter@example.com", "firstName": "Peter", "lastName": "Gibbons",
     "address": {"postalCode": "94103"}},
    {"email": "peter@example.com", "first_name": "Peter", "last_name": "Gibbons",
     "address": {"postal_code": "94103"}},
    {"email": "peter@example.com", "name": "Peter Gibbons", "address": {"postalCode": 94103}},
    {"email": " peter@example.com", "firstName": "Peter", "last_name": "Gibbons",
     "address": {"postalCode": "94103", "postal_code": "94103"}},
]  # fmt: skip


@pytest.mark.parametrize("traits", SAME_PERSON[1:])
def test_spellings_of_the_same_person_give_the_same_body(traits: dict[str, Any]) -> None:
    assert operation(identify(traits)).body == operation(identify(SAME_PERSON[0])).body


def test_same_message_maps_to_the_same_result() -> None:
    message = copy.deepcopy(REFERSION_DOC_IDENTIFY)
    assert map_message(message, settings=SETTINGS) == map_message(message, settings=SETTINGS)
    assert message == REFERSION_DOC_IDENTIFY  # the input is left untouched


@pytest.mark.parametrize(
    "change",
    [
        {"userId": "u-2"},
        {"traits": {**PETER, "email": "peter2@example.com"}},
    ],
)
def test_password_depends_on_user_and_email(change: dict[str, Any]) -> None:
    base = operation(identify()).body["password"]
    assert operation({**identify(), **change}).body["password"] != base


def test_password_depends_on_the_salt() -> None:
    other = MappingSettings(password_salt="another-salt")
    assert operation(identify(), other).body["password"] != operation(identify()).body["password"]


def test_to_dict_and_repr_never_contain_the_password() -> None:
    result = operation(REFERSION_DOC_IDENTIFY)
    password = result.body["password"]
    journaled = json.dumps(result.to_dict())
    assert password not in journaled
    assert password not in repr(result)
    assert result.to_dict()["body"]["password"] == "<generated: 16 chars>"
    assert result.body["password"] == password  # the real request still has it


def test_map_message_satisfies_the_mapping_protocol() -> None:
    mapping: Mapping = map_message
    assert isinstance(mapping(REFERSION_DOC_IDENTIFY, settings=SETTINGS), Operation)


@pytest.mark.parametrize(
    ("message", "body"),
    [
        (PARTNER_SPEC_DELETE, {"unique_merchant_id": "507f191e81"}),
        (REFERSION_DOC_DELETE, {"unique_merchant_id": "5678", "email": "peter@example.com"}),
        ({"type": "delete", "userId": "u-1", "context": {}, "integrations": {}},
         {"unique_merchant_id": "u-1"}),
        ({"type": "delete", "userId": 5678}, {"unique_merchant_id": "5678"}),
        ({"type": "delete", "email": " peter@example.com "}, {"email": "peter@example.com"}),
        ({"type": "delete", "userId": "u-1", "traits": {"email": "t@example.com"},
          "email": "top@example.com"},
         {"unique_merchant_id": "u-1", "email": "t@example.com"}),
        ({"type": "delete", "userId": {"bad": 1}, "email": "peter@example.com"},
         {"email": "peter@example.com"}),
        ({"type": "delete", "userId": "u-1", "traits": "not an object", "email": 5},
         {"unique_merchant_id": "u-1"}),
        ({"type": "delete", "traits": {"email": "bad"}, "email": "top@example.com"},
         {"email": "top@example.com"}),
    ],
)  # fmt: skip
def test_delete_rules(message: dict[str, Any], body: dict[str, str]) -> None:
    result = operation(message)
    assert (result.endpoint, result.kind) == ("affiliate/delete", "delete")
    assert result.body == body
    assert [entry.target for entry in result.lineage] == list(body)
