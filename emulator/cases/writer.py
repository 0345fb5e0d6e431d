"""Writing fixtures: expectations from what was observed, and JSON text that diffs well.

``send --save-fixture`` builds a whole fixture; ``replay --update`` rewrites only the text of
a fixture's ``expect`` member, so the rest of a hand-written file stays byte for byte. Pure.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from emulator.errors import InputError

__all__ = ["AFFILIATE_KEYS", "build_fixture", "dump_json", "observed_expectation", "with_expect"]

# Stored affiliate fields worth pinning; ids, codes and timestamps change from run to run.
AFFILIATE_KEYS: tuple[str, ...] = (
    "first_name",
    "last_name",
    "email",
    "unique_merchant_id",
    "company",
    "phone",
    "address1",
    "city",
    "state",
    "zip",
    "country",
    "status",
    "offer_id",
)
_WIDTH = 100
_INDENT = "  "


def observed_expectation(
    events: Sequence[Mapping[str, Any]],
    affiliates: Sequence[Mapping[str, Any]],
    *,
    previous: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The ``expect`` object that what happened would pass.

    ``previous`` (the old ``expect``) keeps its shape: the affiliate fields it pinned, and its
    ``reasons``/``violations`` lists even when they are now all null or empty.
    """
    previous = previous or {}
    expect: dict[str, Any] = {"outcomes": [event.get("outcome") for event in events]}
    reasons = [event.get("reason") for event in events]
    if "reasons" in previous or any(reason is not None for reason in reasons):
        expect["reasons"] = reasons
    old_affiliates = previous.get("affiliates")
    pinned: list[Sequence[str]] = []
    if isinstance(old_affiliates, list) and len(old_affiliates) == len(affiliates):
        pinned = [list(entry) if isinstance(entry, dict) else [] for entry in old_affiliates]
    expect["affiliates"] = [
        _pin(affiliate, pinned[index] if pinned else None)
        for index, affiliate in enumerate(affiliates)
    ]
    contracts = sorted({v["contract"] for event in events for v in event.get("violations", [])})
    if "violations" in previous or contracts:
        expect["violations"] = contracts
    return expect


def _pin(affiliate: Mapping[str, Any], keys: Sequence[str] | None) -> dict[str, Any]:
    if keys:
        return {key: affiliate.get(key) for key in keys}
    return {key: affiliate[key] for key in AFFILIATE_KEYS if affiliate.get(key) is not None}


def build_fixture(
    *,
    description: str,
    source: str,
    entry: str,
    events: Sequence[Any],
    expect: Mapping[str, Any],
    settings: Mapping[str, Any] | None = None,
    batch_fields: Mapping[str, Any] | None = None,
    assumptions: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """A fixture object, keys in the documented order."""
    fixture: dict[str, Any] = {"description": description, "source": source, "entry": entry}
    if settings:
        fixture["settings"] = dict(settings)
    if assumptions:
        fixture["assumptions"] = dict(assumptions)
    if batch_fields:
        fixture["batch_fields"] = dict(batch_fields)
    fixture["events"] = list(events)
    fixture["expect"] = dict(expect)
    return fixture


def dump_json(value: Any, *, level: int = 0) -> str:
    """JSON with two-space indents, each array or object on one line when it fits 100 columns."""
    inline = json.dumps(value, ensure_ascii=False)
    fits = len(inline) + len(_INDENT) * level <= _WIDTH
    if fits or not isinstance(value, dict | list) or not value:
        return inline
    pad = _INDENT * (level + 1)
    if isinstance(value, dict):
        items = [
            f"{pad}{json.dumps(key, ensure_ascii=False)}: {dump_json(item, level=level + 1)}"
            for key, item in value.items()
        ]
        return "{\n" + ",\n".join(items) + "\n" + _INDENT * level + "}"
    items = [f"{pad}{dump_json(item, level=level + 1)}" for item in value]
    return "[\n" + ",\n".join(items) + "\n" + _INDENT * level + "]"


def with_expect(name: str, text: str, expect: Mapping[str, Any]) -> str:
    """``text`` (a fixture file) with its ``expect`` member replaced, or added at the end."""
    spans = _top_level_spans(name, text)
    rendered = dump_json(dict(expect), level=1)
    if "expect" in spans:
        start, end = spans["expect"]
        return text[:start] + rendered + text[end:]
    close = text.rindex("}")
    head = text[:close].rstrip()
    separator = "," if spans else ""
    return f'{head}{separator}\n{_INDENT}"expect": {rendered}\n' + text[close:]


def _top_level_spans(name: str, text: str) -> dict[str, tuple[int, int]]:
    """Where each top-level member's value starts and ends in the JSON object ``text``."""
    decoder = json.JSONDecoder()
    spans: dict[str, tuple[int, int]] = {}
    index = _skip(text, 0)
    if not text.startswith("{", index):
        raise InputError(f"{name}: a fixture must be a JSON object")
    index = _skip(text, index + 1)
    try:
        while not text.startswith("}", index):
            key, index = decoder.raw_decode(text, index)
            index = _skip(text, index)
            if not text.startswith(":", index):
                raise ValueError(f"expected ':' at {index}")
            start = _skip(text, index + 1)
            _, end = decoder.raw_decode(text, start)
            spans[str(key)] = (start, end)
            index = _skip(text, end)
            if text.startswith(",", index):
                index = _skip(text, index + 1)
    except (ValueError, RecursionError) as exc:
        raise InputError(f"{name}: cannot locate the fixture's members ({exc})") from None
    return spans


def _skip(text: str, index: int) -> int:
    while index < len(text) and text[index] in " \t\r\n":
        index += 1
    return index
