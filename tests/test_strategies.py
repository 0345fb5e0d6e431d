"""The public strategies keep their promises: each event ends where, and how, it says it will.

Checked here against the pure parts (Segment's ingest rules, the mapping, the contracts);
tests/test_check_properties.py checks the same promises end to end over HTTP.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emulator import strategies
from emulator.contract_checks.contract_set import default_contracts
from emulator.countries import REFERSION_COUNTRIES, normalise_country
from emulator.destination.mapping import MappingSettings, Operation, Rejection, map_message
from emulator.segment.ingest import (
    INGEST_REASONS,
    TrackingRequestError,
    enrich,
    parse_tracking_request,
)
from emulator.segment.timestamps import parse_timestamp
from emulator.strategies import GeneratedEvent

SETTINGS = MappingSettings(password_salt="salt")
CONTRACTS = default_contracts()
# Fields of affiliate/new the settings decide, not the event.
FROM_SETTINGS = {"password", "status", "send_welcome", "offer"}


def ingest(message: dict[str, Any]) -> tuple[dict[str, Any] | None, str | None]:
    """What Segment's Tracking API makes of one message sent in a batch: (message, reason)."""
    body = json.dumps({"writeKey": "wk", "batch": [message]}).encode()
    try:
        request = parse_tracking_request("batch", body)
    except TrackingRequestError as error:
        return None, error.code
    [event] = enrich(
        request, received_at=datetime.now(UTC), source_id="src", new_message_id=lambda: "id"
    )
    return event.message, event.reason


def assert_ends_as_promised(event: GeneratedEvent, *, entry: str) -> None:
    message: dict[str, Any] | None = event.message
    if entry == "tracking-api":
        message, reason = ingest(event.message)
        if event.stage == "ingest":
            assert reason == event.reason
            return
        assert reason is None, reason
    assert message is not None
    result = map_message(message, settings=SETTINGS)
    if event.stage == "destination":
        assert isinstance(result, Rejection)
        assert (result.reason, result.status) == (event.reason, 400)
        return
    assert isinstance(result, Operation), result
    sent = {key: value for key, value in result.body.items() if key not in FROM_SETTINGS}
    assert sent == dict(event.fields)
    assert event.warnings <= {warning.code for warning in result.warnings}


@given(event=strategies.identify_events() | strategies.engage_events())
def test_valid_identifies_pass_ingest_and_their_contract(event: GeneratedEvent) -> None:
    assert event.stage == "refersion"
    message, reason = ingest(event.message)
    assert reason is None
    assert CONTRACTS.validate("segment/message", event.message) == []
    assert CONTRACTS.validate("segment/identify", message) == []


@given(event=strategies.engage_events())
def test_engage_events_carry_personas_and_a_snake_cased_boolean_audience_trait(
    event: GeneratedEvent,
) -> None:
    personas = event.message["context"]["personas"]
    audience = personas["computation_key"]
    assert audience == audience.lower()
    assert " " not in audience
    assert isinstance(event.message["traits"][audience], bool)
    assert_ends_as_promised(event, entry="tracking-api")


@given(pair=strategies.identify_and_delete_events())
def test_delete_events_name_the_affiliate_the_identify_created(
    pair: tuple[GeneratedEvent, GeneratedEvent],
) -> None:
    identify, delete = pair
    assert delete.fields["unique_merchant_id"] == identify.fields["unique_merchant_id"]
    assert delete.fields.get("email", identify.fields["email"]) == identify.fields["email"]
    assert CONTRACTS.validate("segment/delete", delete.message) == []
    assert_ends_as_promised(delete, entry="delivery")


@given(event=strategies.delete_events())
def test_delete_events_come_in_every_irregular_shape_and_map_to_their_fields(
    event: GeneratedEvent,
) -> None:
    for key in ("context", "integrations"):
        assert event.message.get(key) in (None, [], {})
    original = event.message.get("originalTimestamp")
    assert original is None or parse_timestamp(original) is not None
    assert_ends_as_promised(event, entry="delivery")


