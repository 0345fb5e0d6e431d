"""The assumption registry and the choices value: what --assume, the control API and configs use."""

from __future__ import annotations

import pytest

from emulator.assumptions import (
    ASSUMPTIONS,
    AssumptionChoices,
    AssumptionNote,
    UnknownAssumption,
    parse_assume,
)
from emulator.config import EmulatorConfig

# Open points users asked about by name; each must stay in the registry with an alternative.
REQUIRED = {
    "country-spelling",
    "unknown-country",
    "address-shape",
    "merchant-id",
    "delete-lookup",
    "audience-exit",
    "regulation-forwarding",
    "text-limit",
    "name-split",
    "password",
    "affiliate-status",
    "retry-backoff",
    "retry-after",
    "delivery-timeout",
    "invalid-unicode",
}


def test_the_registry_holds_every_named_open_point_with_its_evidence() -> None:
    assert set(ASSUMPTIONS) >= REQUIRED
    for entry in ASSUMPTIONS.values():
        assert entry.default in entry.variant_names
        assert len(entry.variant_names) >= 2
        assert entry.statement
        assert entry.why
        assert entry.settle
        assert all(variant.does for variant in entry.variants)
        assert entry.side in {"mapping", "destination", "refersion", "segment"}


def test_defaults_apply_until_a_variant_is_chosen() -> None:
    choices = AssumptionChoices.of({"country-spelling": "pass-through"})
    assert choices.variant("country-spelling") == "pass-through"
    assert choices.variant("text-limit") == "255"
    assert choices.is_chosen("country-spelling")
    assert not choices.is_chosen("text-limit")
    assert choices.to_dict().keys() == ASSUMPTIONS.keys()


def test_choices_are_immutable_values() -> None:
    source = {"text-limit": "none"}
    choices = AssumptionChoices.of(source)
    source["text-limit"] = "255"
    assert choices.variant("text-limit") == "none"
    assert choices == AssumptionChoices.of({"text-limit": "none"})
    assert hash(choices) == hash(AssumptionChoices.of({"text-limit": "none"}))
    assert choices.with_choices({"text-limit": "255"}).variant("text-limit") == "255"
    assert choices.variant("text-limit") == "none"
    with pytest.raises(TypeError):
        choices.chosen["text-limit"] = "255"  # type: ignore[index]


def test_an_unknown_id_is_named_with_the_known_ones() -> None:
    with pytest.raises(UnknownAssumption) as caught:
        AssumptionChoices.of({"contry-spelling": "normalise"})
    assert "'contry-spelling'" in str(caught.value)
    assert "country-spelling" in str(caught.value)
    assert caught.value.field == "assumptions"


def test_an_unknown_variant_is_named_with_the_allowed_ones() -> None:
    with pytest.raises(UnknownAssumption) as caught:
        AssumptionChoices.of({"text-limit": "1000"})
    assert "'1000'" in str(caught.value)
    assert "255, none" in str(caught.value)
    assert caught.value.field == "assumptions.text-limit"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("text-limit=none", ("text-limit", "none")),
        (" delete-lookup = email-only ", ("delete-lookup", "email-only")),
    ],
)
def test_parse_assume_reads_id_equals_variant(text: str, expected: tuple[str, str]) -> None:
    assert parse_assume(text) == expected


@pytest.mark.parametrize("text", ["text-limit", "=none", "text-limit=", "nope=x", "text-limit=9"])
def test_parse_assume_refuses_what_it_cannot_use(text: str) -> None:
    with pytest.raises(UnknownAssumption):
        parse_assume(text)


def test_the_config_carries_the_choices() -> None:
    config = EmulatorConfig(assumptions=AssumptionChoices.of({"audience-exit": "identify"}))
    assert config.assumptions.variant("audience-exit") == "identify"
    assert EmulatorConfig().assumptions.variant("audience-exit") == "skip"


def test_a_note_round_trips_and_reads_as_one_line() -> None:
    note = AssumptionNote("country-spelling", "normalise", "'USA' → US", "sent as 'USA'")
    assert AssumptionNote.from_dict(note.to_dict()) == note
    assert note.line() == "country-spelling=normalise: 'USA' → US; otherwise sent as 'USA'"
    warned = AssumptionNote("delete-lookup", "email-only", "x", warning=True)
    assert warned.line().startswith("WARNING ")
