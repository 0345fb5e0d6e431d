"""Every variant of every assumption behaves as the registry says: the pure core first, then
end to end over loopback HTTP through each surface that switches them."""

from __future__ import annotations

import dataclasses
import json
import random
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from emulator.assumptions import ASSUMPTIONS, AssumptionChoices
from emulator.check.variants import NOT_CHECKED
from emulator.config import DestinationSettings, EmulatorConfig
from emulator.destination.answer import answer_for_refersion
from emulator.destination.mapping import (
    MappingResult,
    MappingSettings,
    Operation,
    Rejection,
    map_message,
)
from emulator.fake_refersion import AffiliateStore, FakeRefersion, FakeRefersionOptions
from emulator.fake_refersion.reply import Reply
from emulator.segment.delivery_policy import api_key_missing, delivery_timeout, retry_policy
from emulator.segment.engage.space import EngageSpace
from emulator.segment.ingest import TrackingRequest, enrich
from emulator.segment.routing import duplicate_gets_through
from emulator.server.emulator import Emulator
from tests.support import AUTH, CREDENTIALS, cli, fast_config, new_body, write

PETER = {"name": "Peter Gibbons", "email": "peter@example.com"}


def identify(traits: dict[str, Any] | None = None, **top: Any) -> dict[str, Any]:
    return {"type": "identify", "userId": "u-1", "traits": traits or PETER, **top}


def mapped(message: dict[str, Any], **chosen: str) -> MappingResult:
    settings = MappingSettings(password_salt="salt", assumptions=AssumptionChoices.of(dict(chosen)))
    return map_message(message, settings=settings)


def body(result: MappingResult) -> dict[str, Any]:
    assert isinstance(result, Operation), result
    return result.body


def notes(result: MappingResult, assumption_id: str) -> list[str]:
    """The variants ``result`` says it used for ``assumption_id``."""
    return [note.variant for note in result.assumptions if note.id == assumption_id]


Check = Callable[[MappingResult], bool]

# (assumption, variant, message, what the mapping must do under that variant)
MAPPING_CASES: list[tuple[str, str, dict[str, Any], Check]] = [
    (
        "country-spelling",
        "normalise",
        identify({**PETER, "address": {"country": "USA"}}),
        lambda r: body(r)["country"] == "US",
    ),
    (
        "country-spelling",
        "pass-through",
        identify({**PETER, "address": {"country": "USA"}}),
        lambda r: body(r)["country"] == "USA",
    ),
    (
        "unknown-country",
        "drop",
        identify({**PETER, "address": {"country": "Atlantis", "city": "Poseidonis"}}),
        lambda r: "country" not in body(r) and body(r)["city"] == "Poseidonis",
    ),
    (
        "unknown-country",
        "reject",
        identify({**PETER, "address": {"country": "Atlantis"}}),
        lambda r: isinstance(r, Rejection) and r.reason == "unknown_country",
    ),
    (
        "address-shape",
        "object-only",
        identify({**PETER, "address": "1 Main St"}),
        lambda r: "address1" not in body(r),
    ),
    (
        "address-shape",
        "first-or-street",
        identify({**PETER, "address": "1 Main St"}),
        lambda r: body(r)["address1"] == "1 Main St",
    ),
    (
        "address-shape",
        "first-or-street",
        identify({**PETER, "address": [{"city": "Paris"}, {"city": "Lyon"}]}),
        lambda r: body(r)["city"] == "Paris",
    ),
    (
        "merchant-id",
        "user-id-or-anonymous-id",
        identify(userId=None, anonymousId="anon-1"),
        lambda r: body(r)["unique_merchant_id"] == "anon-1",
    ),
    (
        "merchant-id",
        "user-id-only",
        identify(userId=None, anonymousId="anon-1"),
        lambda r: isinstance(r, Rejection) and r.reason == "missing_user_id",
    ),
    (
        "merchant-id",
        "not-sent",
        identify(),
        lambda r: "unique_merchant_id" not in body(r),
    ),
    (
        "name-split",
        "first-whitespace",
        identify({"name": "Mary Ann Smith", "email": "m@example.com"}),
        lambda r: (body(r)["first_name"], body(r)["last_name"]) == ("Mary", "Ann Smith"),
    ),
    (
        "name-split",
        "last-whitespace",
        identify({"name": "Mary Ann Smith", "email": "m@example.com"}),
        lambda r: (body(r)["first_name"], body(r)["last_name"]) == ("Mary Ann", "Smith"),
    ),
    (
        "password",
        "generated",
        identify(),
        lambda r: len(body(r)["password"]) == 16,
    ),
    (
        "password",
        "not-sent",
        identify(),
        lambda r: "password" not in body(r),
    ),
    (
        "affiliate-status",
        "ACTIVE",
        identify(),
        lambda r: body(r)["status"] == "ACTIVE",
    ),
    (
        "affiliate-status",
        "PENDING",
        identify(),
        lambda r: body(r)["status"] == "PENDING",
    ),
    (
        "send-welcome",
        "FALSE",
        identify(),
        lambda r: body(r)["send_welcome"] == "FALSE",
    ),
    (
        "send-welcome",
        "TRUE",
        identify(),
        lambda r: body(r)["send_welcome"] == "TRUE",
    ),
    (
        "new-affiliate-offer",
        "account-default",
        identify(),
        lambda r: "offer" not in body(r),
    ),
    (
        "new-affiliate-offer",
        "given",
        identify(),
        lambda r: body(r)["offer"] == "2",
    ),
    (
        "email-source",
        "traits-first",
        identify(email="top@example.com"),
        lambda r: body(r)["email"] == "peter@example.com",
    ),
    (
        "email-source",
        "top-level-first",
        identify(email="top@example.com"),
        lambda r: body(r)["email"] == "top@example.com",
    ),
    (
        "trait-case",
        "camel-case-wins",
        identify({**PETER, "firstName": "Pete", "first_name": "Peter", "lastName": "G"}),
        lambda r: body(r)["first_name"] == "Pete",
    ),
    (
        "trait-case",
        "snake-case-wins",
        identify({**PETER, "firstName": "Pete", "first_name": "Peter", "lastName": "G"}),
        lambda r: body(r)["first_name"] == "Peter",
    ),
]


