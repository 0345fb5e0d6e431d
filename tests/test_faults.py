"""Fault rules: the compact syntax, JSON rules with clear errors, and seeded decisions."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from emulator.faults.rules import (
    FAULT_HEADER,
    FaultAction,
    FaultInjector,
    FaultKind,
    FaultRule,
    FaultRuleError,
    fault_response,
)
from emulator.faults.specs import parse_fault_spec, rules_from_json


@pytest.mark.parametrize(
    ("spec", "surface", "endpoint", "kinds", "probability", "times"),
    [
        ("refersion:affiliate/new=503@0.3", "refersion", "affiliate/new", ["status"], 0.3, None),
        ("refersion=429:2x5", "refersion", "*", ["status"], 1.0, 5),
        (
            "refersion:affiliate/*=429|500|503|reset|timeout@30%",
            "refersion",
            "affiliate/*",
            ["status", "status", "status", "reset", "timeout"],
            0.3,
            None,
        ),
        ("destination=latency:0.5-2", "destination", "*", ["latency"], 1.0, None),
        ("destination=latency:0.2+503x3", "destination", "*", ["status"], 1.0, 3),
        ("refersion=malformed@0.5x2", "refersion", "*", ["malformed"], 0.5, 2),
        ("refersion=truncated", "refersion", "*", ["truncated"], 1.0, None),
    ],
)
def test_compact_syntax(
    spec: str,
    surface: str,
    endpoint: str,
    kinds: list[str],
    probability: float,
    times: int | None,
) -> None:
    rule = parse_fault_spec(spec)
    assert (rule.surface, rule.endpoint) == (surface, endpoint)
    assert [e.kind.value for e in rule.effects] == kinds
    assert (rule.probability, rule.times) == (probability, times)
    # The listing shows each rule in the same syntax, so it can be pasted back.
    assert parse_fault_spec(rule.spec()) == rule


def test_compact_syntax_details() -> None:
    [status] = parse_fault_spec("refersion=429:2").effects
    assert (status.status, status.retry_after) == (429, 2.0)
    [slow] = parse_fault_spec("destination=latency:0.2+503").effects
    assert (slow.kind, slow.status, slow.latency) == (FaultKind.STATUS, 503, (0.2, 0.2))
    [hold] = parse_fault_spec("refersion=timeout:1.5").effects
    assert hold.hold == 1.5


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("refersion", "expected SURFACE[:ENDPOINT]=EFFECT"),
        ("refersionx=503", "surface: must be one of refersion, destination"),
        ("refersion:affiliate/neww=503", "matches no fake Refersion endpoint"),
        ("destination:hook=503", "the destination has one endpoint"),
        ("refersion=200", "status: must be 400-599"),
        ("refersion=503@1.5", "probability: must be in (0, 1]"),
        ("refersion=503x0", "times: must be a whole number of at least 1"),
        ("refersion=latency:2-1", "latency: the range 2-1 runs backwards"),
        ("refersion=explode", "effect 'explode': expected a status 400-599"),
        ("refersion=reset:5", "effect 'reset:5'"),
        ("refersion=timeout:0", "hold: must be more than 0"),
    ],
)
def test_bad_compact_rules_name_the_problem(spec: str, message: str) -> None:
    with pytest.raises(FaultRuleError, match="fault .*" + _escape(message)):
        parse_fault_spec(spec)


def test_json_rules_in_every_shape() -> None:
    one = {"surface": "refersion", "effect": {"status": 429, "retryAfter": 3}}
    [rule] = rules_from_json(one)
    assert (rule.effects[0].status, rule.effects[0].retry_after) == (429, 3.0)
    many = rules_from_json(
        {
            "rules": [
                "refersion:affiliate/new=503@0.3",
                {
                    "surface": "destination",
                    "effect": ["reset", {"kind": "latency", "latency": [0.1, 0.2]}, 502],
                    "times": 2,
                    "id": "flaky-hook",
                },
            ]
        }
    )
    assert [r.surface for r in many] == ["refersion", "destination"]
    assert many[1].id == "flaky-hook"
    assert [e.kind.value for e in many[1].effects] == ["reset", "latency", "status"]
    body = {"errors": ["The email you have entered is taken by another Affiliate."]}
    [custom] = rules_from_json([{"surface": "refersion", "effect": {"status": 422, "body": body}}])
    assert custom.effects[0].body == body


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"surface": "refersion"}, "rule.effect: missing"),
        ({"effect": "503"}, "rule.surface: missing"),
        ({"surface": "refersion", "effect": "503", "probability": "x"}, "rule.probability: must"),
        ({"surface": "refersion", "effect": "503", "times": 1.5}, "rule.times: must be a whole"),
        ([{"surface": "refersion", "effect": {"kind": "nope"}}], "rules[0].effect.kind: must be"),
        ({"rules": [{"surface": "refersion", "effect": "503", "x": 1}]}, "rules[0].x: unknown"),
        ({"surface": "refersion", "effect": {"kind": "reset", "body": {}}}, "effect.body: only"),
        ({"surface": "refersion", "effect": {"kind": "latency"}}, "effect.latency: missing"),
        ({"surface": "refersion", "effect": {"status": 503, "latency": "1"}}, "latency: must"),
        ({"surface": "refersion", "effect": []}, "rule.effect: empty list"),
        ({"surface": "refersion", "effect": "503", "id": "no spaces"}, "rule.id: must be"),
        ([], "rules: empty"),
        (42, "rule: must be an object"),
    ],
)
def test_bad_json_rules_name_the_field(payload: Any, message: str) -> None:
    with pytest.raises(FaultRuleError, match=_escape(message)):
        rules_from_json(payload)


def decisions(injector: FaultInjector, count: int, endpoint: str = "affiliate/new") -> list[str]:
    """What the injector does with ``count`` requests in a row, as short labels."""
    labels = []
    for _ in range(count):
        action = injector.decide("refersion", endpoint)
        labels.append("-" if action is None else action.effect.spec())
    return labels


def test_same_seed_repeats_exactly_and_another_seed_differs() -> None:
    spec = "refersion:affiliate/new=429|500|503|reset|timeout@0.3"
    first = decisions(FaultInjector([parse_fault_spec(spec)], seed=11), 400)
    again = decisions(FaultInjector([parse_fault_spec(spec)], seed=11), 400)
    other = decisions(FaultInjector([parse_fault_spec(spec)], seed=12), 400)
    assert first == again
    assert first != other
    fired = [label for label in first if label != "-"]
    assert 0.2 < len(fired) / len(first) < 0.4
    assert set(fired) == {"429", "500", "503", "reset", "timeout"}


def test_adding_a_rule_does_not_change_another_rules_draws() -> None:
    spec = "refersion:affiliate/new=503@0.5"
    alone = FaultInjector([parse_fault_spec(spec)], seed=3)
    with_other = FaultInjector(
        [parse_fault_spec(spec), parse_fault_spec("refersion:affiliate/get=500@0.5")], seed=3
    )
    assert decisions(alone, 100) == decisions(with_other, 100)


def test_next_n_requests_then_normal_again() -> None:
    injector = FaultInjector([parse_fault_spec("refersion=503x3")], seed=1)
    assert decisions(injector, 5) == ["503", "503", "503", "-", "-"]
    [listed] = injector.listing()
    assert (listed["fired"], listed["remaining"], listed["matched"]) == (3, 0, 3)


def test_match_by_surface_and_endpoint_and_first_rule_wins() -> None:
    injector = FaultInjector(
        [parse_fault_spec("refersion:affiliate/new=503"), parse_fault_spec("refersion=500")],
        seed=1,
    )
    assert decisions(injector, 1, "affiliate/new") == ["503"]
    assert decisions(injector, 1, "affiliate/get") == ["500"]
    assert injector.decide("destination", "") is None


def test_latency_is_fixed_or_drawn_within_its_range() -> None:
    fixed = FaultInjector([parse_fault_spec("refersion=latency:0.25")], seed=1)
    action = fixed.decide("refersion", "affiliate/new")
    assert action is not None
    assert action.delay == 0.25
    ranged = FaultInjector([parse_fault_spec("refersion=latency:0.1-0.5")], seed=1)
    delays = []
    for _ in range(200):
        drawn = ranged.decide("refersion", "affiliate/new")
        assert drawn is not None
        delays.append(drawn.delay)
    assert all(0.1 <= d <= 0.5 for d in delays)
    assert len(set(delays)) > 150


def test_rules_get_ids_and_can_be_removed_and_cleared() -> None:
    injector = FaultInjector(seed=1)
    first = injector.add(parse_fault_spec("refersion=503"))
    second = injector.add(parse_fault_spec("destination=reset"))
    assert (first.id, second.id) == ("f1", "f2")
    with pytest.raises(FaultRuleError, match="id: a rule with id 'f1' is already in force"):
        injector.add(FaultRule(surface="refersion", effects=first.effects, id="f1"))
    assert injector.remove("f1") is True
    assert injector.remove("f1") is False
    assert [r.id for r in injector.rules()] == ["f2"]
    injector.clear()
    assert len(injector) == 0
    assert injector.add(parse_fault_spec("refersion=503")).id == "f3"


def answer(spec: str, surface: str) -> tuple[int, dict[str, str], bytes, int | None]:
    [effect] = parse_fault_spec(spec).effects
    response = fault_response(surface, FaultAction("f9", effect, 0.0))
    return response.status, dict(response.headers), response.body, response.declared_length


def test_refersion_shaped_error_bodies_labelled_as_injected() -> None:
    status, headers, body, _ = answer("refersion=429:2", "refersion")
    assert status == 429
    assert headers["Retry-After"] == "2"
    assert headers[FAULT_HEADER] == "f9"
    assert json.loads(body) == {
        "error": "You're making too many API calls. Please limit your usage."
    }
    assert json.loads(answer("refersion=503", "refersion")[2])["error"].startswith(
        "We're temporarily offline"
    )
    assert "errors" in json.loads(answer("refersion=422", "refersion")[2])
    gateway_status, gateway_headers, page, _ = answer("refersion=502", "refersion")
    assert (gateway_status, gateway_headers["Content-Type"]) == (502, "text/html")
    assert b"502 Bad Gateway" in page
    destination = json.loads(answer("destination=503", "destination")[2])
    assert destination["message"].startswith("Service Unavailable")


def test_malformed_and_truncated_bodies() -> None:
    status, _, body, declared = answer("refersion=malformed", "refersion")
    assert (status, declared) == (200, None)
    with pytest.raises(ValueError, match=r"Unterminated|Expecting"):
        json.loads(body)
    status, _, body, declared = answer("refersion=truncated", "refersion")
    assert status == 200
    assert declared is not None
    assert len(body) < declared


def _escape(text: str) -> str:
    return re.escape(text)
