"""Tests of the fake Refersion REST API v2 core: auth, bodies, validation and endpoint state."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource

from emulator.errors import ConfigError
from emulator.fake_refersion import AffiliateStore, FakeRefersion, FakeRefersionOptions, Reply
from emulator.fake_refersion.store import FIRST_AFFILIATE_ID
from emulator.fake_refersion.validation import CHAR_LIMIT, password_errors
from tests.support import ABSENT, AUTH, CREDENTIALS, PASSWORD, examples, new_body

__all__: list[str] = []

CONTRACTS = Path(__file__).resolve().parent.parent / "contracts" / "refersion"
SUCCESS_CONTRACTS = {
    "affiliate/new": "affiliate-new.response.json",
    "affiliate/get": "affiliate-get.response.json",
    "affiliate/list": "affiliate-list.response.json",
    "affiliate/search": "affiliate-search.response.json",
    "affiliate/edit": "affiliate-edit.response.json",
    "affiliate/status_change": "affiliate-status-change.response.json",
    "affiliate/delete": "affiliate-delete.response.json",
}


def _validators() -> dict[str, Draft202012Validator]:
    schemas = {p.name: json.loads(p.read_text()) for p in CONTRACTS.glob("*.json")}
    registry: Registry[Any] = Registry().with_resources(
        (schema["$id"], Resource.from_contents(schema)) for schema in schemas.values()
    )
    return {
        name: Draft202012Validator(schema, registry=registry, format_checker=FormatChecker())
        for name, schema in schemas.items()
    }


VALIDATORS = _validators()


def assert_contract(endpoint: str, reply: Reply) -> None:
    """Success bodies match their endpoint's contract, every other body the error contract."""
    name = SUCCESS_CONTRACTS[endpoint] if reply.status == 200 else "error.json"
    VALIDATORS[name].validate(reply.body)


def make_fake(**options: Any) -> FakeRefersion:
    case_insensitive = options.get("email_case_insensitive", True)
    store = AffiliateStore(email_case_insensitive=case_insensitive)
    return FakeRefersion(
        store=store, credentials=CREDENTIALS, options=FakeRefersionOptions(seed=1, **options)
    )


@pytest.fixture
def fake() -> Iterator[FakeRefersion]:
    made = make_fake()
    yield made
    made.store.close()


def call(
    fake: FakeRefersion,
    endpoint: str,
    body: Mapping[str, Any] | bytes,
    headers: Mapping[str, str] = AUTH,
) -> Reply:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    reply = fake.handle(endpoint, headers, raw)
    if endpoint in SUCCESS_CONTRACTS:
        assert_contract(endpoint, reply)
    return reply


def create(fake: FakeRefersion, **changes: Any) -> tuple[int, str]:
    """Create an affiliate; returns its numeric id and its code."""
    reply = call(fake, "affiliate/new", new_body(**changes))
    assert reply.status == 200, reply.body
    numeric = int(reply.body["message"].split()[2])
    return numeric, reply.body["id"]


def errors(reply: Reply) -> list[str]:
    assert reply.status == 422, reply
    result: list[str] = reply.body["errors"]
    return result


# -- routing, auth and bodies ----------------------------------------------------------------


def test_unknown_endpoint_is_404_before_auth(fake: FakeRefersion) -> None:
    reply = fake.handle("affiliate/nope", {}, b"")
    assert reply == Reply(404, {"error": "Unknown endpoint affiliate/nope"})
    documented = fake.handle("/trigger/delete", {}, b"{}")
    assert documented.status == 404
    assert documented.body["error"].startswith("Unknown endpoint trigger/delete")


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Refersion-Public-Key": CREDENTIALS.public_key},
        {"Refersion-Secret-Key": CREDENTIALS.secret_key},
        {**AUTH, "Refersion-Secret-Key": "sec_wrong"},
        {**AUTH, "Refersion-Public-Key": "pub_wrong"},
        {**AUTH, "Refersion-Public-Key": "pub_ünïcode"},
        {
            "Refersion-Public-Key": CREDENTIALS.secret_key,
            "Refersion-Secret-Key": CREDENTIALS.public_key,
        },
    ],
)
@pytest.mark.parametrize("endpoint", FakeRefersion.ENDPOINTS)
def test_bad_keys_are_401_before_the_body_is_read(
    fake: FakeRefersion, endpoint: str, headers: dict[str, str]
) -> None:
    for body in (b"", b"not json", json.dumps(new_body()).encode()):
        reply = fake.handle(endpoint, headers, body)
        assert reply == Reply(401, {"error": "Invalid API credentials (error 2)."})
        assert_contract(endpoint, reply)
    assert fake.store.count() == 0