@pytest.mark.parametrize(
    ("assumption_id", "variant", "message", "check"),
    MAPPING_CASES,
    ids=[f"{a}={v}-{i}" for i, (a, v, _, _) in enumerate(MAPPING_CASES)],
)
def test_each_mapping_variant_does_what_the_registry_says(
    assumption_id: str, variant: str, message: dict[str, Any], check: Check
) -> None:
    result = mapped(message, **{assumption_id: variant})
    assert check(result), result
    assert notes(result, assumption_id) == [variant], "the result must say what it assumed"


def test_the_mapping_cases_cover_every_mapping_variant() -> None:
    covered = {(a, v) for a, v, _, _ in MAPPING_CASES}
    for entry in ASSUMPTIONS.values():
        if entry.side == "mapping":
            for name in entry.variant_names:
                assert (entry.id, name) in covered


def choices_of(settings: MappingSettings | EmulatorConfig, *ids: str) -> list[str]:
    choices = (
        settings.assumptions_in_force
        if isinstance(settings, EmulatorConfig)
        else settings.assumptions
    )
    return [choices.variant(assumption_id) for assumption_id in ids]


def test_the_flags_and_assume_are_one_switch_and_assume_wins() -> None:
    ids = ("affiliate-status", "send-welcome", "new-affiliate-offer")
    # A flag alone chooses the variant, so the trace names what was really sent.
    flagged = MappingSettings(status="ACTIVE", send_welcome="TRUE", offer="7", password_salt="s")
    assert choices_of(flagged, *ids) == ["ACTIVE", "TRUE", "given"]
    result = map_message(identify(), settings=flagged)
    assert {k: body(result)[k] for k in ("status", "send_welcome", "offer")} == {
        "status": "ACTIVE",
        "send_welcome": "TRUE",
        "offer": "7",
    }
    assert [notes(result, i) for i in ids] == [["ACTIVE"], ["TRUE"], ["given"]]
    # An explicit choice wins over the flag.
    chosen = AssumptionChoices.of(
        {
            "affiliate-status": "PENDING",
            "send-welcome": "FALSE",
            "new-affiliate-offer": "account-default",
        }
    )
    overridden = MappingSettings(
        status="ACTIVE", send_welcome="TRUE", offer="7", password_salt="s", assumptions=chosen
    )
    result = map_message(identify(), settings=overridden)
    assert (body(result)["status"], body(result)["send_welcome"]) == ("PENDING", "FALSE")
    assert "offer" not in body(result)
    # The configuration folds the flags the same way, so the control API shows them in force.
    config = EmulatorConfig(destination=DestinationSettings(status="ACTIVE", offer="7"))
    assert choices_of(config, *ids) == ["ACTIVE", "FALSE", "given"]
    pinned = EmulatorConfig(
        destination=DestinationSettings(status="ACTIVE"),
        assumptions=AssumptionChoices.of({"affiliate-status": "PENDING"}),
    )
    assert choices_of(pinned, "affiliate-status") == ["PENDING"]
    # A fixture's settings replace the flag's: the choice follows the destination it is given.
    fixture = dataclasses.replace(config, destination=DestinationSettings(status="PENDING"))
    assert choices_of(fixture, *ids) == ["PENDING", "FALSE", "account-default"]


