"""The invariants of ``check``, end to end over real loopback HTTP through all three parts.

Each property runs against a fresh in-process emulator; a second emulator stands in for a
team's own receiver and Refersion-compatible account when the check targets URLs.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from hypothesis import settings

from emulator.check import PROPERTY_NAMES, CheckOptions, CheckReport, PropertyResult
from emulator.config import EmulatorConfig
from emulator.destination.mapping import MappingSettings, Operation, map_message
from emulator.errors import InputError
from emulator.server.emulator import Emulator
from emulator.server.runners.check_driver import run_check
from emulator.strategies import INVALID_RULES
from tests.support import fast_config

# Half the profile's examples: every example is several HTTP round trips.
EXAMPLES = max(10, settings().max_examples // 2)
CONFIG = EmulatorConfig(port=0, retry_budget=2.0, retry_initial_backoff=0.02, seed=3)


async def check(
    *properties: str, config: EmulatorConfig = CONFIG, examples: int = EXAMPLES, **options: Any
) -> CheckReport:
    chosen = properties or PROPERTY_NAMES
    return await run_check(
        config, CheckOptions(examples=examples, seed=1234, properties=chosen, **options)
    )


def only(report: CheckReport) -> PropertyResult:
    [result] = report.results
    assert result.failure is None, result.failure.message
    assert result.examples >= min(EXAMPLES, 10)
    return result


async def test_round_trip_every_valid_identify_creates_exactly_the_mapped_affiliate() -> None:
    result = only(await check("round_trip"))
    exercised = result.exercised
    assert set(exercised.outcomes) == {"created"}
    assert set(exercised.refersion_statuses) == {"affiliate/new 200"}
    conventions = {variant.split("/")[1] for variant in exercised.variants}
    assert {"name", "camel", "snake"} <= conventions
    assert any(variant.startswith("engage/") for variant in exercised.variants)
    assert {"traits.address.country", "context.personas"} <= set(exercised.segment_fields)


async def test_invalid_identifies_are_turned_away_with_their_code_and_never_reach_refersion() -> (
    None
):
    result = only(await check("invalid_turned_away"))
    exercised = result.exercised
    # The simplest event of each rule runs first, so every rule is always exercised.
    assert set(exercised.variants) == {f"invalid/{rule}" for rule in INVALID_RULES}
    assert set(exercised.reasons) >= {
        "missing_email",
        "invalid_email",
        "email_not_string",
        "name_incomplete",
        "name_not_string",
        "missing_name",
        "no_user_anon_id",
        "id_not_string",
        "traits_not_object",
        "timestamp_invalid",
        "message_too_large",
    }
    # Only the repaired non-object address reaches Refersion.
    repaired = exercised.variants["invalid/address_not_object"]
    assert exercised.refersion_statuses == {"affiliate/new 200": repaired}
    assert exercised.warnings["address_not_object"] == repaired


async def test_three_spellings_of_one_person_send_one_request() -> None:
    result = only(await check("same_person_same_request"))
    variants = result.exercised.variants
    assert variants["identify/name"] == variants["identify/camel"] == variants["identify/snake"]


async def test_one_message_id_twice_leaves_one_affiliate() -> None:
    result = only(await check("duplicate_message_id"))
    assert {"created", "duplicate", "already_exists"} <= set(result.exercised.outcomes)


async def test_identify_then_delete_leaves_nothing_and_delete_is_idempotent() -> None:
    result = only(await check("delete_leaves_nothing"))
    outcomes = result.exercised.outcomes
    assert outcomes["deleted"] == outcomes["not_found"] == outcomes["created"]
    shapes = {variant for variant in result.exercised.variants if variant.startswith("delete/")}
    assert {"delete/context=null", "delete/context=[]"} <= {s.split(" ")[0] for s in shapes}


async def test_any_interleaving_leaves_the_account_equal_to_the_model() -> None:
    result = only(await check("stateful_model", stateful_steps=8))
    outcomes = result.exercised.outcomes
    assert {"created", "already_exists", "duplicate", "deleted", "not_found"} <= set(outcomes)


@pytest.fixture
async def team_receiver() -> AsyncIterator[Emulator]:
    """Another emulator: its /destination and fake Refersion play a team's own services."""
    async with Emulator(fast_config()) as other:
        yield other


