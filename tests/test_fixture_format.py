"""Payload and fixture files: the shapes send accepts, the errors it gives, and judging."""

from __future__ import annotations

import json
from typing import Any

import pytest

from emulator.cases.payloads import Case, Expectation, judge, parse_cases
from emulator.errors import InputError


def dumps(value: Any) -> bytes:
    return json.dumps(value).encode()


IDENTIFY = {"type": "identify", "userId": "u", "traits": {"name": "A B", "email": "a@b.co"}}
DELETE = {"type": "delete", "userId": "u"}


@pytest.mark.parametrize(
    ("data", "entry", "count"),
    [
        (dumps(IDENTIFY), "tracking-api", 1),
        (dumps(DELETE), "delivery", 1),
        (dumps({**IDENTIFY, "receivedAt": "2020-01-01T00:00:00Z"}), "delivery", 1),
        (dumps([IDENTIFY, IDENTIFY]), "tracking-api", 2),
        (dumps({"batch": [IDENTIFY], "context": {"ip": "1.2.3.4"}}), "tracking-api", 1),
        ((json.dumps(IDENTIFY) + "\n" + json.dumps(DELETE) + "\n").encode(), "tracking-api", 2),
        (
            dumps({"events": [DELETE], "description": "d", "expect": {"outcomes": ["deleted"]}}),
            "delivery",
            1,
        ),
    ],
)
def test_accepted_shapes(data: bytes, entry: str, count: int) -> None:
    [case] = parse_cases("f.json", data)
    assert case.entry == entry
    assert len(case.events) == count


def test_a_tracking_body_keeps_its_batch_level_fields() -> None:
    [case] = parse_cases("f.json", dumps({"batch": [IDENTIFY], "integrations": {"All": False}}))
    assert case.tracking_body is not None
    assert case.tracking_body["integrations"] == {"All": False}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"   ", "empty"),
        (b"\x00\x01\x02", "binary"),
        (b"\xff\xfe{}", "not UTF-8"),
        (b"{nope", "not valid JSON"),
        (b'{"a": 1}\n{nope}\n', "line 2"),
        (b"42", "not a JSON object"),
        (b"[]", "non-empty array"),
        (dumps({"events": [IDENTIFY], "entry": "smoke-signal"}), "entry"),
        (dumps({"events": [IDENTIFY], "settings": {"colour": "red"}}), "settings"),
        (
            dumps({"events": [IDENTIFY], "expect": {"outcomes": ["created", "created"]}}),
            "one outcome per event",
        ),
        (dumps({"events": [IDENTIFY], "expect": {"outcomes": ["great"]}}), "unknown outcomes"),
        (dumps({"events": [IDENTIFY], "expect": {"violations": [1]}}), "contract names"),
    ],
)
def test_input_errors_name_the_file_and_the_problem(data: bytes, message: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_cases("bad.json", data)
    assert str(caught.value).startswith("bad.json: ")
    assert message in str(caught.value)


def event(
    outcome: str, reason: str | None = None, violations: list[Any] | None = None
) -> dict[str, Any]:
    return {"outcome": outcome, "reason": reason, "violations": violations or []}


def case(expect: Expectation | None, count: int = 1) -> Case:
    return Case(name="c", entry="delivery", events=tuple([IDENTIFY] * count), expect=expect)


def test_judge_without_expectations_wants_delivery_without_violations() -> None:
    assert judge(case(None), [event("created")], []) == []
    [failure] = judge(case(None), [event("rejected", "name_incomplete")], [])
    assert "rejected" in failure
    assert "name_incomplete" in failure
    violation = {
        "contract": "segment/identify",
        "pointer": "/userId",
        "message": "bad",
        "rule": "type",
    }
    [failure] = judge(case(None), [event("created", violations=[violation])], [])
    assert "segment/identify" in failure
    assert "/userId" in failure


def test_judge_compares_outcomes_reasons_affiliates_and_expected_violations() -> None:
    expect = Expectation(
        outcomes=("rejected",),
        reasons=("missing_email",),
        affiliates=({"email": "a@b.co"},),
        violations=("refersion/affiliate-new.request",),
    )
    failures = judge(case(expect), [event("created")], [{"email": "x@y.z"}])
    assert any("expected rejected" in f for f in failures)
    assert any("expected missing_email" in f for f in failures)
    assert any("email is 'x@y.z'" in f for f in failures)
    assert any("expected a violation of refersion/affiliate-new.request" in f for f in failures)
    assert judge(case(Expectation(affiliates=())), [event("created")], [{"email": "a"}]) == [
        "1 affiliates in the fake Refersion account, expected 0"
    ]
