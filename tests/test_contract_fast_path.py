"""The compiled fast path (jsonschema-rs) gives jsonschema's verdict on everything it sees.

Differential: every fixture's events, every body validated while the whole fixture corpus runs
through the pipeline, and generated instances of every contract (valid and invalid, built
from the schemas themselves) are checked by both; the verdicts and the violations reported
must be the same. Values JSON cannot carry must be left to jsonschema.
"""

from __future__ import annotations

import asyncio
import copy
import json
from collections import Counter
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from emulator.cases.payloads import parse_cases
from emulator.contract_checks.contract_set import ContractSet, default_contracts
from emulator.contract_checks.fast_path import FastPath, is_plain_json, schema_certainly_valid
from emulator.server.runners.case_runner import run_case
from tests.support import FIXTURES, fast_config

CONTRACTS = default_contracts()
REFERENCE = CONTRACTS.reference()
FIXTURE_FILES = sorted(FIXTURES.rglob("*.json"))
SCHEMAS = {name: CONTRACTS.schema(name) for name in CONTRACTS.names}
REGISTRY: Registry[Any] = Registry().with_resources(
    (schema["$id"], DRAFT202012.create_resource(schema)) for schema in SCHEMAS.values()
)
# Every hop of the pipeline checks one of these; the corpus must exercise each of them.
HOT_PATH = {
    "segment/message",
    "segment/identify",
    "segment/delete",
    "refersion/affiliate-new.request",
    "refersion/affiliate-new.response",
    "refersion/affiliate-delete.request",
    "refersion/affiliate-delete.response",
    "refersion/error",
    "destination/response",
}


def fast_path() -> FastPath:
    fast = CONTRACTS.fast_path
    assert fast is not None, "the bundled contracts are checked without the fast path"
    return fast


def assert_same_verdict(name: str, instance: Any) -> bool:
    """Both give the same violations; returns whether the instance is valid."""
    expected = REFERENCE.validate(name, instance)
    # repr: violations may hold NaN, which is never equal to itself.
    assert repr(CONTRACTS.validate(name, instance)) == repr(expected), (name, instance)
    assert CONTRACTS.is_valid(name, instance) == REFERENCE.is_valid(name, instance)
    vouched = fast_path().certainly_valid(name, instance)
    if is_plain_json(instance):
        # Not merely deferring: on plain JSON the compiled verdict is the answer.
        assert vouched == (expected == []), (name, instance)
    else:
        assert not vouched, (name, instance)
    return expected == []


def fixture_events() -> Iterator[tuple[str, dict[str, Any]]]:
    for path in FIXTURE_FILES:
        for case in parse_cases(str(path), path.read_bytes()):
            for event in case.events:
                yield str(path.relative_to(FIXTURES)), event


@pytest.fixture(scope="module")
def corpus_exchanges() -> dict[str, list[Any]]:
    """Every instance validated while the fixture corpus runs, by contract, without repeats."""
    seen: dict[str, dict[str, Any]] = {}
    original = ContractSet.validate

    def recording(self: ContractSet, name: str, instance: Any) -> Any:
        key = json.dumps(instance, sort_keys=True, default=repr)
        seen.setdefault(name, {}).setdefault(key, copy.deepcopy(instance))
        return original(self, name, instance)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ContractSet, "validate", recording)
        for path in FIXTURE_FILES:
            for case in parse_cases(str(path), path.read_bytes()):
                asyncio.run(run_case(case, base=fast_config()))
    return {name: list(instances.values()) for name, instances in seen.items()}


def test_the_fast_path_answers_for_a_valid_message() -> None:
    message = {"type": "identify", "userId": "u1", "traits": {"email": "a@example.com"}}
    assert fast_path().certainly_valid("segment/identify", message)
    assert not fast_path().certainly_valid("segment/identify", {**message, "traits": []})


@pytest.mark.parametrize("name", CONTRACTS.names)
def test_same_verdict_on_every_fixture_event(name: str) -> None:
    verdicts = Counter(assert_same_verdict(name, event) for _, event in fixture_events())
    assert sum(verdicts.values()) >= len(FIXTURE_FILES)