def test_key_header_names_are_case_insensitive(fake: FakeRefersion) -> None:
    headers = {
        "REFERSION-PUBLIC-KEY": CREDENTIALS.public_key,
        "refersion-secret-key": CREDENTIALS.secret_key,
    }
    assert call(fake, "affiliate/list", {}, headers).status == 200


@pytest.mark.parametrize("body", [b"", b"   ", b"\r\n\t "])
@pytest.mark.parametrize("endpoint", FakeRefersion.ENDPOINTS)
def test_empty_body_is_404_no_body(fake: FakeRefersion, endpoint: str, body: bytes) -> None:
    assert call(fake, endpoint, body) == Reply(404, {"error": "Bad request, no body"})


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"\xff\xfe{}", "body is not valid UTF-8"),
        (b"{", "body is not valid JSON: Expecting property name"),
        (b"{'a': 1}", "body is not valid JSON"),
        (b'{"a": NaN}', "NaN is not a JSON value"),
        (b'{"a": Infinity}', "Infinity is not a JSON value"),
        (b'{"a": 1' + b"0" * 5000 + b"}", "a number has more than 4000 digits"),
        (b"[" * 50_000 + b"]" * 50_000, "body is nested too deeply"),
        (b'{"a": "\\udc00"}', "unpaired surrogate"),
        (b"[]", "body must be a JSON object, not an array"),
        (b'"text"', "body must be a JSON object, not a string"),
        (b"42", "body must be a JSON object, not a number"),
        (b"null", "body must be a JSON object, not null"),
    ],
)
def test_unusable_body_is_400_naming_the_problem(
    fake: FakeRefersion, body: bytes, problem: str
) -> None:
    reply = call(fake, "affiliate/new", body)
    assert reply.status == 400
    assert reply.body["error"].startswith("Bad request, ")
    assert problem in reply.body["error"]


# -- affiliate/new validation ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("removed", "reported"),
    [
        (("first_name",), "first_name"),
        (("last_name",), "last_name"),
        (("email",), "email"),
        (("password",), "password"),
        (("status",), "status"),
        (("status", "password", "email"), "email"),
        (("last_name", "first_name"), "first_name"),
    ],
)
@pytest.mark.parametrize("how", ["absent", "null", "blank"])
def test_new_reports_the_first_missing_required_field(
    fake: FakeRefersion, removed: tuple[str, ...], reported: str, how: str
) -> None:
    replacement = {"absent": ABSENT, "null": None, "blank": "  "}[how]
    body = new_body(**dict.fromkeys(removed, replacement), country="XX")
    reply = call(fake, "affiliate/new", body)
    assert reply == Reply(400, {"error": f"Missing required field {reported}"})


def test_status_can_be_made_optional_and_then_defaults_to_pending() -> None:
    fake = make_fake(require_status=False)
    _, code = create(fake, status=ABSENT)
    assert call(fake, "affiliate/get", {"affiliate_code": code}).body["status"] == "PENDING"
    assert errors(
        call(fake, "affiliate/new", new_body(email="x@example.com", status="DENIED"))
    ) == ["DENIED is not a allowed value for field status"]


LONG = "x" * (CHAR_LIMIT + 1)
# Refersion's password messages, copied from docs/sources.md#refersion-api-v2.
TOO_SIMPLE = (
    "The password should have at least 1 number, 1 uppercase letter, 1 lowercase letter and "
    "1 symbol."
)
REPEATED = "The password can't have the same character repeated more than 3 times in a row"


def too_short(length: int) -> str:
    return (
        "The password should be at least 9 characters long. "
        f"Current password length is {length} characters"
    )


