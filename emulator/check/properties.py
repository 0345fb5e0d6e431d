"""The invariants ``check`` verifies, each a property over :mod:`emulator.strategies`.

Every property sends generated events through the whole pipeline and reads the Refersion
account back through its API; none looks at the mapping's code.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine

from emulator.check.affiliates import expected_affiliate, mismatches
from emulator.check.driver import Delivered
from emulator.check.example import Example, Expect, InvariantBroken
from emulator.check.model import account_model
from emulator.strategies import (
    INVALID_RULES,
    GeneratedEvent,
    engage_events,
    identify_and_delete_events,
    identify_events,
    invalid_identify_events,
    same_person_events,
    sample,
)

__all__ = ["PROPERTIES", "Property", "StatefulProperty"]


@dataclass(frozen=True, slots=True)
class Property:
    """An invariant, checked for every value ``strategy`` draws.

    ``first`` gives values checked before any drawn one, whatever the number of examples:
    Hypothesis draws clumps, and some cases must never be skipped.
    """

    name: str
    invariant: str
    strategy: st.SearchStrategy[Any]
    body: Callable[[Example, Any], None]
    first: Callable[[], list[Any]] = list


@dataclass(frozen=True, slots=True)
class StatefulProperty:
    """An invariant over sequences of steps: ``machine(new_example)`` builds the state machine."""

    name: str
    invariant: str
    machine: Callable[[Callable[[], Example]], type[RuleBasedStateMachine]]


def _round_trip(
    example: Example, fields: Mapping[str, str], got: Delivered | None = None
) -> dict[str, Any]:
    """Read the affiliate back through ``affiliate/get``; it must hold exactly ``fields``.

    By the code the destination's answer passed on when it did, else found by its email.
    """
    found = example.driver.get(got.affiliate_code) if got and got.affiliate_code else None
    if found is None:
        found = example.find(fields["email"])
    if found is None:
        raise InvariantBroken(
            f"no affiliate with email {fields['email']!r} in the Refersion account"
        )
    wrong = mismatches(expected_affiliate(fields, example.driver), found)
    example.require(not wrong, f"affiliate/get differs from the identify: {'; '.join(wrong)}")
    return found


def _created_cleanly(example: Example, event: GeneratedEvent, got: Delivered) -> None:
    example.require(
        not got.violations, f"contract violations for {event.variant}: {list(got.violations)}"
    )
    if got.warnings is not None:
        missing = sorted(event.warnings - got.warnings)
        example.require(not missing, f"the destination did not report the warnings {missing}")
    calls = example.refersion_calls_made(got)
    example.require(
        calls is None or calls == ["affiliate/new → 200"],
        f"expected one affiliate/new answered 200, Refersion got {calls}",
    )


def _create(example: Example, event: GeneratedEvent) -> Delivered:
    # The account the example expects is updated before each send: a fixture written from
    # a failing step must expect what that step should have done.
    example.affiliates.append(expected_affiliate(event.fields, example.driver))
    [got] = example.send("tracking-api", Expect(event.message, "created", variant=event.variant))
    _created_cleanly(example, event, got)
    return got


def round_trip(example: Example, event: GeneratedEvent) -> None:
    got = _create(example, event)
    _round_trip(example, event.fields, got)


def turned_away(example: Example, event: GeneratedEvent) -> None:
    if event.stage == "refersion":
        # The one rule the destination repairs: it drops the part and warns.
        round_trip(example, event)
        return
    outcome = "ingest_rejected" if event.stage == "ingest" else "rejected"
    [got] = example.send(
        "tracking-api", Expect(event.message, outcome, event.reason, event.variant)
    )
    if event.stage == "destination":
        example.require(
            got.answer_status == 400,
            f"the destination answered {got.answer_status} to {event.variant}, expected 400",
        )
    else:
        example.require(
            got.answer_status is None, f"{event.variant} was delivered; Segment drops it"
        )
    calls = example.refersion_calls_made(got)
    example.require(not calls, f"{event.variant} made Refersion calls: {calls}")
    broken = [v for v in got.violations if not v.startswith("segment/")]
    example.require(not broken, f"contract violations past the Segment side: {broken}")
    traits = event.message.get("traits")
    email = traits.get("email") if isinstance(traits, dict) else None
    if calls is None and isinstance(email, str) and email.strip():
        example.require(example.find(email) is None, f"{event.variant} created an affiliate")


def same_request(
    example: Example, events: tuple[GeneratedEvent, GeneratedEvent, GeneratedEvent]
) -> None:
    # Each spelling must create the same affiliate (the round trip) from the same request.
    sent: list[tuple[str, Mapping[str, Any] | None]] = []
    for event in events:
        got = _create(example, event)
        _round_trip(example, event.fields, got)
        sent.append((event.variant, got.request_body))
        # Start the next spelling from an empty account, the way a person would: a delete.
        cleanup = {
            "type": "delete",
            "userId": event.fields["unique_merchant_id"],
            "messageId": f"{event.message['messageId']}-cleanup",
        }
        example.affiliates.clear()
        example.send("delivery", Expect(cleanup, "deleted", variant="delete/cleanup"))
    first_variant, first_body = sent[0]
    for variant, body in sent[1:]:
        example.require(
            body == first_body,
            f"{variant} sent {body} to Refersion, {first_variant} sent {first_body}",
        )


def delivered_once(example: Example, event: GeneratedEvent) -> None:
    message = event.message
    example.affiliates.append(expected_affiliate(event.fields, example.driver))
    example.send(
        "tracking-api",
        Expect(message, "created", variant=event.variant),
        Expect(message, "duplicate", variant=f"{event.variant} (same messageId)"),
    )
    # About 1% of duplicates get past Segment's dedupe: the destination must absorb them.
    example.redeliver(Expect(message, "already_exists", variant=f"{event.variant} (redelivered)"))
    # Found by email, not by code: the search also shows there is only one.
    _round_trip(example, event.fields)


def delete_leaves_nothing(example: Example, pair: tuple[GeneratedEvent, GeneratedEvent]) -> None:
    identify, delete = pair
    _create(example, identify)
    example.affiliates.clear()
    [got] = example.send("delivery", Expect(delete.message, "deleted", variant=delete.variant))
    example.require(
        not got.violations, f"contract violations for {delete.variant}: {got.violations}"
    )
    if got.request_body is not None:
        example.require(
            dict(got.request_body) == dict(delete.fields),
            f"the delete sent {dict(got.request_body)}, expected {dict(delete.fields)}",
        )
    email = identify.fields["email"]
    example.require(example.find(email) is None, f"the affiliate {email!r} survived its delete")
    dump = example.driver.store_dump()
    if dump is not None:
        left = [line for line in dump.splitlines() if line.startswith('INSERT INTO "affiliates"')]
        example.require(not left, f"the fake's store still holds rows after the delete: {left}")
        example.require(email.lower() not in dump.lower(), f"{email!r} is still in the store")
    again = {**delete.message, "messageId": f"{delete.message['messageId']}-again"}
    example.send("delivery", Expect(again, "not_found", variant=f"{delete.variant} (again)"))


def delivered_twice_same_state(
    example: Example, pair: tuple[GeneratedEvent, GeneratedEvent]
) -> None:
    # Segment delivers at least once: the destination must end where one delivery left it.
    identify, delete = pair
    email = identify.fields["email"]
    _create(example, identify)
    once = example.find(email)
    twice_identify = f"{identify.variant} (delivered twice)"
    example.redeliver(Expect(identify.message, "already_exists", variant=twice_identify))
    twice = example.find(email)
    example.require(
        twice == once, f"the identify delivered twice left {twice}; delivered once, {once}"
    )
    example.affiliates.clear()
    example.send("delivery", Expect(delete.message, "deleted", variant=delete.variant))
    twice_delete = f"{delete.variant} (delivered twice)"
    example.redeliver(Expect(delete.message, "not_found", variant=twice_delete))
    left = example.find(email)
    example.require(left is None, f"the delete delivered twice left {left}; once, nothing")


def _simplest_of_each_rule() -> list[GeneratedEvent]:
    """The simplest event breaking each rule: every rule is checked at least once."""
    return [
        sample(invalid_identify_events(rules=(rule,)), count=1, seed=0)[0] for rule in INVALID_RULES
    ]


PROPERTIES: tuple[Property | StatefulProperty, ...] = (
    Property(
        "round_trip",
        "every valid identify creates one affiliate whose affiliate/get shows exactly the "
        "mapped fields, with every contract kept",
        # One in four an Engage sync: the plain identifies vary more.
        st.one_of(identify_events(), identify_events(), identify_events(), engage_events()),
        round_trip,
    ),
    Property(
        "invalid_turned_away",
        "every invalid identify is turned away with its reason code (a 400, or Segment's "
        "ingest), with no call to Refersion",
        invalid_identify_events(),
        turned_away,
        first=_simplest_of_each_rule,
    ),
    Property(
        "same_person_same_request",
        "camelCase, snake_case and name spellings of one person send the same request",
        same_person_events(),
        same_request,
    ),
    Property(
        "duplicate_message_id",
        "the same messageId delivered twice leaves one affiliate",
        identify_events(),
        delivered_once,
    ),
    Property(
        "delete_leaves_nothing",
        "identify then delete leaves no affiliate and no personal data; deleting again is "
        "not_found",
        identify_and_delete_events(),
        delete_leaves_nothing,
    ),
    Property(
        "delivered_twice",
        "an identify or a delete delivered twice (Segment delivers at least once) leaves the "
        "account as one delivery did",
        identify_and_delete_events(),
        delivered_twice_same_state,
    ),
    StatefulProperty(
        "stateful_model",
        "any interleaving of identifies, repeats and deletes for several users leaves the "
        "account equal to a simple model",
        account_model,
    ),
)