def test_send_flag_and_assume_precedence_end_to_end(tmp_path: Path) -> None:
    path = write(tmp_path, "peter.json", identify())
    code, out, err = cli("send", "--json", "--status", "ACTIVE", "--offer", "7", path)
    assert (code, err) == (0, "")
    [event] = json.loads(out)["cases"][0]["events"]
    used = {n["id"]: n["variant"] for n in event["assumptions"]}
    assert (used["affiliate-status"], used["new-affiliate-offer"]) == ("ACTIVE", "given")
    code, out, err = cli(
        "send", "--json", "--status", "ACTIVE", "--assume", "affiliate-status=PENDING", path
    )
    assert (code, err) == (0, "")
    [event] = json.loads(out)["cases"][0]["events"]
    assert {n["id"]: n["variant"] for n in event["assumptions"]}["affiliate-status"] == "PENDING"


def test_a_normalised_country_says_what_passing_it_through_would_do() -> None:
    result = mapped(identify({**PETER, "address": {"country": "USA"}}))
    [note] = [n for n in result.assumptions if n.id == "country-spelling"]
    assert note.note == "country 'USA' normalised to US"
    assert note.alternative == "passed through, Refersion would answer 422"


# -- the fake Refersion ------------------------------------------------------------------


@pytest.fixture
def fake_with() -> Iterator[Callable[..., FakeRefersion]]:
    made: list[FakeRefersion] = []

    def make(**chosen: str) -> FakeRefersion:
        options = FakeRefersionOptions(seed=1, assumptions=AssumptionChoices.of(dict(chosen)))
        fake = FakeRefersion(store=AffiliateStore(), credentials=CREDENTIALS, options=options)
        made.append(fake)
        return fake

    yield make
    for fake in made:
        fake.store.close()


def post(fake: FakeRefersion, endpoint: str, payload: dict[str, Any]) -> Reply:
    return fake.handle(endpoint, AUTH, json.dumps(payload).encode())


@pytest.mark.parametrize(("variant", "status"), [("255", 422), ("none", 200)])
def test_text_limit(fake_with: Callable[..., FakeRefersion], variant: str, status: int) -> None:
    fake = fake_with(**{"text-limit": variant})
    reply = post(fake, "affiliate/new", new_body(company="C" * 300))
    assert reply.status == status
    if status == 422:
        assert reply.body == {"errors": ["Value exceed the char limit"]}
    assert [(n.id, n.variant) for n in reply.notes] == [("text-limit", variant)]


@pytest.mark.parametrize(
    ("variant", "status", "kept"), [("accepted", 200, 1), ("offer-not-found", 404, 0)]
)
def test_new_with_unknown_offer(
    fake_with: Callable[..., FakeRefersion], variant: str, status: int, kept: int
) -> None:
    fake = fake_with(**{"new-with-unknown-offer": variant})
    reply = post(fake, "affiliate/new", new_body(offer="77"))
    assert reply.status == status, reply.body
    assert len(fake.store.all()) == kept
    if status == 404:
        assert reply.body == {"error": ["Offer does not exists on the database."]}
    else:
        assert fake.store.all()[0].offer_id == "77"
    assert [(n.id, n.variant) for n in reply.notes] == [("new-with-unknown-offer", variant)]
    # The account's default offer is known either way: no note, always created.
    known = post(fake, "affiliate/new", new_body(offer="1", email="other@example.com"))
    assert (known.status, known.notes) == (200, ())


def _owner_and_delete(fake: FakeRefersion, delete: dict[str, Any]) -> Reply:
    created = post(fake, "affiliate/new", new_body(unique_merchant_id="u-owner"))
    assert created.status == 200
    return post(fake, "affiliate/delete", delete)


@pytest.mark.parametrize(
    ("variant", "delete", "status"),
    [
        ("merchant-id-then-email", {"unique_merchant_id": "u-owner"}, 200),
        ("merchant-id-then-email", {"unique_merchant_id": "u-x", "email": "bill@example.com"}, 200),
        ("merchant-id-only", {"unique_merchant_id": "u-owner"}, 200),
        ("merchant-id-only", {"unique_merchant_id": "u-x", "email": "bill@example.com"}, 422),
        ("email-only", {"unique_merchant_id": "u-owner"}, 422),
        ("email-only", {"unique_merchant_id": "u-owner", "email": "bill@example.com"}, 200),
    ],
)
def test_delete_lookup(
    fake_with: Callable[..., FakeRefersion], variant: str, delete: dict[str, Any], status: int
) -> None:
    fake = fake_with(**{"delete-lookup": variant})
    reply = _owner_and_delete(fake, delete)
    assert reply.status == status, reply.body
    assert len(fake.store.all()) == (0 if status == 200 else 1)