def too_long(length: int) -> str:
    return (
        "The password should not be longer than 72 characters. "
        f"Current password length is {length} characters"
    )


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"email": "not-an-email"}, ["The email you have entered is not valid."]),
        ({"email": "bill@@example.com"}, ["The email you have entered is not valid."]),
        ({"email": 42}, ["42 is not a allowed value for field email"]),
        ({"first_name": ["Bill"]}, ['["Bill"] is not a allowed value for field first_name']),
        ({"last_name": {"a": 1}}, ['{"a": 1} is not a allowed value for field last_name']),
        ({"password": 123456789}, ["123456789 is not a allowed value for field password"]),
        ({"status": "DENIED"}, ["DENIED is not a allowed value for field status"]),
        ({"status": "active"}, ["active is not a allowed value for field status"]),
        ({"status": True}, ["true is not a allowed value for field status"]),
        ({"country": "UK"}, ["UK is not a allowed value for field country"]),
        ({"country": "us"}, ["us is not a allowed value for field country"]),
        ({"country": "USA"}, ["USA is not a allowed value for field country"]),
        ({"country": ""}, ['"" is not a allowed value for field country']),
        ({"send_welcome": True}, ["true is not a allowed value for field send_welcome"]),
        ({"send_welcome": "yes"}, ["yes is not a allowed value for field send_welcome"]),
        ({"zip": 94103}, ["94103 is not a allowed value for field zip"]),
        ({"offer": True}, ["true is not a allowed value for field offer"]),
        ({"phone": 5.5}, ["5.5 is not a allowed value for field phone"]),
        ({"first_name": LONG}, ["Value exceed the char limit"]),
        ({"city": LONG, "company": LONG}, ["Value exceed the char limit"]),
        ({"country": LONG}, ["Value exceed the char limit"]),
        ({"email": LONG + "@example.com"}, ["Value exceed the char limit"]),
        ({"unique_merchant_id": LONG}, ["Value exceed the char limit"]),
        (
            {"country": "ZZ", "status": "X", "email": "bad"},
            [
                "The email you have entered is not valid.",
                "X is not a allowed value for field status",
                "ZZ is not a allowed value for field country",
            ],
        ),
    ],
)
def test_new_rejects_invalid_fields_with_all_documented_messages(
    fake: FakeRefersion, changes: dict[str, Any], expected: list[str]
) -> None:
    assert errors(call(fake, "affiliate/new", new_body(**changes))) == expected
    assert fake.store.count() == 0


def test_new_shows_long_odd_values_shortened(fake: FakeRefersion) -> None:
    [message] = errors(call(fake, "affiliate/new", new_body(first_name=list(range(200)))))
    assert message.endswith("… is not a allowed value for field first_name")
    assert len(message) < 160


@pytest.mark.parametrize(
    ("password", "expected"),
    [
        ("Secure!Pass1", []),
        (
            "Aaa!1aaa",
            [too_short(8)],
        ),
        ("Ab1!" * 18, []),
        (
            "Ab1!" * 18 + "x",
            [too_long(73)],
        ),
        (
            "securepass1!",
            [TOO_SIMPLE],
        ),
        (
            "SECUREPASS1!",
            [TOO_SIMPLE],
        ),
        (
            "SecurePass!!",
            [TOO_SIMPLE],
        ),
        (
            "SecurePass11",
            [TOO_SIMPLE],
        ),
        ("Secure Pass1", []),  # a space is a symbol (any character but an ASCII letter or digit)
        ("Secure!Paaa1", []),
        (
            "Secure!Paaaa1",
            [REPEATED],
        ),
        ("Bill@Example.com1", []),
        (
            "aaaa",
            [
                too_short(4),
                TOO_SIMPLE,
                REPEATED,
            ],
        ),
    ],
)
def test_password_rules(password: str, expected: list[str]) -> None:
    assert password_errors(password, "bill@example.com") == expected


@pytest.mark.parametrize("password", ["Bill1@Example.com", "BILL1@example.COM "])
def test_password_may_not_be_the_email(fake: FakeRefersion, password: str) -> None:
    reply = call(fake, "affiliate/new", new_body(email="Bill1@Example.com", password=password))
    assert errors(reply) == ["The password can't be the same as the e-mail"]


def test_new_collects_password_and_field_errors_in_documented_order(fake: FakeRefersion) -> None:
    reply = call(fake, "affiliate/new", new_body(password="aaaa", country="UK", status="x"))
    assert errors(reply) == [
        too_short(4),
        TOO_SIMPLE,
        REPEATED,
        "x is not a allowed value for field status",
        "UK is not a allowed value for field country",
    ]


def test_new_ignores_unknown_fields(fake: FakeRefersion) -> None:
    _, code = create(fake, nickname="Billy", custom_fields=[{"1": "x"}])
    assert "nickname" not in call(fake, "affiliate/get", {"affiliate_code": code}).body


@pytest.mark.parametrize("second", ["bill@example.com", "BILL@EXAMPLE.COM", "Bill@Example.com"])
def test_duplicate_email_is_taken_ignoring_case_by_default(
    fake: FakeRefersion, second: str
) -> None:
    create(fake)
    reply = call(fake, "affiliate/new", new_body(email=second))
    assert errors(reply) == ["The email you have entered is taken by another Affiliate."]
    assert fake.store.count() == 1


def test_duplicate_email_check_can_be_case_sensitive() -> None:
    fake = make_fake(email_case_insensitive=False)
    create(fake)
    create(fake, email="BILL@example.com")
    reply = call(fake, "affiliate/new", new_body())
    assert errors(reply) == ["The email you have entered is taken by another Affiliate."]


def test_options_must_agree_with_the_store_on_email_case() -> None:
    with pytest.raises(ConfigError, match="email_case_insensitive"):
        FakeRefersion(
            store=AffiliateStore(),
            credentials=CREDENTIALS,
            options=FakeRefersionOptions(email_case_insensitive=False),
        )


