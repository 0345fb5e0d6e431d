"""Fixture text that diffs well, expectations from what happened, and JUnit XML."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from emulator.cases.writer import dump_json, observed_expectation, with_expect
from emulator.errors import InputError
from emulator.junit import JUnitCase, junit_xml

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=6) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=40,
)


@given(JSON)
def test_dump_json_round_trips(value: object) -> None:
    assert json.loads(dump_json(value)) == value


def test_dump_json_keeps_short_values_on_one_line_and_breaks_long_ones() -> None:
    assert dump_json({"outcomes": ["created"], "affiliates": []}) == (
        '{"outcomes": ["created"], "affiliates": []}'
    )
    long = {"events": [{"type": "identify", "traits": {"name": "x" * 60}}]}
    assert dump_json(long).splitlines() == [
        "{",
        '  "events": [',
        "    {",
        '      "type": "identify",',
        f'      "traits": {{"name": "{"x" * 60}"}}',
        "    }",
        "  ]",
        "}",
    ]


def test_with_expect_replaces_only_the_expect_member() -> None:
    text = '{\n  "description": "d",  "events": [ {"type": "delete"} ],\n  "expect": {"a": 1}\n}\n'
    new = with_expect("f.json", text, {"outcomes": ["deleted"]})
    assert new == text.replace('{"a": 1}', '{"outcomes": ["deleted"]}')


def test_with_expect_adds_a_missing_expect_member() -> None:
    text = '{"events": [{"type": "delete"}]}\n'
    new = with_expect("f.json", text, {"outcomes": ["not_found"]})
    assert json.loads(new) == {
        "events": [{"type": "delete"}],
        "expect": {"outcomes": ["not_found"]},
    }


@pytest.mark.parametrize("text", ["[]", '{"events": [}', "{", '{"a" 1}'])
def test_with_expect_names_the_file_when_it_is_not_a_fixture_object(text: str) -> None:
    with pytest.raises(InputError, match=r"^f\.json: "):
        with_expect("f.json", text, {})


def test_observed_expectation_pins_stable_fields_or_the_ones_pinned_before() -> None:
    events: list[dict[str, Any]] = [
        {"outcome": "created", "reason": None, "violations": []},
        {"outcome": "rejected", "reason": "missing_email", "violations": [{"contract": "c/x"}]},
    ]
    affiliate = {"id": 37569297, "code": "k2x9", "email": "a@b.co", "zip": None, "status": "ACTIVE"}
    expect = observed_expectation(events, [affiliate])
    assert expect == {
        "outcomes": ["created", "rejected"],
        "reasons": [None, "missing_email"],
        "affiliates": [{"email": "a@b.co", "status": "ACTIVE"}],
        "violations": ["c/x"],
    }
    again = observed_expectation(
        events[:1], [affiliate], previous={"affiliates": [{"zip": "1"}], "violations": ["c/x"]}
    )
    assert again == {"outcomes": ["created"], "affiliates": [{"zip": None}], "violations": []}


def test_junit_xml_lists_every_case_and_each_failure_message() -> None:
    xml = junit_xml(
        "suite <one>",
        [
            JUnitCase("a.json", 0.25),
            JUnitCase("b.json", 0.5, failure="event 1: outcome rejected\nmore detail"),
        ],
    )
    root = ET.fromstring(xml)  # noqa: S314 - parsing our own output
    suite = root.find("testsuite")
    assert suite is not None
    assert suite.attrib["name"] == "suite <one>"
    assert (suite.attrib["tests"], suite.attrib["failures"], suite.attrib["time"]) == (
        "2",
        "1",
        "0.750",
    )
    cases = suite.findall("testcase")
    assert [case.attrib["name"] for case in cases] == ["a.json", "b.json"]
    assert cases[0].find("failure") is None
    failure = cases[1].find("failure")
    assert failure is not None
    assert failure.attrib["message"] == "event 1: outcome rejected"
    assert failure.text == "event 1: outcome rejected\nmore detail"
