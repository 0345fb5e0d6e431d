"""Tests for the JSON Schemas under contracts/ and the violations the contract set reports."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from emulator.contract_checks.contract_set import CONTRACT_BASE_URI, ContractSet, default_contracts
from emulator.countries import REFERSION_COUNTRIES
from emulator.errors import ConfigError
from emulator.secrets_mask import mask_secret
from tests.support import doc_event

__all__: list[str] = []

CONTRACTS_DIR = Path(__file__).resolve().parent.parent / "contracts"
SCHEMA_FILES = sorted(
    p for p in CONTRACTS_DIR.rglob("*.json") if p != CONTRACTS_DIR / "openapi.json"
)
REQUIRED_CONTRACTS = {
    "segment/message",
    "segment/identify",
    "segment/delete",
    "segment/batch",
    "segment/tracking-response",
    "refersion/affiliate-new.request",
    "refersion/affiliate-new.response",
    "refersion/affiliate-get.request",
    "refersion/affiliate-get.response",
    "refersion/affiliate-list.response",
    "refersion/affiliate-search.response",
    "refersion/affiliate-edit.response",
    "refersion/affiliate-status-change.response",
    "refersion/affiliate-delete.request",
    "refersion/affiliate-delete.response",
    "refersion/error",
    "destination/response",
}

# docs/sources.md#segment-identify: the identify example of the Segment spec.
SPEC_IDENTIFY = doc_event("segment-docs/spec-identify-all-false.json")
# docs/sources.md#segment-identify: the partner-facing identify of partners/spec.md.
PARTNER_IDENTIFY = doc_event("segment-docs/partner-identify.json")
# docs/sources.md#refersion-destination-page: the page's test event (top-level email).
REFERSION_DOC_IDENTIFY = doc_event("segment-docs/refersion-destination-identify.json")
# docs/sources.md#tracking-api: an identify item as analytics-python 2.3.4 puts it in a batch.
PYTHON_IDENTIFY = doc_event("irregular/client-analytics-python.json")
# docs/sources.md#segment-deletes: the partners/spec.md delete (null context, Go-style timestamp).
PARTNER_DELETE = doc_event("segment-docs/partner-delete-null-context.json", 1)
# docs/sources.md#segment-deletes: the Refersion page's delete ([] context, top-level email).
REFERSION_DELETE = doc_event("refersion-docs/delete-empty-array-context.json", 1)
# docs/sources.md#refersion-api-v2: New Affiliate, with a password that meets the v2 rules.
NEW_REQUEST: dict[str, Any] = {
    "first_name": "Bill",
    "last_name": "Smith",
    "email": "bill@example.com",
    "password": "Secure!Pass1",
    "status": "ACTIVE",
    "offer": "12345",
    "address1": "123 Street Road",
    "city": "Paradise",
    "state": "NY",
    "zip": "12000",
    "country": "US",
    "phone": "555-555-5555",
    "send_welcome": "FALSE",
}
AFFILIATE_SUMMARY: dict[str, Any] = {
    "id": "694c",
    "offer_id": "1234",
    "status": "ACTIVE",
    "first_name": "Bill",
    "last_name": "Smith",
    "email": "bill@example.com",
    "custom_fields": [{"label": "What is your web site?", "value": "https://www.refersion.com"}],
}

VALID = [
    pytest.param("segment/identify", SPEC_IDENTIFY, id="segment-spec-identify"),
    pytest.param("segment/identify", PARTNER_IDENTIFY, id="partner-spec-identify"),
    pytest.param("segment/identify", REFERSION_DOC_IDENTIFY, id="refersion-doc-identify"),
    pytest.param("segment/identify", PYTHON_IDENTIFY, id="analytics-python-identify"),
    pytest.param("segment/message", PARTNER_DELETE, id="message-accepts-delete"),
    pytest.param("segment/delete", PARTNER_DELETE, id="partner-delete-null-context"),
    pytest.param("segment/delete", REFERSION_DELETE, id="refersion-delete-empty-arrays"),
    pytest.param(
        "segment/delete",
        {"type": "delete", "userId": "019mr8mf4r", "timestamp": "2012-12-02T00:30:08.276Z"},
        id="webhooks-delete",
    ),
    pytest.param(
        "segment/batch",
        {
            "batch": [PYTHON_IDENTIFY, {**PYTHON_IDENTIFY, "type": "track", "event": "Signed Up"}],
            "sentAt": "2026-11-29T20:29:24.770905+00:00",
            "writeKey": "wk_123",
        },
        id="analytics-python-batch",
    ),
    pytest.param("segment/tracking-response", {"success": True}, id="tracking-success"),
    pytest.param(
        "segment/tracking-response",
        {"code": "bad_request", "message": "Invalid JSON"},
        id="tracking-error",
    ),
    pytest.param("refersion/affiliate-new.request", NEW_REQUEST, id="new-request"),
    pytest.param(
        "refersion/affiliate-new.request",
        {k: NEW_REQUEST[k] for k in ("first_name", "last_name", "email", "password", "status")},
        id="new-request-minimal",
    ),
    pytest.param(
        "refersion/affiliate-new.response",
        {
            "id": "a3y7",
            "link": "https://site.refersion.com/c/a3y7",
            "message": "The affiliate 37569297 has been created with the status of ACTIVE.",
        },
        id="new-response-v2",
    ),
    pytest.param(
        "refersion/affiliate-new.response",
        {"id": "a3y7", "link": "https://site.refersion.com/c/a3y7"},
        id="new-response-v1",
    ),
    pytest.param("refersion/affiliate-get.request", {"id": 12345678}, id="get-by-id"),
    pytest.param("refersion/affiliate-get.request", {"affiliate_code": "a3y7"}, id="get-by-code"),
    pytest.param(
        "refersion/affiliate-get.response",
        {
            "id": 37567438,
            "offer_id": "1234",
            "status": "ACTIVE",
            "first_name": "Bill",
            "last_name": "Smith",
            "company_name": "Company",
            "email": "testing@refersion.com",
            "link": "https://site.refersion.com/c/a3y7",
            "custom_fields": [
                {"label": "What is your web site?", "value": "https://www.refersion.com"}
            ],
            "unique_merchant_id": "user-1",
        },
        id="get-response-with-extension-field",
    ),
    pytest.param(
        "refersion/affiliate-list.response",
        {"total": 3, "results": [AFFILIATE_SUMMARY, {**AFFILIATE_SUMMARY, "id": "24fb"}]},
        id="list-response",
    ),
    pytest.param(
        "refersion/affiliate-search.response",
        {"total": 1, "results": [{**AFFILIATE_SUMMARY, "status": "DENIED"}]},
        id="search-response",
    ),
    pytest.param(
        "refersion/affiliate-edit.response",
        {"ids_changed": [1, 3], "ids_not_changed": [2, 4]},
        id="edit-response",
    ),
    pytest.param(
        "refersion/affiliate-status-change.response",
        {"ids_changed": [1, 2, 3, 4], "ids_not_changed": []},
        id="status-change-response",
    ),
    pytest.param(
        "refersion/affiliate-delete.request", {"unique_merchant_id": "5678"}, id="delete-by-umi"
    ),
    pytest.param(
        "refersion/affiliate-delete.request", {"email": "peter@example.com"}, id="delete-by-email"
    ),
    pytest.param("refersion/affiliate-delete.request", {"id": 37569297}, id="delete-by-id"),
    pytest.param(
        "refersion/affiliate-delete.response",
        {"deleted": [37569297], "message": "1 affiliate deleted."},
        id="delete-response",
    ),
    pytest.param(
        "refersion/error", {"error": "Invalid API credentials (error 2)."}, id="error-401"
    ),
    pytest.param("refersion/error", {"error": "Missing required field email"}, id="error-400"),
    pytest.param(
        "refersion/error",
        {"error": ["Bad request, no body", "Offer does not exists on the database."]},
        id="error-edit-404-array",
    ),
    pytest.param(
        "refersion/error",
        {"errors": ["The email you have entered is taken by another Affiliate."]},
        id="errors-422",
    ),
    pytest.param(
        "destination/response",
        {
            "message": "Affiliate created",
            "outcome": "created",
            "warnings": [{"code": "mixed_trait_case"}],
            "affiliate": {"id": "a3y7"},
        },
        id="destination-created",
    ),
    pytest.param(
        "destination/response", {"message": "Unsupported event type"}, id="destination-501"
    ),
]

# (contract, instance, pointer, rule, a fragment the message must contain)
INVALID = [
    pytest.param(
        "refersion/affiliate-new.request",
        {k: v for k, v in NEW_REQUEST.items() if k != "email"},
        "",
        "required",
        "'email' is a required property",
        id="new-missing-email",
    ),
    pytest.param(
        "refersion/affiliate-new.request",
        {**NEW_REQUEST, "country": "USA"},
        "/country",
        "enum",
        "'country'",
        id="new-country-alpha3",
    ),
    pytest.param(
        "refersion/affiliate-new.request",
        {**NEW_REQUEST, "country": "UK"},
        "/country",
        "enum",
        '"UK"',
        id="new-country-uk",
    ),
    pytest.param(
        "refersion/affiliate-new.request",
        {**NEW_REQUEST, "password": "testing"},
        "/password",
        "minLength",
        "at least 9 characters",
        id="new-password-short",
    ),
    pytest.param(
        "refersion/affiliate-new.request",
        {**NEW_REQUEST, "password": "x" * 73 + "A1!"},
        "/password",
        "maxLength",
        "at most 72 characters",
        id="new-password-long",
    ),
    *(
        pytest.param(
            "refersion/affiliate-new.request",
            {**NEW_REQUEST, "password": password},
            "/password",
            "pattern",
            "'password' must match the pattern",
            id=f"new-password-no-{missing}",
        )
        for missing, password in [
            ("digit", "Secure!Pass"),
            ("lower", "SECURE!PASS1"),
            ("upper", "secure!pass1"),
            ("symbol", "SecurePass1"),
        ]
    ),
    pytest.param(
        "refersion/affiliate-new.request",
        {**NEW_REQUEST, "password": "Secure!!!!Pass1"},
        "/password",
        "not",
        "repeated 4 or more times",
        id="new-password-repeats",
    ),
    pytest.param(
        "refersion/affiliate-new.request",
        {**NEW_REQUEST, "status": "DENIED"},
        "/status",
        "enum",
        '"PENDING", "ACTIVE"',
        id="new-status-not-creatable",
    ),
    pytest.param(
        "refersion/affiliate-new.request",
        {**NEW_REQUEST, "send_welcome": False},
        "/send_welcome",
        "enum",
        "got false",
        id="new-send-welcome-boolean",
    ),
    pytest.param(
        "refersion/affiliate-new.request",
        {**NEW_REQUEST, "email": "bill@"},
        "/email",
        "format",
        "valid email",
        id="new-email-malformed",
    ),
    pytest.param(
        "refersion/affiliate-new.request",
        {**NEW_REQUEST, "zip": 94103},
        "/zip",
        "type",
        "'zip' must be of type string, got 94103",
        id="new-zip-number",
    ),
    pytest.param(
        "refersion/affiliate-new.request",
        {**NEW_REQUEST, "nickname": "Billy"},
        "",
        "additionalProperties",
        "'nickname'",
        id="new-unknown-field",
    ),
    pytest.param(
        "segment/identify",
        {"type": "identify", "traits": {}},
        "",
        "anyOf",
        "'userId' is a required property",
        id="identify-no-ids",
    ),
    pytest.param(
        "segment/identify",
        {"type": "identify", "userId": "", "anonymousId": None},
        "/anonymousId",
        "type",
        "string",
        id="identify-empty-and-null-ids",
    ),
    pytest.param(
        "segment/identify",
        {**PARTNER_IDENTIFY, "traits": ["email"]},
        "/traits",
        "type",
        "object",
        id="identify-traits-array",
    ),
    pytest.param(
        "segment/identify",
        {**PARTNER_IDENTIFY, "messageId": "m" * 101},
        "/messageId",
        "maxLength",
        "at most 100 characters",
        id="identify-long-message-id",
    ),
    pytest.param(
        "segment/identify",
        {**PARTNER_IDENTIFY, "type": "track"},
        "/type",
        "const",
        '"identify"',
        id="identify-wrong-type",
    ),
    pytest.param(
        "segment/delete",
        {**PARTNER_DELETE, "userId": 5},
        "/userId",
        "type",
        "got 5",
        id="delete-numeric-user-id",
    ),
    pytest.param(
        "segment/delete",
        {k: v for k, v in PARTNER_DELETE.items() if k != "userId"},
        "",
        "required",
        "'userId' is a required property",
        id="delete-without-user-id",
    ),
    pytest.param(
        "segment/delete",
        {**REFERSION_DELETE, "context": ["x"]},
        "/context",
        "maxItems",
        "at most 0 items",
        id="delete-non-empty-context-array",
    ),
    pytest.param(
        "segment/batch",
        {"batch": [PYTHON_IDENTIFY] * 2501},
        "/batch",
        "maxItems",
        "at most 2500 items, got 2501",
        id="batch-too-many",
    ),
    pytest.param(
        "segment/batch", {"batch": []}, "/batch", "minItems", "at least 1 item", id="batch-empty"
    ),
    pytest.param(
        "segment/batch",
        {"batch": [PYTHON_IDENTIFY, {**PYTHON_IDENTIFY, "type": "delete"}]},
        "/batch/1/type",
        "enum",
        "'batch[1].type'",
        id="batch-delete-item",
    ),
    pytest.param(
        "segment/batch",
        {"batch": [{"userId": "u"}]},
        "/batch/0",
        "required",
        "'type' is a required property in 'batch[0]'",
        id="batch-item-without-type",
    ),
    pytest.param(
        "segment/tracking-response",
        {"success": False},
        "/success",
        "const",
        "must be true",
        id="tracking-success-false",
    ),
    pytest.param(
        "refersion/affiliate-new.response",
        {"id": "a3y7", "link": "site refersion com"},
        "/link",
        "format",
        "valid uri",
        id="new-response-link-not-uri",
    ),
    pytest.param(
        "refersion/affiliate-get.request",
        {"id": "37567438"},
        "/id",
        "type",
        "integer",
        id="get-id-as-string",
    ),
    pytest.param(
        "refersion/affiliate-get.request",
        {"id": 1, "affiliate_code": "a3y7"},
        "",
        "oneOf",
        "exactly one",
        id="get-both-ids",
    ),
    pytest.param(
        "refersion/affiliate-get.response",
        {
            "id": 1,
            "offer_id": "1",
            "status": "DELETED",
            "first_name": "B",
            "last_name": "S",
            "email": "b@example.com",
            "link": "https://site.refersion.com/c/x",
            "custom_fields": [],
        },
        "/status",
        "enum",
        "DELETED",
        id="get-response-unknown-status",
    ),
    pytest.param(
        "refersion/affiliate-list.response",
        {"total": 1, "results": [{**AFFILIATE_SUMMARY, "custom_fields": [{"label": "x"}]}]},
        "/results/0/custom_fields/0",
        "required",
        "'value' is a required property",
        id="list-custom-field-without-value",
    ),
    pytest.param(
        "refersion/affiliate-edit.response",
        {"ids_changed": ["1"], "ids_not_changed": []},
        "/ids_changed/0",
        "type",
        "integer",
        id="edit-ids-as-strings",
    ),
    pytest.param(
        "refersion/affiliate-delete.request",
        {"unique_merchant_id": ""},
        "/unique_merchant_id",
        "minLength",
        "at least 1 character",
        id="delete-empty-umi",
    ),
    pytest.param(
        "refersion/affiliate-delete.request",
        {},
        "",
        "anyOf",
        "'unique_merchant_id' is a required property",
        id="delete-no-key",
    ),
    pytest.param(
        "refersion/error",
        {"errors": []},
        "/errors",
        "minItems",
        "at least 1 item",
        id="errors-empty",
    ),
    pytest.param(
        "refersion/error", {"message": "nope"}, "", "oneOf", "allowed shapes", id="error-unknown"
    ),
    pytest.param(
        "destination/response",
        {"outcome": "created"},
        "",
        "required",
        "'message' is a required property",
        id="destination-without-message",
    ),
]


@pytest.fixture(scope="module")
def contracts() -> ContractSet:
    return default_contracts()


def write_schema(directory: Path, name: str, body: dict[str, Any] | str) -> Path:
    """Write a contract file the way ContractSet.load expects it (``$schema`` and ``$id`` set)."""
    path = directory / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(body, dict):
        body = json.dumps(
            {
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "$id": f"{CONTRACT_BASE_URI}{name}.json",
                **body,
            }
        )
    path.write_text(body, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "path", SCHEMA_FILES, ids=lambda p: p.relative_to(CONTRACTS_DIR).as_posix()
)
def test_every_schema_is_a_documented_draft_2020_12_schema(path: Path) -> None:
    schema = json.loads(path.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == CONTRACT_BASE_URI + path.relative_to(CONTRACTS_DIR).as_posix()
    assert schema["title"]
    # Each contract cites the section of docs/sources.md its rules come from.
    assert "docs/sources.md#" in schema["description"]


def test_names_lists_every_file_and_the_required_set(contracts: ContractSet) -> None:
    from_files = {p.relative_to(CONTRACTS_DIR).with_suffix("").as_posix() for p in SCHEMA_FILES}
    assert set(contracts.names) == from_files
    assert list(contracts.names) == sorted(contracts.names)
    assert from_files >= REQUIRED_CONTRACTS


@pytest.mark.parametrize(
    "name", ["refersion/affiliate-delete.request", "refersion/affiliate-delete.response"]
)
def test_delete_endpoint_contracts_say_they_are_an_extension(
    contracts: ContractSet, name: str
) -> None:
    description = contracts.schema(name)["description"]
    assert "Emulator extension: no public Refersion endpoint exists" in description


def test_country_enum_is_refersions_list(contracts: ContractSet) -> None:
    countries = contracts.schema("refersion/affiliate-new.request")["properties"]["country"]["enum"]
    assert len(countries) == len(set(countries)) == 90
    assert set(countries) == REFERSION_COUNTRIES


@pytest.mark.parametrize(("name", "instance"), VALID)
def test_documented_examples_satisfy_their_contract(
    contracts: ContractSet, name: str, instance: Any
) -> None:
    assert contracts.validate(name, instance) == []
    assert contracts.is_valid(name, instance)


@pytest.mark.parametrize(("name", "instance", "pointer", "rule", "fragment"), INVALID)
def test_violation_names_contract_pointer_rule_and_value(
    contracts: ContractSet, name: str, instance: Any, pointer: str, rule: str, fragment: str
) -> None:
    violation = contracts.validate(name, instance)[0]
    assert (violation.contract, violation.pointer, violation.rule) == (name, pointer, rule)
    assert fragment in violation.message
    assert not contracts.is_valid(name, instance)


@pytest.mark.parametrize(
    ("name", "instance", "value"),
    [
        ("refersion/affiliate-new.request", {**NEW_REQUEST, "country": "USA"}, "USA"),
        ("segment/delete", {**PARTNER_DELETE, "userId": 5}, 5),
        ("segment/identify", {**PARTNER_IDENTIFY, "traits": ["email"]}, ["email"]),
        ("segment/tracking-response", {"success": False}, False),
    ],
)
def test_violation_value_is_the_offending_value(
    contracts: ContractSet, name: str, instance: Any, value: Any
) -> None:
    assert contracts.validate(name, instance)[0].value == value


def test_every_broken_rule_is_reported(contracts: ContractSet) -> None:
    instance = {k: v for k, v in NEW_REQUEST.items() if k != "email"}
    instance |= {"country": "USA", "status": "ON"}
    found = {
        (v.pointer, v.rule) for v in contracts.validate("refersion/affiliate-new.request", instance)
    }
    assert found == {("", "required"), ("/country", "enum"), ("/status", "enum")}


@pytest.fixture(scope="module")
def reference_registry() -> Registry[Any]:
    """The contracts as plain jsonschema sees them, built independently of the contract set."""
    schemas = [json.loads(p.read_text(encoding="utf-8")) for p in SCHEMA_FILES]
    return Registry().with_resources(
        (schema["$id"], DRAFT202012.create_resource(schema)) for schema in schemas
    )


# Plain jsonschema has no real email or uri check, so it cannot judge the format cases.
@pytest.mark.parametrize(
    ("name", "instance", "pointer", "rule", "fragment"),
    [case for case in INVALID if case.values[3] != "format"],
)
def test_first_violation_is_jsonschemas_best_match(
    contracts: ContractSet,
    reference_registry: Registry[Any],
    name: str,
    instance: Any,
    pointer: str,
    rule: str,
    fragment: str,
) -> None:
    schema = json.loads((CONTRACTS_DIR / f"{name}.json").read_text(encoding="utf-8"))
    validator = Draft202012Validator(schema, registry=reference_registry)
    expected = best_match(validator.iter_errors(instance))
    first = contracts.validate(name, instance)[0]
    assert first.rule == expected.validator
    assert first.pointer == "".join(f"/{token}" for token in expected.absolute_path)


def test_violations_after_the_first_follow_document_order(contracts: ContractSet) -> None:
    batch = {"batch": [{**PYTHON_IDENTIFY, "type": "bogus"} for _ in range(4)]}
    pointers = [v.pointer for v in contracts.validate("segment/batch", batch)]
    assert sorted(pointers[1:]) == pointers[1:]
    assert sorted(pointers) == [f"/batch/{i}/type" for i in range(4)]


@pytest.mark.parametrize(
    "password",
    ["testing", "Secure!!!!Pass1", "secure!pass1", "Sx!1" * 20],
    ids=["short", "repeats", "no-upper", "long"],
)
def test_password_never_appears_in_violations(contracts: ContractSet, password: str) -> None:
    # No email, so one violation's value is the whole request, password included.
    instance = {"first_name": "B", "last_name": "S", "password": password, "status": "ACTIVE"}
    violations = contracts.validate("refersion/affiliate-new.request", instance)
    assert {v.pointer for v in violations} == {"", "/password"}
    for violation in violations:
        assert password not in json.dumps(violation.to_dict(), ensure_ascii=False)
    root = next(v for v in violations if v.pointer == "")
    assert root.value == instance | {"password": mask_secret(password)}


def test_long_values_are_stored_as_a_truncated_json_summary(contracts: ContractSet) -> None:
    violation = contracts.validate("segment/batch", {"batch": [PYTHON_IDENTIFY] * 2501})[0]
    assert isinstance(violation.value, str)
    assert len(violation.value) <= 200
    assert violation.value.startswith('[{"integrations": {}')


@pytest.mark.parametrize(
    ("depth", "pointer", "rule"),
    [(100, "/traits", "type"), (100_000, "", "nesting")],
)
def test_hostile_nesting_is_reported_not_raised(
    contracts: ContractSet, depth: int, pointer: str, rule: str
) -> None:
    traits: list[Any] = []
    for _ in range(depth):
        traits = [traits]
    message = {"type": "identify", "userId": "u", "traits": traits}
    violation = contracts.validate("segment/identify", message)[0]
    assert (violation.pointer, violation.rule) == (pointer, rule)
    assert "cannot be shown" in violation.value
    assert not contracts.is_valid("segment/identify", message)


def test_to_dict_is_json_ready(contracts: ContractSet) -> None:
    violation = contracts.validate("refersion/affiliate-new.request", {**NEW_REQUEST, "zip": 1})[0]
    assert json.loads(json.dumps(violation.to_dict())) == {
        "contract": "refersion/affiliate-new.request",
        "pointer": "/zip",
        "value": 1,
        "rule": "type",
        "message": "'zip' must be of type string, got 1",
    }


@pytest.mark.parametrize(
    ("email", "valid"),
    [
        ("bill@example.com", True),
        ("alice@shop.test", False),
        ("üser@example.com", True),
        ("bill@", False),
        ("bill", False),
        ("a b@example.com", False),
        ("bill@localhost", False),
    ],
)
def test_email_format_is_checked_for_real(contracts: ContractSet, email: str, valid: bool) -> None:
    assert (
        contracts.is_valid("refersion/affiliate-new.request", {**NEW_REQUEST, "email": email})
        is valid
    )


def test_unknown_contract_names_the_known_ones(contracts: ContractSet) -> None:
    with pytest.raises(ConfigError, match=r"'segment/track'.*segment/identify"):
        contracts.validate("segment/track", {})


def test_default_contracts_are_loaded_once() -> None:
    assert default_contracts() is default_contracts()


def test_schema_returns_a_copy(contracts: ContractSet) -> None:
    contracts.schema("segment/delete")["required"].append("email")
    assert contracts.is_valid("segment/delete", PARTNER_DELETE)


def test_pointer_escapes_slash_and_tilde(tmp_path: Path) -> None:
    write_schema(tmp_path, "odd", {"properties": {"a/b~c": {"type": "string"}}})
    violation = ContractSet.load(tmp_path).validate("odd", {"a/b~c": 1})[0]
    assert violation.pointer == "/a~1b~0c"


def test_custom_directory_resolves_cross_file_refs(tmp_path: Path) -> None:
    write_schema(tmp_path, "base/id", {"type": "string", "minLength": 1})
    write_schema(
        tmp_path, "msg", {"properties": {"id": {"$ref": f"{CONTRACT_BASE_URI}base/id.json"}}}
    )
    contracts = ContractSet.load(tmp_path)
    assert contracts.names == ("base/id", "msg")
    assert contracts.validate("msg", {"id": ""})[0].pointer == "/id"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        pytest.param("{not json", "JSON", id="not-json"),
        pytest.param("[]", "JSON object", id="not-an-object"),
        pytest.param({"type": 5}, "valid draft 2020-12", id="bad-keyword-value"),
        pytest.param(
            {"properties": {"a": {"pattern": "("}}}, "valid draft 2020-12", id="bad-regex"
        ),
        pytest.param(
            {"$ref": f"{CONTRACT_BASE_URI}missing.json"}, "cannot be resolved", id="dangling-ref"
        ),
    ],
)
def test_broken_schema_raises_config_error_naming_the_file(
    tmp_path: Path, body: dict[str, Any] | str, reason: str
) -> None:
    write_schema(tmp_path, "good", {"type": "object"})
    broken = write_schema(tmp_path, "nested/broken", body)
    with pytest.raises(ConfigError, match=reason) as raised:
        ContractSet.load(tmp_path)
    assert str(broken) in str(raised.value)


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        ({"$schema": "http://json-schema.org/draft-07/schema#"}, "'\\$schema' must be"),
        ({"$id": "https://example.com/other.json"}, "'\\$id' must be"),
    ],
)
def test_schema_must_declare_draft_and_its_own_id(
    tmp_path: Path, header: dict[str, str], reason: str
) -> None:
    path = write_schema(tmp_path, "x", {"type": "object"})
    path.write_text(json.dumps(json.loads(path.read_text()) | header), encoding="utf-8")
    with pytest.raises(ConfigError, match=reason):
        ContractSet.load(tmp_path)


def test_empty_directory_raises_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no contracts"):
        ContractSet.load(tmp_path)