@pytest.mark.parametrize(
    "options",
    [
        {"subdomain": "Not A Label"},
        {"subdomain": ""},
        {"list_default_limit": 0},
        {"list_default_limit": 101},
    ],
)
def test_options_are_checked(options: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        FakeRefersionOptions(**options)


def test_new_answers_code_link_and_message(fake: FakeRefersion) -> None:
    reply = call(fake, "affiliate/new", new_body(status="PENDING"))
    assert reply.status == 200
    code = reply.body["id"]
    assert reply.body == {
        "id": code,
        "link": f"https://emulator.refersion.com/c/{code}",
        "message": (
            f"The affiliate {FIRST_AFFILIATE_ID} has been created with the status of PENDING."
        ),
    }


def test_link_uses_the_configured_subdomain() -> None:
    fake = make_fake(subdomain="acme")
    reply = call(fake, "affiliate/new", new_body())
    assert reply.body["link"] == f"https://acme.refersion.com/c/{reply.body['id']}"


def test_the_password_is_never_stored_in_plaintext(fake: FakeRefersion) -> None:
    create(fake, password="Plain!Text#Secret9")
    dump = "\n".join(fake.store.iterdump())
    assert "Plain!Text#Secret9" not in dump
    assert "bill@example.com" in dump  # the dump really holds the data


def test_seeded_fakes_hand_out_the_same_codes_and_reset_restarts_them() -> None:
    first, second = make_fake(), make_fake()
    codes = [[create(f, email=f"u{i}@example.com")[1] for i in range(5)] for f in (first, second)]
    assert codes[0] == codes[1]
    first.reset()
    assert first.store.count() == 0
    assert create(first, email="u0@example.com") == (FIRST_AFFILIATE_ID, codes[0][0])


# -- get, list, search -----------------------------------------------------------------------


def test_get_by_id_numeric_string_or_code(fake: FakeRefersion) -> None:
    numeric, code = create(
        fake, company="Company", offer="12345", city="Paradise", unique_merchant_id="user-1"
    )
    by_id = call(fake, "affiliate/get", {"id": numeric})
    assert by_id.status == 200
    assert call(fake, "affiliate/get", {"id": str(numeric)}) == by_id
    assert call(fake, "affiliate/get", {"affiliate_code": code}) == by_id
    assert call(fake, "affiliate/get", {"id": numeric, "affiliate_code": "zzzz"}) == by_id
    body = by_id.body
    assert body["id"] == numeric
    assert body["code"] == code
    assert (body["offer_id"], body["company_name"], body["city"]) == (
        "12345",
        "Company",
        "Paradise",
    )
    assert body["unique_merchant_id"] == "user-1"
    assert body["custom_fields"] == []
    assert not any("password" in key for key in body)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({}, ["Request filter not provided."]),
        ({"id": None, "affiliate_code": ""}, ["Request filter not provided."]),
        ({"id": 1}, ["Affiliate not found."]),
        ({"id": 2**62}, ["Affiliate not found."]),
        ({"id": -5}, ["Affiliate not found."]),
        ({"affiliate_code": "nope"}, ["Affiliate not found."]),
        ({"id": "abc"}, ["abc is not a allowed value for field id"]),
        ({"id": 1.5}, ["1.5 is not a allowed value for field id"]),
        ({"id": True}, ["true is not a allowed value for field id"]),
        ({"affiliate_code": 7}, ["7 is not a allowed value for field affiliate_code"]),
        ({"affiliate_code": LONG}, ["Value exceed the char limit"]),
        ({"id": "9" * 300}, ["Value exceed the char limit"]),
    ],
)
def test_get_errors(fake: FakeRefersion, body: dict[str, Any], expected: list[str]) -> None:
    create(fake)
    assert errors(call(fake, "affiliate/get", body)) == expected


def test_list_pages_through_every_affiliate(fake: FakeRefersion) -> None:
    codes = [create(fake, email=f"u{i:02}@example.com")[1] for i in range(25)]
    pages = [
        call(fake, "affiliate/list", {"limit": "10", "page": str(p)}).body for p in (1, 2, 3, 4)
    ]
    assert [page["total"] for page in pages] == [25, 25, 25, 25]
    assert [len(page["results"]) for page in pages] == [10, 10, 5, 0]
    assert [item["id"] for page in pages for item in page["results"]] == codes
    first = pages[0]["results"][0]
    assert first == {
        "id": codes[0],
        "offer_id": "1",
        "status": "ACTIVE",
        "first_name": "Bill",
        "last_name": "Smith",
        "email": "u00@example.com",
        "custom_fields": [],
    }
    default = call(fake, "affiliate/list", {}).body
    assert (default["total"], len(default["results"])) == (25, 10)
    assert call(fake, "affiliate/list", {"limit": 100, "page": 1}).body["results"] == [
        item for page in pages for item in page["results"]
    ]


