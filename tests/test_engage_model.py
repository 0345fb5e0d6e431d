"""The Engage sync simulator's model: keys, initial vs incremental syncs, message shape, timing."""

from __future__ import annotations

import itertools
import random
import re
from datetime import UTC, datetime
from typing import Any

import pytest

from emulator.errors import InputError
from emulator.segment.engage.input import EngageInputError
from emulator.segment.engage.keys import engage_key
from emulator.segment.engage.space import ComputationExists, EngageSpace, UnknownComputation
from emulator.segment.timestamps import parse_timestamp

KEY = "order_completed_last_30days"
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC).timestamp()

ADA = {
    "userId": "u-ada",
    "email": "ada@example.com",
    "traits": {"first_name": "Ada", "last_name": "Lovelace", "plan": "gold"},
}
BOB = {"userId": "u-bob", "emails": ["bob@example.com", "bob@work.example.com"]}
CY = {"anonymousId": "anon-cy"}


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("Order Completed Last 30 Days", "order_completed_last_30days"),
        ("High Value Users", "high_value_users"),
        ("First Time Shopper", "first_time_shopper"),
        ("high_value_users", "high_value_users"),
        ("VIP Customers", "vip_customers"),
        ("VIPCustomers", "vip_customers"),
        ("sampleText", "sample_text"),
        ("Base64Encode", "base64_encode"),
        ("  Churn-Risk (EU)  ", "churn_risk_eu"),
        ("Café Lovers", "cafe_lovers"),
        ("Last30Days", "last30_days"),
        ("Viewed Pricing 3+ Times", "viewed_pricing_3times"),
        ("Cohort 2024", "cohort_2024"),
        ("Q3 Buyers", "q3_buyers"),
        ("Top 10 Customers", "top_10customers"),
        ("30 60 Days", "30_60days"),
    ],
)
def test_audience_names_become_engage_keys(name: str, key: str) -> None:
    assert engage_key(name) == key


@pytest.mark.parametrize("name", ["", "   ", "!!!", "日本"])
def test_a_name_without_letters_or_digits_has_no_key(name: str) -> None:
    with pytest.raises(InputError, match="no letter or digit"):
        engage_key(name)


def space(**definition: Any) -> tuple[EngageSpace, str]:
    engage = EngageSpace(rng=random.Random(3))
    computation = engage.define({"name": "Order Completed Last 30 Days", **definition}, now=T0)
    return engage, computation.key


def test_the_initial_sync_sends_every_member_with_the_key_true_in_engages_shape() -> None:
    engage, key = space(includeTraits=["first_name", "last_name"])
    result = engage.sync(key, [ADA, CY])
    assert (result.number, result.kind) == (1, "initial")
    assert [c.change for c in result.changes] == ["entered", "entered"]
    ada, cy = result.messages
    assert ada["type"] == "identify"
    assert ada["userId"] == "u-ada"
    assert ada["traits"] == {
        "first_name": "Ada",
        "last_name": "Lovelace",
        "email": "ada@example.com",
        KEY: True,
    }
    personas = ada["context"]["personas"]
    assert personas["computation_class"] == "audience"
    assert personas["computation_key"] == KEY
    assert personas["computation_id"].startswith("aud_")
    assert personas["space_id"] == personas["namespace"] == engage.space_id
    assert engage.space_id.startswith("spa_")
    assert ada["context"]["integrations"] == {"personas": False}
    assert ada["context"]["library"] == {"name": "unknown", "version": "unknown"}
    assert ada["integrations"] == {"All": False, "Refersion": True, "Warehouses": {"all": False}}
    assert re.fullmatch(r"personas_[0-9A-Za-z]{27}", ada["messageId"])
    assert ada["sentAt"] is None
    # The initial sync comes six hours after the audience is created, by default.
    assert re.fullmatch(r"2026-03-01T18:00:00\.\d{9}Z", ada["originalTimestamp"])
    assert ada["receivedAt"] == ada["timestamp"] == "2026-03-01T18:00:00.000Z"
    # Without an email identifier or included traits, only the key and the id are sent.
    assert cy["traits"] == {KEY: True}
    assert cy["anonymousId"] == "anon-cy"
    assert "userId" not in cy