def test_same_verdict_on_every_exchange_of_the_corpus(
    corpus_exchanges: dict[str, list[Any]],
) -> None:
    assert set(corpus_exchanges) >= HOT_PATH
    for own, instances in corpus_exchanges.items():
        for instance in instances:
            # Its own contract, and every other one for a mix of verdicts.
            for name in CONTRACTS.names:
                assert_same_verdict(name, instance)
            assert own in CONTRACTS.names


@pytest.mark.parametrize("name", CONTRACTS.names)
def test_same_verdict_on_generated_instances(
    name: str, corpus_exchanges: dict[str, list[Any]]
) -> None:
    seeds = corpus_exchanges.get(name, [])
    verdicts: Counter[bool] = Counter()

    @settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(instances_of(SCHEMAS[name], seeds))
    def check(instance: Any) -> None:
        verdicts[assert_same_verdict(name, instance)] += 1

    check()
    # The strategy reaches both sides of the contract, so both directions are compared.
    assert verdicts[True] > 0
    assert verdicts[False] > 0


@pytest.mark.parametrize(
    "instance",
    [
        {"type": "identify", "userId": "u", "traits": {"tags": ("a", "b")}},
        {"type": "identify", "userId": ("u",)},
        {"type": "identify", "userId": "u", "version": float("nan")},
        {"type": "identify", "userId": "u", "version": float("inf")},
        {"type": "identify", "userId": "u", "version": 2**70},
        {"type": "identify", "userId": "\ud800"},
        {"type": "identify", "userId": "u", "\udfff": 1},
        {"type": "identify", "userId": "u", 7: "not a string key"},
        {"type": "identify", "userId": "u", "traits": {"when": b"bytes"}},
        {"type": "identify", "userId": "u", "traits": Counter(a=1)},
    ],
    ids=repr,
)
def test_values_json_cannot_carry_are_left_to_jsonschema(instance: dict[Any, Any]) -> None:
    assert not is_plain_json(instance)
    for name in ("segment/message", "segment/identify", "segment/batch"):
        assert_same_verdict(name, instance)


def check_schema_passes(schema: Any) -> bool:
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError:
        return False
    return True


def vouched_schema(schema: Any) -> bool:
    """Whether the fast path vouched for ``schema``, which check_schema must then accept.

    Loading falls back to check_schema whenever the fast path does not vouch, so only this
    direction matters (jsonschema-rs also refuses e.g. a ``$schema`` naming no draft).
    """
    vouched = schema_certainly_valid(schema)
    if vouched:
        assert is_plain_json(schema)
        assert check_schema_passes(schema), schema
    return vouched


@pytest.mark.parametrize("name", CONTRACTS.names)
def test_every_contract_is_vouched_for_as_a_schema(name: str) -> None:
    assert vouched_schema(SCHEMAS[name])


def test_a_vouched_schema_passes_check_schema() -> None:
    verdicts: Counter[tuple[bool, bool]] = Counter()

    @settings(suppress_health_check=[HealthCheck.too_slow])
    @given(SCHEMA_LIKE | _broken_schema(st.sampled_from(sorted(SCHEMAS)).map(SCHEMAS.get)))
    def check(schema: Any) -> None:
        verdicts[(vouched_schema(schema), check_schema_passes(schema))] += 1

    check()
    assert verdicts[(True, True)] > 0
    assert verdicts[(False, False)] > 0


def test_emails_are_judged_by_the_reference_checker() -> None:
    # jsonschema-rs has its own idea of an email; the contracts use email-validator's.
    request = {
        "first_name": "A",
        "last_name": "B",
        "password": "Aa1!Bb2@Cc3#",
        "status": "PENDING",
    }
    for email in ["peter@example.com", "a@localhost", "a..b@example.com", "ü@exämple.com", "a@b"]:
        assert_same_verdict("refersion/affiliate-new.request", {**request, "email": email})


# -- instances of a contract, valid and not, built from its schema ----------------------------