async def test_check_against_urls_checks_a_receiver_and_refersion_it_does_not_own(
    team_receiver: Emulator,
) -> None:
    config = dataclasses.replace(
        CONFIG,
        destination_url=team_receiver.destination_url,
        refersion_url=team_receiver.refersion_url,
    )
    report = await check(config=config, examples=10, stateful_steps=5)
    assert report.passed, [f.message for f in report.failures]
    assert report.target == {
        "destination": team_receiver.destination_url,
        "refersion": team_receiver.refersion_url,
    }
    # Everything went through the other emulator; it is left with no affiliate.
    assert team_receiver.runtime.store.count() == 0
    assert team_receiver.runtime.journal.counts()["created"] > 0


async def test_a_receiver_that_answers_200_and_does_nothing_fails_the_round_trip(
    aiohttp_server: Any,
) -> None:
    async def lazy(_request: web.Request) -> web.Response:
        return web.json_response({"message": "ok"})

    app = web.Application()
    app.router.add_route("*", "/destination", lazy)
    server = await aiohttp_server(app)
    config = dataclasses.replace(CONFIG, destination_url=str(server.make_url("/destination")))
    report = await check("round_trip", config=config, examples=5)
    [failure] = report.failures
    assert failure.message == "expected one affiliate/new answered 200, Refersion got []"
    assert failure.fixture is not None
    assert len(failure.fixture["events"]) == 1


async def test_an_unreachable_destination_fails_fast_with_a_usage_error() -> None:
    config = dataclasses.replace(CONFIG, destination_url="http://127.0.0.1:9/destination")
    with pytest.raises(InputError, match=r"--destination-url http://127\.0\.0\.1:9/destination"):
        await check("round_trip", config=config, examples=5)


def splits_names_wrongly(message: Any, *, settings: MappingSettings) -> Any:
    """A planted bug: the last name gets the first name too when a ``name`` is split."""
    result = map_message(message, settings=settings)
    if isinstance(result, Operation) and "name" in message.get("traits", {}):
        body = {**result.body, "last_name": result.body["first_name"]}
        return dataclasses.replace(result, body=body)
    return result


async def test_a_mapping_passed_in_is_the_one_checked() -> None:
    report = await run_check(
        CONFIG,
        CheckOptions(examples=EXAMPLES, seed=99, properties=("same_person_same_request",)),
        mapping=splits_names_wrongly,
    )
    [failure] = report.failures
    assert "affiliate/get differs" in failure.message
    assert "last_name" in failure.message


def raises_on_company(message: Any, *, settings: MappingSettings) -> Any:
    """A planted crash: a mapping that raises (the Mapping protocol forbids it)."""
    traits = message.get("traits")
    if isinstance(traits, dict) and "company" in traits:
        raise KeyError("company")
    return map_message(message, settings=settings)


async def test_a_crashing_mapping_fails_fast_on_the_5xx_and_shrinks_to_the_trigger() -> None:
    report = await run_check(
        CONFIG,
        CheckOptions(examples=EXAMPLES, seed=5, properties=("round_trip",)),
        mapping=raises_on_company,
    )
    [failure] = report.failures
    assert "unhandled exceptions" in failure.message
    assert failure.fixture is not None
    [event] = failure.fixture["events"]
    assert set(event["traits"]) <= {
        "name",
        "firstName",
        "lastName",
        "first_name",
        "last_name",
        "email",
        "company",
    }
    assert "company" in event["traits"]


async def test_an_identify_or_delete_delivered_twice_leaves_the_state_of_one() -> None:
    result = only(await check("delivered_twice"))
    outcomes = result.exercised.outcomes
    assert outcomes["created"] == outcomes["already_exists"]
    assert outcomes["deleted"] == outcomes["not_found"] == outcomes["created"]
    assert any(v.endswith("(delivered twice)") for v in result.exercised.variants)


def creates_again_when_delivered_twice(message: Any, *, settings: MappingSettings) -> Any:
    """A planted bug: a destination that is not idempotent. Every second delivery of an
    identify (each example delivers it twice, replays included) creates another affiliate."""
    result = map_message(message, settings=settings)
    if isinstance(result, Operation) and result.endpoint == "affiliate/new":
        message_id = str(message.get("messageId"))
        _DELIVERIES[message_id] += 1
        if _DELIVERIES[message_id] % 2 == 0:
            body = {**result.body, "email": "second." + str(result.body["email"])}
            return dataclasses.replace(result, body=body)
    return result


_DELIVERIES: Counter[str] = Counter()


async def test_delivered_twice_catches_a_destination_that_is_not_idempotent(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("emulator.server.runtime.map_message", creates_again_when_delivered_twice)
    report = await check("delivered_twice", examples=5)
    [result] = report.results
    assert result.failure is not None
    assert "expected already_exists (email_taken), got created" in result.failure.message