def test_list_default_limit_is_an_option() -> None:
    fake = make_fake(list_default_limit=3)
    for i in range(4):
        create(fake, email=f"u{i}@example.com")
    assert len(call(fake, "affiliate/list", {}).body["results"]) == 3


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"limit": 0}, ["limit must be between 1 and 100"]),
        ({"limit": "101"}, ["limit must be between 1 and 100"]),
        ({"limit": -1}, ["limit must be between 1 and 100"]),
        ({"page": 0}, ["page must be 1 or greater"]),
        (
            {"page": "0", "limit": 500},
            ["limit must be between 1 and 100", "page must be 1 or greater"],
        ),
        ({"limit": "ten"}, ["ten is not a allowed value for field limit"]),
        ({"limit": "-1"}, ["-1 is not a allowed value for field limit"]),
        ({"limit": True}, ["true is not a allowed value for field limit"]),
        ({"page": 1.0}, ["1.0 is not a allowed value for field page"]),
        ({"page": "1" * 300}, ["Value exceed the char limit"]),
    ],
)
def test_list_paging_bounds(fake: FakeRefersion, body: dict[str, Any], expected: list[str]) -> None:
    assert errors(call(fake, "affiliate/list", body)) == expected


@pytest.mark.parametrize(("limit", "page"), [(1, 1), (100, 1), ("1", "3"), (10, 10**30)])
def test_list_accepts_paging_in_range(fake: FakeRefersion, limit: Any, page: Any) -> None:
    create(fake)
    assert call(fake, "affiliate/list", {"limit": limit, "page": page}).body["total"] == 1


def test_search_by_partial_email_code_and_id(fake: FakeRefersion) -> None:
    bill_id, bill_code = create(fake, email="bill.smith@example.com")
    jane_id, jane_code = create(fake, email="jane@Example.org", first_name="Jane")
    partial = call(fake, "affiliate/search", {"keyword": "SMITH@exa"})
    assert partial.status == 200
    assert [r["id"] for r in partial.body["results"]] == [bill_code]
    assert partial.body["total"] == 1
    both = call(fake, "affiliate/search", {"keyword": "example"}).body
    assert (both["total"], [r["id"] for r in both["results"]]) == (2, [bill_code, jane_code])
    for keyword in (jane_code, str(jane_id), jane_id):
        found = call(fake, "affiliate/search", {"keyword": keyword}).body
        assert [r["id"] for r in found["results"]] == [jane_code]
    named = call(fake, "affiliate/search", {"keyword": "example", "first_name": "jane"}).body
    assert [r["id"] for r in named["results"]] == [jane_code]
    assert call(fake, "affiliate/search", {"keyword": str(bill_id)}).body["total"] == 1


@pytest.mark.parametrize(
    ("body", "status", "expected"),
    [
        ({}, 400, {"error": "Missing required field keyword"}),
        ({"keyword": "  "}, 400, {"error": "Missing required field keyword"}),
        ({"keyword": "nobody@"}, 422, {"errors": ["Could not find affiliates with this keyword."]}),
        (
            {"keyword": "example", "last_name": "Jones"},
            422,
            {"errors": ["Could not find affiliates with this keyword."]},
        ),
        ({"keyword": "%"}, 422, {"errors": ["Could not find affiliates with this keyword."]}),
        ({"keyword": ["a"]}, 422, {"errors": ['["a"] is not a allowed value for field keyword']}),
        ({"keyword": LONG}, 422, {"errors": ["Value exceed the char limit"]}),
        ({"keyword": "x", "page": 0}, 422, {"errors": ["page must be 1 or greater"]}),
    ],
)
def test_search_errors(
    fake: FakeRefersion, body: dict[str, Any], status: int, expected: dict[str, Any]
) -> None:
    create(fake)
    assert call(fake, "affiliate/search", body) == Reply(status, expected)


# -- edit, status_change, delete ---------------------------------------------------------------


def test_edit_changes_fields_and_reports_ids() -> None:
    fake = make_fake(offers=("1", "77"))
    bill, _ = create(fake)
    jane, _ = create(fake, email="jane@example.com")
    reply = call(
        fake,
        "affiliate/edit",
        {
            "affiliates": [
                {"id": bill, "city": "Paradise", "offer": 77, "country": "GB"},
                {"id": str(jane), "email": "JANE@example.com"},
                {"id": 12345, "city": "Nowhere"},
                {"id": jane},
                {"id": jane, "custom_fields": [{"1234": "x"}], "status": "DENIED"},
            ]
        },
    )
    assert reply.body == {"ids_changed": [bill, jane], "ids_not_changed": [12345]}
    got = call(fake, "affiliate/get", {"id": bill}).body
    assert (got["city"], got["offer_id"], got["country"]) == ("Paradise", "77", "GB")
    jane_got = call(fake, "affiliate/get", {"id": jane}).body
    assert (jane_got["email"], jane_got["status"]) == ("JANE@example.com", "ACTIVE")
    fake.store.close()


