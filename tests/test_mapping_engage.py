"""The mapping on Engage identifies: fixes that point at the audience, and audience exits."""

from __future__ import annotations

from typing import Any

import pytest

from emulator.destination.mapping import MappingSettings, Operation, Rejection, map_message
from emulator.destination.mapping.engage import audience_exit

SETTINGS = MappingSettings(password_salt="test-salt")
KEY = "order_completed_last_30days"


def engage_identify(traits: dict[str, Any], computation_class: str = "audience") -> dict[str, Any]:
    return {
        "type": "identify",
        "userId": "u-1",
        "traits": traits,
        "context": {
            "integrations": {"personas": False},
            "personas": {
                "computation_class": computation_class,
                "computation_id": "aud_1",
                "computation_key": KEY,
                "namespace": "spa_1",
                "space_id": "spa_1",
            },
        },
        "integrations": {"All": False, "Refersion": True},
    }


@pytest.mark.parametrize(
    ("traits", "reason", "words"),
    [
        ({KEY: True, "email": "a@example.com"}, "missing_name", "Include traits"),
        ({KEY: True, "email": "a@example.com", "name": "Ada"}, "name_incomplete", "Include traits"),
        ({KEY: True, "first_name": "Ada", "last_name": "Lo"}, "missing_email", "ID sync"),
    ],
)
def test_engage_identifies_without_email_or_name_are_rejected_with_an_engage_fix(
    traits: dict[str, Any], reason: str, words: str
) -> None:
    result = map_message(engage_identify(traits), settings=SETTINGS)
    assert isinstance(result, Rejection)
    assert result.reason == reason
    assert words in result.fix
    assert f"audience '{KEY}'" in result.fix
    # The same traits outside Engage get the ordinary fix, about the caller's own code.
    plain = map_message({"type": "identify", "userId": "u-1", "traits": traits}, settings=SETTINGS)
    assert isinstance(plain, Rejection)
    assert plain.reason == reason
    assert "Engage" not in plain.fix


def test_computed_trait_identifies_name_the_computed_trait() -> None:
    result = map_message(
        engage_identify({KEY: 3, "email": "a@example.com"}, "trait"), settings=SETTINGS
    )
    assert isinstance(result, Rejection)
    assert f"computed trait '{KEY}'" in result.fix


def test_an_engage_identify_with_included_traits_maps_like_any_identify() -> None:
    traits = {KEY: True, "email": "a@example.com", "first_name": "Ada", "last_name": "Lo"}
    result = map_message(engage_identify(traits), settings=SETTINGS)
    assert isinstance(result, Operation)
    assert result.body["email"] == "a@example.com"
    assert KEY not in result.body


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (engage_identify({KEY: False}), KEY),
        (engage_identify({KEY: "false"}), KEY),
        (engage_identify({KEY: True}), None),
        (engage_identify({KEY: "true"}), None),
        (engage_identify({}), None),
        (engage_identify({KEY: False}, "trait"), None),
        ({"type": "identify", "userId": "u", "traits": {KEY: False}}, None),
        ({"type": "identify", "context": {"personas": "x"}, "traits": {KEY: False}}, None),
        ("not a message", None),
    ],
)
def test_only_an_audience_key_set_to_false_is_an_audience_exit(
    message: Any, expected: str | None
) -> None:
    assert audience_exit(message) == expected