EMAILS = st.one_of(
    st.emails(),
    st.sampled_from(
        [
            "peter@example.com",
            "PETER@EXAMPLE.COM",
            " peter@example.com",
            "a@b",
            "a@localhost",
            "a@example.test",
            "a..b@example.com",
            ".a@example.com",
            "a@-example.com",
            "user@[127.0.0.1]",
            "ünïcode@exämple.com",
            "a@example.com\n",
            "@example.com",
            "a" * 65 + "@example.com",
        ]
    ),
    st.text(alphabet="ab.@-_é+", max_size=16),
)
URIS = st.one_of(
    st.sampled_from(["https://emulator.refersion.com/c/a3y7", "mailto:a@b", "not a uri", "x:"]),
    st.text(max_size=12).map(lambda path: f"https://example.com/{path}"),
    st.text(alphabet="hpst:/ .x", max_size=12),
)
PASSWORDS = st.one_of(
    st.text(alphabet="aAzZ19!# é\n", max_size=80),
    st.builds(
        lambda head, char, times, tail: head + char * times + tail,
        st.text(alphabet="aA1!", max_size=10),
        st.sampled_from("aA1!é\n"),
        st.integers(1, 6),
        st.text(alphabet="bB2?", max_size=10),
    ),
)


def _walk(node: Any) -> Iterator[Mapping[str, Any]]:
    if isinstance(node, Mapping):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from _walk(item)


CONSTANTS = sorted(
    {
        json.dumps(value)
        for schema in SCHEMAS.values()
        for node in _walk(schema)
        for value in [*node.get("enum", []), *([node["const"]] if "const" in node else [])]
    }
)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)
# Any value in the wrong place: wrong types, empty values, other fields' values.
ATOMS = st.one_of(
    JSON_VALUES,
    st.sampled_from(CONSTANTS).map(json.loads),
    EMAILS,
    PASSWORDS,
    st.sampled_from(["", " ", "0", "-1", "null", "2026-01-01T00:00:00.000Z", "https://x.example"]),
    st.integers(-3, 3),
)


def instances_of(schema: Mapping[str, Any], seeds: list[Any]) -> st.SearchStrategy[Any]:
    """Seeds from the corpus and values shaped by the schema, each possibly broken."""
    shaped = _shaped(schema, schema["$id"], depth=0)
    sources = [shaped, _broken(shaped)]
    if seeds:
        seed = st.sampled_from(seeds).map(copy.deepcopy)
        sources += [seed, _broken(seed)]
    return st.one_of(*sources, ATOMS)


def _merged(schema: Mapping[str, Any], more: Mapping[str, Any]) -> dict[str, Any]:
    """Both schemas' keywords as one, their properties and required lists combined."""
    merged = {**schema, **more}
    if "properties" in schema or "properties" in more:
        merged["properties"] = {**schema.get("properties", {}), **more.get("properties", {})}
    if "required" in schema or "required" in more:
        merged["required"] = [*schema.get("required", []), *more.get("required", [])]
    return merged