def test_edit_into_an_offer_that_does_not_exist_is_refersions_documented_404(
    fake: FakeRefersion,
) -> None:
    bill, _ = create(fake)
    reply = call(
        fake,
        "affiliate/edit",
        {"affiliates": [{"id": bill, "city": "Paradise"}, {"id": bill, "offer": 999}]},
    )
    assert reply == Reply(404, {"error": ["Offer does not exists on the database."]})
    got = call(fake, "affiliate/get", {"id": bill}).body
    assert (got["offer_id"], got["city"]) == ("1", None), "a refused edit changes nothing"


def test_an_offer_new_put_an_affiliate_in_exists_for_edit(fake: FakeRefersion) -> None:
    bill, _ = create(fake)
    create(fake, email="jane@example.com", offer="42")
    reply = call(fake, "affiliate/edit", {"affiliates": [{"id": bill, "offer": 42}]})
    assert reply.body == {"ids_changed": [bill], "ids_not_changed": []}


def test_edit_with_unchanged_values_or_only_an_id_changes_nothing(fake: FakeRefersion) -> None:
    bill, _ = create(fake, city="Paradise")
    body = {"affiliates": [{"id": bill, "city": "Paradise"}, {"id": bill}]}
    assert call(fake, "affiliate/edit", body).body == {"ids_changed": [], "ids_not_changed": [bill]}


def test_edit_may_clear_optional_fields(fake: FakeRefersion) -> None:
    bill, _ = create(fake, city="Paradise")
    body = {"affiliates": [{"id": bill, "city": None}]}
    assert call(fake, "affiliate/edit", body).body["ids_changed"] == [bill]
    assert call(fake, "affiliate/get", {"id": bill}).body["city"] is None


def test_edit_giving_two_affiliates_one_email_changes_only_the_first(fake: FakeRefersion) -> None:
    bill, _ = create(fake)
    jane, _ = create(fake, email="jane@example.com")
    body = {
        "affiliates": [
            {"id": bill, "email": "new@example.com"},
            {"id": jane, "email": "NEW@example.com"},
        ]
    }
    assert call(fake, "affiliate/edit", body).body == {
        "ids_changed": [bill],
        "ids_not_changed": [jane],
    }


@pytest.mark.parametrize(
    ("body", "status", "expected"),
    [
        ({}, 400, {"error": "Missing required field affiliates"}),
        ({"affiliates": {"id": 1}}, 400, {"error": "Missing required field affiliates"}),
        ({"affiliates": [{"city": "x"}]}, 400, {"error": "Missing required field id"}),
        ({"affiliates": [{"id": None, "city": "x"}]}, 400, {"error": "Missing required field id"}),
        ({"affiliates": [7]}, 422, {"errors": ["7 is not a allowed value for field affiliates"]}),
        (
            {"affiliates": [{"id": "x1", "city": "x"}]},
            422,
            {"errors": ["x1 is not a allowed value for field id"]},
        ),
        (
            {"affiliates": [{"id": "@", "country": "UK"}]},
            422,
            {
                "errors": [
                    "@ is not a allowed value for field id",
                    "UK is not a allowed value for field country",
                ]
            },
        ),
        (
            {"affiliates": [{"id": "BILL", "email": "no"}, {"id": "-", "email": "no@"}]},
            422,
            {
                "errors": [
                    "The email you have entered is not valid.",
                    "- is not a allowed value for field id",
                ]
            },
        ),
        (
            {"affiliates": [{"id": "BILL", "email": "Taken@Example.com"}]},
            422,
            {"errors": ["The email you have entered is taken by another Affiliate."]},
        ),
        (
            {"affiliates": [{"id": "BILL", "city": LONG, "zip": LONG}]},
            422,
            {"errors": ["Value exceed the char limit"]},
        ),
        (
            {"affiliates": [{"id": "BILL", "first_name": None}]},
            422,
            {"errors": ["null is not a allowed value for field first_name"]},
        ),
        (
            {"affiliates": [{"id": "BILL", "last_name": " "}]},
            422,
            {"errors": ["  is not a allowed value for field last_name"]},
        ),
        (
            {"affiliates": [{"id": "BILL", "offer": None}]},
            422,
            {"errors": ["null is not a allowed value for field offer"]},
        ),
        (
            {"affiliates": [{"id": "BILL", "phone": 5}]},
            422,
            {"errors": ["5 is not a allowed value for field phone"]},
        ),
    ],
)
def test_edit_errors_change_nothing(
    fake: FakeRefersion, body: dict[str, Any], status: int, expected: dict[str, Any]
) -> None:
    bill, _ = create(fake)
    jane, _ = create(fake, email="taken@example.com")
    raw = json.dumps(body).replace('"BILL"', str(bill)).replace('"JANE"', str(jane))
    before = fake.store.all()
    assert call(fake, "affiliate/edit", raw.encode()) == Reply(status, expected)
    assert fake.store.all() == before