@pytest.mark.parametrize("variant", ["merchant-id-then-email", "email-only"])
def test_a_delete_that_removes_another_users_affiliate_warns(
    fake_with: Callable[..., FakeRefersion], variant: str
) -> None:
    fake = fake_with(**{"delete-lookup": variant})
    reply = _owner_and_delete(fake, {"unique_merchant_id": "u-x", "email": "bill@example.com"})
    assert reply.status == 200
    [warning] = [n for n in reply.notes if n.warning]
    assert warning.id == "delete-lookup"
    assert "'u-owner', not the delete's userId 'u-x'" in warning.note


def test_a_delete_found_by_its_own_user_does_not_warn(
    fake_with: Callable[..., FakeRefersion],
) -> None:
    fake = fake_with(**{"delete-lookup": "email-only"})
    reply = _owner_and_delete(fake, {"unique_merchant_id": "u-owner", "email": "bill@example.com"})
    assert reply.status == 200
    assert not any(n.warning for n in reply.notes)


@pytest.mark.parametrize(("variant", "left"), [("remove", 0), ("disable", 1)])
def test_delete_effect(fake_with: Callable[..., FakeRefersion], variant: str, left: int) -> None:
    fake = fake_with(**{"delete-effect": variant})
    reply = _owner_and_delete(fake, {"unique_merchant_id": "u-owner"})
    assert reply.status == 200
    kept = fake.store.all()
    assert len(kept) == left
    assert all(a.status == "DISABLED" for a in kept)


# -- the destination's answer and the Segment side ----------------------------------------


@pytest.mark.parametrize(
    ("variant", "status", "outcome"),
    [("acknowledge", 200, "already_exists"), ("discard", 400, "refersion_rejected")],
)
def test_duplicate_email(variant: str, status: int, outcome: str) -> None:
    operation = body_operation()
    taken = {"errors": ["The email you have entered is taken by another Affiliate."]}
    answer = answer_for_refersion(operation, 422, taken, None, duplicate_email=variant)
    assert (answer.status, answer.outcome, answer.reason) == (status, outcome, "email_taken")


def body_operation() -> Operation:
    result = mapped(identify())
    assert isinstance(result, Operation)
    return result


def test_retry_backoff_and_retry_after() -> None:
    budget = 4 * 3600.0
    exponential = retry_policy(AssumptionChoices(), initial=1.0, maximum=600.0, budget=budget)
    rng = random.Random(1)
    assert 0.5 <= exponential.backoff(1, rng) <= 1.0
    assert exponential.backoff(1, rng, retry_after=120) == 120
    assert not exponential.exhausted(50)

    six = retry_policy(
        AssumptionChoices.of({"retry-backoff": "six-retries", "retry-after": "ignored"}),
        initial=1.0,
        maximum=600.0,
        budget=budget,
    )
    delays = [six.backoff(n, rng) for n in range(1, 7)]
    assert delays == [225.0, 450.0, 900.0, 1800.0, 3600.0, 7200.0]
    assert sum(delays) < budget
    assert six.backoff(1, rng, retry_after=3000) == 225.0
    assert not six.exhausted(6)
    assert six.exhausted(7)


def test_delivery_timeout() -> None:
    assert delivery_timeout(AssumptionChoices(), 0.5) == 0.5
    assert delivery_timeout(AssumptionChoices.of({"delivery-timeout": "5s"}), 0.5) == 5.0
    assert delivery_timeout(AssumptionChoices.of({"delivery-timeout": "10s"}), 5.0) == 10.0


def test_empty_api_key_decides_what_counts_as_missing() -> None:
    blank, empty_only = AssumptionChoices(), AssumptionChoices.of({"empty-api-key": "empty-only"})
    assert api_key_missing("", blank)
    assert api_key_missing(" \t", blank)
    assert api_key_missing("", empty_only)
    assert not api_key_missing(" \t", empty_only)
    assert not api_key_missing("pub.sec", blank)


def stamped(item: dict[str, Any], *, browser_path: bool, **chosen: str) -> tuple[str, list[str]]:
    """The channel ingest stamps on ``item`` and the browser-channel variants it noted."""
    request = TrackingRequest("batch", "wk", (item,))
    [event] = enrich(
        request,
        received_at=datetime(2026, 1, 1, tzinfo=UTC),
        source_id="src",
        new_message_id=lambda: "m-1",
        browser_path=browser_path,
        choices=AssumptionChoices.of(chosen),
    )
    assert event.message is not None
    return event.message["channel"], [n.variant for n in event.assumptions]