def _broken(values: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """An object with one field removed, replaced, or added."""

    def breaking(value: Any, key: str, replacement: Any, how: int) -> Any:
        if not isinstance(value, dict):
            return value
        changed = dict(value)
        if how == 0 and changed:
            changed.pop(sorted(changed)[len(key) % len(changed)])
        elif how == 1 and changed:
            changed[sorted(changed)[len(key) % len(changed)]] = replacement
        else:
            changed[key] = replacement
        return changed

    keys = st.sampled_from(sorted({k for s in SCHEMAS.values() for k in _property_names(s)}))
    return st.builds(breaking, values, keys | st.text(max_size=6), ATOMS, st.integers(0, 2))


def _property_names(schema: Mapping[str, Any]) -> Iterator[str]:
    for node in _walk(schema):
        properties = node.get("properties")
        if isinstance(properties, Mapping):
            yield from properties


def _shaped(node: Any, base: str, depth: int) -> st.SearchStrategy[Any]:
    if not isinstance(node, Mapping) or depth > 4:
        return ATOMS
    if "$ref" in node:
        resolved = REGISTRY.resolver(base_uri=base).lookup(node["$ref"])
        target = dict(resolved.contents)
        ref_base = str(target.get("$id", base if node["$ref"].startswith("#") else node["$ref"]))
        rest = {k: v for k, v in node.items() if k != "$ref"}
        return _shaped(_merged(target, rest), ref_base.split("#")[0], depth + 1)
    branches = node.get("oneOf", []) + node.get("anyOf", [])
    if branches:
        rest = {k: v for k, v in node.items() if k not in ("oneOf", "anyOf")}
        return st.one_of(*(_shaped(_merged(rest, branch), base, depth + 1) for branch in branches))
    if "enum" in node:
        return st.sampled_from(node["enum"])
    if "const" in node:
        return st.just(node["const"])
    kinds = node.get("type")
    kind = kinds if isinstance(kinds, str) else None
    if isinstance(kinds, list):
        return st.one_of(*(_shaped({**node, "type": k}, base, depth) for k in kinds))
    if "properties" in node or kind == "object":
        properties = node.get("properties", {})
        required = set(node.get("required", []))
        shaped = {key: _shaped(sub, base, depth + 1) for key, sub in properties.items()}
        return st.fixed_dictionaries(
            {key: value for key, value in shaped.items() if key in required},
            optional={key: value for key, value in shaped.items() if key not in required},
        )
    if kind == "array":
        items = node.get("items", {})
        return st.lists(_shaped(items, base, depth + 1), max_size=3)
    if kind == "string":
        if node.get("format") == "email":
            return EMAILS
        if node.get("format") == "uri":
            return URIS
        if "pattern" in node or node.get("writeOnly"):
            return PASSWORDS
        return st.text(max_size=node.get("maxLength", 20) + 2)
    if kind == "integer":
        return st.integers(-5, 10**10)
    if kind in ("number", "boolean", "null"):
        return {"number": st.floats(allow_nan=False), "boolean": st.booleans()}.get(kind, st.none())
    return ATOMS


# -- schemas, valid and not, for the meta-schema check -----------------------------------------

KEYWORDS = [
    "type", "properties", "required", "items", "pattern", "patternProperties", "enum",
    "const", "minLength", "maxLength", "format", "anyOf", "oneOf", "not", "$ref", "$defs",
    "additionalProperties", "minimum", "multipleOf", "$id", "$schema", "$anchor",
    "dependentRequired", "propertyNames", "unevaluatedProperties", "writeOnly", "description",
]  # fmt: skip
SCHEMA_ATOMS = st.one_of(
    ATOMS,
    st.sampled_from(["string", "object", "integer", "number", "array", "null", "strin"]),
    st.sampled_from(["^a$", "[a-", "(?<n>a)", "(?P<n>a)", r"\p{L}", r"([\s\S])\1{3}", "a{2,1}"]),
    st.sampled_from(["#", "#/$defs/x", "https://example.com/s.json", "a b", "#anchor"]),
    st.lists(st.text(max_size=4), max_size=3),
)
SCHEMA_LIKE = st.recursive(
    st.dictionaries(st.sampled_from(KEYWORDS), SCHEMA_ATOMS, max_size=3),
    lambda children: st.dictionaries(
        st.sampled_from(KEYWORDS),
        st.one_of(
            SCHEMA_ATOMS,
            children,
            st.lists(children, max_size=2),
            st.dictionaries(st.text(max_size=4), children, max_size=2),
        ),
        max_size=4,
    ),
    max_leaves=10,
)


def _broken_schema(schemas: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A bundled schema with one keyword of one subschema replaced."""

    def breaking(schema: Any, keyword: str, value: Any, index: int) -> Any:
        changed = copy.deepcopy(schema)
        nodes = [node for node in _walk(changed) if isinstance(node, dict)]
        node = nodes[index % len(nodes)]
        node[keyword] = value
        return changed

    return st.builds(
        breaking, schemas, st.sampled_from(KEYWORDS), SCHEMA_ATOMS | SCHEMA_LIKE, st.integers(0, 99)
    )