def test_edit_may_keep_its_own_email(fake: FakeRefersion) -> None:
    bill, _ = create(fake)
    body = {"affiliates": [{"id": bill, "email": "BILL@example.com", "city": "Paradise"}]}
    assert call(fake, "affiliate/edit", body).body["ids_changed"] == [bill]


def test_status_change_sets_status_and_reports_ids(fake: FakeRefersion) -> None:
    bill, _ = create(fake)
    jane, _ = create(fake, email="jane@example.com", status="PENDING")
    reply = call(
        fake, "affiliate/status_change", {"ids": [bill, str(jane), 5], "status": "DISABLED"}
    )
    assert reply.body == {"ids_changed": [bill, jane], "ids_not_changed": [5]}
    again = call(fake, "affiliate/status_change", {"ids": [bill], "status": "DISABLED"})
    assert again.body == {"ids_changed": [], "ids_not_changed": [bill]}
    assert call(fake, "affiliate/get", {"id": jane}).body["status"] == "DISABLED"


@pytest.mark.parametrize(
    ("body", "status", "expected"),
    [
        ({"status": "ACTIVE"}, 400, {"error": "Missing required field ids"}),
        ({"ids": [1]}, 400, {"error": "Missing required field status"}),
        (
            {"ids": [1], "status": "PENDING"},
            422,
            {"errors": ["PENDING is not a allowed value for field status"]},
        ),
        ({"ids": [1], "status": 1}, 422, {"errors": ["1 is not a allowed value for field status"]}),
        (
            {"ids": 1, "status": "ACTIVE"},
            422,
            {"errors": ["1 is not a allowed value for field ids"]},
        ),
        (
            {"ids": [1, "a", None], "status": "ACTIVE"},
            422,
            {
                "errors": [
                    "a is not a allowed value for field ids",
                    "null is not a allowed value for field ids",
                ]
            },
        ),
        (
            {"ids": list(range(51)), "status": "ACTIVE"},
            422,
            {"errors": ["Max number of elements on attribute (50) reached."]},
        ),
    ],
)
def test_status_change_errors(
    fake: FakeRefersion, body: dict[str, Any], status: int, expected: dict[str, Any]
) -> None:
    assert call(fake, "affiliate/status_change", body) == Reply(status, expected)


def test_status_change_takes_fifty_ids(fake: FakeRefersion) -> None:
    bill, _ = create(fake)
    reply = call(fake, "affiliate/status_change", {"ids": [bill, *range(49)], "status": "DENIED"})
    assert reply.body["ids_changed"] == [bill]


def test_delete_by_unique_merchant_id_removes_every_match(fake: FakeRefersion) -> None:
    first, _ = create(fake, unique_merchant_id="user-1")
    second, _ = create(fake, email="b@example.com", unique_merchant_id="user-1")
    other, _ = create(fake, email="c@example.com", unique_merchant_id="user-2")
    reply = call(
        fake, "affiliate/delete", {"unique_merchant_id": "user-1", "email": "c@example.com"}
    )
    assert reply == Reply(200, {"deleted": [first, second], "message": "Deleted 2 affiliate(s)."})
    assert [a.id for a in fake.store.all()] == [other]


@pytest.mark.parametrize(
    "body",
    [
        {"email": "BILL@Example.COM"},
        {"unique_merchant_id": "unknown-user", "email": "bill@example.com"},
        {"unique_merchant_id": "unknown-user", "email": "x@example.com", "id": "BILL"},
        {"id": "BILL"},
    ],
)
def test_delete_falls_back_from_merchant_id_to_email_to_id(
    fake: FakeRefersion, body: dict[str, Any]
) -> None:
    bill, _ = create(fake, unique_merchant_id="user-1")
    raw = json.dumps(body).replace('"BILL"', str(bill)).encode()
    assert call(fake, "affiliate/delete", raw).body["deleted"] == [bill]
    assert fake.store.count() == 0