@pytest.mark.parametrize("variant", ["client", "browser", "server"])
def test_browser_channel(variant: str) -> None:
    item = {"type": "identify", "userId": "u"}
    chosen = {"browser-channel": variant}
    # A one-letter path, or the browser library's name on /v1/b or /v1/batch.
    assert stamped(item, browser_path=True, **chosen) == (variant, [variant])
    library = {**item, "context": {"library": {"name": "analytics.js", "version": "1.84.3"}}}
    assert stamped(library, browser_path=False, **chosen) == (variant, [variant])
    # Server libraries' events are "server" whatever the variant, and say nothing about it.
    assert stamped(item, browser_path=False, **chosen) == ("server", [])
    # A channel the event carries is kept.
    assert stamped({**item, "channel": "mobile"}, browser_path=True, **chosen) == ("mobile", [])


async def test_an_identify_on_the_browser_path_is_client_and_the_trace_says_so() -> None:
    async with Emulator(fast_config()) as emu, aiohttp.ClientSession() as http:
        sent = {**identify(), "messageId": "web-1", "writeKey": "wk"}
        async with http.post(f"{emu.url}/v1/i", data=json.dumps(sent)) as resp:
            assert resp.status == 200
            [trace_id] = resp.headers["X-Emulator-Trace-Ids"].split(",")
        async with http.post(f"{emu.url}/_emulator/flush", json={}) as resp:
            assert (await resp.json())["idle"] is True
        async with http.get(f"{emu.url}/_emulator/events/{trace_id}") as resp:
            trace = await resp.json()
    assert trace["message"]["channel"] == "client"
    [note] = [n for n in trace["assumptions"] if n["id"] == "browser-channel"]
    assert note["variant"] == "client"
    assert note["alternative"] == 'browser: "browser", server: "server"'


PAGE = "http://localhost:3000"


@pytest.mark.parametrize(
    ("variant", "allow_origin", "credentials"),
    [("echo-with-credentials", PAGE, "true"), ("wildcard", "*", None)],
)
async def test_cors_origin(variant: str, allow_origin: str, credentials: str | None) -> None:
    config = fast_config(assumptions=AssumptionChoices.of({"cors-origin": variant}))
    sent = {**identify(), "messageId": "page-1", "writeKey": "wk"}
    async with Emulator(config) as emu, aiohttp.ClientSession() as http:
        async with http.post(
            f"{emu.url}/v1/i", data=json.dumps(sent), headers={"Origin": PAGE}
        ) as resp:
            assert resp.status == 200
            assert resp.headers["Access-Control-Allow-Origin"] == allow_origin
            assert resp.headers.get("Access-Control-Allow-Credentials") == credentials
            [trace_id] = resp.headers["X-Emulator-Trace-Ids"].split(",")
        async with http.post(f"{emu.url}/_emulator/flush", json={}) as resp:
            assert (await resp.json())["idle"] is True
        async with http.get(f"{emu.url}/_emulator/events/{trace_id}") as resp:
            trace = await resp.json()
    [note] = [n for n in trace["assumptions"] if n["id"] == "cors-origin"]
    assert note["variant"] == variant


@pytest.mark.parametrize(("variant", "status"), [("libraries", 403), ("any", 204)])
async def test_cors_headers(variant: str, status: int) -> None:
    config = fast_config(
        assumptions=AssumptionChoices.of({"cors-headers": variant}),
        cors_extra_headers=("X-Tenant",),
    )
    preflight = {
        "Origin": PAGE,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type,x-tenant,x-custom",
    }
    async with Emulator(config) as emu, aiohttp.ClientSession() as http:
        async with http.options(f"{emu.url}/v1/i", headers=preflight) as resp:
            assert resp.status == status
            if status == 403:
                refusal = (await resp.json())["message"]
                assert "'x-custom'" in refusal
                assert "cors-headers=libraries" in refusal
            else:
                assert resp.headers["Access-Control-Allow-Headers"].endswith("X-Tenant, x-custom")
        # --cors-allow-header names are allowed under either variant.
        named = {**preflight, "Access-Control-Request-Headers": "x-tenant"}
        async with http.options(f"{emu.url}/v1/i", headers=named) as resp:
            assert resp.status == 204