def test_without_include_traits_only_the_key_and_identifiers_are_sent() -> None:
    engage, key = space()
    [message] = engage.sync(key, [ADA]).messages
    assert message["traits"] == {"email": "ada@example.com", KEY: True}


def test_a_profile_with_several_emails_gets_one_identify_per_email() -> None:
    engage, key = space()
    messages = engage.sync(key, [BOB]).messages
    assert [m["traits"]["email"] for m in messages] == ["bob@example.com", "bob@work.example.com"]
    assert {m["userId"] for m in messages} == {"u-bob"}
    assert len({m["messageId"] for m in messages}) == 2


def test_incremental_syncs_send_only_who_entered_and_who_exited() -> None:
    engage, key = space(includeTraits=["first_name"])
    engage.sync(key, [ADA, BOB])
    # Ada's profile traits changed but she stayed: Engage sends nothing for her.
    ada_renamed = {**ADA, "traits": {"first_name": "Augusta"}}
    result = engage.sync(key, [ada_renamed, CY])
    assert result.kind == "incremental"
    assert [(c.member.identity, c.change, c.value) for c in result.changes] == [
        ("anonymousId:anon-cy", "entered", True),
        ("u-bob", "exited", False),
    ]
    exits = [m for m in result.messages if m.get("userId") == "u-bob"]
    assert [m["traits"] for m in exits] == [
        {"email": "bob@example.com", KEY: False},
        {"email": "bob@work.example.com", KEY: False},
    ]
    assert engage.sync(key, [ada_renamed, CY]).messages == ()


def test_a_new_email_on_a_member_is_synced_for_that_email_only() -> None:
    engage, key = space()
    engage.sync(key, [ADA])
    with_work_email = {**ADA, "emails": ["ada@work.example.com"]}
    result = engage.sync(key, [with_work_email])
    assert [c.change for c in result.changes] == ["new_identifier"]
    [message] = result.messages
    assert message["traits"] == {"email": "ada@work.example.com", KEY: True}


def test_computed_traits_send_values_initially_then_only_changes() -> None:
    engage = EngageSpace(rng=random.Random(1))
    trait = engage.define({"name": "Total Revenue 180 Days", "computationClass": "trait"}, now=T0)
    assert trait.key == "total_revenue_180days"
    first = engage.sync(trait.key, [{**ADA, "value": 450.0}, {"userId": "u-2", "value": 10}])
    assert [m["traits"][trait.key] for m in first.messages] == [450.0, 10]
    assert first.messages[0]["context"]["personas"]["computation_class"] == "trait"
    assert first.messages[0]["context"]["personas"]["computation_id"].startswith("tra_")
    second = engage.sync(trait.key, [{**ADA, "value": 450.0}, {"userId": "u-2", "value": 12}])
    assert [(c.member.identity, c.change, c.value) for c in second.changes] == [
        ("u-2", "changed", 12)
    ]


def test_sync_times_are_simulated_without_waiting() -> None:
    engage, key = space(initialSyncDelay=600, syncInterval=7200)
    first = engage.sync(key, [ADA])
    second = engage.sync(key, [])
    assert first.at == T0 + 600
    assert second.at == T0 + 600 + 7200
    chosen = datetime(2026, 3, 2, tzinfo=UTC)
    third = engage.sync(key, [ADA], at=chosen.timestamp())
    assert parse_timestamp(third.messages[0]["timestamp"]) == chosen
    assert third.to_dict()["nextSyncAt"] == "2026-03-02T02:00:00.000Z"
    with pytest.raises(EngageInputError, match="before the previous sync"):
        engage.sync(key, [], at=T0)