@pytest.mark.parametrize(
    ("body", "status", "expected"),
    [
        ({}, 400, {"error": "Missing required field unique_merchant_id"}),
        (
            {"unique_merchant_id": "", "email": None},
            400,
            {"error": "Missing required field unique_merchant_id"},
        ),
        ({"unique_merchant_id": "nobody"}, 422, {"errors": ["Affiliate not found."]}),
        ({"email": "nobody@example.com", "id": 5}, 422, {"errors": ["Affiliate not found."]}),
        (
            {"unique_merchant_id": 7},
            422,
            {"errors": ["7 is not a allowed value for field unique_merchant_id"]},
        ),
        ({"id": "seven"}, 422, {"errors": ["seven is not a allowed value for field id"]}),
        ({"email": LONG}, 422, {"errors": ["Value exceed the char limit"]}),
    ],
)
def test_delete_errors(
    fake: FakeRefersion, body: dict[str, Any], status: int, expected: dict[str, Any]
) -> None:
    create(fake, unique_merchant_id="user-1")
    assert call(fake, "affiliate/delete", body) == Reply(status, expected)
    assert fake.store.count() == 1


# -- one state across every endpoint -----------------------------------------------------------


def test_every_endpoint_sees_the_same_state(fake: FakeRefersion) -> None:
    create(fake, email="someone.else@example.org", unique_merchant_id="user-0")
    reply = call(
        fake,
        "affiliate/new",
        new_body(email="Peter.Gibbons@Initech.example", unique_merchant_id="user-1", city="Austin"),
    )
    code = reply.body["id"]
    numeric = int(reply.body["message"].split()[2])
    by_id = call(fake, "affiliate/get", {"id": numeric}).body
    assert call(fake, "affiliate/get", {"affiliate_code": code}).body == by_id
    assert (by_id["code"], by_id["email"], by_id["city"]) == (
        code,
        "Peter.Gibbons@Initech.example",
        "Austin",
    )

    listed = call(fake, "affiliate/list", {"limit": 100}).body
    assert listed["total"] == 2
    assert code in [item["id"] for item in listed["results"]]
    found = call(fake, "affiliate/search", {"keyword": "gibbons@initech"}).body
    assert [item["id"] for item in found["results"]] == [code]

    edit = {"affiliates": [{"id": numeric, "first_name": "Pete", "city": "Dallas"}]}
    assert call(fake, "affiliate/edit", edit).body["ids_changed"] == [numeric]
    edited = call(fake, "affiliate/get", {"id": numeric}).body
    assert (edited["first_name"], edited["city"]) == ("Pete", "Dallas")
    assert (
        call(fake, "affiliate/search", {"keyword": code}).body["results"][0]["first_name"] == "Pete"
    )

    change = {"ids": [numeric], "status": "DENIED"}
    assert call(fake, "affiliate/status_change", change).body["ids_changed"] == [numeric]
    assert call(fake, "affiliate/get", {"affiliate_code": code}).body["status"] == "DENIED"

    deleted = call(fake, "affiliate/delete", {"unique_merchant_id": "user-1"})
    assert deleted.body == {"deleted": [numeric], "message": "Deleted 1 affiliate(s)."}
    assert errors(call(fake, "affiliate/get", {"id": numeric})) == ["Affiliate not found."]
    assert errors(call(fake, "affiliate/get", {"affiliate_code": code})) == ["Affiliate not found."]
    assert errors(call(fake, "affiliate/search", {"keyword": "gibbons"})) == [
        "Could not find affiliates with this keyword."
    ]
    assert call(fake, "affiliate/list", {}).body["total"] == 1
    assert "gibbons" not in "\n".join(fake.store.iterdump()).lower()
    # The address is free again: the same person can sign up anew.
    assert (
        call(fake, "affiliate/new", new_body(email="peter.gibbons@initech.example")).status == 200
    )


# -- hostile input -------------------------------------------------------------------------------

_FIELD_NAMES = [
    "first_name", "last_name", "email", "password", "status", "offer", "country", "send_welcome",
    "id", "affiliate_code", "limit", "page", "keyword", "affiliates", "ids", "unique_merchant_id",
    "city", "zip",
]  # fmt: skip
_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
    | st.sampled_from(["ACTIVE", "US", "TRUE", "a@b.co", "37569297", PASSWORD])
)
_JSON = st.recursive(
    _SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(_FIELD_NAMES), inner, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=examples(300), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    endpoint=st.sampled_from(FakeRefersion.ENDPOINTS),
    body=st.dictionaries(st.sampled_from(_FIELD_NAMES), _JSON, max_size=8),
)
def test_any_json_object_gets_a_documented_answer(endpoint: str, body: dict[str, Any]) -> None:
    fake = make_fake()
    create(fake, unique_merchant_id="user-1")
    reply = call(fake, endpoint, body)  # also checks the body against its contract
    assert reply.status in {200, 400, 404, 422}
    json.dumps(reply.body)
    fake.store.close()