@pytest.mark.parametrize(
    ("variant", "first", "gaps"),
    [
        ("six-hours-then-two-to-three", 6 * 3600.0, (2 * 3600.0, 3 * 3600.0)),
        ("immediate-then-hourly", 0.0, (3600.0, 3600.0)),
    ],
)
def test_engage_timing(variant: str, first: float, gaps: tuple[float, float]) -> None:
    space = EngageSpace(
        rng=random.Random(1), choices=AssumptionChoices.of({"engage-timing": variant})
    )
    computation = space.define({"name": "VIP"}, now=1000.0)
    assert computation.timing_assumed == variant
    initial = space.sync("vip", [{"userId": "u-1"}])
    assert initial.at == 1000.0 + first
    for _ in range(3):
        later = space.sync("vip", [{"userId": "u-1"}, {"userId": "u-2"}])
        assert gaps[0] <= later.at - initial.at <= gaps[1]
        initial = later
    # A definition that gives its own times relies on neither variant.
    timed = space.define({"name": "Timed", "initialSyncDelay": 60, "syncInterval": 600}, now=1000.0)
    assert timed.timing_assumed is None
    assert space.sync("timed", []).at == 1060.0


async def test_an_engage_sync_trace_names_its_timing() -> None:
    chosen = AssumptionChoices.of({"engage-timing": "immediate-then-hourly"})
    async with Emulator(fast_config(assumptions=chosen)) as emu, aiohttp.ClientSession() as http:
        async with http.post(f"{emu.url}/_emulator/engage/audiences", json={"name": "VIP"}) as resp:
            assert resp.status == 201
        members = {"members": [{"userId": "u-1", "email": "u1@example.com"}]}
        async with http.post(
            f"{emu.url}/_emulator/engage/audiences/vip/sync", json=members
        ) as resp:
            [event] = (await resp.json())["events"]
        async with http.get(f"{emu.url}/_emulator/events/{event['id']}") as resp:
            trace = await resp.json()
    [note] = [n for n in trace["assumptions"] if n["id"] == "engage-timing"]
    assert note["variant"] == "immediate-then-hourly"
    assert note["note"] == "initial sync 0 s after the audience was defined"


def test_dedupe_rate_lets_about_one_repeat_in_a_hundred_through() -> None:
    rng = random.Random(7)
    assert not any(duplicate_gets_through(AssumptionChoices(), rng) for _ in range(10_000))
    missed = AssumptionChoices.of({"dedupe-rate": "about-99-percent"})
    through = sum(duplicate_gets_through(missed, rng) for _ in range(10_000))
    assert 50 <= through <= 150  # 1 % of 10,000 is 100; a seeded draw, so no flakiness


@pytest.mark.parametrize("variant", ["all", "about-99-percent"])
async def test_dedupe_rate_end_to_end(variant: str) -> None:
    """The same messageId 400 times in one batch: dropped, or about 1 % delivered again."""
    chosen = AssumptionChoices.of({"dedupe-rate": variant})
    batch = {"writeKey": "wk", "batch": [{**identify(), "messageId": "same"}] * 400}
    config = fast_config(assumptions=chosen, seed=3)
    async with Emulator(config) as emu, aiohttp.ClientSession() as http:
        async with http.post(f"{emu.url}/v1/batch", json=batch) as resp:
            assert resp.status == 200
        async with http.post(f"{emu.url}/_emulator/flush", json={}) as resp:
            assert (await resp.json())["idle"] is True
        async with http.get(f"{emu.url}/_emulator/events?full=1&limit=500") as resp:
            traces = (await resp.json())["events"]
    repeats = [t for t in traces if any(h["name"] == "dedupe" for h in t["hops"])]
    assert len(repeats) == 399
    through = [t for t in repeats if t["outcome"] != "duplicate"]
    if variant == "all":
        assert through == []
    else:
        assert 1 <= len(through) <= 12
        assert all(t["outcome"] == "already_exists" for t in through)
    notes = {n["variant"] for t in repeats for n in t["assumptions"] if n["id"] == "dedupe-rate"}
    assert notes == {variant}


# -- end to end over loopback HTTP ---------------------------------------------------------


async def deliver_one(
    emu: Emulator, http: aiohttp.ClientSession, message: dict[str, Any]
) -> dict[str, Any]:
    """Deliver ``message`` through Segment's delivery and return its settled trace."""
    async with http.post(f"{emu.url}/_emulator/deliver", json=[message]) as resp:
        assert resp.status == 200, await resp.text()
        [event] = (await resp.json())["events"]
    async with http.get(f"{emu.url}/_emulator/events/{event['id']}") as resp:
        trace: dict[str, Any] = await resp.json()
    return trace


@pytest.mark.parametrize(
    ("variant", "outcome", "attempted"),
    [("blank", "discarded", False), ("empty-only", "unauthorized", True)],
)
async def test_a_whitespace_api_key_under_each_variant(
    variant: str, outcome: str, attempted: bool
) -> None:
    config = fast_config(
        api_key="   ", assumptions=AssumptionChoices.of({"empty-api-key": variant})
    )
    async with Emulator(config) as emu, aiohttp.ClientSession() as http:
        trace = await deliver_one(emu, http, {**identify(), "messageId": "ws-1"})
    # blank: never sent; empty-only: sent, and the fake Refersion refuses the key.
    assert (trace["outcome"], trace["attempts"] > 0) == (outcome, attempted)
    assert (trace["reason"] == "INVALID_SETTINGS") is not attempted
    assert [
        (n["id"], n["variant"]) for n in trace["assumptions"] if n["id"] == "empty-api-key"
    ] == [("empty-api-key", variant)]


