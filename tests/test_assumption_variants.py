"""Every variant of every assumption behaves as the registry says: the pure core first, then
end to end over loopback HTTP through each surface that switches them."""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from emulator.assumptions import ASSUMPTIONS, AssumptionChoices
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
from emulator.segment.delivery_policy import delivery_timeout, retry_policy
from emulator.server.emulator import Emulator
from tests.conftest import fast_config
from tests.test_cli import cli, write
from tests.test_refersion_service import AUTH, CREDENTIALS, new_body

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
                # affiliate-status=PENDING is the default every other case runs under.
                assert (entry.id, name) in covered or (entry.id, name) == (
                    "affiliate-status",
                    "PENDING",
                )


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


# -- end to end over loopback HTTP ---------------------------------------------------------


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


def test_check_across_every_variant_on_the_built_in_mapping() -> None:
    """What CI runs: every variant of every assumption, one example per property."""
    code, out, err = cli(
        "check", "--examples", "1", "--seed", "1", "--across-assumptions", "--json"
    )
    assert err == ""
    report = json.loads(out)
    runs = {(v["assumption"], v["variant"]): v for v in report["variants"]}
    others = sum(len(a.variants) - 1 for a in ASSUMPTIONS.values())
    assert len(runs) == 1 + others
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