@given(event=strategies.invalid_delete_events())
def test_invalid_deletes_are_rejected_for_lack_of_a_user(event: GeneratedEvent) -> None:
    assert (event.stage, event.reason) == ("destination", "missing_user_id")
    assert_ends_as_promised(event, entry="delivery")


@pytest.mark.parametrize("rule", strategies.INVALID_RULES)
def test_each_invalid_rule_is_turned_away_where_and_how_it_says(rule: str) -> None:
    @settings(max_examples=15)
    @given(event=strategies.invalid_identify_events(rules=(rule,)))
    def check(event: GeneratedEvent) -> None:
        assert event.variant == f"invalid/{rule}"
        assert_ends_as_promised(event, entry="tracking-api")

    check()


@pytest.mark.parametrize(
    "rule",
    [rule for rule in strategies.INVALID_RULES if rule.startswith(("wrong_type:", "too_long:"))],
)
def test_contract_derived_rules_break_the_contract_exactly_at_their_field(rule: str) -> None:
    field = rule.split(":", 1)[1]

    @settings(max_examples=15)
    @given(event=strategies.invalid_identify_events(rules=(rule,)))
    def check(event: GeneratedEvent) -> None:
        violations = CONTRACTS.validate("segment/message", event.message)
        assert {violation.pointer for violation in violations} == {f"/{field}"}

    check()


def test_contract_derived_rules_cover_every_typed_field_segment_ingest_checks() -> None:
    properties = CONTRACTS.schema("segment/message")["properties"]
    derived = {rule.split(":", 1)[1] for rule in strategies.INVALID_RULES if ":" in rule}
    assert derived == set(strategies.INGEST_TYPE_RULES)
    assert derived <= set(properties)
    assert set(strategies.INGEST_TYPE_RULES.values()) <= set(INGEST_REASONS)
    assert "too_long:messageId" in strategies.INVALID_RULES  # from its maxLength


def test_every_refersion_country_is_generated_in_several_spellings_that_normalise() -> None:
    for spelling, code in strategies.COUNTRY_SPELLINGS:
        assert normalise_country(spelling).code == code, spelling
    codes = {code for _, code in strategies.COUNTRY_SPELLINGS}
    schema = CONTRACTS.schema("refersion/affiliate-new.request")
    assert codes == REFERSION_COUNTRIES == set(schema["properties"]["country"]["enum"])
    spellings = {spelling for spelling, _ in strategies.COUNTRY_SPELLINGS}
    assert {"USA", "United States", "us", "US", "UK", "GB"} <= spellings


@given(form=st.sampled_from(strategies.TIMESTAMP_FORMS), data=st.data())
def test_every_timestamp_form_parses(form: str, data: st.DataObject) -> None:
    text = data.draw(strategies.timestamps(forms=(form,)))
    assert parse_timestamp(text) is not None, text
    if form == "go":
        assert " m=+" in text
    if form == "iso-nanos-z":
        assert len(text.rsplit(".", 1)[1]) == len("123456789Z")


def test_unknown_options_are_refused_with_the_known_ones() -> None:
    with pytest.raises(ValueError, match="camel"):
        strategies.identify_events(conventions=("kebab",))
    with pytest.raises(ValueError, match="missing_email"):
        strategies.invalid_identify_events(rules=("no_such_rule",))
    with pytest.raises(ValueError, match="iso-millis-z"):
        strategies.timestamps(forms=())


def test_sample_gives_the_same_values_for_the_same_seed() -> None:
    first = strategies.sample(strategies.identifies(), count=20, seed=4)
    again = strategies.sample(strategies.identifies(), count=20, seed=4)
    other = strategies.sample(strategies.identifies(), count=20, seed=5)
    assert len(first) == 20
    assert first == again
    assert first != other