def test_send_assume_changes_the_run_and_the_json_trace_says_so(tmp_path: Path) -> None:
    message = identify({"name": "Mary Ann Smith", "email": "mary@example.com"})
    path = write(tmp_path, "mary.json", message)
    code, out, err = cli("send", "--json", "--assume", "name-split=last-whitespace", path)
    assert (code, err) == (0, "")
    [event] = json.loads(out)["cases"][0]["events"]
    assert event["outcome"] == "created"
    used = {(n["id"], n["variant"]): n for n in event["assumptions"]}
    assert used[("name-split", "last-whitespace")]["note"] == (
        "name split at the last whitespace: 'Mary Ann' + 'Smith'"
    )
    code, out, _ = cli("send", "--assume", "name-split=last-whitespace", path)
    assert code == 0
    assert "name-split=last-whitespace: name split at the last whitespace" in out


@pytest.mark.parametrize(
    ("option", "named"),
    [
        ("nope=x", "unknown assumption 'nope'"),
        ("text-limit=9", "assumption 'text-limit' has no variant '9'; variants: 255, none"),
        ("text-limit", "expected ID=VARIANT, got 'text-limit'"),
    ],
)
@pytest.mark.parametrize("command", ["send", "replay", "check", "engage", "serve"])
def test_a_bad_assume_is_exit_2_with_one_line(command: str, option: str, named: str) -> None:
    code, out, err = cli(command, "--assume", option, "x.json")
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert named in err


async def test_the_control_api_switches_variants_and_the_journal_shows_them() -> None:
    async with Emulator(fast_config()) as emu, aiohttp.ClientSession() as http:
        base = f"{emu.url}/_emulator"
        async with http.get(f"{base}/assumptions") as resp:
            listed = (await resp.json())["assumptions"]
        assert [a["id"] for a in listed] == list(ASSUMPTIONS)
        assert all(a["inForce"] == a["default"] and not a["chosen"] for a in listed)

        for bad, field in [
            ({"assumptions": {"nope": "x"}}, "assumptions"),
            ({"assumptions": {"text-limit": "9"}}, "assumptions.text-limit"),
            ({"assumptions": {"text-limit": 255}}, "assumptions.text-limit"),
            ({"assumptions": []}, "assumptions"),
            ({"choices": {}}, "choices"),
        ]:
            async with http.put(f"{base}/assumptions", json=bad) as resp:
                assert resp.status == 400, bad
                refusal = await resp.json()
                assert refusal["field"] == field
                assert refusal["code"] == "invalid_assumption"

        chosen = {"assumptions": {"audience-exit": "identify"}}
        async with http.put(f"{base}/assumptions", json=chosen) as resp:
            assert resp.status == 200
            shown = {a["id"]: a for a in (await resp.json())["assumptions"]}
        assert shown["audience-exit"]["inForce"] == "identify"
        assert shown["audience-exit"]["chosen"]

        exit_identify = {
            "type": "identify",
            "userId": "u-exit",
            "messageId": "exit-1",
            "traits": {**PETER, "vip": False},
            "context": {"personas": {"computation_class": "audience", "computation_key": "vip"}},
        }
        async with http.post(f"{base}/deliver", json=[exit_identify]) as resp:
            [event] = (await resp.json())["events"]
        async with http.get(f"{base}/events/{event['id']}") as resp:
            trace = await resp.json()
        assert trace["outcome"] == "created"
        exit_notes = [n for n in trace["assumptions"] if n["id"] == "audience-exit"]
        assert exit_notes[0]["variant"] == "identify"
        assert exit_notes[0]["alternative"] == "skip would send nothing to Refersion"

        async with http.put(f"{base}/assumptions", json={"assumptions": {}}) as resp:
            assert resp.status == 200
        again = {**exit_identify, "messageId": "exit-2"}
        async with http.post(f"{base}/deliver", json=[again]) as resp:
            [event] = (await resp.json())["events"]
        assert event["outcome"] == "skipped"