def test_by_default_the_initial_sync_takes_six_hours_then_every_two_to_three() -> None:
    engage, key = space()
    first = engage.sync(key, [ADA])
    assert first.at == T0 + 6 * 3600
    times = [first.at] + [engage.sync(key, []).at for _ in range(40)]
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert all(2 * 3600 <= gap <= 3 * 3600 for gap in gaps)
    assert len(set(gaps)) > 1, "the cadence varies within Engage's two to three hours"
    shown = engage.sync(key, []).to_dict()
    assert shown["nextSyncAt"] > shown["at"]


def test_sync_interval_max_draws_the_gap_from_a_range() -> None:
    engage, key = space(syncInterval=100, syncIntervalMax=200)
    times = [engage.sync(key, []).at for _ in range(20)]
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert all(100 <= gap <= 200 for gap in gaps)
    assert engage.get(key).to_dict()["syncIntervalMax"] == 200


def test_a_key_can_be_given_and_is_unique_per_space() -> None:
    engage = EngageSpace(rng=random.Random(1))
    given = engage.define({"name": "Buyers (last 30 days)", "key": "buyers_30d"}, now=T0)
    assert given.key == "buyers_30d"
    with pytest.raises(ComputationExists, match="buyers_30d"):
        engage.define({"name": "Other", "key": "buyers_30d"}, now=T0)
    with pytest.raises(UnknownComputation, match="known: buyers_30d"):
        engage.sync("nope", [])


@pytest.mark.parametrize(
    ("definition", "field", "words"),
    [
        ([], "", "JSON object"),
        ({}, "name", "name is required"),
        ({"name": 3}, "name", "name is required"),
        ({"name": "!!"}, "name", "no letter or digit"),
        ({"name": "A", "key": "has space"}, "key", "letters, digits or underscores"),
        ({"name": "A", "computationClass": "journey"}, "computationClass", "audience, trait"),
        ({"name": "A", "includeTraits": "email"}, "includeTraits", "array of non-empty strings"),
        ({"name": "A", "include_traits": ["email"]}, "include_traits", "unknown field"),
        ({"name": "A", "syncInterval": -1}, "syncInterval", "0 or more"),
        (
            {"name": "A", "syncInterval": 10, "syncIntervalMax": 5},
            "syncIntervalMax",
            "at least syncInterval",
        ),
        ({"name": "A", "spaceId": ""}, "spaceId", "non-empty string"),
    ],
)
def test_bad_definitions_name_the_field_and_the_rule(
    definition: Any, field: str, words: str
) -> None:
    with pytest.raises(EngageInputError, match=re.escape(words)) as caught:
        EngageSpace(rng=random.Random(1)).define(definition, now=T0)
    assert caught.value.field == field


@pytest.mark.parametrize(
    ("members", "field", "words"),
    [
        ({"userId": "u"}, "members", "array of profiles"),
        (["u-1"], "members[0]", "JSON object"),
        ([{"email": "a@example.com"}], "members[0].userId", "userId or an anonymousId"),
        ([{"userId": ""}], "members[0].userId", "non-empty string"),
        ([{"userId": "u", "email": ["a@example.com"]}], "members[0].email", "must be a string"),
        ([{"userId": "u", "emails": "a@example.com"}], "members[0].emails", "array"),
        ([{"userId": "u", "traits": []}], "members[0].traits", "object"),
        ([{"userId": "u", "name": "Ada"}], "members[0].name", "unknown field"),
        ([{"userId": "u"}, {"userId": "u"}], "members[1]", "repeats the profile u"),
    ],
)
def test_bad_snapshots_name_the_member_and_the_rule(members: Any, field: str, words: str) -> None:
    engage, key = space()
    with pytest.raises(EngageInputError, match=re.escape(words)) as caught:
        engage.sync(key, members)
    assert caught.value.field == field
    # A refused snapshot changes nothing: the next good one is still the initial sync.
    assert engage.sync(key, [ADA]).kind == "initial"


def test_a_computed_trait_member_needs_a_value() -> None:
    engage = EngageSpace(rng=random.Random(1))
    trait = engage.define({"name": "LTV", "computationClass": "trait"}, now=T0)
    with pytest.raises(EngageInputError, match="needs the computed trait's value"):
        engage.sync(trait.key, [{"userId": "u"}])