async def test_regulation_deletes_not_forwarded_never_reach_refersion() -> None:
    config = fast_config(
        assumptions=AssumptionChoices.of({"regulation-forwarding": "not-forwarded"})
    )
    async with Emulator(config) as emu, aiohttp.ClientSession() as http:
        async with http.post(
            f"{emu.url}/_emulator/deliver", json=[{**identify(), "messageId": "m-1"}]
        ) as resp:
            assert resp.status == 200
        regulation = {
            "regulationType": "DELETE_ONLY",
            "subjectType": "USER_ID",
            "subjectIds": ["u-1"],
        }
        async with http.post(f"{emu.url}/regulations", json=regulation) as resp:
            regulate_id = (await resp.json())["data"]["regulateId"]
        async with http.get(f"{emu.url}/regulations/{regulate_id}") as resp:
            shown = (await resp.json())["data"]["regulation"]
        assert shown["overallStatus"] == "FINISHED"
        assert len(emu.runtime.store.all()) == 1
        async with http.get(f"{emu.url}/_emulator/events?full=1&type=delete") as resp:
            [trace] = (await resp.json())["events"]
        assert (trace["outcome"], trace["reason"]) == ("filtered", "regulation_not_forwarded")
        assert trace["assumptions"][0]["id"] == "regulation-forwarding"


@pytest.mark.slow  # the whole property suite once per variant
def test_check_across_every_variant_on_the_built_in_mapping() -> None:
    """What CI runs: every variant of every assumption, one example per property."""
    code, out, err = cli(
        "check", "--examples", "1", "--seed", "1", "--across-assumptions", "--json"
    )
    assert err == ""
    report = json.loads(out)
    runs = {(v["assumption"], v["variant"]): v for v in report["variants"]}
    others = sum(len(a.variants) - 1 for a in ASSUMPTIONS.values() if a.id not in NOT_CHECKED)
    assert len(runs) == 1 + others
    # What no property can observe is listed, not claimed as survived.
    assert {n["assumption"] for n in report["notChecked"]} == set(NOT_CHECKED)
    assert all((a, v) not in runs for a in NOT_CHECKED for v in ASSUMPTIONS[a].variant_names)
    # The new Segment- and Refersion-side variants are checked like the others.
    assert runs[("send-welcome", "TRUE")]["passed"]
    assert runs[("dedupe-rate", "about-99-percent")]["passed"]
    assert runs[(None, None)]["passed"], "the built-in mapping holds under the defaults"
    # Without a password Refersion refuses every new affiliate.
    assert not runs[("password", "not-sent")]["passed"]
    assert "round_trip" in runs[("password", "not-sent")]["failed"]
    # Segment's deletes carry no email: found by email only, they remove nothing.
    assert "delete_leaves_nothing" in runs[("delete-lookup", "email-only")]["failed"]
    assert runs[("text-limit", "none")]["passed"]
    assert report["survived"] == sum(v["passed"] for v in report["variants"])
    assert code == (0 if report["passed"] else 1)


def test_replay_shows_pinned_variants_and_what_the_corpus_relied_on() -> None:
    folder = str(Path(__file__).resolve().parent.parent / "fixtures" / "assumptions")
    code, out, err = cli("replay", folder)
    assert (code, err) == (0, "")
    assert "text-limit-none.json" in out
    assert "pins text-limit=none" in out
    relied = next(line for line in out.splitlines() if line.startswith("assumed"))
    assert "text-limit=none ×1" in relied
    code, out, _ = cli("replay", "--json", folder)
    report = json.loads(out)
    pinned = {f["fixture"]: f["case"]["assumptions"] for f in report["fixtures"]}
    assert pinned["text-limit-none.json"] == {"text-limit": "none"}


def test_the_assumptions_command_lists_every_variant() -> None:
    code, out, err = cli("assumptions")
    assert (code, err) == (0, "")
    for entry in ASSUMPTIONS.values():
        assert f"{entry.id}  ({entry.side})" in out
        assert f"* {entry.default}: " in out
    code, out, _ = cli("assumptions", "--json")
    listed = json.loads(out)
    assert [a["id"] for a in listed] == list(ASSUMPTIONS)
    assert listed[0]["variants"][0] == {
        "name": "normalise",
        "does": ASSUMPTIONS["country-spelling"].variants[0].does,
    }


def test_a_saved_fixture_pins_the_variants_it_was_observed_under(tmp_path: Path) -> None:
    message = identify({"name": "Mary Ann Smith", "email": "mary@example.com"})
    source = write(tmp_path, "mary.json", message)
    saved = tmp_path / "saved.json"
    code, _, err = cli(
        "send", "--assume", "name-split=last-whitespace", "--save-fixture", str(saved), source
    )
    assert (code, err) == (0, "")
    fixture = json.loads(saved.read_text())
    assert fixture["assumptions"] == {"name-split": "last-whitespace"}
    # Replayed without --assume, the pin still decides: the fixture passes as saved.
    code, out, _ = cli("replay", str(saved))
    assert code == 0, out
